package nangogateway.exchange;

import io.netty.channel.Channel;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;

/**
 * What happened to the current exchange of a connection, recorded where it happens and read by the access log and
 * metrics: one object per connection, looked up once per handler. Each fact has one writer (named on its setter)
 * and is typed; nothing is read back out of a message string.
 *
 * <p>Life cycle: the facts of an exchange start empty when the previous exchange {@linkplain #end() ended} (or the
 * connection opened) and are read and ended by the access log, their one owner, once the last byte of the
 * response has been written. The client address outlives the exchange: it is the connection's until a request
 * from a trusted proxy names another one. Touched on the connection's event loop only.
 */
public final class RequestFacts {
    private static final AttributeKey<RequestFacts> KEY = AttributeKey.valueOf("nangogateway.requestFacts");

    private String clientAddress;
    private CharSequence requestId;
    private String route;
    private Refusal refusal;
    private String rejectReason;
    private int upstreamStatus;
    private long upstreamNanos = -1;
    private String upstream;
    private UpstreamFailure upstreamFailure;
    private String refusedMethod;
    private String refusedVersion;

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

    // ---- writers, each named for the one handler that calls it ----

    /**
     * Request decoder: what it could read of a request line it refused (either may be null), for the access log;
     * a refused request carries no method or version of its own.
     */
    public void requestLineSeen(String method, String version) {
        refusedMethod = method;
        refusedVersion = version;
    }

    /** Client-address handler: the client behind a trusted proxy, or null for the socket peer. */
    public void clientAddress(String address) {
        clientAddress = address;
    }

    /** Request-id handler: the id sent upstream and logged (the client's, or the gateway's own as ASCII bytes). */
    public void requestId(CharSequence id) {
        requestId = id;
    }

    /** Router and local answerers: the route that took the request, or the name of the local answer. */
    public void route(String name) {
        route = name;
    }

    /**
     * The router: the request matched no route, no method of its route, or its client's rate limit; {@code how}
     * names the answer in the log (otherwise, method-not-allowed, rate-limited).
     */
    public void deny(String how, Refusal kind) {
        route = how;
        refusal = kind;
    }

    /**
     * Guard, timeouts and policies: the request was refused before (or instead of) reaching its route's action;
     * {@code reason} is logged as {@code rejected: reason}.
     */
    public void reject(Refusal kind, String reason) {
        refusal = kind;
        rejectReason = reason;
    }

    /** The upstream exchange: a response head came after {@code nanos} from sending the request. */
    public void upstreamResponded(int status, long nanos) {
        upstreamStatus = status;
        upstreamNanos = nanos;
    }

    /** The upstream exchange: the head already recorded is not what the client gets (its body broke). */
    public void upstreamResponseVoided() {
        upstreamStatus = 0;
        upstreamNanos = -1;
    }

    /** The upstream exchange: it failed, at this upstream, in this way. */
    public void upstreamFailed(String upstreamName, UpstreamFailure kind) {
        upstream = upstreamName;
        upstreamFailure = kind;
    }

    // ---- readers ----

    public CharSequence requestId() {
        return requestId;
    }

    /** The resolved client address, or null when it is the socket peer. */
    public String resolvedClientAddress() {
        return clientAddress;
    }

    public String route() {
        return route;
    }

    /** Why the gateway answered itself, or null when the request reached its action. */
    public Refusal refusal() {
        return refusal;
    }

    /** The reason of a {@link #reject}, or null when the request was not rejected before routing. */
    public String rejectReason() {
        return rejectReason;
    }

    /** The upstream's response status; 0 when none reached the client. */
    public int upstreamStatus() {
        return upstreamStatus;
    }

    /** Nanoseconds from sending the request upstream to its response head; -1 when none came. */
    public long upstreamNanos() {
        return upstreamNanos;
    }

    /** The upstream that failed, or null. */
    public String failedUpstream() {
        return upstream;
    }

    /** The method of a request line the decoder refused, when it could read one. */
    public String refusedMethod() {
        return refusedMethod;
    }

    /** The version of a request line the decoder refused, when the line was whole and ended with one. */
    public String refusedVersion() {
        return refusedVersion;
    }

    /** How the upstream exchange failed, or null when it did not. */
    public UpstreamFailure upstreamFailure() {
        return upstreamFailure;
    }

    /** Ends the exchange: the access log, once its line is written and counted. The client address stays. */
    public void end() {
        requestId = null;
        route = null;
        refusal = null;
        rejectReason = null;
        upstreamStatus = 0;
        upstreamNanos = -1;
        upstream = null;
        upstreamFailure = null;
        refusedMethod = null;
        refusedVersion = null;
    }
}
