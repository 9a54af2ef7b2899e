package nangogateway.limits;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Caps open connections per listener and per client address; a connection over a cap is closed at accept,
 * before a byte is read, and counted.
 */
@ChannelHandler.Sharable
public final class ConnectionLimitHandler extends ChannelInboundHandlerAdapter {
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perClient = new ConcurrentHashMap<>();
    private final LongAdder refused = new LongAdder();
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
        int t = total.incrementAndGet();
        int c = client == null ? 0 : perClient.computeIfAbsent(client, k -> new AtomicInteger()).incrementAndGet();
        // Counted down when the channel closes, whatever handlers it still has then: a WebSocket tunnel takes
        // this handler out of the pipeline, and a count tied to channelInactive would never come down.
        ctx.channel().closeFuture().addListener(f -> release(client));
        if ((maxTotal > 0 && t > maxTotal) || (maxPerClient > 0 && c > maxPerClient)) {
            refused.increment();
            ctx.close();
            return;
        }
        ctx.fireChannelActive();
    }

    private void release(InetAddress client) {
        total.decrementAndGet();
        if (client != null) {
            perClient.computeIfPresent(client, (k, v) -> v.decrementAndGet() <= 0 ? null : v);
        }
    }

    /** Open connections of one client address (for tests and metrics). */
    public int open(InetAddress client) {
        AtomicInteger n = perClient.get(client);
        return n == null ? 0 : n.get();
    }

    public long refused() {
        return refused.sum();
    }

    public int open() {
        return total.get();
    }
}
