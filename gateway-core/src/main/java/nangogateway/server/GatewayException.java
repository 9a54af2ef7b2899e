package nangogateway.server;

/** The gateway could not start or apply a config; the message says which listener and why. */
public final class GatewayException extends Exception {
    public GatewayException(String message) {
        super(message, null, false, false);
    }
}
