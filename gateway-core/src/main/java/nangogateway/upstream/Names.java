package nangogateway.upstream;

/**
 * The response header names the decoder acts on, recognised in the head's bytes without building a string
 * (ASCII case ignored): framing, {@code Connection}, and the other hop-by-hop names of
 * {@link UpstreamResponseDecoder#HOP_BY_HOP}.
 */
final class Names {
    static final int OTHER = 0;
    static final int CONTENT_LENGTH = 1;
    static final int TRANSFER_ENCODING = 2;
    static final int CONNECTION = 3;
    static final int HOP_BY_HOP = 4;

    /** The hop-by-hop names other than the framing ones and {@code Connection}, which have kinds of their own. */
    private static final byte[][] HOP = UpstreamResponseDecoder.HOP_BY_HOP.stream()
            .filter(n -> !n.equals("connection") && !n.equals("transfer-encoding"))
            .map(Names::ascii).toArray(byte[][]::new);
    private static final byte[] CONTENT_LENGTH_NAME = ascii("content-length");
    private static final byte[] TRANSFER_ENCODING_NAME = ascii("transfer-encoding");
    private static final byte[] CONNECTION_NAME = ascii("connection");
    static final byte[] CHUNKED = ascii("chunked");
    static final byte[] CLOSE = ascii("close");
    static final byte[] KEEP_ALIVE = ascii("keep-alive");

    private Names() {
    }

    /** What the name in {@code b[start, end)} is to the decoder. */
    static int kind(byte[] b, int start, int end) {
        int n = end - start;
        switch (n) {
            case 14:
                return is(b, start, CONTENT_LENGTH_NAME) ? CONTENT_LENGTH : OTHER;
            case 17:
                return is(b, start, TRANSFER_ENCODING_NAME) ? TRANSFER_ENCODING : OTHER;
            case 10:
                if (is(b, start, CONNECTION_NAME)) {
                    return CONNECTION;
                }
                break;
            case 7, 16, 18:
                break;
            default:
                return OTHER;
        }
        for (byte[] h : HOP) {
            if (h.length == n && is(b, start, h)) {
                return HOP_BY_HOP;
            }
        }
        return OTHER;
    }

    /** Whether {@code b[from, to)} is {@code lowerWord}, ignoring ASCII case. */
    static boolean equalsIgnoreCase(byte[] b, int from, int to, byte[] lowerWord) {
        return to - from == lowerWord.length && is(b, from, lowerWord);
    }

    /** What {@link #forEachToken} hands each element of a comma-separated list to; true stops the walk. */
    interface TokenVisitor {
        boolean token(int start, int end);
    }

    /**
     * Walks the comma-separated list in {@code b[from, to)}, each element with its optional whitespace trimmed
     * (empty elements included); true when the visitor stopped it.
     */
    static boolean forEachToken(byte[] b, int from, int to, TokenVisitor visitor) {
        int i = from;
        while (i <= to) {
            int comma = i;
            while (comma < to && b[comma] != ',') {
                comma++;
            }
            int s = i;
            int e = comma;
            while (s < e && (b[s] == ' ' || b[s] == '\t')) {
                s++;
            }
            while (e > s && (b[e - 1] == ' ' || b[e - 1] == '\t')) {
                e--;
            }
            if (visitor.token(s, e)) {
                return true;
            }
            i = comma + 1;
        }
        return false;
    }

    /** Whether the comma-separated list in {@code b[from, to)} holds the lower-case token {@code t}. */
    static boolean hasToken(byte[] b, int from, int to, byte[] t) {
        return forEachToken(b, from, to, (s, e) -> equalsIgnoreCase(b, s, e, t));
    }

    static boolean regionEqualsIgnoreCase(byte[] a, int aFrom, byte[] b, int bFrom, int length) {
        for (int k = 0; k < length; k++) {
            if (lower(a[aFrom + k]) != lower(b[bFrom + k])) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code b} at {@code start} spells {@code lowerName} (which is lower case), ignoring ASCII case. */
    private static boolean is(byte[] b, int start, byte[] lowerName) {
        for (int k = 0; k < lowerName.length; k++) {
            if (lower(b[start + k]) != lowerName[k]) {
                return false;
            }
        }
        return true;
    }

    private static byte lower(byte c) {
        return c >= 'A' && c <= 'Z' ? (byte) (c + 32) : c;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
