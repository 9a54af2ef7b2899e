package nangogateway.exchange;

/**
 * Why the gateway answered a request itself instead of passing it on: set where the decision is made, counted in
 * {@code nango_gateway_denied_requests_total} under its {@link #label()}.
 */
public enum Refusal {
    /** No route of the listener matches the (method, path) pair: 403. */
    NOT_ALLOWLISTED("not_allowlisted"),
    /** A route matches the path but not the method: 405. */
    METHOD("method"),
    /** The request target could be read two ways (dot segments, encoded separators, ...): 400. */
    BAD_TARGET("bad_target"),
    /** The head or body framing is malformed or ambiguous: 400, and the connection closes. */
    FRAMING("framing"),
    /** Request line, head or body over a limit: 413, 414 or 431. */
    TOO_LARGE("too_large"),
    /** The head or body did not arrive in time: 408. */
    TIMEOUT("timeout"),
    /** The Base-Url-Override policy refused the header. */
    OVERRIDE("override"),
    /** The client's rate limit was spent: 429. */
    RATE_LIMITED("rate_limited"),
    /** An HTTP/2 stream over max_connections_per_client or max_connections (each open stream counts): 503. */
    CONNECTION_LIMIT("connection_limit");

    private final String label;

    Refusal(String label) {
        this.label = label;
    }

    /** The metric label. */
    public String label() {
        return label;
    }
}
