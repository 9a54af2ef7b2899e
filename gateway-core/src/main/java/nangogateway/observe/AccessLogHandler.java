package nangogateway.observe;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
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
 * Writes one access-log line per response on the {@code nangogateway.access} logger (route it with logback.xml):
 * nginx's combined format followed by the gateway's fields, or one JSON object per line. Credential query values
 * are redacted, and no header that can carry a secret ({@code Cookie}, {@code Set-Cookie}, {@code Authorization})
 * is ever logged.
 */
public final class AccessLogHandler extends ChannelDuplexHandler {
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
    private String method = "-";
    private String target = "-";
    private String protocol = "-";
    private String referer;
    private String userAgent;
    private long start;
    private int status;
    private long bytes;
    private RequestFacts facts;
    /** The request counters of the route this connection last answered for, and that route's label. */
    private String countedRoute;
    private GatewayMetrics.RouteRequests routeCounters;

    public AccessLogHandler(String listener, AccessLogFormat format, Set<String> extraSecretParams,
            GatewayMetrics metrics) {
        this.listener = listener;
        this.format = format;
        this.extraSecrets = extraSecretParams;
        this.metrics = metrics;
        this.responses = metrics.responses(listener);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        facts = RequestFacts.of(ctx.channel());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest r) {
            if (r.decoderResult().isFailure()) {
                // a refused request is a placeholder: log what the decoder could read of the real line
                method = orDash(facts.refusedMethod());
                target = "-";
                protocol = orDash(facts.refusedVersion());
            } else {
                method = r.method().name();
                target = r.uri(); // redacted when (if) a line is written
                protocol = r.protocolVersion().text();
            }
            if (access.isInfoEnabled()) {
                referer = r.headers().get(HttpHeaderNames.REFERER);
                userAgent = r.headers().get(HttpHeaderNames.USER_AGENT);
            }
            start = System.nanoTime();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r) {
            status = r.status().code();
            bytes = 0;
            if (start == 0) {
                start = System.nanoTime();
            }
        }
        if (msg instanceof ByteBufHolder h) {
            bytes += h.content().readableBytes();
        } else if (msg instanceof ByteBuf b) {
            bytes += b.readableBytes();
        }
        // A 101 ends the HTTP exchange (the connection becomes a tunnel); other 1xx are interim.
        boolean last = msg instanceof LastHttpContent && (status >= 200 || status == 101);
        if (last) {
            responses.record(status, System.nanoTime() - start);
            countOutcome(ctx);
            if (access.isInfoEnabled()) {
                access.info(line(ctx));
            }
            reset(ctx);
        }
        ctx.write(msg, promise);
    }

    private String line(ChannelHandlerContext ctx) {
        String client = facts.resolvedClientAddress();
        if (client == null) {
            client = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "-";
        }
        String reject = facts.rejectReason();
        String route = reject != null ? "rejected: " + reject : facts.route();
        Integer upstreamStatus = facts.upstreamStatus() == 0 ? null : facts.upstreamStatus();
        Long upstreamNanos = facts.upstreamNanos() < 0 ? null : facts.upstreamNanos();
        String requestId = facts.requestId() == null ? null : facts.requestId().toString();
        long took = System.nanoTime() - start;
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
    private void countOutcome(ChannelHandlerContext ctx) {
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

    private void reset(ChannelHandlerContext ctx) {
        method = "-";
        target = "-";
        protocol = "-";
        referer = null;
        userAgent = null;
        start = 0;
        facts.end();
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

    private static String orDash(String s) {
        return s == null ? "-" : s;
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
