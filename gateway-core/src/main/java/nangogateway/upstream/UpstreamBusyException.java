package nangogateway.upstream;

/** Every connection the gateway may open to the upstream is busy, and none came free in time: answered 503. */
public final class UpstreamBusyException extends UpstreamException {
    public UpstreamBusyException(String upstream, String reason) {
        super(upstream, reason);
    }
}
