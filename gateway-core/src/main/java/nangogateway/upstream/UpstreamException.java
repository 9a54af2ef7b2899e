package nangogateway.upstream;

/** An upstream could not be used; the message names the upstream and why, for the log. */
public class UpstreamException extends Exception {
    private final String upstream;
    private final String reason;

    public UpstreamException(String upstream, String reason) {
        super("upstream " + upstream + ": " + reason, null, false, false);
        this.upstream = upstream;
        this.reason = reason;
    }

    /** Why, without the upstream's name (for a line that names it already). */
    public String reason() {
        return reason;
    }

    public String upstream() {
        return upstream;
    }
}
