package nangogateway.server;

import nangogateway.net.Transport;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import nangogateway.limits.ConnectionLimitHandler;
import nangogateway.limits.BufferBudgets;
import nangogateway.limits.ByteBudget;
import nangogateway.limits.RateLimiter;
import nangogateway.config.ServerSettings;
import nangogateway.observe.GatewayMetrics;
import nangogateway.upstream.UpstreamPools;

/** What outlives a config snapshot: upstream pools, rate-limit state, per-listener connection counters. */
public final class GatewayServices {
    private final UpstreamPools pools;
    private final RateLimiter rateLimiter = new RateLimiter();
    private final GatewayMetrics metrics = new GatewayMetrics();
    private final Map<String, ConnectionLimitHandler> connectionLimits = new ConcurrentHashMap<>();
    private final BufferBudgets buffers = new BufferBudgets(new ByteBudget(ServerSettings.DEFAULT_BUFFER_MEMORY),
            new ByteBudget(ServerSettings.DEFAULT_BUFFER_DISK));

    private final Transport transport;

    public GatewayServices(UpstreamPools pools, Transport transport) {
        this.pools = pools;
        this.transport = transport;
        metrics.upstreamConnections(pools::upstreams, pools::openConnections, pools::idleConnections);
        metrics.bufferBudgets(buffers);
    }

    /** The process-wide budgets of buffered bodies ({@code server.buffer_memory}, {@code server.buffer_disk}). */
    public BufferBudgets buffers() {
        return buffers;
    }

    public Transport transport() {
        return transport;
    }

    public UpstreamPools pools() {
        return pools;
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    public RateLimiter rateLimiter() {
        return rateLimiter;
    }

    /** The listener's connection counter, created on first use and updated to the given limits. */
    public ConnectionLimitHandler connectionLimits(String listener, int maxTotal, int maxPerClient) {
        ConnectionLimitHandler h = connectionLimits.computeIfAbsent(listener, k -> {
            ConnectionLimitHandler created = new ConnectionLimitHandler(maxTotal, maxPerClient);
            metrics.openConnections(k, created::open);
            metrics.refusedConnections(k, created::refused);
            metrics.refusedStreams(k, created::refusedStreams);
            return created;
        });
        h.update(maxTotal, maxPerClient);
        return h;
    }

    public Map<String, ConnectionLimitHandler> connectionLimits() {
        return connectionLimits;
    }
}
