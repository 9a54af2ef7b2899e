package nangogateway.probe;

/** Renders raw request bytes on one terminal line: controls and non-ASCII as escapes, long requests shortened. */
public final class Printable {
    private Printable() {
    }

    /**
     * As {@link #show}, with runs of more than 16 of one character written as {@code [9000 x 'a']}, so that a
     * request made long on purpose still shows what follows the long part.
     */
    public static String compact(String raw, int max) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < raw.length() && sb.length() < max) {
            int j = i;
            while (j < raw.length() && raw.charAt(j) == raw.charAt(i)) {
                j++;
            }
            String one = show(raw.substring(i, i + 1), 8);
            sb.append(j - i > 16 ? "[" + (j - i) + " x '" + one + "']" : one.repeat(j - i));
            i = j;
        }
        return i < raw.length() ? sb.append("... (").append(raw.length()).append(" bytes)").toString() : sb.toString();
    }

    public static String show(String raw, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < raw.length(); i++) {
            if (sb.length() >= max) {
                return sb.append("... (").append(raw.length()).append(" bytes)").toString();
            }
            char c = raw.charAt(i);
            switch (c) {
                case '\r' -> sb.append("\\r");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20 || c >= 0x7f) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }
}
