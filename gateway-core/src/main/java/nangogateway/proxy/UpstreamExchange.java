package nangogateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import nangogateway.config.UpstreamConfig;
import nangogateway.exchange.Refusal;
import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.UpstreamFailure;
import nangogateway.upstream.UpstreamBusyException;
import nangogateway.upstream.UpstreamChannelHandler;
import nangogateway.upstream.UpstreamException;
import nangogateway.upstream.UpstreamPool;
import nangogateway.upstream.UpstreamPools;
import nangogateway.upstream.UpstreamResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request sent to an upstream and its response read back: the part the {@code proxy} and {@code callback}
 * actions share, each a {@link Relay} on top that decides what the client gets. The exchange leases a pooled
 * connection on the client's event loop, sends the head and the body (read after write: the next piece of the
 * client's body is read only when the upstream can take it), retries once a request that may be retried when a
 * reused connection turns out dead before any byte of response, holds the response deadline, and names every
 * failure as an {@link UpstreamFailure} where it happens. It returns the connection to the pool when the response
 * ended cleanly after the whole request, and closes it in every other case.
 *
 * <p>One per client connection, reused for each of its exchanges; touched on that connection's event loop only.
 */
final class UpstreamExchange implements UpstreamChannelHandler.Listener {
    private static final Logger log = LoggerFactory.getLogger(UpstreamExchange.class);

    /** What an action does with the response. Every call comes on the client's event loop. */
    interface Relay {
        /** A final response head (interim 1xx responses are dropped). */
        void responseHead(UpstreamResponse head);

        /**
         * A piece of the response body, which the relay now owns. A {@link LastHttpContent} ends the response:
         * the exchange is over by then and its connection back in the pool or closed.
         */
        void responseContent(HttpContent content);

        /** One socket read of the upstream was delivered; call {@link #readResponse} for more. */
        void responseReadComplete();

        /**
         * The upstream switched protocols, which only a relay that {@linkplain #start allowed it} sees: the
         * exchange is over and {@code upstream} is the relay's.
         */
        default void switchedProtocols(UpstreamResponse head, Channel upstream) {
            upstream.close();
        }

        /**
         * The exchange failed and is over, its upstream connection closed; the failure is already in the request
         * facts and the log. The relay answers the client with {@code status}, or closes its connection when part
         * of the response reached it.
         */
        void failed(int status);
    }

    /** A request body the gateway holds whole, sent after the head in pieces as the upstream takes them. */
    interface BodySource {
        /** The next piece, which the caller then owns; null once everything was given. */
        ByteBuf next(ByteBufAllocator alloc) throws IOException;

        /** Frees what the body still holds; called by its owner, never by the exchange. */
        void release();
    }

    private final ChannelHandlerContext ctx;
    private final Relay relay;
    private final UpstreamPools pools;
    private final RequestFacts facts;

    private UpstreamConfig upstream;
    private UpstreamPool pool;
    private String route;
    private boolean active;
    private HttpRequest head;
    private final ArrayDeque<HttpContent> pending = new ArrayDeque<>();
    private Channel channel;
    private boolean reused;
    private boolean mayRetry;
    private boolean retried;
    private boolean allowUpgrade;
    private boolean bodySent;
    private boolean requestComplete;
    private boolean responseStarted;
    private boolean upstreamKeepAlive;
    private boolean awaitingUpstreamWritable;
    /** The held body still to send, or null (no body, or one that streams from the client). */
    private BodySource source;
    private boolean pumping;
    private long upstreamStart;
    private ScheduledFuture<?> responseTimer;
    /** The pool's answer still awaited (in its line, or connecting), or null. */
    private Future<UpstreamPool.Lease> leasing;
    private long responseDeadline;

    UpstreamExchange(ChannelHandlerContext ctx, UpstreamPools pools, Relay relay) {
        this.ctx = ctx;
        this.pools = pools;
        this.relay = relay;
        this.facts = RequestFacts.of(ctx.channel());
    }

    /**
     * Sends {@code head} to {@code upstream}. Unless {@code complete}, its body follows through {@link #sendBody}.
     * The head holds no buffer of its own (a full request's content is the empty buffer), so a retry can send it
     * again.
     *
     * @param mayRetry the request may be sent a second time (idempotent, no body) when a reused connection is dead
     * @param allowUpgrade a 101 answer hands the connection to {@link Relay#switchedProtocols} instead of failing
     */
    void start(UpstreamConfig upstream, HttpRequest head, boolean complete, boolean mayRetry, boolean allowUpgrade,
            String route) {
        start(upstream, head, complete, mayRetry, allowUpgrade, route, null);
    }

    /**
     * Sends {@code head} and then all of {@code body}, which the relay read whole before asking: the request is
     * never retried (it has a body) and nothing more is read from the client for it.
     */
    void start(UpstreamConfig upstream, HttpRequest head, BodySource body, String route) {
        start(upstream, head, false, false, false, route, body);
    }

    private void start(UpstreamConfig upstream, HttpRequest head, boolean complete, boolean mayRetry,
            boolean allowUpgrade, String route, BodySource body) {
        if (upstream != this.upstream || pool == null) {
            this.upstream = upstream; // the same snapshot's upstream: skip the pool look-up (records hash every field)
            pool = pools.pool(ctx.channel().eventLoop(), upstream);
        }
        this.head = head;
        this.requestComplete = complete;
        this.mayRetry = mayRetry;
        this.allowUpgrade = allowUpgrade;
        this.route = route;
        this.source = body;
        active = true;
        retried = false;
        bodySent = false;
        responseStarted = false;
        int size = headBytes(head);
        if (size >= upstream.maxRequestHead()) {
            // Node would refuse it (HPE_HEADER_OVERFLOW) after taking it, and reset a connection a retry may then
            // send it on again: it is refused here, before any connection is leased.
            facts.reject(Refusal.TOO_LARGE, "request head of " + size + " bytes over upstream " + upstream.name()
                    + "'s max_request_head (" + upstream.maxRequestHead() + ")");
            abort();
            relay.failed(431);
            return;
        }
        if (ctx.channel() instanceof Http2StreamChannel) {
            // An HTTP/2 stream reset in the same socket read as its HEADERS is closed only when that read is done:
            // leasing after it, a reset stream never takes an upstream connection or a place in the pool's queue
            // (a Rapid Reset burst under the codec's limit would otherwise hold them all for a moment).
            ctx.executor().execute(this::connectIfWanted);
        } else {
            connect(false);
        }
    }

    private void connectIfWanted() {
        if (active && ctx.channel().isActive() && channel == null && leasing == null) {
            connect(false);
        }
    }

    /**
     * The bytes of a head as Node counts them against its header limit: the target, and every header name and
     * value (the gateway's own among them); the method, version, separators and line ends are not counted.
     */
    static int headBytes(HttpRequest head) {
        int n = head.uri().length();
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = head.headers().iteratorCharSequence();
                it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> h = it.next();
            n += h.getKey().length() + h.getValue().length();
        }
        return n;
    }

    boolean active() {
        return active;
    }

    /** Whether the whole request went (or is queued to go) upstream; stays readable after the exchange ended. */
    boolean requestComplete() {
        return requestComplete;
    }

    /**
     * The next piece of the client's body, which the exchange now owns. Trailers are dropped: the body is
     * re-framed for the upstream, and no framing metadata of the client's goes on.
     */
    void sendBody(HttpContent content) {
        if (content instanceof LastHttpContent last) {
            requestComplete = true;
            if (!last.trailingHeaders().isEmpty()) {
                content = new DefaultLastHttpContent(last.content());
            }
        }
        if (channel == null) {
            pending.add(content); // read before the lease; sent right after it, and nothing more is read till then
            return;
        }
        write(content);
        channel.flush();
        if (requestComplete) {
            startResponseTimer(System.nanoTime());
        } else if (channel.isWritable()) {
            ctx.read();
        } else {
            awaitingUpstreamWritable = true;
        }
    }

    /** The relay can take more of the response: read the upstream once more. */
    void readResponse() {
        if (channel != null) {
            channel.read();
        }
    }

    private void connect(boolean fresh) {
        Channel idle = fresh ? null : pool.pollIdle();
        if (idle != null) {
            leased(idle, true);
        } else {
            leasing = pool.acquire(true);
            leasing.addListener(this::onLease);
        }
    }

    private void onLease(Future<? super UpstreamPool.Lease> f) {
        if (f == leasing) {
            leasing = null;
        }
        if (f.isCancelled()) {
            return; // given up in reset(): the pool took its place back
        }
        if (!active) {
            if (f.isSuccess()) {
                pool.release(((UpstreamPool.Lease) f.getNow()).channel()); // the client left meanwhile: unused
            }
            return;
        }
        if (!f.isSuccess()) {
            if (f.cause() instanceof UpstreamBusyException) {
                fail(503, UpstreamFailure.BUSY, describe(f.cause()));
            } else {
                fail(502, UpstreamFailure.CONNECT, describe(f.cause()));
            }
            return;
        }
        UpstreamPool.Lease lease = (UpstreamPool.Lease) f.getNow();
        leased(lease.channel(), lease.reused());
    }

    /**
     * Sends the head and any body already read. Upstream writes use the void promise: a failed write fires
     * exceptionCaught on the upstream pipeline, which closes it, and the close ends the exchange (retried or
     * failed) through {@link #upstreamClosed}.
     */
    private void leased(Channel ch, boolean wasReused) {
        channel = ch;
        reused = wasReused;
        upstreamKeepAlive = true;
        UpstreamPool.attach(ch, this);
        upstreamStart = System.nanoTime();
        ch.write(head, ch.voidPromise());
        HttpContent c;
        while ((c = pending.poll()) != null) {
            write(c);
        }
        ch.flush();
        ch.read();
        if (source != null) {
            pump();
        } else if (requestComplete) {
            startResponseTimer(upstreamStart);
        } else {
            ctx.read();
        }
    }

    /**
     * Writes the held body while the upstream takes it; the rest goes when it is writable again. A flush may drain
     * the socket at once and report the upstream writable again from inside the flush (epoll does): the loop looks
     * again after each flush instead of waiting for an event that already came, and the guard keeps that event
     * from starting a second, nested pump.
     */
    private void pump() {
        if (pumping) {
            return;
        }
        pumping = true;
        try {
            while (source != null && channel != null) {
                if (!channel.isWritable()) {
                    awaitingUpstreamWritable = true;
                    channel.flush();
                    if (channel == null || !channel.isWritable()) {
                        return; // upstreamWritabilityChanged pumps again
                    }
                    awaitingUpstreamWritable = false;
                    continue;
                }
                ByteBuf piece = source.next(channel.alloc());
                if (piece == null) {
                    source = null;
                    requestComplete = true;
                    channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, channel.voidPromise());
                    startResponseTimer(System.nanoTime());
                    return;
                }
                bodySent = true;
                channel.write(new DefaultHttpContent(piece), channel.voidPromise());
            }
        } catch (IOException e) {
            log.error("{} {}: cannot read the buffered request body back: {}", ctx.channel().remoteAddress(), route,
                    e.toString());
            abort();
            relay.failed(500);
        } finally {
            pumping = false;
        }
    }

    private void write(HttpContent content) {
        if (content.content().isReadable()) {
            bodySent = true;
        }
        channel.write(content, channel.voidPromise());
    }

    /**
     * Arms the response deadline. The timer task is not cancelled when the response comes: it stays scheduled and
     * is reused for the next request on the connection, so a busy keep-alive connection schedules a task once per
     * {@code response_timeout}, not once per request.
     */
    private void startResponseTimer(long now) {
        if (responseStarted || responseDeadline != 0) {
            return;
        }
        responseDeadline = now + upstream.responseTimeout().toNanos();
        if (responseTimer == null) {
            responseTimer = ctx.executor().schedule(this::checkResponseTimer, upstream.responseTimeout().toNanos(),
                    TimeUnit.NANOSECONDS);
        }
    }

    private void checkResponseTimer() {
        responseTimer = null;
        if (responseDeadline == 0 || !active) {
            return;
        }
        long left = responseDeadline - System.nanoTime();
        if (left > 0) {
            responseTimer = ctx.executor().schedule(this::checkResponseTimer, left, TimeUnit.NANOSECONDS);
            return;
        }
        responseDeadline = 0;
        if (!responseStarted) {
            fail(504, UpstreamFailure.TIMEOUT, "no response within " + upstream.responseTimeout().toMillis() + " ms");
        }
    }

    // ---- upstream events (same event loop) ----

    @Override
    public void upstreamRead(Object msg) {
        if (!active) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof UpstreamResponse response) {
            responseHead(response);
        } else if (msg instanceof HttpContent content) {
            if (content.decoderResult().isFailure()) {
                content.release();
                upstreamKeepAlive = false;
                fail(502, UpstreamFailure.BAD_RESPONSE, "malformed response body: "
                        + content.decoderResult().cause().getMessage());
            } else if (content instanceof LastHttpContent) {
                end();
                relay.responseContent(content);
            } else {
                relay.responseContent(content);
            }
        } else {
            ReferenceCountUtil.release(msg); // nothing else comes from the upstream codec; dropped, so released
        }
    }

    private void responseHead(UpstreamResponse response) {
        if (response.decoderResult().isFailure()) {
            upstreamKeepAlive = false;
            fail(502, UpstreamFailure.BAD_RESPONSE, "malformed response: "
                    + response.decoderResult().cause().getMessage());
            return;
        }
        int code = response.status().code();
        if (code == 101) {
            if (!allowUpgrade) {
                upstreamKeepAlive = false;
                fail(502, UpstreamFailure.BAD_RESPONSE, "unexpected 101 Switching Protocols");
                return;
            }
            Channel up = channel;
            UpstreamPool.attach(up, null);
            channel = null;
            reset();
            relay.switchedProtocols(response, up);
            return;
        }
        if (code < 200) {
            return; // interim responses are not relayed
        }
        responseDeadline = 0;
        dropTimerOfAStream();
        responseStarted = true;
        upstreamKeepAlive = response.keepAlive();
        facts.upstreamResponded(code, System.nanoTime() - upstreamStart);
        relay.responseHead(response);
    }

    @Override
    public void upstreamReadComplete() {
        if (active && channel != null) {
            relay.responseReadComplete();
        }
    }

    @Override
    public void upstreamWritabilityChanged(boolean writable) {
        if (writable && awaitingUpstreamWritable && active) {
            awaitingUpstreamWritable = false;
            if (source != null) {
                pump();
            } else {
                ctx.read();
            }
        }
    }

    @Override
    public void upstreamClosed(Throwable cause) {
        channel = null;
        if (!active) {
            return;
        }
        if (!responseStarted && reused && !retried && mayRetry && !bodySent) {
            retried = true;
            log.debug("upstream {}: reused connection closed before a response; retrying once", upstream.name());
            connect(true);
            return;
        }
        String why = cause == null ? "connection closed before the response ended" : describe(cause);
        fail(502, UpstreamFailure.CLOSED, responseStarted ? "closed mid-response (" + why + ")" : why);
    }

    /** The response ended: the connection goes back to the pool when both messages ended cleanly. */
    private void end() {
        Channel up = channel;
        boolean reusable = upstreamKeepAlive && requestComplete;
        channel = null;
        reset();
        if (up != null) {
            if (reusable) {
                pool.release(up);
            } else {
                UpstreamPool.attach(up, null);
                up.close();
            }
        }
    }

    /** Records, logs and ends a failed exchange; the relay answers the client. */
    void fail(int status, UpstreamFailure kind, String why) {
        facts.upstreamFailed(upstream.name(), kind);
        log.warn("{} {}: upstream {}: {} -> {}", ctx.channel().remoteAddress(), route, upstream.name(), why, status);
        abort();
        relay.failed(status);
    }

    /** Ends the exchange without an answer (the client left, or the relay answers on its own): never pooled. */
    void abort() {
        Channel up = channel;
        channel = null;
        reset();
        if (up != null) {
            UpstreamPool.attach(up, null);
            up.close(); // its state is unknown
        }
    }

    private void reset() {
        if (leasing != null) {
            Future<UpstreamPool.Lease> waiting = leasing;
            leasing = null;
            waiting.cancel(false); // a request still in the pool's line leaves it (a connect under way completes)
        }
        active = false;
        source = null;
        responseDeadline = 0;
        dropTimerOfAStream();
        awaitingUpstreamWritable = false;
        head = null;
        HttpContent c;
        while ((c = pending.poll()) != null) {
            c.release();
        }
    }

    /**
     * A connection's timer is kept for its next exchange (re-armed without scheduling); an HTTP/2 stream has no next
     * exchange, and a timer left to run out would hold the stream's whole pipeline for {@code response_timeout}.
     */
    private void dropTimerOfAStream() {
        if (responseTimer != null && ctx.channel() instanceof Http2StreamChannel) {
            responseTimer.cancel(false);
            responseTimer = null;
        }
    }

    private static String describe(Throwable t) {
        if (t instanceof UpstreamException u) {
            return u.reason(); // the log line names the upstream already
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
