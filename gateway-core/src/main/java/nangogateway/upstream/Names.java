package nangogateway.upstream;

import nangogateway.http.Http1;

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
    private static final String[] HOP = UpstreamResponseDecoder.HOP_BY_HOP.stream()
            .filter(n -> !n.equals("connection") && !n.equals("transfer-encoding"))
            .toArray(String[]::new);
    static final String CHUNKED = "chunked";
    static final String CLOSE = "close";
    static final String KEEP_ALIVE = "keep-alive";

    private Names() {
    }

    /** What the name in {@code b[start, end)} is to the decoder. */
    static int kind(byte[] b, int start, int end) {
        int n = end - start;
        switch (n) {
            case 14:
                return Http1.equalsIgnoreCase(b, start, end, "content-length") ? CONTENT_LENGTH : OTHER;
            case 17:
                return Http1.equalsIgnoreCase(b, start, end, "transfer-encoding") ? TRANSFER_ENCODING : OTHER;
            case 10:
                if (Http1.equalsIgnoreCase(b, start, end, "connection")) {
                    return CONNECTION;
                }
                break;
            case 7, 16, 18:
                break;
            default:
                return OTHER;
        }
        for (String h : HOP) {
            if (Http1.equalsIgnoreCase(b, start, end, h)) {
                return HOP_BY_HOP;
            }
        }
        return OTHER;
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
    static boolean hasToken(byte[] b, int from, int to, String t) {
        return forEachToken(b, from, to, (s, e) -> Http1.equalsIgnoreCase(b, s, e, t));
    }
}
