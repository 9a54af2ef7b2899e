package nangogateway.limits;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Caps open connections per listener and per client address; a connection over a cap is closed at accept,
 * before a byte is read, and counted.
 *
 * <p>An HTTP/2 stream counts as one more connection while it is open (as nginx's {@code limit_conn} counts each
 * HTTP/2 request): on HTTP/1.1 a connection carries one request at a time, so the caps bound what one client (and the
 * listener) can have in flight, and a client must not multiply that by the 100 streams each HTTP/2 connection may
 * open. A stream over a cap ({@link #acquireStream} false) is marked {@link #overCap}: the router answers it 503 with
 * {@code Retry-After}, through the stream's whole pipeline, so it is access-logged and counted as any refusal.
 */
@ChannelHandler.Sharable
public final class ConnectionLimitHandler extends ChannelInboundHandlerAdapter {
    private static final AttributeKey<Boolean> OVER_CAP = AttributeKey.valueOf("nangogateway.overCap");

    /** Connections and open HTTP/2 streams. */
    private final AtomicInteger total = new AtomicInteger();
    /** Connections alone, for the open-connections gauge. */
    private final AtomicInteger connections = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> perClient = new ConcurrentHashMap<>();
    private final LongAdder refused = new LongAdder();
    private final LongAdder refusedStreams = new LongAdder();
    private volatile int maxTotal;
    private volatile int maxPerClient;

    public ConnectionLimitHandler(int maxTotal, int maxPerClient) {
        update(maxTotal, maxPerClient);
    }

    /** Applies new limits (reload); connections already open stay. */
    public void update(int maxTotal, int maxPerClient) {
        this.maxTotal = maxTotal;
        this.maxPerClient = maxPerClient;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        InetAddress client = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
        boolean within = take(client);
        connections.incrementAndGet();
        // Counted down when the channel closes, whatever handlers it still has then: a WebSocket tunnel takes
        // this handler out of the pipeline, and a count tied to channelInactive would never come down.
        ctx.channel().closeFuture().addListener(f -> {
            connections.decrementAndGet();
            release(client);
        });
        if (!within) {
            refused.increment();
            ctx.close();
            return;
        }
        ctx.fireChannelActive();
    }

    /**
     * An HTTP/2 stream of {@code client} opens: true when it is within the caps, and then counted until
     * {@link #releaseStream}; false (counted as refused, nothing held) when it is over one.
     */
    public boolean acquireStream(InetAddress client) {
        if (!take(client)) {
            release(client);
            refusedStreams.increment();
            return false;
        }
        return true;
    }

    /** Marks a stream that {@link #acquireStream} refused: its request is to be answered 503. */
    public static void markOverCap(Channel stream) {
        stream.attr(OVER_CAP).set(Boolean.TRUE);
    }

    /** Whether this channel is an HTTP/2 stream opened over a connection cap. */
    public static boolean overCap(Channel ch) {
        return ch.hasAttr(OVER_CAP);
    }

    /** A stream that {@link #acquireStream} let open has closed. */
    public void releaseStream(InetAddress client) {
        release(client);
    }

    /** Counts one more for the listener and the client; whether both are within their caps. */
    private boolean take(InetAddress client) {
        int t = total.incrementAndGet();
        // merge and computeIfPresent: one atomic step per key, so a count never goes up on an entry being removed
        int c = client == null ? 0 : perClient.merge(client, 1, Integer::sum);
        return !(maxTotal > 0 && t > maxTotal) && !(maxPerClient > 0 && c > maxPerClient);
    }

    private void release(InetAddress client) {
        total.decrementAndGet();
        if (client != null) {
            perClient.computeIfPresent(client, (k, v) -> v <= 1 ? null : v - 1);
        }
    }

    /** Open connections and streams of one client address (for tests and metrics). */
    public int open(InetAddress client) {
        Integer n = perClient.get(client);
        return n == null ? 0 : n;
    }

    /** Connections refused on accept. */
    public long refused() {
        return refused.sum();
    }

    /** HTTP/2 streams refused because their client (or the listener) was at its cap. */
    public long refusedStreams() {
        return refusedStreams.sum();
    }

    /** Open connections (streams not counted). */
    public int open() {
        return connections.get();
    }
}
