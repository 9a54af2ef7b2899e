package nangogateway.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.ChannelOutputShutdownEvent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.IdentityHashMap;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import nangogateway.config.ListenerConfig;
import nangogateway.exchange.AdmittedRequest;
import nangogateway.exchange.GatewaySnapshot;
import nangogateway.exchange.LocalAnswer;
import nangogateway.exchange.RequestFacts;
import nangogateway.limits.ConnectionLimitHandler;
import nangogateway.observe.AccessLog;
import nangogateway.observe.RequestIdHandler;
import nangogateway.routing.RouteDecision;
import nangogateway.routing.RouteTable;
import nangogateway.target.RequestTarget;

/**
 * Answers on the HTTP/2 connection itself, without opening a stream pipeline, the requests the router would refuse
 * anyway: a whole request (HEADERS with END_STREAM) that is well formed, passes the guard, and that no route takes
 * (the listener's {@code otherwise}, 405), or whose client is over a rate limit or a connection cap. The answer is
 * the router's own ({@link RouterHandler#refusal}), with the request id and HSTS the stream pipeline would add, and
 * it is logged and counted by the same {@link AccessLog}; everything else (a request with a body, one a route takes,
 * one the guard refuses) goes to a stream pipeline as before. A stream pipeline costs more than the refusal it
 * would make, so a flood of refused requests costs what the answers cost.
 *
 * <p>It sits between the frame codec and Netty's stream multiplexer, which expects a stream channel for every open
 * stream: the event that opens a stream is held until its HEADERS say who answers it; the frames, events and stream
 * errors of a stream answered here never reach the multiplexer; and the few connection-wide notices the multiplexer
 * hands to every open stream go round it (or, for writability, wait) while a stream answered here is still open
 * (its answer not yet all written).
 *
 * <p>An answer is made here only when the client's flow-control windows take its body at once (a client that
 * grants no window gets its refusals from stream pipelines, with their send clocks); one still not all written
 * after {@code send_timeout} (the client stopped reading) is reset with {@code CANCEL}, as a stream pipeline's send
 * timeout does, so no client holds a stream, or its place under a connection cap, by not reading.
 */
final class Http2RefusalHandler extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(Http2RefusalHandler.class);
    /** More than the body of any refusal the router makes (a short text): what the windows must take at once. */
    static final int MAX_REFUSAL_BODY = 1024;

    /** A stream answered here: whether it holds a connection-cap slot, and when its answer was written. */
    private record Answered(boolean slot, long at) {
    }

    private final String listenerName;
    private final Supplier<GatewaySnapshot> snapshots;
    private final RouterHandler router;
    private final RequestGuardHandler guard = new RequestGuardHandler();
    private final ClientAddressHandler addresses;
    private final AccessLog accessLog;
    private final Http2Connection connection;
    private final long sendNanos;
    private final ConnectionLimitHandler caps;
    private final InetAddress client;
    private final String hsts;
    private final int maxRequestLine;
    private final int maxHeaders;
    private final long[] declared = new long[1];
    /** The event opening the stream whose HEADERS come next, held until they are read. */
    private Http2FrameStreamEvent held;
    private int lastStreamId;
    /** Streams answered here and still open (their answer not all written yet). */
    private final IdentityHashMap<Http2FrameStream, Answered> answered = new IdentityHashMap<>();
    /** The next look for answers the client has not taken within {@code send_timeout}; null when none is due. */
    private ScheduledFuture<?> sweep;
    /** A cap slot was taken for the request being answered. */
    private boolean slotTaken;
    /** The connection became writable while a stream answered here was open: the streams learn it when none is. */
    private boolean writabilityOwed;
    /** The last HEADERS read here and handed on to a stream pipeline, their request and its declared length. */
    private Http2HeadersFrame translatedFrame;
    private HttpRequest translated;
    private long translatedLength;

    Http2RefusalHandler(ListenerConfig listener, Supplier<GatewaySnapshot> snapshots, GatewayServices services,
            Http2Connection connection, ConnectionLimitHandler caps, InetAddress client) {
        this.listenerName = listener.name();
        this.snapshots = snapshots;
        this.router = new RouterHandler(listenerName, snapshots, services.rateLimiter(), services.metrics());
        this.addresses = new ClientAddressHandler(listenerName, snapshots);
        this.accessLog = new AccessLog(listenerName, listener.options().accessLogFormat(),
                listener.options().redactParams(), services.metrics());
        this.connection = connection;
        this.sendNanos = listener.limits().sendTimeout().toNanos();
        this.caps = caps;
        this.client = client;
        this.hsts = listener.tls() != null ? listener.options().hsts() : null;
        this.maxRequestLine = listener.limits().maxRequestLine();
        this.maxHeaders = listener.limits().maxHeaders();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2StreamFrame f && f.stream() != null) {
            Http2FrameStream stream = f.stream();
            if (held != null && held.stream() == stream) {
                Http2FrameStreamEvent opening = held;
                held = null;
                if (msg instanceof Http2HeadersFrame h && answered(ctx, h)) {
                    return;
                }
                ctx.fireUserEventTriggered(opening);
            } else if (answered.containsKey(stream)) {
                ReferenceCountUtil.release(msg); // a reset or window update after the answer: nothing to act on
                return;
            } else {
                release(ctx);
            }
        } else {
            release(ctx);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2FrameStreamEvent e) {
            Http2FrameStream stream = e.stream();
            Answered a = answered.get(stream);
            if (a != null) {
                release(ctx);
                if (e.type() == Http2FrameStreamEvent.Type.State && stream.state() == Http2Stream.State.CLOSED) {
                    closed(ctx, stream, a.slot());
                }
                return;
            }
            if (e.type() == Http2FrameStreamEvent.Type.State && stream.id() > lastStreamId && (stream.id() & 1) == 1
                    && (stream.state() == Http2Stream.State.OPEN
                        || stream.state() == Http2Stream.State.HALF_CLOSED_REMOTE)) {
                release(ctx);
                lastStreamId = stream.id();
                held = e; // the multiplexer would open the stream's channel now; its HEADERS come next
                return;
            }
            release(ctx);
            ctx.fireUserEventTriggered(evt);
            return;
        }
        release(ctx);
        if (!answered.isEmpty() && (evt == ChannelInputShutdownReadComplete.INSTANCE
                || evt == ChannelOutputShutdownEvent.INSTANCE || evt instanceof SslCloseCompletionEvent)) {
            pastStreams(ctx).fireUserEventTriggered(evt); // the stream pipelines learn it when the connection closes
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException e) {
            if (answered.containsKey(e.stream())) {
                // A frame broke a rule on a stream answered here (DATA after its END_STREAM): the codec leaves the
                // reset to the stream's owner.
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(e.error()).stream(e.stream()));
                return;
            }
            release(ctx); // a stream that broke a rule before its HEADERS were read: its pipeline gets the error
            ctx.fireExceptionCaught(cause);
            return;
        }
        release(ctx);
        if (!answered.isEmpty() && cause.getCause() instanceof SSLException) {
            pastStreams(ctx).fireExceptionCaught(cause);
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        release(ctx);
        if (!answered.isEmpty() && ctx.channel().isWritable()) {
            writabilityOwed = true;
            return;
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        release(ctx);
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release(ctx);
        cancelSweep();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelSweep();
    }

    private void cancelSweep() {
        if (sweep != null) {
            sweep.cancel(false);
            sweep = null;
        }
    }

    /** Resets the answers the client has not taken within {@code send_timeout}; looks again while any is open. */
    private void sweep(ChannelHandlerContext ctx) {
        sweep = null;
        if (!ctx.channel().isActive() || answered.isEmpty()) {
            return;
        }
        long now = ctx.executor().ticker().nanoTime();
        long next = Long.MAX_VALUE;
        List<Http2FrameStream> stalled = new ArrayList<>();
        for (Map.Entry<Http2FrameStream, Answered> e : answered.entrySet()) {
            long due = e.getValue().at() + sendNanos;
            if (due <= now) {
                stalled.add(e.getKey());
            } else {
                next = Math.min(next, due);
            }
        }
        for (Http2FrameStream s : stalled) {
            ctx.write(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(s)); // closes it: cleaned up on CLOSED
        }
        if (!stalled.isEmpty()) {
            ctx.flush();
        }
        if (next != Long.MAX_VALUE) {
            sweep = ctx.executor().schedule(() -> sweep(ctx), next - now, TimeUnit.NANOSECONDS);
        }
    }

    /** Hands on an opening event held for HEADERS that did not come right after it. */
    private void release(ChannelHandlerContext ctx) {
        if (held != null) {
            Http2FrameStreamEvent e = held;
            held = null;
            ctx.fireUserEventTriggered(e);
        }
    }

    private void closed(ChannelHandlerContext ctx, Http2FrameStream stream, boolean slot) {
        answered.remove(stream);
        if (slot) {
            caps.releaseStream(client);
        }
        if (answered.isEmpty() && writabilityOwed) {
            writabilityOwed = false;
            ctx.fireChannelWritabilityChanged();
        }
    }

    /** Whether the client's windows, the stream's and the connection's, take {@code bytes} of DATA now. */
    private boolean windowsTake(Http2FrameStream stream, int bytes) {
        Http2Stream s = connection.stream(stream.id());
        Http2RemoteFlowController flow = connection.remote().flowController();
        return s != null && flow.windowSize(s) >= bytes && flow.windowSize(connection.connectionStream()) >= bytes;
    }

    /** The context after the multiplexer: what is fired from it reaches the connection's last handlers only. */
    private static ChannelHandlerContext pastStreams(ChannelHandlerContext ctx) {
        ChannelHandlerContext streams = ctx.pipeline().context(Http2MultiplexHandler.class);
        return streams != null ? streams : ctx;
    }

    /** What this connection's exchanges are recorded with, its streams' as well as the ones answered here. */
    AccessLog accessLog() {
        return accessLog;
    }

    /**
     * The request {@code h} was read as here, for the stream pipeline it was handed on to, or null when it was not
     * read here; {@code declaredLength} receives its content-length (-1 for none). Read once.
     */
    HttpRequest takeTranslation(Http2HeadersFrame h, long[] declaredLength) {
        if (h != translatedFrame) {
            return null;
        }
        HttpRequest r = translated;
        declaredLength[0] = translatedLength;
        translatedFrame = null;
        translated = null;
        return r;
    }

    /**
     * {@link #answer}, which a fault of the gateway's own never leaves half done: the request goes to a stream
     * pipeline instead, and a cap slot taken for it is given back.
     */
    private boolean answered(ChannelHandlerContext ctx, Http2HeadersFrame h) {
        slotTaken = false;
        try {
            return answer(ctx, h);
        } catch (RuntimeException e) {
            log.warn("{}: answering a refusal on the connection failed; a stream answers it",
                    ctx.channel().remoteAddress(), e);
            if (slotTaken && !answered.containsKey(h.stream())) {
                caps.releaseStream(client);
            }
            return answered.containsKey(h.stream());
        }
    }

    /** Answers {@code h} here when the router would refuse it; false when it is a stream pipeline's to handle. */
    private boolean answer(ChannelHandlerContext ctx, Http2HeadersFrame h) {
        if (!h.isEndStream()) {
            return false;
        }
        HttpRequest request = Http2RequestHead.translate(h.headers(), true, maxRequestLine, maxHeaders, declared);
        translatedFrame = h; // read once: the stream pipeline takes it as it is if the answer is not made here
        translated = request;
        translatedLength = declared[0];
        if (request.decoderResult().isFailure() || guard.check(request) != null) {
            return false;
        }
        RequestTarget.Verdict verdict = RequestTarget.parse(request.uri());
        GatewaySnapshot snapshot = snapshots.get();
        RouteTable table = snapshot.table(listenerName);
        if (!verdict.accepted() || table == null) {
            return false;
        }
        // The id first, as in a stream pipeline (request-id before router): a route may look at the header.
        CharSequence id = RequestIdHandler.idFor(request);
        request.headers().set(RequestIdHandler.HEADER, id);
        RouteDecision decision = table.decide(request.method().name(), verdict.target(), request.headers());
        if (decision instanceof RouteDecision.Matched || !windowsTake(h.stream(), MAX_REFUSAL_BODY)) {
            return false;
        }
        translatedFrame = null;
        translated = null;
        long start = System.nanoTime();
        RequestFacts facts = new RequestFacts();
        facts.clientAddress(addresses.resolve(ctx.channel().remoteAddress(), request));
        facts.requestId(id);
        boolean slot = caps.acquireStream(client);
        slotTaken = slot;
        FullHttpResponse response = router.refusal(ctx.alloc(), table, decision, !slot, facts);
        LocalAnswer.prepare(new AdmittedRequest(request, verdict.target(), false, 0, true), response, false);
        response.headers().set(RequestIdHandler.HEADER, id);
        if (hsts != null) {
            HstsHandler.mark(response, hsts);
        }
        int status = response.status().code();
        int bytes = response.content().readableBytes();
        Http2FrameStream stream = h.stream();
        answered.put(stream, new Answered(slot, ctx.executor().ticker().nanoTime()));
        if (sweep == null && sendNanos > 0) {
            sweep = ctx.executor().schedule(() -> sweep(ctx), sendNanos, TimeUnit.NANOSECONDS);
        }
        Http2Headers headers = Http2StreamAdapter.headers(response);
        boolean head = request.method().equals(HttpMethod.HEAD);
        if (head || bytes == 0) {
            response.release();
            ctx.write(new DefaultHttp2HeadersFrame(headers, true).stream(stream));
        } else {
            ctx.write(new DefaultHttp2HeadersFrame(headers, false).stream(stream));
            ctx.write(new DefaultHttp2DataFrame(response.content(), true).stream(stream));
        }
        accessLog.record(facts, ctx.channel().remoteAddress(), request.method().name(), request.uri(),
                request.protocolVersion().text(), AccessLog.enabled() ? request.headers().get(HttpHeaderNames.REFERER)
                        : null, AccessLog.enabled() ? request.headers().get(HttpHeaderNames.USER_AGENT) : null,
                status, bytes, start);
        return true;
    }
}
