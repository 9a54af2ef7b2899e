package nangogateway.config;

/** A token bucket per client address: {@code rate} requests per second on average, bursts up to {@code burst}. */
public record RateLimit(double rate, int burst) {
    public RateLimit {
        if (!(rate > 0) || burst < 1) {
            throw new IllegalArgumentException("rate must be > 0 and burst >= 1");
        }
    }
}
