package nangogateway.exchange;

import io.netty.channel.Channel;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;

/**
 * Per-request facts carried from the handler that knows them to the access log and metrics: one plain object per
 * connection, looked up once per handler (not one channel attribute per fact per request). Touched on the
 * connection's event loop only; the access log resets it when a response ends.
 */
public final class RequestFacts {
    private static final AttributeKey<RequestFacts> KEY = AttributeKey.valueOf("nangogateway.requestFacts");

    /** Why the guard (or a policy) refused the current request; null when it was not refused. */
    public String rejectReason;
    /** The route that took the current request, or how it was answered (otherwise, method-not-allowed, ...). */
    public String route;
    /** The current request's id (X-Request-Id): the client's string, or the gateway's own as ASCII bytes. */
    public CharSequence requestId;
    /** The client address after trusted-proxy resolution (X-Forwarded-For from a trusted peer). */
    public String clientAddress;
    /** The upstream's response status for the current request; 0 when none came. */
    public int upstreamStatus;
    /** Nanoseconds from sending the request upstream to its response head; -1 when none came. */
    public long upstreamNanos = -1;
    /** Why the current request failed at its upstream: {@code upstream:kind} (connect, timeout, closed, ...). */
    public String upstreamError;

    /** The connection's facts, created on first use. */
    public static RequestFacts of(Channel ch) {
        Attribute<RequestFacts> a = ch.attr(KEY);
        RequestFacts f = a.get();
        if (f == null) {
            f = new RequestFacts();
            RequestFacts earlier = a.setIfAbsent(f);
            if (earlier != null) {
                f = earlier;
            }
        }
        return f;
    }

    /** The client as resolved (trusted proxies), else the socket peer. */
    public static String clientAddress(Channel ch) {
        String resolved = of(ch).clientAddress;
        if (resolved != null) {
            return resolved;
        }
        if (ch.remoteAddress() instanceof InetSocketAddress a) {
            return a.getAddress().getHostAddress();
        }
        return "unknown";
    }

    /** Forgets what belonged to the exchange just finished. */
    public void responseDone() {
        route = null;
        requestId = null;
        rejectReason = null;
        upstreamStatus = 0;
        upstreamNanos = -1;
        upstreamError = null;
    }
}
