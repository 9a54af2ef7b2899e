package nangogateway.upstream;

/** An upstream could not be used; the message names the upstream and why, for the log. */
public final class UpstreamException extends Exception {
    private final String upstream;

    public UpstreamException(String upstream, String reason) {
        super("upstream " + upstream + ": " + reason, null, false, false);
        this.upstream = upstream;
    }

    public String upstream() {
        return upstream;
    }
}
