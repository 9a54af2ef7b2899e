package nangogateway.server;

import io.netty.util.AttributeKey;

/** Channel attributes that carry per-request facts from the handler that knows them to the access log. */
public final class Exchanges {
    private Exchanges() {
    }

    /** The client as {@code ClientAddressHandler} resolved it (trusted proxies), else the socket peer. */
    public static String clientAddress(io.netty.channel.Channel ch) {
        String resolved = ch.attr(CLIENT_ADDRESS).get();
        if (resolved != null) {
            return resolved;
        }
        if (ch.remoteAddress() instanceof java.net.InetSocketAddress a) {
            return a.getAddress().getHostAddress();
        }
        return "unknown";
    }

    /** Why the guard refused the current request. */
    public static final AttributeKey<String> REJECT_REASON = AttributeKey.valueOf("nangogateway.rejectReason");
    /** The route that took the current request, or the deny reason. */
    public static final AttributeKey<String> ROUTE = AttributeKey.valueOf("nangogateway.route");
    /** The current request's id (X-Request-Id). */
    public static final AttributeKey<String> REQUEST_ID = AttributeKey.valueOf("nangogateway.requestId");
    /** The upstream's response status for the current request, when one came. */
    public static final AttributeKey<Integer> UPSTREAM_STATUS = AttributeKey.valueOf("nangogateway.upstreamStatus");
    /** Nanoseconds from sending the request upstream to its response head. */
    public static final AttributeKey<Long> UPSTREAM_NANOS = AttributeKey.valueOf("nangogateway.upstreamNanos");
    /** Why the current request failed at its upstream: {@code upstream:kind} (connect, timeout, closed, ...). */
    public static final AttributeKey<String> UPSTREAM_ERROR = AttributeKey.valueOf("nangogateway.upstreamError");
    /** The client address after trusted-proxy resolution (X-Forwarded-For from a trusted peer). */
    public static final AttributeKey<String> CLIENT_ADDRESS = AttributeKey.valueOf("nangogateway.clientAddress");
}
