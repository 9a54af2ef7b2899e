package nangogateway.http;

import io.netty.buffer.ByteBuf;

/**
 * The HTTP/1.1 message syntax both of the gateway's parsers read (RFC 9110 section 5, RFC 9112): the client's
 * requests ({@code StrictHttpRequestDecoder}) and Nango's responses ({@code UpstreamResponseDecoder}) are held to
 * the same byte classes and the same line rules, from one place.
 */
public final class Http1 {
    private Http1() {
    }

    private static final boolean[] TCHAR = new boolean[256];
    private static final boolean[] FIELD = new boolean[256];

    static {
        for (int c = 0; c < 256; c++) {
            TCHAR[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            FIELD[c] = c == '\t' || (c >= 0x20 && c != 0x7f);
        }
    }

    /** A token character (RFC 9110 section 5.6.2): what a method or a header name is made of. */
    public static boolean tchar(byte c) {
        return TCHAR[c & 0xff];
    }

    /** A byte a field value, reason phrase or chunk extension may hold: HTAB, SP, visible ASCII, obs-text. */
    public static boolean fieldByte(byte c) {
        return FIELD[c & 0xff];
    }

    /** The index of the first non-token byte from {@code from} on. */
    public static int tokenEnd(byte[] b, int from) {
        int i = from;
        while (TCHAR[b[i] & 0xff]) {
            i++;
        }
        return i;
    }

    /** The index of the first byte from {@code from} on that a field value may not hold (at the latest, a CR). */
    public static int fieldEnd(byte[] b, int from) {
        int i = from;
        while (FIELD[b[i] & 0xff]) {
            i++;
        }
        return i;
    }

    /** Where the value that ends at {@code end} ends once its trailing spaces and tabs are left out. */
    public static int trimEnd(byte[] b, int from, int end) {
        int e = end;
        while (e > from && (b[e - 1] == ' ' || b[e - 1] == '\t')) {
            e--;
        }
        return e;
    }

    /** A {@code Content-Length} value: one to 18 digits and nothing else; -1 for anything else. */
    public static long digits(byte[] b, int from, int to) {
        if (from == to || to - from > 18) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            if (b[i] < '0' || b[i] > '9') {
                return -1;
            }
            v = v * 10 + (b[i] - '0');
        }
        return v;
    }

    /** Whether {@code b[from..to)} is {@code lower} in any ASCII case ({@code lower} is lowercase). */
    public static boolean equalsIgnoreCase(byte[] b, int from, int to, String lower) {
        if (to - from != lower.length()) {
            return false;
        }
        for (int i = 0; i < lower.length(); i++) {
            int c = b[from + i];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Finds the empty line that ends a block of lines (a head, or a trailer section) starting at a buffer's reader
     * index, resuming where its last call stopped, so a head arriving in pieces is scanned once.
     */
    public static final class BlockScanner {
        /** The block has not fully arrived. */
        public static final int MORE = -1;
        /** More than the allowed bytes came without the empty line. */
        public static final int TOO_LONG = -2;
        /** A line ended by a bare LF. */
        public static final int BARE_LF = -3;

        /** How far past the reader index the search got: whole lines, kept relative to the reader index. */
        private int scanned;

        /**
         * The index just past the empty line that ends the block starting at the reader index, or one of
         * {@link #MORE}, {@link #TOO_LONG}, {@link #BARE_LF}. {@code max} counts every byte of the block.
         */
        public int endOfBlock(ByteBuf in, int max) {
            int r = in.readerIndex();
            int from = r + scanned;
            int limit = Math.min(in.writerIndex(), r + max);
            while (true) {
                int lf = in.indexOf(from, limit, (byte) '\n');
                if (lf < 0) {
                    scanned = from - r;
                    return in.writerIndex() - r >= max ? TOO_LONG : MORE;
                }
                if (lf == from || in.getByte(lf - 1) != '\r') {
                    scanned = 0;
                    return BARE_LF;
                }
                if (lf - from == 1) {
                    scanned = 0;
                    return lf + 1;
                }
                from = lf + 1;
            }
        }

        /** Forgets a partial scan (the bytes it covered were dropped). */
        public void reset() {
            scanned = 0;
        }
    }
}
