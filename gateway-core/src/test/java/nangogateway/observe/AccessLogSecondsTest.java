package nangogateway.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The access log's times are written without a formatter, and read exactly as {@code %.3f} wrote them. */
class AccessLogSecondsTest {
    @Test
    void writesSecondsAsPercentPointThreeF() {
        Random random = new Random(42);
        long[] edges = {0, 1, 499_999, 500_000, 999_999, 1_000_000, 9_999_999, 10_000_000, 999_499_999L,
                999_500_000L, 1_000_000_000L, 61_234_567_891L};
        for (long n : edges) {
            assertEquals(String.format(Locale.ROOT, "%.3f", n / 1e9),
                    AccessLog.seconds(new StringBuilder(), n).toString(), "nanos " + n);
        }
        for (int i = 0; i < 100_000; i++) {
            long n = (long) (random.nextDouble() * 100e9);
            if (n % 500_000 == 0) {
                continue; // an exact half: %.3f sees the double's binary value, which may fall either side
            }
            assertEquals(String.format(Locale.ROOT, "%.3f", n / 1e9),
                    AccessLog.seconds(new StringBuilder(), n).toString(), "nanos " + n);
        }
    }
}
