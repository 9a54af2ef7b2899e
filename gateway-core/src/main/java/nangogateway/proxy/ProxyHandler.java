package nangogateway.proxy;

import nangogateway.lifecycle.LingeringCloseHandler;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
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
import java.io.IOException;
import java.util.ArrayDeque;
import nangogateway.config.ProxyAction;
import nangogateway.config.ServerSettings;
import nangogateway.limits.BufferBudgets;
import nangogateway.config.UpstreamConfig;
import nangogateway.exchange.LocalAnswer;
import nangogateway.exchange.LocalResponses;
import nangogateway.exchange.Refusal;
import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.RoutedRequest;
import nangogateway.upstream.RelayedResponse;
import nangogateway.upstream.UpstreamPools;
import nangogateway.upstream.UpstreamResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code proxy} action: one request at a time, through an {@link UpstreamExchange} on this channel's event
 * loop, with the response streamed back. A request body is read whole first ({@link BufferedBody}) unless the
 * route streams it; a response is read ahead of a slow client into bounded buffers ({@link ResponseBuffer}) unless
 * the route streams it. Past those buffers both directions use read-after-write back-pressure (auto-read is off
 * everywhere): the next chunk is read only when the other side can take it. This class holds the client's side:
 * the upstream head it sends (forwarding headers, Base-Url-Override, provider keys), the body cap, and the
 * response head and framing the client gets.
 */
public final class ProxyHandler extends ChannelInboundHandlerAdapter implements UpstreamExchange.Relay {
    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);
    private static final DefaultHttpHeadersFactory OWN_HEADERS =
            DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    private final UpstreamPools pools;
    private final String scheme;
    private final BufferBudgets budgets;
    private ChannelHandlerContext ctx;
    private RequestFacts facts;
    private UpstreamExchange exchange;
    private ResponseBuffer responses;

    // The client's side of the exchange in progress; all touched on the event loop only.
    private RoutedRequest current;
    /** A body read whole before the request goes upstream, with the head and upstream that wait for it. */
    private BufferedBody body;
    private HttpRequest waitingHead;
    private UpstreamConfig waitingUpstream;
    private long bodyBytes;
    private long maxBody;
    /**
     * The client's response head, held back until the rest of this socket read is seen: when the whole body came
     * with it (the common small response), head and body go down the pipeline as one message.
     */
    private HttpResponse heldHead;
    /**
     * Body pieces that came in the same socket read as the head, held with it: a piece of that read that breaks the
     * framing still finds nothing written, and the client gets a 502 rather than a cut connection. At most one read
     * of the upstream (its buffers, already in memory), given back with the head.
     */
    private final ArrayDeque<HttpContent> heldPieces = new ArrayDeque<>();
    private boolean headWritten;
    private boolean clientKeepAlive;
    private boolean headRequest;
    private boolean awaitingClientWritable;
    /** The upstream's response ended while part of its body still waits in the response buffer's file. */
    private boolean finishing;
    private boolean finishKeepsClient;
    /** After a kept-alive response is written: the next pipelined or keep-alive request. One per connection. */
    private final ChannelFutureListener readNextRequest = f -> {
        if (f.isSuccess()) {
            ctx.read();
        } else {
            f.channel().close();
        }
    };

    public ProxyHandler(UpstreamPools pools, String scheme, BufferBudgets budgets) {
        this.pools = pools;
        this.scheme = scheme;
        this.budgets = budgets;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.facts = RequestFacts.of(ctx.channel());
        this.exchange = new UpstreamExchange(ctx, pools, this);
        this.responses = new ResponseBuffer(ctx, budgets);
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
        HttpRequest request = routed.admitted().request();
        UpstreamConfig upstream = routed.snapshot().config().upstreams().get(action.upstream());
        BaseUrlOverridePolicy.Decision.Forward override = null;
        if (action.baseUrlOverride() == ProxyAction.BaseUrlOverrideMode.ENFORCE) {
            // Decided on the client's headers as sent, before they are turned into the upstream's.
            BaseUrlOverridePolicy.Decision d = BaseUrlOverridePolicy.decide(routed.snapshot().config(),
                    request.headers(), BaseUrlOverridePolicy.pathAfterPrefix(routed.route(),
                            routed.admitted().target().path()));
            if (d instanceof BaseUrlOverridePolicy.Decision.Deny deny) {
                log.info("{} {}: {} ({})", ctx.channel().remoteAddress(), routed.route().name(), deny.reason(),
                        deny.status());
                facts.reject(Refusal.OVERRIDE, "base_url_override: " + deny.reason());
                ctx.writeAndFlush(LocalResponses.json(ctx.alloc(), deny.status(), deny.code(), deny.reason()))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            override = (BaseUrlOverridePolicy.Decision.Forward) d;
        }
        current = routed;
        ServerSettings server = routed.snapshot().config().server();
        responses.begin(action.responseBuffering(), server);
        maxBody = action.maxRequestBody();
        bodyBytes = 0;
        heldHead = null;
        headWritten = false;
        headRequest = request.method().equals(HttpMethod.HEAD);
        clientKeepAlive = HttpUtil.isKeepAlive(request);
        boolean complete = routed.admitted().complete();
        boolean chunked = HttpUtil.isTransferEncodingChunked(request); // read before the headers are turned over
        HttpHeaders headers = ForwardingHeaders.toUpstream(request.headers(), routed.route().websocket(),
                RequestFacts.clientAddress(ctx.channel()), scheme, request.headers().get(HttpHeaderNames.HOST),
                upstream.authority());
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
        HttpRequest head = complete
                ? new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, request.method(), uri, Unpooled.EMPTY_BUFFER,
                        headers, EmptyHttpHeaders.INSTANCE, checkLine)
                : new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), uri, headers, checkLine);
        if (!complete && action.requestBuffering()) {
            // Nothing of the request goes upstream, and no connection is leased, until its body is whole and well
            // framed: a slow or broken body holds a buffer of the gateway's, never one of Nango's connections.
            body = new BufferedBody(ctx.alloc(), budgets, server.requestBufferMemory(), server.tempPath());
            waitingHead = head;
            waitingUpstream = upstream;
            ctx.read();
            return;
        }
        exchange.start(upstream, head, complete, mayRetry(routed), routed.route().websocket(), routed.route().name());
    }

    /** The whole body is held: the request goes upstream framed by its length. */
    private void sendBuffered() {
        HttpRequest head = waitingHead;
        waitingHead = null;
        head.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        head.headers().set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(body.size()));
        exchange.start(waitingUpstream, head, body, current.route().name());
    }

    /** An idempotent request without a body may be sent once more when a reused connection was found dead. */
    private static boolean mayRetry(RoutedRequest routed) {
        if (routed.admitted().hasBody()) {
            return false;
        }
        HttpMethod m = routed.admitted().request().method();
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)
                || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE);
    }

    private void onClientContent(HttpContent content) {
        bodyBytes += content.content().readableBytes();
        if (bodyBytes > maxBody) {
            content.release();
            log.info("{} {}: request body over {} bytes", ctx.channel().remoteAddress(), current.route().name(),
                    maxBody);
            exchange.abort();
            answerError(413);
            return;
        }
        if (body != null && waitingHead != null) {
            boolean last = content instanceof LastHttpContent;
            try {
                body.add(content.content());
            } catch (IOException e) {
                log.warn("{} {}: cannot hold the request body (memory budget spent, temp directory unusable: {})",
                        ctx.channel().remoteAddress(), current.route().name(), e.toString());
                answerError(LocalResponses.retryLater(ctx.alloc()));
                return;
            } finally {
                content.release();
            }
            if (last) {
                sendBuffered();
            } else {
                ctx.read();
            }
            return;
        }
        if (!exchange.active()) {
            content.release(); // the response already ended (or failed) while the body was still coming
            return;
        }
        exchange.sendBody(content);
    }

    // ---- the response, relayed as it streams ----

    @Override
    public void responseHead(UpstreamResponse response) {
        heldHead = clientResponse(response);
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

    @Override
    public void responseContent(HttpContent content) {
        if (content instanceof LastHttpContent && !heldPieces.isEmpty()) {
            writeHeldHead(); // the head and the pieces before the end go first, in order (to the file, if it is used)
        }
        if (content instanceof LastHttpContent last && responses.spooled()) {
            // The upstream is done and its connection pooled; the rest of the body waits in the file for the
            // client, and the end of the response follows it.
            finishKeepsClient = clientKeepAlive && exchange.requestComplete();
            finishing = true;
            if (body != null) {
                body.release(); // Nango has it all: its memory and file go now, not when the slow client is done
                body = null;
            }
            if (last.content().isReadable()) {
                addToClient(new DefaultHttpContent(last.content()));
            } else {
                last.release();
            }
            return;
        }
        if (content instanceof LastHttpContent last) {
            Object out = last; // the decoder drops trailers: the body is re-framed for the client
            if (heldHead != null) {
                out = RelayedResponse.whole(heldHead.status(), ((RelayedResponse) heldHead).relayed(),
                        heldHead.headers(), last.content());
                heldHead = null;
            }
            ChannelFuture written = ctx.write(out);
            boolean keepClient = clientKeepAlive && exchange.requestComplete();
            endClientSide();
            ctx.flush();
            written.addListener(keepClient ? readNextRequest : ChannelFutureListener.CLOSE);
            return;
        }
        if (heldHead != null) {
            heldPieces.add(content);
            return;
        }
        addToClient(content);
    }

    private void addToClient(HttpContent content) {
        try {
            responses.add(content);
        } catch (IOException e) {
            cutOff(e);
        }
    }

    /** The response buffer's file failed: the client must not take a truncated body for a whole one. */
    private void cutOff(IOException e) {
        log.error("{}: cannot hold the response for the client (temp file: {}); closing", ctx.channel().remoteAddress(),
                e.toString());
        exchange.abort();
        endClientSide();
        LingeringCloseHandler.closeNow(ctx);
    }

    /** The last of the file reached the client: the response ends as an unbuffered one would. */
    private void finish() {
        boolean keepClient = finishKeepsClient;
        finishing = false; // before the write: a writability event inside the flush must not end it twice
        ChannelFuture written = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        endClientSide();
        written.addListener(keepClient ? readNextRequest : ChannelFutureListener.CLOSE);
    }

    private void writeHeldHead() {
        if (heldHead != null) {
            ctx.write(heldHead, ctx.voidPromise());
            heldHead = null;
            headWritten = true;
            for (HttpContent piece = heldPieces.poll(); piece != null; piece = heldPieces.poll()) {
                addToClient(piece);
            }
        }
    }

    @Override
    public void responseReadComplete() {
        writeHeldHead();
        ctx.flush();
        if (responses.roomForAnotherRead()) {
            exchange.readResponse();
        } else {
            awaitingClientWritable = true;
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            boolean caughtUp;
            try {
                caughtUp = responses.clientWritable();
            } catch (IOException e) {
                cutOff(e);
                return;
            }
            if (finishing && caughtUp) {
                finish();
            } else if (awaitingClientWritable && exchange.active() && responses.roomForAnotherRead()) {
                awaitingClientWritable = false;
                exchange.readResponse();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void switchedProtocols(UpstreamResponse upgrade, Channel upstream) {
        HttpHeaders headers = upgrade.headers().copy();
        ForwardingHeaders.cleanResponse(headers, true);
        DefaultHttpResponse toClient = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.SWITCHING_PROTOCOLS, headers);
        endClientSide();
        Tunnel.open(ctx.channel(), upstream, toClient);
    }

    @Override
    public void failed(int status) {
        if (headWritten) {
            endClientSide();
            ctx.close(); // the client must not take a truncated body for a whole one
            return;
        }
        if (heldHead != null) {
            facts.upstreamResponseVoided(); // nothing reached the client yet: it still gets a proper answer
        }
        answerError(status);
    }

    /** Answers the client with an error when no response started, else cuts the connection; either way it closes. */
    private void answerError(int status) {
        answerError(status == 503 ? LocalResponses.retryLater(ctx.alloc())
                : LocalResponses.text(ctx.alloc(), status, true));
    }

    private void answerError(FullHttpResponse response) {
        boolean started = headWritten;
        if (current != null) {
            LocalAnswer.prepare(current.admitted(), response, true); // a HEAD's answer has no body; it closes
        }
        endClientSide();
        if (started) {
            response.release();
            LingeringCloseHandler.closeNow(ctx); // a response cut short: nothing more to tell the client
            return;
        }
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    private void endClientSide() {
        if (body != null) {
            body.release();
            body = null;
        }
        waitingHead = null;
        waitingUpstream = null;
        current = null;
        heldHead = null;
        for (HttpContent piece = heldPieces.poll(); piece != null; piece = heldPieces.poll()) {
            piece.release();
        }
        awaitingClientWritable = false;
        finishing = false;
        if (responses != null) {
            responses.endResponse();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (current != null) {
            exchange.abort();
            endClientSide();
        }
        responses.release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (exchange != null && exchange.active()) {
            exchange.abort();
        }
        endClientSide();
        if (responses != null) {
            responses.release();
        }
    }
}
