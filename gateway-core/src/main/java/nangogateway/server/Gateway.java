package nangogateway.server;

import nangogateway.exchange.GatewaySnapshot;
import nangogateway.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.lifecycle.DrainEvent;
import nangogateway.tls.CertificateWatcher;
import nangogateway.tls.TlsException;
import nangogateway.tls.TlsMaterial;
import nangogateway.upstream.UpstreamPools;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running gateway: one server socket per listener, all sharing one event-loop group. Routes, upstreams,
 * limits and TLS material live in a {@link GatewaySnapshot} that {@link #reload} rebuilds completely and swaps in
 * atomically; listeners added or removed by a reload are bound or unbound.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);
    private static final int BACKLOG = 1024;

    private final Transport transport;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final UpstreamPools pools;
    private final GatewayServices services;
    private final AtomicReference<GatewaySnapshot> snapshot = new AtomicReference<>();
    /** Server channel per listener name; touched only under this object's lock (start, reload, stop). */
    private final Map<String, Bound> servers = new LinkedHashMap<>();
    private final ChannelGroup connections = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private final CertificateWatcher certificates;
    private ScheduledFuture<?> watchTask;

    private record Bound(ListenerConfig listener, Channel channel) {
    }

    private Gateway(Transport transport, int threads) {
        this.transport = transport;
        this.boss = transport.newGroup(1, "gateway-accept");
        this.workers = transport.newGroup(threads, "gateway-io");
        this.pools = new UpstreamPools(transport, threads);
        this.services = new GatewayServices(pools, transport);
        this.certificates = new CertificateWatcher();
    }

    /** Loads TLS material and binds every listener; fails (releasing what it bound) when one cannot start. */
    public static Gateway start(GatewayConfig config) throws GatewayException {
        return start(config, Transport.best(), Runtime.getRuntime().availableProcessors());
    }

    public static Gateway start(GatewayConfig config, Transport transport, int threads) throws GatewayException {
        Gateway g = new Gateway(transport, Math.max(1, threads));
        try {
            g.snapshot.set(g.build(config));
            for (ListenerConfig l : config.listeners()) {
                g.servers.put(l.name(), new Bound(l, g.bind(l)));
            }
        } catch (GatewayException | RuntimeException e) {
            g.close();
            throw e;
        }
        long every = config.server().certificateCheckInterval().toMillis();
        g.watchTask = g.boss.next().scheduleWithFixedDelay(g::checkCertificates, every, every, TimeUnit.MILLISECONDS);
        log.info("nango-gateway serving {} listener(s) on {} with {} event loop(s)", config.listeners().size(),
                transport.name(), threads);
        return g;
    }

    /** Builds a complete snapshot, TLS contexts included, without touching the running one. */
    private GatewaySnapshot build(GatewayConfig config) throws GatewayException {
        Map<String, SslContext> tls = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (ListenerConfig l : config.listeners()) {
            if (l.tls() != null) {
                try {
                    TlsMaterial.Loaded loaded = TlsMaterial.load(l.tls());
                    tls.put(l.name(), loaded.context());
                    certificates.remember(l.name(), l.tls());
                    recordExpiry(l.name(), loaded);
                    log.info("listener {}: certificate {} valid until {}", l.name(),
                            loaded.leaf().getSubjectX500Principal().getName(), loaded.leaf().getNotAfter());
                } catch (TlsException e) {
                    problems.add("listener " + l.name() + ": " + e.getMessage());
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new GatewayException(String.join("\n", problems));
        }
        return new GatewaySnapshot(config, tls);
    }

    private final java.util.concurrent.ConcurrentHashMap<String, Long> certificateExpiry =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Exposes the certificate's notAfter as a gauge, so an alert can fire before it expires. */
    private void recordExpiry(String listener, TlsMaterial.Loaded loaded) {
        if (certificateExpiry.put(listener, loaded.leaf().getNotAfter().getTime() / 1000) == null) {
            services.metrics().certificateExpiry(listener, () -> certificateExpiry.getOrDefault(listener, 0L));
        }
    }

    private Channel bind(ListenerConfig l) throws GatewayException {
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, BACKLOG)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOCATOR, Transport.ALLOCATOR)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .childHandler(new io.netty.channel.ChannelInitializer<io.netty.channel.socket.SocketChannel>() {
                    private final GatewayChannelInitializer pipeline =
                            new GatewayChannelInitializer(l.name(), snapshot::get, services);

                    @Override
                    protected void initChannel(io.netty.channel.socket.SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(pipeline);
                    }
                });
        try {
            Channel server = b.bind(new InetSocketAddress(l.host(), l.port())).sync().channel();
            InetSocketAddress bound = (InetSocketAddress) server.localAddress();
            String host = bound.getAddress().getHostAddress();
            log.info("listener {} on {}://{}:{}", l.name(), l.scheme(), host.contains(":") ? "[" + host + "]" : host,
                    bound.getPort());
            return server;
        } catch (Exception e) {
            throw new GatewayException("listener " + l.name() + ": cannot bind " + l.bindText() + ": "
                    + e.getMessage());
        }
    }

    /** The port a listener is bound to (useful with port 0). */
    public synchronized int port(String listener) {
        Bound b = servers.get(listener);
        if (b == null) {
            throw new IllegalArgumentException("no listener " + listener);
        }
        return ((InetSocketAddress) b.channel().localAddress()).getPort();
    }

    public GatewayConfig config() {
        return snapshot.get().config();
    }

    public String transportName() {
        return transport.name();
    }

    /**
     * Swaps in a new, fully validated config. Everything that can fail (TLS material, binding new listeners)
     * happens before the swap; on failure the old config keeps serving and the exception says why. Requests in
     * flight finish on the snapshot they started with.
     */
    public synchronized void reload(GatewayConfig next) throws GatewayException {
        GatewaySnapshot built;
        try {
            built = build(next);
        } catch (GatewayException e) {
            recordFailedReload();
            throw e;
        }
        Map<String, Bound> added = new LinkedHashMap<>();
        try {
            for (ListenerConfig l : next.listeners()) {
                Bound old = servers.get(l.name());
                if (old == null || !sameAddress(old.listener(), l)) {
                    if (old != null && old.listener().port() == l.port() && l.port() != 0) {
                        continue; // same port, other host: rebound below after the old socket is closed
                    }
                    added.put(l.name(), new Bound(l, bind(l)));
                }
            }
        } catch (GatewayException e) {
            added.values().forEach(b -> b.channel().close());
            recordFailedReload();
            throw e;
        }
        snapshot.set(built);
        List<String> rebind = new ArrayList<>();
        for (var it = servers.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            ListenerConfig now = next.listener(e.getKey()).orElse(null);
            if (now == null || added.containsKey(e.getKey()) || !sameAddress(e.getValue().listener(), now)) {
                e.getValue().channel().close().awaitUninterruptibly();
                it.remove();
                if (now != null && !added.containsKey(e.getKey())) {
                    rebind.add(e.getKey());
                }
                log.info("listener {} unbound", e.getKey());
            } else {
                e.setValue(new Bound(now, e.getValue().channel()));
            }
        }
        servers.putAll(added);
        for (String name : rebind) {
            ListenerConfig l = next.listener(name).orElseThrow();
            try {
                servers.put(name, new Bound(l, bind(l)));
            } catch (GatewayException e) {
                log.error("reload: {}", e.getMessage());
            }
        }
        services.metrics().reload(true);
        log.info("configuration reloaded from {}", next.source());
    }

    /** Counts a reload that did not take effect (a bad file, unusable TLS material, a port that would not bind). */
    public void recordFailedReload() {
        services.metrics().reload(false);
    }

    public nangogateway.observe.GatewayMetrics metrics() {
        return services.metrics();
    }

    private static boolean sameAddress(ListenerConfig a, ListenerConfig b) {
        return a.host().equals(b.host()) && a.port() == b.port() && Objects.equals(a.tls() == null, b.tls() == null);
    }

    /** Re-reads every listener's certificate; a changed, valid pair is used for new handshakes. */
    public synchronized void reloadCertificates() {
        GatewaySnapshot current = snapshot.get();
        GatewaySnapshot next = current;
        for (ListenerConfig l : current.config().listeners()) {
            if (l.tls() == null) {
                continue;
            }
            try {
                TlsMaterial.Loaded loaded = TlsMaterial.load(l.tls());
                next = next.withTls(l.name(), loaded.context());
                certificates.remember(l.name(), l.tls());
                recordExpiry(l.name(), loaded);
                log.info("listener {}: certificate reloaded ({} valid until {})", l.name(),
                        loaded.leaf().getSubjectX500Principal().getName(), loaded.leaf().getNotAfter());
            } catch (TlsException e) {
                log.error("listener {}: keeping the current certificate: {}", l.name(), e.getMessage());
            }
        }
        snapshot.compareAndSet(current, next);
    }

    private void checkCertificates() {
        try {
            if (certificates.changedAndSettled()) {
                reloadCertificates();
            }
        } catch (RuntimeException e) {
            log.error("certificate check failed: {}", e.toString());
        }
    }

    /**
     * Graceful stop: stop accepting, close idle keep-alive connections at once, let requests in flight and open
     * WebSockets finish until {@code timeout}, then close what is left.
     */
    public synchronized void shutdown(Duration timeout) {
        if (watchTask != null) {
            watchTask.cancel(false);
        }
        for (Bound s : servers.values()) {
            s.channel().close().awaitUninterruptibly();
        }
        servers.clear();
        for (Channel c : connections) {
            c.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!connections.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!connections.isEmpty()) {
            log.warn("closing {} connection(s) still open after the {} ms drain", connections.size(),
                    timeout.toMillis());
        }
        connections.close().awaitUninterruptibly();
        pools.closeIdle();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /** Connections refused at accept by a listener's connection limits. */
    public long refusedConnections(String listener) {
        var h = services.connectionLimits().get(listener);
        return h == null ? 0 : h.refused();
    }

    /** Open client connections (for drain reporting and tests). */
    public int openConnections() {
        return connections.size();
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
