package nangogateway.probe;

/** Renders raw request bytes on one terminal line: controls and non-ASCII as escapes, long requests shortened. */
public final class Printable {
    private Printable() {
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
