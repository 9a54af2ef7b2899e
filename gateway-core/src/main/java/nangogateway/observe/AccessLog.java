package nangogateway.observe;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Set;
import nangogateway.config.AccessLogFormat;
import nangogateway.exchange.Refusal;
import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.UpstreamFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What is recorded of each answered exchange: one access-log line on the {@code nangogateway.access} logger (route
 * it with logback.xml), nginx's combined format followed by the gateway's fields, or one JSON object per line; and
 * the response and refusal counters. Credential query values are redacted, and no header that can carry a secret
 * ({@code Cookie}, {@code Set-Cookie}, {@code Authorization}) is ever logged. One per connection (it keeps the
 * counters of the route the connection last answered for), used on its event loop only: by the
 * {@link AccessLogHandler} of a pipeline, and for the refusals an HTTP/2 connection answers without a stream
 * pipeline.
 */
public final class AccessLog {
    public static final String LOGGER = "nangogateway.access";
    private static final Logger access = LoggerFactory.getLogger(LOGGER);
    private static final DateTimeFormatter CLF =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.US).withZone(ZoneId.systemDefault());

    /** A second and its CLF text: formatted once a second, shared by every event loop (immutable, so no lock). */
    private record Stamp(long second, String text) {
    }

    private static volatile Stamp stamp = new Stamp(Long.MIN_VALUE, "");

    private final String listener;
    private final AccessLogFormat format;
    private final Set<String> extraSecrets;
    private final GatewayMetrics metrics;
    private final GatewayMetrics.Responses responses;
    /** The request counters of the route this connection last answered for, and that route's label. */
    private String countedRoute;
    private GatewayMetrics.RouteRequests routeCounters;

    public AccessLog(String listener, AccessLogFormat format, Set<String> extraSecretParams, GatewayMetrics metrics) {
        this.listener = listener;
        this.format = format;
        this.extraSecrets = extraSecretParams;
        this.metrics = metrics;
        this.responses = metrics.responses(listener);
    }

    /** Whether lines are written at all (the request's referer and user agent are kept only then). */
    public static boolean enabled() {
        return access.isInfoEnabled();
    }

    /**
     * Records an exchange whose last response byte has just been written: the response metrics, the outcome
     * counters, and the line. {@code start} is {@link System#nanoTime()} when the request head arrived;
     * {@code peer} is the socket's remote address, logged when no client address was resolved.
     */
    public void record(RequestFacts facts, SocketAddress peer, String method, String target, String protocol,
            String referer, String userAgent, int status, long bytes, long start) {
        long took = System.nanoTime() - start;
        responses.record(status, took);
        countOutcome(facts, status);
        if (access.isInfoEnabled()) {
            access.info(line(facts, peer, method, target, protocol, referer, userAgent, status, bytes, took));
        }
    }

    private String line(RequestFacts facts, SocketAddress peer, String method, String target, String protocol,
            String referer, String userAgent, int status, long bytes, long took) {
        String client = facts.resolvedClientAddress();
        if (client == null) {
            client = peer instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "-";
        }
        String reject = facts.rejectReason();
        String route = reject != null ? "rejected: " + reject : facts.route();
        Integer upstreamStatus = facts.upstreamStatus() == 0 ? null : facts.upstreamStatus();
        Long upstreamNanos = facts.upstreamNanos() < 0 ? null : facts.upstreamNanos();
        String requestId = facts.requestId() == null ? null : facts.requestId().toString();
        if (format == AccessLogFormat.JSON) {
            String rt = seconds(new StringBuilder(8), took).toString();
            String urt = upstreamNanos == null ? "-" : seconds(new StringBuilder(8), upstreamNanos).toString();
            StringBuilder b = new StringBuilder(256).append('{');
            field(b, "time", Instant.now().toString()).append(',');
            field(b, "client", client).append(',');
            field(b, "method", method).append(',');
            field(b, "target", QueryRedactor.redact(target, extraSecrets)).append(',');
            field(b, "protocol", protocol).append(',');
            b.append("\"status\":").append(status).append(',');
            b.append("\"bytes\":").append(bytes).append(',');
            field(b, "referer", referer == null ? null : QueryRedactor.redact(referer, extraSecrets)).append(',');
            field(b, "user_agent", userAgent).append(',');
            field(b, "listener", listener).append(',');
            field(b, "route", route).append(',');
            b.append("\"request_time\":").append(rt).append(',');
            b.append("\"upstream_time\":").append(upstreamNanos == null ? "null" : urt).append(',');
            b.append("\"upstream_status\":").append(upstreamStatus == null ? "null" : upstreamStatus).append(',');
            field(b, "request_id", requestId);
            return b.append('}').toString();
        }
        // One builder, no formatter: this runs for every response on the event loop.
        StringBuilder b = new StringBuilder(256);
        // The request line is escaped like the quoted fields: a target's quote, backslash or raw byte cannot end
        // the field or forge another.
        b.append(client).append(" - - [").append(clfNow()).append("] \"");
        quote(b, method).append(' ');
        quote(b, QueryRedactor.redact(target, extraSecrets)).append(' ');
        quote(b, protocol).append("\" ").append(status).append(' ').append(bytes).append(" \"");
        quote(b, referer == null ? null : QueryRedactor.redact(referer, extraSecrets)).append("\" \"");
        quote(b, userAgent).append("\" listener=").append(listener).append(" route=\"");
        quote(b, route).append("\" rt=");
        seconds(b, took).append(" urt=");
        if (upstreamNanos == null) {
            b.append('-');
        } else {
            seconds(b, upstreamNanos);
        }
        b.append(" us=");
        if (upstreamStatus == null) {
            b.append('-');
        } else {
            b.append(upstreamStatus.intValue());
        }
        return b.append(" rid=").append(requestId == null ? "-" : requestId).toString();
    }

    /** The current second in the combined format's time, formatted once per second. */
    private static String clfNow() {
        long second = Math.floorDiv(System.currentTimeMillis(), 1000);
        Stamp s = stamp;
        if (s.second() != second) {
            s = new Stamp(second, CLF.format(Instant.ofEpochSecond(second)));
            stamp = s;
        }
        return s.text();
    }

    /** {@code nanos} as seconds with three decimals, rounded half up (as {@code %.3f}), without a formatter. */
    static StringBuilder seconds(StringBuilder b, long nanos) {
        long millis = (nanos + 500_000) / 1_000_000;
        long frac = millis % 1000;
        b.append(millis / 1000).append('.');
        if (frac < 100) {
            b.append('0');
        }
        if (frac < 10) {
            b.append('0');
        }
        return b.append(frac);
    }

    /** Refusals by kind and upstream failures, for metrics; labels come from a small fixed set. */
    private void countOutcome(RequestFacts facts, int status) {
        String routeLabel = facts.rejectReason() != null ? "rejected" : String.valueOf(facts.route());
        if (!routeLabel.equals(countedRoute)) { // a connection mostly asks for one route: look its counters up once
            routeCounters = responses.route(routeLabel);
            countedRoute = routeLabel;
        }
        routeCounters.count(status);
        if (facts.rejectReason() != null) {
            responses.rejected().inc();
        }
        Refusal refusal = facts.refusal();
        if (refusal != null) {
            responses.denied(refusal).inc();
        }
        UpstreamFailure failure = facts.upstreamFailure();
        if (failure != null) {
            metrics.upstreamError(facts.failedUpstream(), failure);
        }
    }

    private static StringBuilder field(StringBuilder b, String name, String value) {
        b.append('"').append(name).append("\":");
        if (value == null) {
            return b.append("null");
        }
        b.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"');
    }

    private static StringBuilder quote(StringBuilder b, String s) {
        if (s == null) {
            return b.append('-');
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                b.append(c <= 0xff ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b;
    }
}
