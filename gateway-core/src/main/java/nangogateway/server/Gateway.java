package nangogateway.server;

import nangogateway.lifecycle.LingeringCloseHandler;
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
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.lifecycle.DrainEvent;
import nangogateway.lifecycle.EventLoopWatchdog;
import nangogateway.tls.CertificateWatcher;
import nangogateway.tls.TlsException;
import nangogateway.tls.TlsMaterial;
import nangogateway.tls.TlsWarmUp;
import nangogateway.upstream.UpstreamPools;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running gateway: one server socket per listener, all sharing one event-loop group. Routes, upstreams,
 * limits and TLS material live in a {@link GatewaySnapshot} that {@link #reload} rebuilds completely and swaps in
 * atomically; listeners added or removed by a reload are bound or unbound.
 *
 * <p>Starting, reloads, certificate checks and the unbinding at shutdown all run one at a time on a single control
 * thread that is not an event loop. It may wait for the event loops (bind, close); they never wait for it, and no
 * lock is held across either, so none of these can deadlock with another.
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
    /** Server channel per listener name: replaced whole, only on the control thread; read from any thread. */
    private volatile Map<String, Bound> servers = Map.of();
    private final ChannelGroup connections = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private final CertificateWatcher certificates = new CertificateWatcher();
    private final ScheduledExecutorService control;
    private final AtomicReference<Thread> controlThread = new AtomicReference<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    /** The periodic certificate check and its interval; touched only on the control thread. */
    private ScheduledFuture<?> watchTask;
    private Duration watchInterval;

    private record Bound(ListenerConfig listener, Channel channel) {
    }

    /** A config made ready to serve: its snapshot and the TLS material loaded for it, with the files' fingerprints. */
    private record Built(GatewaySnapshot snapshot, Map<String, TlsMaterial.Loaded> tls, Map<String, String> prints) {
    }

    private Gateway(Transport transport, int threads) {
        this.transport = transport;
        this.boss = transport.newGroup(1, "gateway-accept");
        this.workers = transport.newGroup(threads, "gateway-io");
        this.pools = new UpstreamPools(transport, threads);
        this.services = new GatewayServices(pools, transport);
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "gateway-control");
            t.setDaemon(true);
            controlThread.set(t);
            return t;
        });
        ex.setRemoveOnCancelPolicy(true);
        this.control = ex;
    }

    /** Loads TLS material and binds every listener; fails (releasing what it bound) when one cannot start. */
    public static Gateway start(GatewayConfig config) throws GatewayException {
        return start(config, Transport.best(), Runtime.getRuntime().availableProcessors());
    }

    public static Gateway start(GatewayConfig config, Transport transport, int threads) throws GatewayException {
        Gateway g = new Gateway(transport, Math.max(1, threads));
        try {
            g.onControl(() -> {
                g.startOnControl(config);
                return null;
            });
        } catch (GatewayException | RuntimeException e) {
            g.close();
            throw e;
        }
        log.info("nango-gateway serving {} listener(s) on {} with {} event loop(s)", config.listeners().size(),
                transport.name(), threads);
        return g;
    }

    private void startOnControl(GatewayConfig config) throws GatewayException {
        Built built = build(config);
        if (!TlsMaterial.openSsl()) {
            // The JDK's TLS stack loads and first runs hundreds of classes on its first handshake; BoringSSL does not.
            built.tls().values().stream().findFirst().ifPresent(TlsWarmUp::inBackground);
        }
        Map<String, Bound> bound = new LinkedHashMap<>();
        try {
            for (ListenerConfig l : config.listeners()) {
                bound.put(l.name(), new Bound(l, bind(l)));
            }
        } finally {
            servers = frozen(bound); // what is bound is released by close() if a later listener failed
        }
        commit(config, built);
    }

    /** Runs one step on the control thread and waits for it; on the control thread itself it runs at once. */
    private <T> T onControl(Callable<T> step) throws GatewayException {
        if (Thread.currentThread() == controlThread.get()) {
            try {
                return step.call();
            } catch (GatewayException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        refuseOnEventLoop();
        Future<T> result;
        try {
            result = control.submit(step);
        } catch (RejectedExecutionException e) {
            throw new GatewayException("the gateway is stopped");
        }
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return result.get();
                } catch (InterruptedException e) {
                    // the step runs to its end regardless; waiting for it keeps the answer true
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof GatewayException ge) {
                        throw ge;
                    }
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waiting on an event loop would stall every connection on it, and could wait for itself. */
    private void refuseOnEventLoop() {
        for (EventLoopGroup group : List.of(boss, workers)) {
            for (EventExecutor e : group) {
                if (e.inEventLoop()) {
                    throw new IllegalStateException("the gateway cannot be started, reloaded or stopped from one of"
                            + " its event loops");
                }
            }
        }
    }

    /** Builds a complete snapshot, TLS contexts included, without touching the running one. */
    private Built build(GatewayConfig config) throws GatewayException {
        Map<String, TlsMaterial.Loaded> loaded = new LinkedHashMap<>();
        Map<String, String> prints = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (ListenerConfig l : config.listeners()) {
            if (l.tls() != null) {
                try {
                    // fingerprint first: files renewed while loading are then seen as changed and loaded again
                    String print = CertificateWatcher.fingerprint(l.tls());
                    loaded.put(l.name(), TlsMaterial.load(l.tls(), GatewayChannelInitializer.offersHttp2(l)));
                    prints.put(l.name(), print);
                } catch (TlsException e) {
                    problems.add("listener " + l.name() + ": " + e.getMessage());
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new GatewayException(String.join("\n", problems));
        }
        Map<String, SslContext> tls = new HashMap<>();
        loaded.forEach((name, l) -> tls.put(name, l.context()));
        return new Built(new GatewaySnapshot(config, tls), loaded, prints);
    }

    /** Publishes a built config whose sockets are bound: nothing here can fail. */
    private void commit(GatewayConfig config, Built built) {
        services.buffers().memory().limit(config.server().bufferMemory());
        services.buffers().disk().limit(config.server().bufferDisk());
        snapshot.set(built.snapshot());
        certificates.retainOnly(built.tls().keySet());
        built.tls().forEach((name, loaded) -> {
            certificates.remember(name, config.listener(name).orElseThrow().tls(), built.prints().get(name));
            recordExpiry(name, loaded);
            log.info("listener {}: certificate {} valid until {}", name,
                    loaded.leaf().getSubjectX500Principal().getName(), loaded.leaf().getNotAfter());
        });
        scheduleCertificateChecks(config.server().certificateCheckInterval());
    }

    private void scheduleCertificateChecks(Duration every) {
        if (every.equals(watchInterval) && watchTask != null) {
            return;
        }
        if (watchTask != null) {
            watchTask.cancel(false);
        }
        long ms = Math.max(1, every.toMillis());
        watchTask = control.scheduleWithFixedDelay(this::checkCertificates, ms, ms, TimeUnit.MILLISECONDS);
        watchInterval = every;
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
    public int port(String listener) {
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

    /** A watchdog over every event loop of the gateway (accept and I/O), for systemd's {@code WatchdogSec=}. */
    public EventLoopWatchdog watchdog() {
        List<EventExecutor> loops = new ArrayList<>();
        for (EventLoopGroup group : List.of(boss, workers)) {
            group.forEach(loops::add);
        }
        return new EventLoopWatchdog(loops);
    }

    /**
     * Swaps in a new, fully validated config. Everything that can fail (TLS material, binding new listeners and
     * rebinding moved ones) happens before the swap; on failure the old config and its sockets keep serving and the
     * exception says why. Requests in flight finish on the snapshot they started with.
     */
    public void reload(GatewayConfig next) throws GatewayException {
        onControl(() -> {
            reloadOnControl(next);
            return null;
        });
    }

    private void reloadOnControl(GatewayConfig next) throws GatewayException {
        Built built;
        try {
            built = build(next);
        } catch (GatewayException e) {
            recordFailedReload();
            throw e;
        }
        Map<String, Bound> current = servers;
        Map<String, Bound> fresh = new LinkedHashMap<>();
        Map<String, Bound> vacated = new LinkedHashMap<>();
        try {
            for (ListenerConfig l : next.listeners()) {
                Bound old = current.get(l.name());
                if (old != null && sameAddress(old.listener(), l)) {
                    continue;
                }
                try {
                    fresh.put(l.name(), new Bound(l, bind(l)));
                } catch (GatewayException e) {
                    Bound blocking = blockingSocket(l, current, next, vacated);
                    if (blocking == null) {
                        throw e;
                    }
                    // An old socket this reload replaces holds the port: free it, then bind; undone on failure.
                    blocking.channel().close().awaitUninterruptibly();
                    vacated.put(blocking.listener().name(), blocking);
                    log.info("listener {} unbound from {} to bind {}", blocking.listener().name(),
                            blocking.listener().bindText(), l.bindText());
                    fresh.put(l.name(), new Bound(l, bind(l)));
                }
            }
        } catch (GatewayException e) {
            fresh.values().forEach(b -> b.channel().close().awaitUninterruptibly());
            String lost = restore(vacated);
            recordFailedReload();
            throw lost.isEmpty() ? e : new GatewayException(e.getMessage() + "\n" + lost);
        }
        Map<String, Bound> serving = new LinkedHashMap<>();
        for (ListenerConfig l : next.listeners()) {
            Bound b = fresh.get(l.name());
            serving.put(l.name(), b != null ? b : new Bound(l, current.get(l.name()).channel()));
        }
        commit(next, built);
        servers = frozen(serving);
        for (var e : current.entrySet()) {
            Bound now = serving.get(e.getKey());
            if ((now == null || now.channel() != e.getValue().channel()) && !vacated.containsKey(e.getKey())) {
                e.getValue().channel().close().awaitUninterruptibly();
                log.info("listener {} unbound from {}", e.getKey(), e.getValue().listener().bindText());
            }
        }
        services.metrics().reload(true);
        log.info("configuration reloaded from {}", next.source());
    }

    /** The old socket that may stand in the way of binding {@code l}: its own, or one of a listener removed. */
    private static Bound blockingSocket(ListenerConfig l, Map<String, Bound> current, GatewayConfig next,
            Map<String, Bound> vacated) {
        for (Bound b : current.values()) {
            String name = b.listener().name();
            boolean replaced = name.equals(l.name()) || next.listener(name).isEmpty();
            if (replaced && !vacated.containsKey(name) && overlaps(b.listener(), l)) {
                return b;
            }
        }
        return null;
    }

    /** Binds again the old sockets a failed reload closed; says which could not be, each then no longer served. */
    private String restore(Map<String, Bound> vacated) {
        if (vacated.isEmpty()) {
            return "";
        }
        Map<String, Bound> serving = new LinkedHashMap<>(servers);
        List<String> lost = new ArrayList<>();
        for (Bound old : vacated.values()) {
            try {
                serving.put(old.listener().name(), new Bound(old.listener(), bind(old.listener())));
            } catch (GatewayException e) {
                serving.remove(old.listener().name());
                lost.add(e.getMessage() + " (the listener is not serving until a reload or restart binds it)");
                log.error("reload: {}", lost.get(lost.size() - 1));
            }
        }
        servers = frozen(serving);
        return String.join("\n", lost);
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

    /** Whether two listeners' sockets would claim the same port on some address, so both cannot be bound at once. */
    private static boolean overlaps(ListenerConfig a, ListenerConfig b) {
        if (a.port() != b.port() || a.port() == 0) {
            return false;
        }
        try {
            InetAddress x = InetAddress.getByName(a.host());
            InetAddress y = InetAddress.getByName(b.host());
            return x.equals(y) || x.isAnyLocalAddress() || y.isAnyLocalAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static Map<String, Bound> frozen(Map<String, Bound> m) {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }

    /** Re-reads every TLS listener's certificate; a changed, valid pair is used for new handshakes. */
    public void reloadCertificates() {
        try {
            onControl(() -> {
                reloadCertificates(snapshot.get().config().listeners().stream()
                        .filter(l -> l.tls() != null).map(ListenerConfig::name).toList());
                return null;
            });
        } catch (GatewayException e) {
            throw new IllegalStateException(e.getMessage());
        }
    }

    /** On the control thread, the only writer of the snapshot; a pair that fails to load leaves the old one. */
    private void reloadCertificates(List<String> names) {
        GatewaySnapshot next = snapshot.get();
        for (String name : names) {
            ListenerConfig l = next.config().listener(name).orElse(null);
            if (l == null || l.tls() == null) {
                continue;
            }
            try {
                String print = CertificateWatcher.fingerprint(l.tls());
                TlsMaterial.Loaded loaded = TlsMaterial.load(l.tls(), GatewayChannelInitializer.offersHttp2(l));
                next = next.withTls(l.name(), loaded.context());
                certificates.remember(l.name(), l.tls(), print);
                recordExpiry(l.name(), loaded);
                log.info("listener {}: certificate reloaded ({} valid until {})", l.name(),
                        loaded.leaf().getSubjectX500Principal().getName(), loaded.leaf().getNotAfter());
            } catch (TlsException e) {
                log.error("listener {}: keeping the current certificate: {}", l.name(), e.getMessage());
            }
        }
        snapshot.set(next);
    }

    private void checkCertificates() {
        try {
            List<String> changed = List.copyOf(certificates.settledChanges());
            if (!changed.isEmpty()) {
                reloadCertificates(changed);
            }
        } catch (RuntimeException e) {
            // a throw would end the periodic check for good
            log.error("certificate check failed: {}", e.toString());
        }
    }

    /**
     * Graceful stop: stop accepting, close idle keep-alive connections at once, let requests in flight and open
     * WebSockets finish until {@code timeout}, then close what is left. A second call waits for the first.
     */
    public void shutdown(Duration timeout) {
        refuseOnEventLoop();
        if (!stopping.compareAndSet(false, true)) {
            stopped.join();
            return;
        }
        try {
            stopAccepting();
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
            // What is left closes now: no lingering, not even for a connection accepted after the drain began.
            connections.forEach(LingeringCloseHandler::noLingering);
            connections.close().awaitUninterruptibly();
            pools.closeIdle();
            boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
            workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
        } finally {
            stopped.complete(null);
        }
    }

    /** Closes the server sockets on the control thread after any reload or check under way, then ends that thread. */
    private void stopAccepting() {
        try {
            onControl(() -> {
                if (watchTask != null) {
                    watchTask.cancel(false);
                }
                for (Bound s : servers.values()) {
                    s.channel().close().awaitUninterruptibly();
                }
                servers = Map.of();
                return null;
            });
        } catch (GatewayException e) {
            log.warn("stopping: {}", e.getMessage());
        }
        control.shutdown();
        try {
            if (!control.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("stopping: the control thread is still busy");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Connections refused at accept by a listener's connection limits. */
    public long refusedConnections(String listener) {
        var h = services.connectionLimits().get(listener);
        return h == null ? 0 : h.refused();
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
