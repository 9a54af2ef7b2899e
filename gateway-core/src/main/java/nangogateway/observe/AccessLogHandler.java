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
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import nangogateway.server.Exchanges;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one access-log line per response on the {@code nangogateway.access} logger, in nginx's combined
 * format plus the listener, route (or deny reason) and duration. Credentials in the query are redacted and no
 * header that can carry a secret is ever logged.
 */
public final class AccessLogHandler extends ChannelDuplexHandler {
    private static final Logger access = LoggerFactory.getLogger("nangogateway.access");
    private static final DateTimeFormatter CLF = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.US);

    private final String listener;
    private String method = "-";
    private String target = "-";
    private String protocol = "-";
    private String referer;
    private String userAgent;
    private long start;
    private int status;
    private long bytes;

    public AccessLogHandler(String listener) {
        this.listener = listener;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest r) {
            method = r.method().name();
            target = r.decoderResult().isFailure() ? "-" : QueryRedactor.redact(r.uri());
            protocol = r.protocolVersion().text();
            referer = r.headers().get(HttpHeaderNames.REFERER);
            userAgent = r.headers().get(HttpHeaderNames.USER_AGENT);
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
        boolean last = msg instanceof LastHttpContent && status >= 200;
        if (last && access.isInfoEnabled()) {
            log(ctx);
        }
        ctx.write(msg, promise);
    }

    private void log(ChannelHandlerContext ctx) {
        String route = ctx.channel().attr(Exchanges.ROUTE).get();
        String reject = ctx.channel().attr(Exchanges.REJECT_REASON).get();
        String client = ctx.channel().remoteAddress() instanceof InetSocketAddress a
                ? a.getAddress().getHostAddress() : "-";
        double ms = (System.nanoTime() - start) / 1_000_000.0;
        access.info("{} - - [{}] \"{} {} {}\" {} {} \"{}\" \"{}\" listener={} route={} rt={}", client,
                ZonedDateTime.now().format(CLF), method, target, protocol, status, bytes, quote(referer),
                quote(userAgent), listener, reject != null ? "rejected:" + reject.replace(' ', '_') : orDash(route),
                String.format(Locale.ROOT, "%.3f", ms / 1000.0));
        method = "-";
        target = "-";
        protocol = "-";
        start = 0;
        ctx.channel().attr(Exchanges.REJECT_REASON).set(null);
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }

    private static String quote(String s) {
        if (s == null) {
            return "-";
        }
        return QueryRedactor.redact(s).replace("\"", "\\\"");
    }
}
