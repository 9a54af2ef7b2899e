package nangogateway.probe;

/**
 * Spaces requests evenly so that at most {@code perSecond} start in any second: the probe is meant to run from
 * cron against production, where a burst would look like (and be treated as) an attack.
 */
final class RequestPacer {
    private final long intervalNanos;
    private long next = Long.MIN_VALUE;

    RequestPacer(double perSecond) {
        if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
            throw new IllegalArgumentException("rate must be a positive number of requests per second");
        }
        this.intervalNanos = (long) Math.ceil(1_000_000_000d / perSecond);
    }

    /** Blocks until the next request may start. */
    void await() throws InterruptedException {
        long now = System.nanoTime();
        if (next != Long.MIN_VALUE && now - next < 0) {
            long wait = next - now;
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            now = next;
        }
        next = now + intervalNanos;
    }
}
