package nangogateway.exchange;

/**
 * How an exchange with an upstream failed: set where the failure happens, counted in
 * {@code nango_gateway_upstream_errors_total} under its {@link #label()}.
 */
public enum UpstreamFailure {
    /** No connection could be made (refused, unreachable): 502. */
    CONNECT("connect"),
    /** Every connection the pool may open was busy and none came free within {@code connect_timeout}: 503. */
    BUSY("busy"),
    /** No response head within the upstream's {@code response_timeout}: 504. */
    TIMEOUT("timeout"),
    /** The connection closed before the response ended: 502, or the client's connection closes mid-body. */
    CLOSED("closed"),
    /** The response broke HTTP/1.1 framing or grammar, or was not one the request allows (a stray 101): 502. */
    BAD_RESPONSE("bad_response"),
    /** The response is larger than the action lets the gateway hold (the callback's {@code max_response_body}): 502. */
    TOO_LARGE("too_large");

    private final String label;

    UpstreamFailure(String label) {
        this.label = label;
    }

    /** The metric label. */
    public String label() {
        return label;
    }
}
