package nangogateway.http;

import io.netty.buffer.ByteBuf;
import java.util.Set;

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

    /**
     * The request methods Node's parser (llhttp) reads in an HTTP/1.x request line: those of Node's
     * {@code http.METHODS}, but for CONNECT, which it takes as the start of a tunnel (the bytes after the head are
     * not read as HTTP, and a server without a 'connect' listener, as Nango's, drops the connection), and QUERY,
     * which only recent llhttp knows. Any other token (unknown, lower case, RTSP's DESCRIBE or SETUP, HTTP/2's PRI)
     * fails Node's parse: the request is lost and the connection with it. Matched exactly, as llhttp does.
     */
    public static final Set<String> NODE_METHODS = Set.of("ACL", "BIND", "CHECKOUT", "COPY", "DELETE", "GET",
            "HEAD", "LINK", "LOCK", "M-SEARCH", "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL", "MOVE", "NOTIFY",
            "OPTIONS", "PATCH", "POST", "PROPFIND", "PROPPATCH", "PURGE", "PUT", "REBIND", "REPORT", "SEARCH",
            "SOURCE", "SUBSCRIBE", "TRACE", "UNBIND", "UNLINK", "UNLOCK", "UNSUBSCRIBE");

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

    /**
     * Whether {@code b[from, to)} spells {@code word} ignoring ASCII case: only A-Z and a-z fold, every other byte
     * is read as ISO-8859-1 and must match exactly.
     */
    public static boolean equalsIgnoreCase(byte[] b, int from, int to, CharSequence word) {
        if (to - from != word.length()) {
            return false;
        }
        for (int i = 0; i < word.length(); i++) {
            if (lower(b[from + i] & 0xff) != lower(word.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code a[aFrom, aFrom + length)} and {@code b[bFrom, bFrom + length)} differ only in ASCII case. */
    public static boolean regionEqualsIgnoreCase(byte[] a, int aFrom, byte[] b, int bFrom, int length) {
        for (int k = 0; k < length; k++) {
            if (lower(a[aFrom + k] & 0xff) != lower(b[bFrom + k] & 0xff)) {
                return false;
            }
        }
        return true;
    }

    private static int lower(int c) {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    }

    /**
     * Checks one field line (a header or trailer line) starting at {@code b[pos]}: a token name, a colon right
     * after it, optional whitespace, field bytes, optional whitespace, CRLF. Fills {@code at} with the colon's
     * index, the value's start and its end (trailing whitespace left out) and the index of its CR, and returns
     * where the next line starts. {@code b} must end with CRLF.
     */
    public static int fieldLine(byte[] b, int pos, int[] at) throws BadMessage {
        if (b[pos] == ' ' || b[pos] == '\t') {
            throw new BadMessage("obs-fold (field line starting with whitespace)");
        }
        int colon = tokenEnd(b, pos);
        if (colon == pos || b[colon] != ':') {
            throw new BadMessage("malformed field line");
        }
        int vs = colon + 1;
        while (b[vs] == ' ' || b[vs] == '\t') {
            vs++;
        }
        int end = fieldEnd(b, vs);
        if (b[end] != '\r' || b[end + 1] != '\n') {
            throw new BadMessage(b[end] == '\r' ? "bare CR in a field line" : "control byte in a field value");
        }
        at[0] = colon;
        at[1] = vs;
        at[2] = trimEnd(b, vs, end);
        at[3] = end;
        return end + 2;
    }

    /** Fails unless {@code b[pos]}, where a field line would start, is the CRLF that ends {@code b}. */
    public static void endOfFields(byte[] b, int pos) throws BadMessage {
        if (b[pos] != '\r' || b[pos + 1] != '\n' || pos + 2 != b.length) {
            throw new BadMessage("bare CR in a field section"); // a CR that starts a line but does not end the block
        }
    }

    /**
     * Finds the empty line that ends a block of lines (a head, or a trailer section) starting at a buffer's reader
     * index, resuming where its last call stopped (inside a line, too), so a block arriving in pieces is read once.
     */
    public static final class BlockScanner {
        /** The block has not fully arrived. */
        public static final int MORE = -1;
        /** More than the allowed bytes came without the empty line. */
        public static final int TOO_LONG = -2;
        /** A line ended by a bare LF. */
        public static final int BARE_LF = -3;

        /** Where the line being read starts and how far the search for its LF got, relative to the reader index. */
        private int lineStart;
        private int scanned;

        /**
         * The index just past the empty line that ends the block starting at the reader index, or one of
         * {@link #MORE}, {@link #TOO_LONG}, {@link #BARE_LF}. {@code max} counts every byte of the block.
         */
        public int endOfBlock(ByteBuf in, int max) {
            int r = in.readerIndex();
            int line = r + lineStart;
            int from = r + scanned;
            int limit = Math.min(in.writerIndex(), r + max);
            while (true) {
                int lf = in.indexOf(from, limit, (byte) '\n');
                if (lf < 0) {
                    lineStart = line - r;
                    scanned = limit - r;
                    return in.writerIndex() - r >= max ? TOO_LONG : MORE;
                }
                if (lf == line || in.getByte(lf - 1) != '\r') {
                    reset();
                    return BARE_LF;
                }
                if (lf - line == 1) {
                    reset();
                    return lf + 1;
                }
                line = lf + 1;
                from = line;
            }
        }

        /** Forgets a partial scan (the bytes it covered were consumed or dropped). */
        public void reset() {
            lineStart = 0;
            scanned = 0;
        }
    }
}
