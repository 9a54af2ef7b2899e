package nangogateway.server;

import nangogateway.lifecycle.LingeringCloseHandler;
import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.LocalResponses;
import nangogateway.exchange.Refusal;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import nangogateway.config.ListenerLimits;

/**
 * Cuts off clients that are too slow to be worth a connection: a request head must arrive within
 * {@code header_timeout} of its first byte (or of accept), a request body may not stall for longer than
 * {@code body_timeout} nor average less than {@code min_body_rate} once {@code body_timeout} of grace is spent
 * (a client trickling a byte every few seconds never stalls, but is cut off all the same), and an idle keep-alive
 * connection is closed after {@code keepalive_timeout}. While the gateway itself is waiting for Nango, no client
 * timer runs. While the gateway has response bytes the client has not taken, the client must take some within
 * {@code send_timeout} and average {@code min_send_rate} once that grace is spent (a slow reader holds a socket
 * buffer and the gateway's response buffers, and is cut off like a slow sender); the keep-alive clock starts only
 * when it has taken everything.
 *
 * <p>It is a pair: {@link #rawWatcher()} sits before the HTTP decoder to notice the first byte of a head, the
 * handler itself after it, where it sees decoded requests and the responses going out.
 */
public final class SlowClientTimeoutHandler extends ChannelDuplexHandler {
    private enum Phase { IDLE, HEAD, BODY, WAITING }

    private final long headerNanos;
    private final long bodyNanos;
    private final long keepaliveNanos;
    /** Bytes per second a body must average after its grace; 0: no minimum. */
    private final long minBodyRate;
    /** The current body's bytes so far, and the time the gateway spent asking for them (its reads pending). */
    private long bodyBytes;
    private long bodyAskedNanos;
    private long readSince;
    private final long sendNanos;
    /** Bytes per second a client must take a response at after its grace; 0: no minimum. */
    private final long minSendRate;
    /** The current response's body bytes written towards the client, and its bytes seen taken at the last check. */
    private long responseBytes;
    private long responseTaken;
    /** When the client last took a byte of the current response, as seen by a check. */
    private long sendProgressAt;
    /** Time the gateway has waited on the client with bytes for it, summed over checks. */
    private long sendWaitedNanos;
    /** The check that last saw bytes waiting for the client, or 0 when the last one saw none. */
    private long sendCheckedAt;
    /** How often the connection's timer wakes: the shortest timeout, so none is overshot by more than itself. */
    private final long tick;
    private Phase phase = Phase.HEAD;
    private long deadline;
    private long lastActivity;
    private ScheduledFuture<?> timer;
    private ChannelHandlerContext ctx;
    private boolean requestDone;
    private boolean responseDone;
    /** When the first byte of a pipelined request's head arrived while the current one was in flight, or 0. */
    private long nextHeadSince;
    /** The connection's decoder, found once (it holds the bytes of a pipelined request's head). */
    private StrictHttpRequestDecoder decoder;
    /** A read was requested and no message has arrived since. */
    private boolean readPending;
    /**
     * When the bytes of the read under way arrived, while {@link #inRead}: the decoded messages of that read
     * take their time from it instead of reading the clock again.
     */
    private long readAt;
    private boolean inRead;

    public SlowClientTimeoutHandler(ListenerLimits limits) {
        this.headerNanos = limits.headerTimeout().toNanos();
        this.bodyNanos = limits.bodyTimeout().toNanos();
        this.keepaliveNanos = limits.keepaliveTimeout().toNanos();
        this.minBodyRate = limits.minBodyRate();
        this.sendNanos = limits.sendTimeout().toNanos();
        this.minSendRate = limits.minSendRate();
        this.tick = Math.min(headerNanos, Math.min(bodyNanos, keepaliveNanos));
    }

    /** The companion that reports raw bytes arriving while the connection is idle. */
    public ChannelInboundHandlerAdapter rawWatcher() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext c, Object msg) {
                if (msg instanceof ByteBuf b && b.isReadable()) {
                    readAt = now();
                    inRead = true;
                    if (phase == Phase.IDLE) {
                        enter(Phase.HEAD, headerNanos, readAt);
                    } else if (phase == Phase.WAITING && nextHeadSince == 0) {
                        nextHeadSince = readAt; // a pipelined request's head: its clock starts with its first byte
                    }
                }
                c.fireChannelRead(msg);
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext c) {
                inRead = false; // messages handed on later (one per read()) read the clock themselves
                c.fireChannelReadComplete();
            }
        };
    }

    /** The event loop's clock, so tests can drive time. */
    private long now() {
        return ctx == null ? System.nanoTime() : ctx.executor().ticker().nanoTime();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            enter(Phase.HEAD, headerNanos);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        enter(Phase.HEAD, headerNanos);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // One clock read per message (a whole request is a head and its end at once), none when the bytes it came
        // from were timed in this same read.
        long now = inRead ? readAt : now();
        if (readPending && phase == Phase.BODY) {
            bodyAskedNanos += now - readSince;
        }
        readPending = false;
        if (msg instanceof HttpRequest) {
            requestDone = false;
            responseDone = false;
            nextHeadSince = 0;
            bodyBytes = 0;
            bodyAskedNanos = 0;
            enter(Phase.BODY, bodyNanos, now);
        }
        if (msg instanceof HttpContent content) {
            bodyBytes += content.content().readableBytes();
            lastActivity = now;
            if (msg instanceof LastHttpContent) {
                requestDone = true;
                if (responseDone) {
                    afterResponse(ctx);
                } else {
                    enter(Phase.WAITING, 0, now);
                }
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r && r.status().code() >= 200) {
            responseBytes = 0; // a new response: its clocks start when a check first sees it waiting (no clock read)
            responseTaken = 0;
            sendWaitedNanos = 0;
            sendCheckedAt = 0;
        }
        if (msg instanceof HttpContent c) {
            responseBytes += c.content().readableBytes();
        }
        boolean last = msg instanceof LastHttpContent
                && !(msg instanceof HttpResponse r && r.status().code() < 200);
        ctx.write(msg, promise);
        if (last) {
            responseDone = true;
            if (requestDone) {
                afterResponse(ctx);
            }
        }
    }

    /** After a whole exchange: idle, unless the next request's head has already begun to arrive. */
    private void afterResponse(ChannelHandlerContext ctx) {
        if (decoder == null) {
            decoder = ctx.pipeline().get(StrictHttpRequestDecoder.class);
        }
        if (nextHeadSince != 0) {
            enter(Phase.HEAD, headerNanos, nextHeadSince); // the next head's clock started with its first byte
        } else if (decoder != null && decoder.holdsBytes()) {
            enter(Phase.HEAD, headerNanos);
        } else {
            enter(Phase.IDLE, keepaliveNanos);
        }
        nextHeadSince = 0;
    }

    /**
     * A body's clock runs only while the gateway has asked for more of it: when the gateway stops reading
     * because Nango is slow to take the body, the client is not to blame.
     */
    @Override
    public void read(ChannelHandlerContext ctx) {
        if (phase == Phase.BODY && !readPending) {
            lastActivity = now();
            readSince = lastActivity;
        }
        readPending = true;
        ctx.read();
    }

    /**
     * Changes phase without touching the timer: the one timer per connection wakes at least every
     * {@code tick} and compares the clock with the current phase's deadline, so a request costs no timer
     * scheduling at all.
     */
    private void enter(Phase next, long nanos) {
        enter(next, nanos, now());
    }

    /** As above, with the phase's clock started at {@code since}. */
    private void enter(Phase next, long nanos, long since) {
        phase = next;
        lastActivity = since;
        deadline = nanos;
        if (timer == null && ctx != null && ctx.channel().isActive()) {
            schedule(tick);
        }
    }

    private void schedule(long delayNanos) {
        timer = ctx.executor().schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check() {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        if (sendNanos > 0 && checkSending()) {
            return;
        }
        if (phase == Phase.WAITING || deadline <= 0 || (phase == Phase.BODY && !readPending)) {
            schedule(tick); // the gateway is waiting for Nango; the client's clock resumes with the response
            return;
        }
        long now = now();
        long left = lastActivity + deadline - now;
        if (phase == Phase.BODY && minBodyRate > 0) {
            // Apache's MinRate: the grace, plus one second per min_body_rate bytes received, of time asked.
            long allowed = bodyNanos + (long) (bodyBytes * 1e9 / minBodyRate);
            left = Math.min(left, allowed - (bodyAskedNanos + now - readSince));
        }
        if (left > 0) {
            schedule(Math.min(left, tick));
            return;
        }
        if (phase == Phase.HEAD) {
            RequestFacts.of(ctx.channel()).reject(Refusal.TIMEOUT, "request head timeout");
            LingeringCloseHandler.noLingering(ctx.channel()); // a slow-loris gets its 408 and no more time
            // From the pipeline's tail, so the access log and metrics (further in) see the 408 too.
            ctx.channel().writeAndFlush(LocalResponses.text(ctx.alloc(), 408, true))
                    .addListener(ChannelFutureListener.CLOSE);
        } else {
            LingeringCloseHandler.closeNow(ctx); // idle past keepalive_timeout, or a body too slow: no lingering
        }
    }

    /**
     * While response bytes wait for the client: cuts it off when it took nothing for {@code send_timeout}, or
     * averaged less than {@code min_send_rate} over the time it was waited on (sampled at each check). Returns
     * true when bytes were waiting, the client's only clock then.
     */
    private boolean checkSending() {
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        // An HTTP/2 stream has no outbound buffer: its frames wait in the connection's flow control.
        long pending = out != null ? out.totalPendingWriteBytes()
                : Math.max(0, Http2StreamAdapter.pendingBytes(ctx.channel()));
        if (pending == 0) {
            sendCheckedAt = 0;
            return false;
        }
        long now = now();
        // What the socket took, short of the response's own framing: the client is never credited too much.
        long taken = Math.max(0, responseBytes - pending);
        if (sendCheckedAt != 0) {
            sendWaitedNanos += now - sendCheckedAt;
        } else if (sendWaitedNanos == 0) {
            sendProgressAt = now; // first seen waiting: the stall clock starts here
        }
        sendCheckedAt = now;
        if (taken > responseTaken) {
            responseTaken = taken;
            sendProgressAt = now;
        }
        boolean stalled = now - sendProgressAt >= sendNanos;
        boolean tooSlow = minSendRate > 0
                && sendWaitedNanos > sendNanos + (long) (responseTaken * 1e9 / minSendRate);
        if (stalled || tooSlow) {
            LingeringCloseHandler.closeNow(ctx);
            return true;
        }
        lastActivity = now; // idle and keep-alive clocks start once the client has taken everything
        schedule(Math.min(tick, sendNanos));
        return true;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
