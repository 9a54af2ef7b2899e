package nangogateway.http;

/** Why a message could not be read, as a decoder result's cause; its message says what was wrong, for the log. */
public final class BadMessage extends Exception {
    public BadMessage(String message) {
        super(message, null, false, false);
    }
}
