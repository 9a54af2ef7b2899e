package nangogateway.server;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import nangogateway.limits.ConnectionLimitHandler;
import nangogateway.limits.RateLimiter;
import nangogateway.upstream.UpstreamPools;

/** What outlives a config snapshot: upstream pools, rate-limit state, per-listener connection counters. */
public final class GatewayServices {
    private final UpstreamPools pools;
    private final RateLimiter rateLimiter = new RateLimiter();
    private final Map<String, ConnectionLimitHandler> connectionLimits = new ConcurrentHashMap<>();

    public GatewayServices(UpstreamPools pools) {
        this.pools = pools;
    }

    public UpstreamPools pools() {
        return pools;
    }

    public RateLimiter rateLimiter() {
        return rateLimiter;
    }

    /** The listener's connection counter, created on first use and updated to the given limits. */
    public ConnectionLimitHandler connectionLimits(String listener, int maxTotal, int maxPerClient) {
        ConnectionLimitHandler h = connectionLimits.computeIfAbsent(listener,
                k -> new ConnectionLimitHandler(maxTotal, maxPerClient));
        h.update(maxTotal, maxPerClient);
        return h;
    }

    public Map<String, ConnectionLimitHandler> connectionLimits() {
        return connectionLimits;
    }
}
