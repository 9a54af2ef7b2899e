package nangogateway.proxy;

import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;
import nangogateway.config.CallbackAction;
import nangogateway.config.UpstreamConfig;
import nangogateway.exchange.LocalAnswer;
import nangogateway.exchange.LocalResponses;
import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.RoutedRequest;
import nangogateway.exchange.UpstreamFailure;
import nangogateway.observe.RequestIdHandler;
import nangogateway.upstream.UpstreamPools;
import nangogateway.upstream.UpstreamResponse;

/**
 * The {@code callback} action: replays an OAuth provider's browser redirect to Nango's own callback over the
 * internal network, so Nango needs no public hostname. The query string, {@code Cookie} and {@code User-Agent}
 * (plus any {@code forward_headers}) go to Nango byte for byte and nothing else of the client's does; Nango's
 * status, every {@code Set-Cookie}, {@code Location} and body come back. A redirect is relayed, never followed.
 * The body is buffered up to {@code max_response_body}: over the cap the browser gets 502, never a truncated page.
 */
public final class CallbackReplayHandler extends ChannelInboundHandlerAdapter implements UpstreamExchange.Relay {
    private final UpstreamPools pools;
    private final String scheme;
    private ChannelHandlerContext ctx;
    private UpstreamExchange exchange;

    private RoutedRequest current;
    private CallbackAction action;
    private boolean requestComplete;
    private UpstreamResponse response;
    private CompositeByteBuf body;

    public CallbackReplayHandler(UpstreamPools pools, String scheme) {
        this.pools = pools;
        this.scheme = scheme;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.exchange = new UpstreamExchange(ctx, pools, this);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof RoutedRequest routed && routed.route().action() instanceof CallbackAction a) {
            start(routed, a);
        } else if (msg instanceof HttpContent content && current != null) {
            // A GET carries no body worth replaying; only the end of the request matters.
            boolean last = msg instanceof LastHttpContent;
            content.release();
            if (last) {
                requestComplete = true;
            } else {
                ctx.read();
            }
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void start(RoutedRequest routed, CallbackAction a) {
        HttpRequest request = routed.admitted().request();
        current = routed;
        action = a;
        requestComplete = routed.admitted().complete();
        if (!requestComplete) {
            ctx.read(); // the end of the request
        }
        if (!request.method().equals(HttpMethod.GET) || routed.admitted().hasBody()) {
            FullHttpResponse r = LocalResponses.text(ctx.alloc(), 405, true);
            r.headers().set(HttpHeaderNames.ALLOW, "GET");
            finish(r, false);
            return;
        }
        UpstreamConfig upstream = routed.snapshot().config().upstreams().get(a.upstream());
        exchange.start(upstream, buildReplay(request, routed, a, upstream), true, true, false, routed.route().name());
    }

    /** Exactly what Nango sees: the callback path, the query untouched, and only the listed headers. */
    private HttpRequest buildReplay(HttpRequest request, RoutedRequest routed, CallbackAction a,
            UpstreamConfig upstream) {
        String query = routed.admitted().target().query();
        String uri = query == null ? a.path() : a.path() + "?" + query;
        HttpHeaders in = request.headers();
        HttpHeaders out = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        out.set(HttpHeaderNames.HOST, upstream.authority());
        copy(in, out, "Cookie");
        copy(in, out, "User-Agent");
        for (String name : a.forwardHeaders()) {
            if (!name.equalsIgnoreCase("Cookie") && !name.equalsIgnoreCase("User-Agent")) {
                copy(in, out, name);
            }
        }
        out.set("X-Forwarded-For", RequestFacts.clientAddress(ctx.channel()));
        out.set("X-Forwarded-Proto", scheme);
        out.set("X-Forwarded-Host", in.get(HttpHeaderNames.HOST).trim());
        out.set(HttpHeaderNames.VIA, ForwardingHeaders.VIA);
        CharSequence requestId = RequestFacts.of(ctx.channel()).requestId();
        if (requestId != null) {
            out.set(RequestIdHandler.HEADER, requestId);
        }
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, Unpooled.EMPTY_BUFFER, out,
                EmptyHttpHeaders.INSTANCE);
    }

    private static void copy(HttpHeaders in, HttpHeaders out, String name) {
        List<String> values = in.getAll(name);
        if (values.size() == 1) {
            out.add(name, values.get(0));
        } else if (values.size() > 1 && name.equalsIgnoreCase("Cookie")) {
            out.add(name, String.join("; ", values)); // RFC 6265 5.4: one Cookie header upstream
        } else if (values.size() > 1) {
            for (String v : values) {
                out.add(name, v);
            }
        }
    }

    // ---- the response, buffered up to the cap ----

    @Override
    public void responseHead(UpstreamResponse r) {
        long declared = HttpUtil.getContentLength(r, -1L);
        if (declared > action.maxResponseBody()) {
            exchange.fail(502, UpstreamFailure.TOO_LARGE, "callback response declares " + declared
                    + " bytes, over the " + action.maxResponseBody() + "-byte cap");
            return;
        }
        response = r;
        body = ctx.alloc().compositeBuffer(64);
    }

    @Override
    public void responseContent(HttpContent content) {
        if (body.readableBytes() + content.content().readableBytes() > action.maxResponseBody()) {
            content.release();
            exchange.fail(502, UpstreamFailure.TOO_LARGE, "callback response body over the "
                    + action.maxResponseBody() + "-byte cap");
            return;
        }
        body.addComponent(true, content.content().retain());
        content.release();
        if (content instanceof LastHttpContent) {
            complete();
        }
    }

    @Override
    public void responseReadComplete() {
        exchange.readResponse();
    }

    private void complete() {
        HttpHeaders headers = response.headers().copy();
        ForwardingHeaders.cleanResponse(headers, false);
        FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(), body, headers,
                DefaultHttpHeadersFactory.trailersFactory().newHeaders());
        body = null;
        out.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, out.content().readableBytes());
        finish(out, true);
    }

    @Override
    public void failed(int status) {
        String explanation = status == 504
                ? "The sign-in service took too long to answer. Please close this window and try connecting again."
                : "The sign-in service could not complete this step. Please close this window and try connecting again.";
        FullHttpResponse r = LocalResponses.html(ctx.alloc(), status,
                status == 504 ? "Sign-in timed out" : "Sign-in failed", explanation, false);
        if (status == 503) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, "1"); // every connection to Nango busy: a moment's wait
        }
        finish(r, false);
    }

    /** Sends the browser its answer and readies the connection for the next request (or closes it). */
    private void finish(FullHttpResponse r, boolean ok) {
        releaseBody();
        RoutedRequest done = current;
        current = null;
        response = null;
        boolean close = LocalAnswer.prepare(done.admitted(), r, !ok || !requestComplete);
        if (close) {
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.writeAndFlush(r).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                ctx.read();
            } else {
                f.channel().close();
            }
        });
    }

    private void releaseBody() {
        if (body != null) {
            body.release();
            body = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (current != null) {
            current = null;
            response = null;
            exchange.abort();
            releaseBody();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseBody();
    }
}
