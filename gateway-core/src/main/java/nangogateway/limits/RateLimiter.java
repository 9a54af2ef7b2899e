package nangogateway.limits;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.function.LongSupplier;
import nangogateway.config.RateLimit;

/**
 * Token buckets per (listener, route, client address). State lives in a bounded Caffeine cache with expiry, so a
 * flood of distinct addresses cannot exhaust memory: an evicted bucket simply starts full again. Survives reloads;
 * a changed limit starts fresh buckets because the limit is part of the key.
 */
public final class RateLimiter {
    private final Cache<String, Bucket> buckets;
    private final LongSupplier nanoTime;

    public RateLimiter() {
        this(200_000, Duration.ofHours(1), System::nanoTime);
    }

    /** @param nanoTime the clock buckets refill by (tests pass their own) */
    public RateLimiter(long maxClients, Duration idleExpiry, LongSupplier nanoTime) {
        this.buckets = Caffeine.newBuilder().maximumSize(maxClients).expireAfterAccess(idleExpiry).build();
        this.nanoTime = nanoTime;
    }

    /**
     * Takes one token.
     *
     * @return 0 when the request may go on, otherwise the whole seconds until a token is available (Retry-After)
     */
    public long acquire(String scope, String client, RateLimit limit) {
        String key = scope + '|' + limit.rate() + '|' + limit.burst() + '|' + client;
        long now = nanoTime.getAsLong();
        Bucket b = buckets.get(key, k -> new Bucket(limit.burst(), now));
        return b.take(limit, now);
    }

    public long size() {
        buckets.cleanUp();
        return buckets.estimatedSize();
    }

    static final class Bucket {
        private double tokens;
        private long last;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.last = now;
        }

        /** A bucket is shared by one client's connections, which may sit on different event loops. */
        synchronized long take(RateLimit limit, long now) {
            tokens = Math.min(limit.burst(), tokens + (now - last) / 1e9 * limit.rate());
            last = now;
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - tokens) / limit.rate()));
        }
    }
}
