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
import java.util.Set;
import nangogateway.config.AccessLogFormat;
import nangogateway.exchange.RequestFacts;

/**
 * Follows each exchange of its connection (the request's line, referer and user agent, when it came; the response's
 * status and body bytes) and hands it to the connection's {@link AccessLog} once the last byte of the response is
 * written: one access-log line and the response counters per response.
 */
public final class AccessLogHandler extends ChannelDuplexHandler {
    public static final String LOGGER = AccessLog.LOGGER;

    private final AccessLog log;
    private String method = "-";
    private String target = "-";
    private String protocol = "-";
    private String referer;
    private String userAgent;
    private long start;
    private int status;
    private long bytes;
    private RequestFacts facts;

    public AccessLogHandler(String listener, AccessLogFormat format, Set<String> extraSecretParams,
            GatewayMetrics metrics) {
        this(new AccessLog(listener, format, extraSecretParams, metrics));
    }

    /** Recording into {@code log}: an HTTP/2 stream's, its connection's (streams share their connection's loop). */
    public AccessLogHandler(AccessLog log) {
        this.log = log;
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
            if (AccessLog.enabled()) {
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
            log.record(facts, ctx.channel().remoteAddress(), method, target, protocol, referer, userAgent, status,
                    bytes, start);
            reset();
        }
        ctx.write(msg, promise);
    }

    private void reset() {
        method = "-";
        target = "-";
        protocol = "-";
        referer = null;
        userAgent = null;
        start = 0;
        facts.end();
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }
}
