package nangogateway.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.upstream.UpstreamPools;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running gateway: one server socket per listener, sharing one event-loop group. The route table and
 * upstreams live in a {@link GatewaySnapshot} swapped atomically by {@link #reload}.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);
    private static final int BACKLOG = 1024;

    private final Transport transport;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final UpstreamPools pools;
    private final AtomicReference<GatewaySnapshot> snapshot;
    private final Map<String, Channel> servers = new LinkedHashMap<>();
    private final ChannelGroup connections = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);

    private Gateway(GatewayConfig config, Transport transport, int threads) {
        this.transport = transport;
        this.boss = transport.newGroup(1, "gateway-accept");
        this.workers = transport.newGroup(threads, "gateway-io");
        this.pools = new UpstreamPools(transport, threads);
        this.snapshot = new AtomicReference<>(new GatewaySnapshot(config));
    }

    /** Binds every listener of {@code config}; fails (and releases what it bound) when one cannot bind. */
    public static Gateway start(GatewayConfig config) throws InterruptedException {
        return start(config, Transport.best(), Runtime.getRuntime().availableProcessors());
    }

    public static Gateway start(GatewayConfig config, Transport transport, int threads) throws InterruptedException {
        Gateway g = new Gateway(config, transport, Math.max(1, threads));
        try {
            for (ListenerConfig l : config.listeners()) {
                g.bind(l);
            }
        } catch (RuntimeException | InterruptedException e) {
            g.close();
            throw e;
        }
        log.info("nango-gateway serving {} listener(s) on {} with {} event loop(s)", config.listeners().size(),
                transport.name(), threads);
        return g;
    }

    private void bind(ListenerConfig l) throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, BACKLOG)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .childHandler(new io.netty.channel.ChannelInitializer<io.netty.channel.socket.SocketChannel>() {
                    private final GatewayChannelInitializer pipeline =
                            new GatewayChannelInitializer(l, snapshot::get, pools);

                    @Override
                    protected void initChannel(io.netty.channel.socket.SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(pipeline);
                    }
                });
        Channel server;
        try {
            server = b.bind(new InetSocketAddress(l.host(), l.port())).sync().channel();
        } catch (Exception e) {
            throw new IllegalStateException("listener " + l.name() + ": cannot bind " + l.bindText() + ": "
                    + e.getMessage(), e);
        }
        servers.put(l.name(), server);
        log.info("listener {} on {}://{}", l.name(), l.scheme(), server.localAddress());
    }

    /** The port a listener is bound to (useful with port 0). */
    public int port(String listener) {
        Channel c = servers.get(listener);
        if (c == null) {
            throw new IllegalArgumentException("no listener " + listener);
        }
        return ((InetSocketAddress) c.localAddress()).getPort();
    }

    public GatewayConfig config() {
        return snapshot.get().config();
    }

    public String transportName() {
        return transport.name();
    }

    /** Swaps in a new, fully validated config. Requests in flight finish on the snapshot they started with. */
    public void reload(GatewayConfig next) {
        snapshot.set(new GatewaySnapshot(next));
        log.info("configuration reloaded from {}", next.source());
    }

    /** Stops accepting, waits up to {@code timeout} for open connections to finish, then closes the rest. */
    public void shutdown(Duration timeout) {
        for (Channel s : servers.values()) {
            s.close().awaitUninterruptibly();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!connections.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        connections.close().awaitUninterruptibly();
        pools.closeIdle();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
