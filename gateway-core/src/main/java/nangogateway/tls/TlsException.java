package nangogateway.tls;

/** A certificate or key could not be used; the message names the file and what is wrong. */
public final class TlsException extends Exception {
    public TlsException(String message) {
        super(message, null, false, false);
    }
}
