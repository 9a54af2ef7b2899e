package nangogateway.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations in the route file: a positive integer and one unit, {@code 250ms}, {@code 2s}, {@code 1m}, {@code 1h};
 * at most {@link #MAX}.
 */
public final class Durations {
    private static final Pattern STRICT = Pattern.compile("([0-9]{1,12})(ms|s|m|h)");
    /** Loose reading of what people write, used only to suggest the strict spelling. */
    private static final Pattern LOOSE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([a-z]*)");
    private static final Map<String, String> UNIT_SPELLINGS = Map.ofEntries(
            Map.entry("ms", "ms"), Map.entry("msec", "ms"), Map.entry("msecs", "ms"), Map.entry("millis", "ms"),
            Map.entry("millisecond", "ms"), Map.entry("milliseconds", "ms"),
            Map.entry("s", "s"), Map.entry("sec", "s"), Map.entry("secs", "s"), Map.entry("second", "s"),
            Map.entry("seconds", "s"),
            Map.entry("m", "m"), Map.entry("min", "m"), Map.entry("mins", "m"), Map.entry("minute", "m"),
            Map.entry("minutes", "m"),
            Map.entry("h", "h"), Map.entry("hr", "h"), Map.entry("hrs", "h"), Map.entry("hour", "h"),
            Map.entry("hours", "h"));
    private static final Map<String, Long> MILLIS_PER_UNIT = Map.of("ms", 1L, "s", 1000L, "m", 60_000L, "h", 3_600_000L);

    /**
     * The longest duration a route file may give: far beyond any sensible timeout or window, and short enough for
     * every use (a timer in nanoseconds, Netty's connect timeout in int milliseconds) to hold it without overflow.
     */
    public static final Duration MAX = Duration.ofDays(7);

    private Durations() {
    }

    /**
     * @throws IllegalArgumentException saying how to write the value instead
     */
    public static Duration parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("empty duration: write e.g. 2s, 250ms, 1m or 1h");
        }
        Matcher m = STRICT.matcher(text);
        if (m.matches()) {
            long amount = Long.parseLong(m.group(1));
            if (amount == 0) {
                throw new IllegalArgumentException("duration '" + text + "' must be positive: write e.g. 1" + m.group(2));
            }
            long millis = amount * MILLIS_PER_UNIT.get(m.group(2));
            if (millis > MAX.toMillis()) {
                throw new IllegalArgumentException("duration '" + text + "' is too long: write at most 168h (7 days)");
            }
            return Duration.ofMillis(millis);
        }
        throw new IllegalArgumentException("bad duration '" + text + "': " + suggestion(text));
    }

    private static String suggestion(String text) {
        String generic = "write an integer and one of ms, s, m, h, e.g. 2s or 250ms";
        Matcher m = LOOSE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return generic;
        }
        if (m.group(2).isEmpty()) {
            return "a duration needs a unit: write " + m.group(1) + "s or " + m.group(1) + "ms";
        }
        String unit = UNIT_SPELLINGS.get(m.group(2));
        if (unit == null) {
            return generic;
        }
        BigDecimal amount = new BigDecimal(m.group(1));
        if (amount.signum() == 0) {
            return "a duration must be positive: write e.g. 1" + unit;
        }
        try {
            return "write " + amount.toBigIntegerExact() + unit;
        } catch (ArithmeticException fractional) {
            BigDecimal millis = amount.multiply(BigDecimal.valueOf(MILLIS_PER_UNIT.get(unit)));
            try {
                return "write " + millis.toBigIntegerExact() + "ms (whole numbers only)";
            } catch (ArithmeticException stillFractional) {
                return generic;
            }
        }
    }
}
