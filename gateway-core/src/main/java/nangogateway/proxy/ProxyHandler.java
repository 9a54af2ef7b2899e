package nangogateway.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import nangogateway.config.ProxyAction;
import nangogateway.config.UpstreamConfig;
import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.LocalResponses;
import nangogateway.exchange.RoutedRequest;
import nangogateway.upstream.UpstreamChannelHandler;
import nangogateway.upstream.UpstreamException;
import nangogateway.upstream.UpstreamPool;
import nangogateway.upstream.UpstreamPools;
import nangogateway.upstream.RelayedResponse;
import nangogateway.upstream.UpstreamResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code proxy} action: streams one request at a time to a pooled upstream connection on this channel's
 * event loop and streams the response back. Both directions use read-after-write back-pressure (auto-read is
 * off everywhere): the next chunk is read only when the other side can take it. Bodies are never aggregated.
 */
public final class ProxyHandler extends ChannelInboundHandlerAdapter implements UpstreamChannelHandler.Listener {
    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);
    private static final DefaultHttpHeadersFactory OWN_HEADERS =
            DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    private final UpstreamPools pools;
    private final String scheme;
    private ChannelHandlerContext ctx;
    private RequestFacts facts;

    // State of the exchange in progress; all touched on the event loop only.
    private RoutedRequest current;
    private UpstreamConfig upstream;
    private String upstreamAuthority;
    private UpstreamPool pool;
    private Channel upstreamChannel;
    private boolean reused;
    private boolean retried;
    private HttpRequest upstreamHead;
    private final ArrayDeque<HttpContent> pending = new ArrayDeque<>();
    private long bodyBytes;
    private long maxBody;
    private boolean requestComplete;
    private boolean responseStarted;
    /**
     * The client's response head, held back until the rest of this socket read is seen: when the whole body came
     * with it (the common small response), head and body go down the pipeline as one message.
     */
    private HttpResponse heldHead;
    private boolean responseComplete;
    private boolean clientKeepAlive;
    private boolean upstreamKeepAlive;
    private boolean headRequest;
    private boolean awaitingClientWritable;
    private boolean awaitingUpstreamWritable;
    private ScheduledFuture<?> responseTimer;
    private long responseDeadline;
    private long upstreamStart;
    /** After a kept-alive response is written: the next pipelined or keep-alive request. One per connection. */
    private final ChannelFutureListener readNextRequest = f -> {
        if (f.isSuccess()) {
            ctx.read();
        } else {
            f.channel().close();
        }
    };

    public ProxyHandler(UpstreamPools pools, String scheme) {
        this.pools = pools;
        this.scheme = scheme;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.facts = RequestFacts.of(ctx.channel());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof RoutedRequest routed) {
            if (routed.route().action() instanceof ProxyAction action) {
                start(routed, action);
            } else {
                ctx.fireChannelRead(msg);
            }
        } else if (msg instanceof HttpContent content && current != null) {
            onClientContent(content);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void start(RoutedRequest routed, ProxyAction action) {
        current = routed;
        HttpRequest request = routed.admitted().request();
        UpstreamConfig next = routed.snapshot().config().upstreams().get(action.upstream());
        if (next != upstream || pool == null) {
            upstream = next; // the same snapshot's upstream: skip the pool lookup (records hash every field)
            upstreamAuthority = upstream.authority();
            pool = pools.pool(ctx.channel().eventLoop(), upstream);
        }
        maxBody = action.maxRequestBody();
        bodyBytes = 0;
        requestComplete = routed.admitted().complete();
        responseStarted = false;
        responseComplete = false;
        retried = false;
        headRequest = request.method().equals(HttpMethod.HEAD);
        clientKeepAlive = HttpUtil.isKeepAlive(request);
        BaseUrlOverridePolicy.Decision.Forward override = null;
        if (action.baseUrlOverride() == ProxyAction.BaseUrlOverrideMode.ENFORCE) {
            // Decided on the client's headers as sent, before they are turned into the upstream's.
            BaseUrlOverridePolicy.Decision d = BaseUrlOverridePolicy.decide(routed.snapshot().config(),
                    request.headers(), BaseUrlOverridePolicy.pathAfterPrefix(routed.route(),
                            routed.admitted().target().path()));
            if (d instanceof BaseUrlOverridePolicy.Decision.Deny deny) {
                log.info("{} {}: {} ({})", ctx.channel().remoteAddress(), routed.route().name(), deny.reason(),
                        deny.status());
                facts.rejectReason = "base_url_override: " + deny.reason();
                current = null;
                ctx.writeAndFlush(LocalResponses.json(ctx.alloc(), deny.status(), deny.code(), deny.reason()))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            override = (BaseUrlOverridePolicy.Decision.Forward) d;
        }
        boolean chunked = HttpUtil.isTransferEncodingChunked(request);
        HttpHeaders headers = ForwardingHeaders.toUpstream(request.headers(), routed.route().websocket(),
                RequestFacts.clientAddress(ctx.channel()), scheme, request.headers().get(HttpHeaderNames.HOST), upstreamAuthority);
        if (chunked) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED); // re-framed by the encoder
        }
        if (override != null) {
            headers.set(BaseUrlOverridePolicy.PROVIDER_HEADER, override.providerKey());
            if (override.override() != null) {
                headers.set(BaseUrlOverridePolicy.HEADER, override.override());
            }
        }
        String uri = routed.admitted().target().raw();
        // The guard admitted the raw target as printable ASCII only; a rewritten one is checked again by Netty.
        boolean checkLine = false;
        if (action.providerKeyParam() != null) {
            uri = ProviderKeys.rewriteParam(routed, action.providerKeyParam(), uri);
            checkLine = true;
        }
        upstreamHead = requestComplete
                ? new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, request.method(), uri, Unpooled.EMPTY_BUFFER,
                        headers, EmptyHttpHeaders.INSTANCE, checkLine)
                : new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), uri, headers, checkLine);
        connect(false);
    }

    private void connect(boolean fresh) {
        Channel idle = fresh ? null : pool.pollIdle();
        if (idle != null) {
            leased(idle, true);
        } else {
            pool.acquire(true).addListener(this::onLease);
        }
    }

    private void onLease(Future<? super UpstreamPool.Lease> f) {
        if (current == null) {
            if (f.isSuccess()) {
                ((UpstreamPool.Lease) f.getNow()).channel().close(); // the client left meanwhile
            }
            return;
        }
        if (!f.isSuccess()) {
            fail(502, f.cause());
            return;
        }
        UpstreamPool.Lease lease = (UpstreamPool.Lease) f.getNow();
        leased(lease.channel(), lease.reused());
    }

    /**
     * Sends the head (and any body already read) on the leased connection. Upstream writes use the void promise:
     * a failed write fires exceptionCaught on the upstream pipeline, which closes it, and the close ends the
     * exchange (retried or 502) through {@link #upstreamClosed}.
     */
    private void leased(Channel channel, boolean wasReused) {
        upstreamChannel = channel;
        reused = wasReused;
        upstreamKeepAlive = true;
        UpstreamPool.attach(upstreamChannel, this);
        upstreamStart = System.nanoTime();
        upstreamChannel.write(upstreamHead, upstreamChannel.voidPromise());
        HttpContent c;
        while ((c = pending.poll()) != null) {
            writeBody(c);
        }
        upstreamChannel.flush();
        upstreamChannel.read();
        if (requestComplete) {
            startResponseTimer(upstreamStart);
        } else {
            ctx.read();
        }
    }

    private void onClientContent(HttpContent content) {
        if (upstreamChannel == null) {
            pending.add(content);
            return;
        }
        writeBody(content);
        upstreamChannel.flush();
        if (requestComplete) {
            startResponseTimer(System.nanoTime());
        } else if (upstreamChannel.isWritable()) {
            ctx.read();
        } else {
            awaitingUpstreamWritable = true;
        }
    }

    private void writeBody(HttpContent content) {
        bodyBytes += content.content().readableBytes();
        if (bodyBytes > maxBody) {
            content.release();
            log.info("{} {}: request body over {} bytes", ctx.channel().remoteAddress(), current.route().name(),
                    maxBody);
            abortExchange(413, "request body too large");
            return;
        }
        if (content instanceof LastHttpContent last) {
            requestComplete = true;
            if (!last.trailingHeaders().isEmpty()) {
                // Trailers are dropped: the gateway re-frames the body and forwards no client framing metadata.
                content = new DefaultLastHttpContent(last.content());
            }
        }
        upstreamChannel.write(content, upstreamChannel.voidPromise());
    }

    /**
     * Arms the response deadline. The timer task is not cancelled when the response comes: it stays scheduled
     * and is reused for the next request on the connection, so a busy keep-alive connection schedules a task
     * once per {@code response_timeout}, not once per request.
     */
    private void startResponseTimer(long now) {
        if (responseStarted || responseDeadline != 0) {
            return;
        }
        responseDeadline = now + upstream.responseTimeout().toNanos();
        if (responseTimer == null) {
            responseTimer = ctx.executor().schedule(this::checkResponseTimer,
                    upstream.responseTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private void checkResponseTimer() {
        responseTimer = null;
        if (responseDeadline == 0 || current == null) {
            return;
        }
        long left = responseDeadline - System.nanoTime();
        if (left > 0) {
            responseTimer = ctx.executor().schedule(this::checkResponseTimer, left, TimeUnit.NANOSECONDS);
            return;
        }
        responseDeadline = 0;
        if (!responseStarted) {
            fail(504, new UpstreamException(upstream.name(), "no response within "
                    + upstream.responseTimeout().toMillis() + " ms"));
        }
    }

    private void cancelResponseTimer() {
        responseDeadline = 0;
    }

    // ---- upstream events (same event loop) ----

    @Override
    public void upstreamRead(Object msg) {
        if (current == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof UpstreamResponse response) {
            if (response.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                upstreamKeepAlive = false;
                fail(502, new UpstreamException(upstream.name(), "malformed response: "
                        + response.decoderResult().cause().getMessage()));
                return;
            }
            int code = response.status().code();
            if (code == 101) {
                ReferenceCountUtil.release(msg);
                if (current.route().websocket()) {
                    cancelResponseTimer();
                    switchToTunnel(response);
                } else {
                    upstreamKeepAlive = false;
                    fail(502, new UpstreamException(upstream.name(), "unexpected 101 Switching Protocols"));
                }
                return;
            }
            if (code >= 100 && code < 200) {
                ReferenceCountUtil.release(msg); // interim responses are not relayed
                return;
            }
            cancelResponseTimer();
            responseStarted = true;
            facts.upstreamStatus = code;
            facts.upstreamNanos = System.nanoTime() - upstreamStart;
            upstreamKeepAlive = response.keepAlive();
            heldHead = clientResponse(response);
            return;
        }
        if (msg instanceof HttpContent content) {
            if (content.decoderResult().isFailure()) {
                content.release();
                upstreamKeepAlive = false;
                if (heldHead != null) { // nothing reached the client yet: it can still get a proper answer
                    heldHead = null;
                    responseStarted = false;
                    facts.upstreamStatus = 0;
                    facts.upstreamNanos = -1;
                    fail(502, new UpstreamException(upstream.name(), "malformed response body: "
                            + content.decoderResult().cause().getMessage()));
                    return;
                }
                upstreamChannel.close();
                return;
            }
            if (content instanceof LastHttpContent last) {
                Object out = last; // the decoder drops trailers: the body is re-framed for the client
                if (heldHead != null) {
                    out = RelayedResponse.whole(heldHead.status(), ((RelayedResponse) heldHead).relayed(),
                            heldHead.headers(), last.content());
                    heldHead = null;
                }
                io.netty.channel.ChannelFuture written = ctx.write(out);
                responseComplete = true;
                finishExchange(written);
                return;
            }
            writeHeldHead();
            ctx.write(content, ctx.voidPromise());
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * The client's response head: Nango's header lines as the decoder cleaned them (hop-by-hop ones removed, the
     * body re-framed), relayed without being decoded into a map; the gateway's own framing headers beside them.
     */
    private HttpResponse clientResponse(UpstreamResponse upstreamResponse) {
        // Only names and values the gateway itself makes go in here (framing, its request id, HSTS from the
        // validated config), so the map need not check each one again.
        HttpHeaders own = OWN_HEADERS.newHeaders();
        int code = upstreamResponse.status().code();
        boolean noBody = headRequest || code == 204 || code == 304;
        HttpVersion clientVersion = current.admitted().request().protocolVersion();
        if (!noBody && !upstreamResponse.lengthKnown()) {
            if (clientVersion == HttpVersion.HTTP_1_1) {
                own.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else {
                clientKeepAlive = false; // an HTTP/1.0 client learns the end of the body from the close
            }
        }
        if (clientVersion == HttpVersion.HTTP_1_0) {
            clientKeepAlive = false;
        }
        if (!clientKeepAlive) {
            own.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return RelayedResponse.head(upstreamResponse.status(), upstreamResponse.head(), own);
    }

    private void writeHeldHead() {
        if (heldHead != null) {
            ctx.write(heldHead, ctx.voidPromise());
            heldHead = null;
        }
    }

    @Override
    public void upstreamReadComplete() {
        if (current == null || upstreamChannel == null) {
            return;
        }
        writeHeldHead();
        ctx.flush();
        if (responseComplete) {
            return;
        }
        if (ctx.channel().isWritable()) {
            upstreamChannel.read();
        } else {
            awaitingClientWritable = true;
        }
    }

    @Override
    public void upstreamWritabilityChanged(boolean writable) {
        if (writable && awaitingUpstreamWritable && current != null) {
            awaitingUpstreamWritable = false;
            ctx.read();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && awaitingClientWritable && upstreamChannel != null) {
            awaitingClientWritable = false;
            upstreamChannel.read();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void upstreamClosed(Throwable cause) {
        upstreamChannel = null;
        if (current == null || responseComplete) {
            return;
        }
        if (!responseStarted) {
            if (canRetry()) {
                retried = true;
                log.debug("upstream {}: reused connection closed before a response; retrying once", upstream.name());
                connect(true);
                return;
            }
            String why = cause == null ? "connection closed before a response" : describe(cause);
            fail(502, new UpstreamException(upstream.name(), why));
            return;
        }
        log.warn("{} {}: upstream {} closed mid-response{}", ctx.channel().remoteAddress(), current.route().name(),
                upstream.name(), cause == null ? "" : " (" + describe(cause) + ")");
        resetExchange();
        ctx.close(); // the client must not take a truncated body for a whole one
    }

    /** A request that failed on a reused connection before any byte came back may be sent once more. */
    private boolean canRetry() {
        if (!reused || retried || bodyBytes > 0 || current.admitted().hasBody()) {
            return false;
        }
        HttpMethod m = current.admitted().request().method();
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)
                || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE);
    }

    private void finishExchange(io.netty.channel.ChannelFuture lastWrite) {
        Channel up = upstreamChannel;
        boolean reusable = upstreamKeepAlive && requestComplete;
        boolean keepClient = clientKeepAlive && requestComplete;
        resetExchange();
        if (up != null) {
            if (reusable) {
                pool.release(up);
            } else {
                UpstreamPool.attach(up, null);
                up.close();
            }
        }
        ctx.flush();
        if (keepClient) {
            lastWrite.addListener(readNextRequest);
        } else {
            lastWrite.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void resetExchange() {
        cancelResponseTimer();
        current = null;
        heldHead = null;
        upstreamChannel = null;
        awaitingClientWritable = false;
        awaitingUpstreamWritable = false;
        HttpContent c;
        while ((c = pending.poll()) != null) {
            c.release();
        }
    }

    /** Answers the client with an error (if no response started) and ends the exchange and the connection. */
    private void fail(int status, Throwable cause) {
        String route = current == null ? "-" : current.route().name();
        if (upstream != null) {
            facts.upstreamError = upstream.name() + ":" + ProxyHandler.errorKind(status, cause);
        }
        log.warn("{} {}: {} -> {}", ctx.channel().remoteAddress(), route, describe(cause), status);
        abortExchange(status, describe(cause));
    }

    /** A short, bounded label for a failure, for metrics. */
    static String errorKind(int status, Throwable cause) {
        if (status == 504) {
            return "timeout";
        }
        String m = String.valueOf(cause.getMessage());
        if (m.contains("connect") || m.contains("refused") || m.contains("limit reached")) {
            return "connect";
        }
        if (m.contains("malformed") || m.contains("unexpected") || m.contains("cap")) {
            return "bad_response";
        }
        return "closed";
    }

    private void abortExchange(int status, String reason) {
        Channel up = upstreamChannel;
        boolean started = responseStarted;
        resetExchange();
        if (up != null) {
            UpstreamPool.attach(up, null);
            up.close();
        }
        if (started) {
            ctx.close();
            return;
        }
        ctx.writeAndFlush(LocalResponses.text(ctx.alloc(), status, true)).addListener(ChannelFutureListener.CLOSE);
    }

    private void switchToTunnel(HttpResponse upgrade) {
        HttpHeaders headers = upgrade.headers().copy();
        ForwardingHeaders.cleanResponse(headers, true);
        DefaultHttpResponse toClient = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.SWITCHING_PROTOCOLS, headers);
        Channel up = upstreamChannel;
        resetExchange();
        UpstreamPool.attach(up, null);
        Tunnel.open(ctx.channel(), up, toClient);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (current != null) {
            Channel up = upstreamChannel;
            resetExchange();
            if (up != null) {
                UpstreamPool.attach(up, null);
                up.close();
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        HttpContent c;
        while ((c = pending.poll()) != null) {
            c.release();
        }
    }


    private static String describe(Throwable t) {
        if (t instanceof UpstreamException) {
            return t.getMessage();
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
