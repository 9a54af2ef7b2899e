package nangogateway.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.function.LongSupplier;
import nangogateway.config.UpstreamConfig;
import nangogateway.net.Transport;

/**
 * Keep-alive connections to one upstream, owned by one event loop: every method runs on that loop, so the pool
 * needs no locks, and a request and its upstream connection share a thread. Idle connections are dropped after
 * the upstream's {@code idle_timeout} (below Node's 5 s keep-alive), so a socket Nango is about to close is not
 * reused. When all {@code max_connections} are busy, a request waits in line, up to the upstream's
 * {@code connect_timeout}, for the next connection to be released or closed, instead of failing at once: a burst
 * meets a short wait, not a 502. The line's order adapts (adaptive LIFO, as in Facebook's and Dropbox's overload
 * handling): while it moves, oldest first, so every request waits about as long as the others and none starves; once
 * it stands (its oldest has waited half of {@code connect_timeout}: more arrive than Nango answers), newest
 * first, so the requests whose clients are still waiting are served before the ones about to give up, steady
 * traffic keeps getting through and only the flood's oldest requests time out. The half leaves a line that
 * is long but keeps up (a wait under half the timeout) to be served in order, at the price of switching late when
 * a flood begins.
 */
public final class UpstreamPool {
    /** A connection handed to one request; {@code reused} says it served a request before. */
    public record Lease(Channel channel, boolean reused) {
    }

    private final EventLoop loop;
    private final UpstreamConfig upstream;
    private final Transport transport;
    private final SslContext tls;
    private final int limit;
    /** Idle connections, oldest first. */
    private final ArrayDeque<Idle> idle = new ArrayDeque<>();
    private int open;
    private boolean sweepScheduled;
    /** Requests waiting for a connection, oldest first; at most {@link #maxWaiting()}. See {@link #nextWaiter}. */
    private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
    /** How long the oldest request may wait before the line counts as standing and is served newest first. */
    private final long standingNanos;
    private final LongSupplier clock;

    private record Waiter(Promise<Lease> promise, io.netty.util.concurrent.ScheduledFuture<?> timeout, long since) {
    }

    private record Idle(Channel channel, long since) {
    }

    UpstreamPool(EventLoop loop, UpstreamConfig upstream, Transport transport, SslContext tls, int limit) {
        this(loop, upstream, transport, tls, limit, System::nanoTime);
    }

    /** With the clock the line's order is judged by (tests). */
    UpstreamPool(EventLoop loop, UpstreamConfig upstream, Transport transport, SslContext tls, int limit,
            LongSupplier clock) {
        this.clock = clock;
        this.standingNanos = upstream.connectTimeout().toNanos() / 2;
        this.loop = loop;
        this.upstream = upstream;
        this.transport = transport;
        this.tls = tls;
        this.limit = limit;
    }

    public UpstreamConfig upstream() {
        return upstream;
    }

    /**
     * The most recently used idle connection when one is fresh enough, else null; the keep-alive fast path, with
     * no promise or listener.
     */
    public Channel pollIdle() {
        assert loop.inEventLoop();
        long now = System.nanoTime();
        Idle i;
        while ((i = idle.pollLast()) != null) {
            if (i.channel().isActive() && now - i.since() < upstream.idleTimeout().toNanos()) {
                return i.channel();
            }
            i.channel().close(); // too old to trust: Nango may be closing it right now
        }
        return null;
    }

    /** Hands out an idle connection when one is fresh enough (unless {@code fresh}), else connects a new one. */
    public Future<Lease> acquire(boolean fresh) {
        assert loop.inEventLoop();
        Promise<Lease> promise = loop.newPromise();
        if (!fresh) {
            Channel reusable = pollIdle();
            if (reusable != null) {
                return promise.setSuccess(new Lease(reusable, true));
            }
        }
        if (open >= limit) {
            if (waiting.size() >= maxWaiting()) {
                return promise.setFailure(new UpstreamBusyException(upstream.name(),
                        "connection limit reached (" + limit + " per event loop) and " + waiting.size()
                                + " requests waiting"));
            }
            long wait = upstream.connectTimeout().toNanos();
            Waiter[] self = new Waiter[1];
            self[0] = new Waiter(promise, loop.schedule(() -> {
                if (waiting.remove(self[0])) {
                    promise.tryFailure(new UpstreamBusyException(upstream.name(), "no connection free within "
                            + upstream.connectTimeout().toMillis() + " ms (" + limit + " per event loop, all busy)"));
                }
            }, wait, java.util.concurrent.TimeUnit.NANOSECONDS), clock.getAsLong());
            waiting.addLast(self[0]);
            promise.addListener(f -> {
                if (f.isCancelled()) { // the request's client left: its place goes
                    waiting.remove(self[0]);
                    self[0].timeout().cancel(false);
                }
            });
            return promise;
        }
        connect(promise);
        return promise;
    }

    /** The longest line of waiting requests: beyond it a request is refused at once. */
    private int maxWaiting() {
        return 4 * limit;
    }

    private void connect(Promise<Lease> promise) {
        open++;
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(transport.clientChannel())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOCATOR, Transport.ALLOCATOR)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) upstream.connectTimeout().toMillis())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), upstream.host(), upstream.port()));
                        }
                        ch.pipeline().addLast(UpstreamCodec.NAME, new UpstreamCodec());
                        ch.pipeline().addLast(UpstreamChannelHandler.NAME, new UpstreamChannelHandler());
                    }
                });
        ChannelFuture cf = b.connect(upstream.host(), upstream.port());
        cf.addListener(f -> {
            if (f.isSuccess()) {
                cf.channel().closeFuture().addListener(c -> forget(cf.channel()));
                if (!promise.trySuccess(new Lease(cf.channel(), false))) {
                    release(cf.channel()); // the request was given up while connecting: the next one takes it
                }
            } else {
                open--;
                promise.tryFailure(new UpstreamException(upstream.name(), describe(f.cause())));
                serveWaiting();
            }
        });
    }

    /**
     * The request to serve next, taken out of the line: the oldest while the line moves, the newest once it stands
     * (its oldest has waited {@link #standingNanos}); null when none waits.
     */
    private Waiter nextWaiter() {
        Waiter oldest = waiting.peekFirst();
        if (oldest == null) {
            return null;
        }
        return clock.getAsLong() - oldest.since() < standingNanos ? waiting.pollFirst() : waiting.pollLast();
    }

    /** Hands a released connection to the next waiting request; false when none waits. */
    private boolean handOver(Channel ch) {
        Waiter w;
        while ((w = nextWaiter()) != null) {
            w.timeout().cancel(false);
            if (w.promise().trySuccess(new Lease(ch, true))) {
                return true;
            }
        }
        return false;
    }

    /** A connection closed: the next waiting request gets a new one in its place. */
    private void serveWaiting() {
        Waiter w;
        while (open < limit && (w = nextWaiter()) != null) {
            w.timeout().cancel(false);
            if (!w.promise().isDone()) {
                connect(w.promise());
            }
        }
    }

    /** Returns a connection whose last exchange ended cleanly; it is closed once idle for the idle timeout. */
    public void release(Channel ch) {
        assert loop.inEventLoop();
        handler(ch).detach();
        if (!ch.isActive()) {
            return;
        }
        if (!waiting.isEmpty()) {
            // Handed over once the read that ended the last exchange is done: whatever else that read decoded
            // (bytes Nango sent after its response) reaches no listener and closes the connection, instead of
            // failing the next request.
            loop.execute(() -> {
                if (ch.isActive() && !handler(ch).attached() && !handOver(ch)) {
                    keepIdle(ch);
                }
            });
            return;
        }
        keepIdle(ch);
    }

    private void keepIdle(Channel ch) {
        idle.addLast(new Idle(ch, System.nanoTime()));
        ch.read(); // notice at once if Nango closes it or sends anything unexpected
        if (!sweepScheduled) {
            sweepScheduled = true;
            loop.schedule(this::sweep, upstream.idleTimeout().toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    /** One periodic task per pool (not one per release) closes connections idle past the timeout. */
    private void sweep() {
        sweepScheduled = false;
        long now = System.nanoTime();
        long timeout = upstream.idleTimeout().toNanos();
        Idle oldest;
        while ((oldest = idle.peekFirst()) != null && now - oldest.since() >= timeout) {
            idle.pollFirst();
            oldest.channel().close();
        }
        if (oldest != null) {
            sweepScheduled = true;
            loop.schedule(this::sweep, timeout - (now - oldest.since()), java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    /** Attaches the request that now owns the connection. */
    public static void attach(Channel ch, UpstreamChannelHandler.Listener listener) {
        handler(ch).attach(listener);
    }

    /** The connection's handler: its pipeline's last (found by name, a walk of the pipeline, only if it is not). */
    private static UpstreamChannelHandler handler(Channel ch) {
        return ch.pipeline().last() instanceof UpstreamChannelHandler h ? h
                : (UpstreamChannelHandler) ch.pipeline().get(UpstreamChannelHandler.NAME);
    }

    private void forget(Channel ch) {
        open--;
        idle.removeIf(i -> i.channel() == ch);
        serveWaiting();
    }

    /** Closes every idle connection (shutdown). */
    public void closeIdle() {
        Idle i;
        while ((i = idle.pollFirst()) != null) {
            i.channel().close();
        }
    }

    void loopExecute(Runnable r) {
        loop.execute(r);
    }

    public int openConnections() {
        return open;
    }

    public int idleConnections() {
        return idle.size();
    }

    /** Requests waiting for a connection now. */
    public int waitingRequests() {
        return waiting.size();
    }

    private static String describe(Throwable t) {
        if (t instanceof io.netty.channel.ConnectTimeoutException) {
            return "connect timed out";
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
