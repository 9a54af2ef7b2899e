package nangogateway.limits;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
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
        Bucket b = buckets.getIfPresent(key); // lock-free read; only a client's first request computes a bucket
        if (b == null) {
            b = buckets.get(key, k -> new Bucket(now));
        }
        return b.take(limit, now);
    }

    public long size() {
        buckets.cleanUp();
        return buckets.estimatedSize();
    }

    /**
     * One client's bucket as a single number, the generic cell rate algorithm: the time at which the bucket would
     * be full again. A client's connections may sit on different event loops; a compare-and-set, never a lock,
     * settles which of them takes the last token.
     */
    static final class Bucket {
        /** When, on the nano clock, every token taken so far has been earned back. */
        private final AtomicLong fullAt;

        Bucket(long now) {
            fullAt = new AtomicLong(now);
        }

        long take(RateLimit limit, long now) {
            long interval = (long) (1e9 / limit.rate());
            long capacity = interval * limit.burst();
            while (true) {
                long full = fullAt.get();
                long next = Math.max(full, now) + interval;
                long over = next - now - capacity;
                if (over > 0) {
                    return Math.max(1, (over + 999_999_999L) / 1_000_000_000L); // whole seconds, rounded up
                }
                if (fullAt.compareAndSet(full, next)) {
                    return 0;
                }
            }
        }
    }
}
