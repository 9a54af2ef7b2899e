package nangogateway.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import nangogateway.config.RateLimit;
import org.junit.jupiter.api.Test;

/** Token buckets on a clock the test turns by hand. */
class RateLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final RateLimiter limiter = new RateLimiter(1000, Duration.ofHours(1), now::get);

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void burstThenRefillAtTheRate() {
        RateLimit limit = new RateLimit(1, 3);
        assertEquals(0, limiter.acquire("l", "1.2.3.4", limit));
        assertEquals(0, limiter.acquire("l", "1.2.3.4", limit));
        assertEquals(0, limiter.acquire("l", "1.2.3.4", limit));
        assertEquals(1, limiter.acquire("l", "1.2.3.4", limit), "the burst is spent: retry after one token's time");
        advance(Duration.ofMillis(999));
        assertEquals(1, limiter.acquire("l", "1.2.3.4", limit), "not quite one token yet");
        advance(Duration.ofMillis(2));
        assertEquals(0, limiter.acquire("l", "1.2.3.4", limit));
        advance(Duration.ofMinutes(10));
        for (int i = 0; i < 3; i++) {
            assertEquals(0, limiter.acquire("l", "1.2.3.4", limit), "refilled up to the burst, not beyond");
        }
        assertEquals(1, limiter.acquire("l", "1.2.3.4", limit));
    }

    @Test
    void slowRatesAskForLongerWaits() {
        RateLimit limit = new RateLimit(0.1, 1);
        assertEquals(0, limiter.acquire("l", "c", limit));
        assertEquals(10, limiter.acquire("l", "c", limit));
        advance(Duration.ofSeconds(4));
        assertEquals(6, limiter.acquire("l", "c", limit));
    }

    @Test
    void clientsAndScopesHaveTheirOwnBuckets() {
        RateLimit limit = new RateLimit(1, 1);
        assertEquals(0, limiter.acquire("l", "a", limit));
        assertEquals(0, limiter.acquire("l", "b", limit));
        assertEquals(0, limiter.acquire("other-route", "a", limit));
        assertTrue(limiter.acquire("l", "a", limit) > 0);
    }

    @Test
    void aFloodOfAddressesIsBounded() {
        RateLimiter small = new RateLimiter(100, Duration.ofHours(1), now::get);
        RateLimit limit = new RateLimit(1, 1);
        for (int i = 0; i < 10_000; i++) {
            small.acquire("l", "10.0." + (i / 256) + "." + (i % 256), limit);
        }
        assertTrue(small.size() <= 100, "buckets kept: " + small.size());
    }

    /** Threads racing for one bucket get exactly its burst, no more and no less: no update is lost. */
    @Test
    void racingTakesNeverOverspendTheBurst() throws Exception {
        RateLimit limit = new RateLimit(0.001, 1000); // no refill within the test
        java.util.concurrent.atomic.AtomicInteger granted = new java.util.concurrent.atomic.AtomicInteger();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 1000; i++) {
                    if (limiter.acquire("l", "shared", limit) == 0) {
                        granted.incrementAndGet();
                    }
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(1000, granted.get());
    }
}
