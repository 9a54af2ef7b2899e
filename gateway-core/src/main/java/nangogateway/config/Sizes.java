package nangogateway.config;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes in the route file: bytes ({@code 512}, {@code 512B}) or binary units ({@code 16KiB}, {@code 1MiB},
 * {@code 1GiB}). Decimal-looking units such as {@code KB} are refused rather than guessed at.
 */
public final class Sizes {
    private static final Pattern STRICT = Pattern.compile("([0-9]{1,15})(B|KiB|MiB|GiB)?");
    private static final Pattern LOOSE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([a-z]*)");
    private static final Map<String, Long> FACTOR = Map.of("B", 1L, "KiB", 1L << 10, "MiB", 1L << 20, "GiB", 1L << 30);
    /** What people write, lower-cased, mapped to the unit they almost certainly mean. */
    private static final Map<String, String> UNIT_SPELLINGS = Map.ofEntries(
            Map.entry("", "B"), Map.entry("b", "B"), Map.entry("byte", "B"), Map.entry("bytes", "B"),
            Map.entry("k", "KiB"), Map.entry("kb", "KiB"), Map.entry("kib", "KiB"),
            Map.entry("m", "MiB"), Map.entry("mb", "MiB"), Map.entry("mib", "MiB"),
            Map.entry("g", "GiB"), Map.entry("gb", "GiB"), Map.entry("gib", "GiB"));

    private Sizes() {
    }

    /**
     * @return the size in bytes (zero is allowed; callers that need more say so)
     * @throws IllegalArgumentException saying how to write the value instead
     */
    public static long parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("empty size: write e.g. 512, 16KiB or 1MiB");
        }
        Matcher m = STRICT.matcher(text);
        if (m.matches()) {
            long factor = FACTOR.get(m.group(2) == null ? "B" : m.group(2));
            try {
                return Math.multiplyExact(Long.parseLong(m.group(1)), factor);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("size '" + text + "' is too large");
            }
        }
        throw new IllegalArgumentException("bad size '" + text + "': " + suggestion(text));
    }

    private static String suggestion(String text) {
        String generic = "write bytes or an integer with KiB, MiB or GiB, e.g. 512, 16KiB or 1MiB";
        Matcher m = LOOSE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return generic;
        }
        String unit = UNIT_SPELLINGS.get(m.group(2));
        if (unit == null) {
            return generic;
        }
        BigDecimal amount = new BigDecimal(m.group(1));
        try {
            return "write " + amount.toBigIntegerExact() + unit;
        } catch (ArithmeticException fractional) {
            // 1.5MiB is 1536KiB: step down one unit until the number is whole.
            String[] units = {"B", "KiB", "MiB", "GiB"};
            for (int i = java.util.Arrays.asList(units).indexOf(unit) - 1; i >= 0; i--) {
                amount = amount.multiply(BigDecimal.valueOf(1024));
                try {
                    return "write " + amount.toBigIntegerExact() + units[i] + " (whole numbers only)";
                } catch (ArithmeticException stillFractional) {
                    // try the next smaller unit
                }
            }
            return generic;
        }
    }
}
