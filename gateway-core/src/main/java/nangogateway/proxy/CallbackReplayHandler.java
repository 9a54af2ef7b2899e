package nangogateway.proxy;

import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.List;
import java.util.concurrent.TimeUnit;
import nangogateway.config.CallbackAction;
import nangogateway.config.UpstreamConfig;
import nangogateway.observe.RequestIdHandler;
import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.LocalResponses;
import nangogateway.exchange.RoutedRequest;
import nangogateway.upstream.UpstreamResponse;
import nangogateway.upstream.UpstreamChannelHandler;
import nangogateway.upstream.UpstreamException;
import nangogateway.upstream.UpstreamPool;
import nangogateway.upstream.UpstreamPools;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code callback} action: replays an OAuth provider's browser redirect to Nango's own callback over the
 * internal network, so Nango needs no public hostname. The query string, {@code Cookie} and {@code User-Agent}
 * (plus any {@code forward_headers}) go to Nango byte for byte and nothing else of the client's does; Nango's
 * status, every {@code Set-Cookie}, {@code Location} and body come back. A redirect is relayed, never followed.
 * The body is buffered up to {@code max_response_body}: over the cap the browser gets 502, never a truncated page.
 */
public final class CallbackReplayHandler extends ChannelInboundHandlerAdapter implements UpstreamChannelHandler.Listener {
    private static final Logger log = LoggerFactory.getLogger(CallbackReplayHandler.class);

    private final UpstreamPools pools;
    private final String scheme;
    private ChannelHandlerContext ctx;

    private RoutedRequest current;
    private CallbackAction action;
    private UpstreamConfig upstream;
    private UpstreamPool pool;
    private Channel upstreamChannel;
    private boolean reused;
    private boolean retried;
    private boolean requestComplete;
    private HttpRequest replay;
    private HttpResponse response;
    private CompositeByteBuf body;
    private boolean upstreamKeepAlive;
    private ScheduledFuture<?> timer;
    private long upstreamStart;

    public CallbackReplayHandler(UpstreamPools pools, String scheme) {
        this.pools = pools;
        this.scheme = scheme;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
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
        retried = false;
        if (!requestComplete) {
            ctx.read(); // the end of the request
        }
        if (!request.method().equals(HttpMethod.GET) || routed.admitted().hasBody()) {
            FullHttpResponse r = LocalResponses.text(ctx.alloc(), 405, true);
            r.headers().set(HttpHeaderNames.ALLOW, "GET");
            finish(r, false);
            return;
        }
        upstream = routed.snapshot().config().upstreams().get(a.upstream());
        pool = pools.pool(ctx.channel().eventLoop(), upstream);
        replay = buildReplay(request, routed, a);
        pool.acquire(false).addListener(this::onLease);
    }

    /** Exactly what Nango sees: the callback path, the query untouched, and only the listed headers. */
    private HttpRequest buildReplay(HttpRequest request, RoutedRequest routed, CallbackAction a) {
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
        CharSequence requestId = RequestFacts.of(ctx.channel()).requestId;
        if (requestId != null) {
            out.set(RequestIdHandler.HEADER, requestId);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, out);
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

    private void onLease(Future<? super UpstreamPool.Lease> f) {
        if (current == null) {
            if (f.isSuccess()) {
                ((UpstreamPool.Lease) f.getNow()).channel().close();
            }
            return;
        }
        if (!f.isSuccess()) {
            fail(502, f.cause());
            return;
        }
        UpstreamPool.Lease lease = (UpstreamPool.Lease) f.getNow();
        upstreamChannel = lease.channel();
        reused = lease.reused();
        UpstreamPool.attach(upstreamChannel, this);
        upstreamStart = System.nanoTime();
        upstreamChannel.write(replay);
        upstreamChannel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(w -> {
            if (!w.isSuccess() && upstreamChannel != null) {
                upstreamChannel.close();
            }
        });
        upstreamChannel.read();
        if (timer == null) {
            timer = ctx.executor().schedule(() -> {
                timer = null;
                if (current != null && response == null) {
                    fail(504, new UpstreamException(upstream.name(), "no response within "
                            + upstream.responseTimeout().toMillis() + " ms"));
                }
            }, upstream.responseTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void upstreamRead(Object msg) {
        if (current == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof UpstreamResponse r) {
            if (r.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                fail(502, new UpstreamException(upstream.name(), "malformed response"));
                return;
            }
            if (r.status().code() < 200) {
                ReferenceCountUtil.release(msg);
                if (r.status().code() == 101) {
                    fail(502, new UpstreamException(upstream.name(), "unexpected 101"));
                }
                return;
            }
            long declared = HttpUtil.getContentLength(r, -1L);
            if (declared > action.maxResponseBody()) {
                ReferenceCountUtil.release(msg);
                fail(502, new UpstreamException(upstream.name(), "callback response declares " + declared
                        + " bytes, over the " + action.maxResponseBody() + "-byte cap"));
                return;
            }
            response = r;
            RequestFacts facts = RequestFacts.of(ctx.channel());
            facts.upstreamStatus = r.status().code();
            facts.upstreamNanos = System.nanoTime() - upstreamStart;
            upstreamKeepAlive = r.keepAlive();
            body = ctx.alloc().compositeBuffer(64);
        }
        if (msg instanceof HttpContent content) {
            if (body == null || content.decoderResult().isFailure()) {
                content.release();
                fail(502, new UpstreamException(upstream.name(), "malformed response body"));
                return;
            }
            if (body.readableBytes() + content.content().readableBytes() > action.maxResponseBody()) {
                content.release();
                fail(502, new UpstreamException(upstream.name(), "callback response body over the "
                        + action.maxResponseBody() + "-byte cap"));
                return;
            }
            body.addComponent(true, content.content().retain());
            content.release();
            if (msg instanceof LastHttpContent) {
                complete();
            }
        } else if (!(msg instanceof UpstreamResponse)) {
            ReferenceCountUtil.release(msg); // nothing else comes from the upstream codec; dropped, so released
        }
    }

    private void complete() {
        cancelTimer();
        HttpHeaders headers = response.headers().copy();
        ForwardingHeaders.cleanResponse(headers, false);
        FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(), body, headers,
                DefaultHttpHeadersFactory.trailersFactory().newHeaders());
        body = null;
        out.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, out.content().readableBytes());
        Channel up = upstreamChannel;
        upstreamChannel = null;
        if (up != null) {
            if (upstreamKeepAlive) {
                pool.release(up);
            } else {
                UpstreamPool.attach(up, null);
                up.close();
            }
        }
        finish(out, true);
    }

    @Override
    public void upstreamReadComplete() {
        if (current != null && upstreamChannel != null) {
            upstreamChannel.read();
        }
    }

    @Override
    public void upstreamWritabilityChanged(boolean writable) {
        // The replayed request is a bodiless GET: nothing to pace.
    }

    @Override
    public void upstreamClosed(Throwable cause) {
        upstreamChannel = null;
        if (current == null) {
            return;
        }
        if (response == null && reused && !retried) {
            retried = true;
            pool.acquire(true).addListener(this::onLease);
            return;
        }
        fail(502, new UpstreamException(upstream.name(), cause == null ? "connection closed before the response ended"
                : cause.getClass().getSimpleName() + ": " + cause.getMessage()));
    }

    private void fail(int status, Throwable cause) {
        String route = current == null ? "-" : current.route().name();
        if (upstream != null) {
            RequestFacts.of(ctx.channel()).upstreamError = upstream.name() + ":" + ProxyHandler.errorKind(status, cause);
        }
        log.warn("{} {}: {} -> {}", ctx.channel().remoteAddress(), route, cause.getMessage(), status);
        Channel up = upstreamChannel;
        upstreamChannel = null;
        if (up != null) {
            UpstreamPool.attach(up, null);
            up.close(); // never pooled: its state is unknown
        }
        String explanation = status == 504
                ? "The sign-in service took too long to answer. Please close this window and try connecting again."
                : "The sign-in service could not complete this step. Please close this window and try connecting again.";
        finish(LocalResponses.html(ctx.alloc(), status, status == 504 ? "Sign-in timed out" : "Sign-in failed",
                explanation, false), false);
    }

    /** Sends the browser its answer and readies the connection for the next request (or closes it). */
    private void finish(FullHttpResponse r, boolean ok) {
        cancelTimer();
        if (body != null) {
            body.release();
            body = null;
        }
        if (response != null) {
            ReferenceCountUtil.release(response);
            response = null;
        }
        RoutedRequest done = current;
        current = null;
        boolean keepAlive = ok && requestComplete && HttpUtil.isKeepAlive(done.admitted().request())
                && done.admitted().request().protocolVersion() == HttpVersion.HTTP_1_1;
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
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

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (current != null) {
            current = null;
            cancelTimer();
            if (body != null) {
                body.release();
                body = null;
            }
            if (upstreamChannel != null) {
                UpstreamPool.attach(upstreamChannel, null);
                upstreamChannel.close();
                upstreamChannel = null;
            }
        }
        ctx.fireChannelInactive();
    }

}
