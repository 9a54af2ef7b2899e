package nangogateway.server;

import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.AdmittedRequest;
import nangogateway.exchange.LocalAnswer;
import nangogateway.exchange.LocalResponses;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The plain-HTTP listener of a TLS site: 301 to {@code https://host/...} for everything, except ACME HTTP-01
 * challenges, which are served from {@code acme_webroot} so {@code certbot --webroot} renews without nginx. A
 * challenge token is one segment of base64url characters, so no request can name a file outside the
 * challenge directory, and symlinks are not followed.
 */
public final class HttpsRedirectHandler extends ChannelInboundHandlerAdapter {
    /** Where ACME HTTP-01 challenges are asked for (RFC 8555 section 8.3). */
    public static final String ACME_PREFIX = "/.well-known/acme-challenge/";
    private final Path acmeWebroot;
    private boolean close;
    private ChannelHandlerContext ctx;
    private final NextRequestGate afterResponse = new NextRequestGate(() -> ctx.read());

    public HttpsRedirectHandler(Path acmeWebroot) {
        this.acmeWebroot = acmeWebroot;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof AdmittedRequest a) {
            FullHttpResponse r = answer(ctx, a);
            close = LocalAnswer.prepare(a, r, false);
            afterResponse.answering(a.complete());
            ctx.writeAndFlush(r).addListener(close ? ChannelFutureListener.CLOSE : afterResponse);
            if (!a.complete()) {
                ctx.read(); // the rest of this request, discarded
            }
        } else if (msg instanceof HttpContent c) {
            c.release();
            if (msg instanceof LastHttpContent) {
                afterResponse.requestEnded(); // opens only after a kept-alive answer was written
            } else {
                ctx.read();
            }
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        ctx.read();
    }

    private FullHttpResponse answer(ChannelHandlerContext ctx, AdmittedRequest a) {
        String path = a.target().path();
        boolean safe = a.request().method().equals(HttpMethod.GET) || a.request().method().equals(HttpMethod.HEAD);
        if (path.startsWith(ACME_PREFIX)) {
            RequestFacts.of(ctx.channel()).route("acme-challenge");
            if (!safe) {
                FullHttpResponse r = LocalResponses.text(ctx.alloc(), 405, false);
                r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
                return r;
            }
            return challenge(ctx, path.substring(ACME_PREFIX.length()));
        }
        String host = a.request().headers().get(HttpHeaderNames.HOST).trim();
        int colon = host.startsWith("[") ? host.indexOf(':', host.indexOf(']')) : host.indexOf(':');
        String location = "https://" + (colon > 0 ? host.substring(0, colon) : host) + a.target().raw();
        RequestFacts.of(ctx.channel()).route("redirect-to-https");
        FullHttpResponse r = LocalResponses.text(ctx.alloc(), safe ? 301 : 308, false);
        r.headers().set(HttpHeaderNames.LOCATION, location);
        return r;
    }

    private FullHttpResponse challenge(ChannelHandlerContext ctx, String token) {
        if (acmeWebroot == null || !token.matches("[A-Za-z0-9_-]{1,255}")) {
            return LocalResponses.text(ctx.alloc(), 404, false);
        }
        Path file = acmeWebroot.resolve(".well-known").resolve("acme-challenge").resolve(token);
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) > 64 * 1024) {
                return LocalResponses.text(ctx.alloc(), 404, false);
            }
            byte[] bytes = Files.readAllBytes(file);
            ByteBuf body = ctx.alloc().buffer(bytes.length).writeBytes(bytes);
            FullHttpResponse r = new io.netty.handler.codec.http.DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.OK, body);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            return r;
        } catch (IOException e) {
            return LocalResponses.text(ctx.alloc(), 404, false);
        }
    }
}
