package nangogateway.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Reads Nango's responses, strictly, in one pass over each head: {@code HTTP/1.0} or {@code HTTP/1.1}, a
 * three-digit status, header lines of a token name, a colon and a value of visible characters, spaces and tabs,
 * each ended by CRLF. Anything else (obs-fold, a bare CR or LF, control bytes, whitespace before the colon, an
 * unreadable or repeated {@code Content-Length}, a {@code Transfer-Encoding} other than exactly {@code chunked},
 * both of them, a head over 72 KiB) is a failed {@link UpstreamResponse} or body piece, which the proxy answers
 * with 502 and the connection is not used again. Bodies come out as content pieces of at most 64 KiB as they
 * arrive: by {@code Content-Length}, by chunks (re-framed for the client, trailers dropped), or until the
 * upstream closes; none for a HEAD request, 1xx, 204 and 304. After a 101 the decoder stops, and the bytes it
 * holds go to the tunnel when it is removed.
 */
public final class UpstreamResponseDecoder extends ByteToMessageDecoder {
    /**
     * Response headers that describe the upstream hop, not the message (RFC 9110 section 7.6.1): never relayed.
     * {@code ForwardingHeaders} cleans the responses it handles as maps with the same list.
     */
    public static final List<String> HOP_BY_HOP = List.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "trailer", "upgrade", "proxy-authenticate");

    static final int MAX_HEAD = 72 * 1024;
    static final int MAX_PIECE = 64 * 1024;
    static final int MAX_CHUNK_LINE = 4 * 1024;

    private enum State { HEAD, FIXED, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, UNTIL_CLOSE, UPGRADED, BROKEN }

    private State state = State.HEAD;
    private long remaining;
    /** How far past the reader index the search for the end of a head (or of the trailers) got: whole lines. */
    private int scanned;
    private boolean keepAlive;
    /** The methods of the requests sent and not yet answered, oldest first: a HEAD's response has no body. */
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);

    /** Called by {@link UpstreamCodec} as each request head goes out. */
    void requestSent(HttpMethod method) {
        methods.add(method);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            switch (state) {
                case HEAD -> {
                    if (methods.isEmpty()) {
                        // Requests to Nango are never pipelined: a byte with none outstanding cannot belong to an
                        // answer, and left here it would be read as the start of the next request's response.
                        fail(out, "bytes from the upstream with no request outstanding");
                        continue; // BROKEN from here: the rest is skipped
                    }
                    if (!head(in, out)) {
                        return;
                    }
                }
                case FIXED -> fixed(in, out);
                case CHUNK_SIZE -> {
                    if (!chunkSize(in, out)) {
                        return;
                    }
                }
                case CHUNK_DATA -> chunkData(in, out);
                case CHUNK_END -> {
                    if (!chunkEnd(in, out)) {
                        return;
                    }
                }
                case TRAILERS -> {
                    if (!trailers(in, out)) {
                        return;
                    }
                }
                case UNTIL_CLOSE -> out.add(new DefaultHttpContent(in.readRetainedSlice(
                        Math.min(in.readableBytes(), MAX_PIECE))));
                case UPGRADED -> {
                    return; // left for the tunnel, which gets them when this decoder is removed
                }
                case BROKEN -> in.skipBytes(in.readableBytes());
            }
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        decode(ctx, in, out);
        switch (state) {
            case UNTIL_CLOSE -> {
                out.add(LastHttpContent.EMPTY_LAST_CONTENT); // the close is the end of this body
                state = State.BROKEN;
            }
            case FIXED, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS -> {
                out.add(failedPiece(new PrematureChannelClosureException("upstream closed mid-body")));
                state = State.BROKEN;
            }
            case HEAD -> {
                if (in.isReadable()) {
                    // Part of an answer came back: the request may have been acted on, so it is not retried.
                    in.skipBytes(in.readableBytes());
                    fail(out, "upstream closed mid-head");
                }
                // Nothing at all: the proxy sees the close and decides (a retry on a reused connection, or 502).
            }
            default -> {
            }
        }
    }

    // ---- the head ----

    /** Decodes a head once all of it is here; false when more bytes are needed. */
    private boolean head(ByteBuf in, List<Object> out) {
        int end = endOfBlock(in, MAX_HEAD);
        if (end == -1) {
            return false;
        }
        if (end < 0) {
            fail(out, end == -2 ? "response head over " + MAX_HEAD + " bytes" : "response head line not ended by CRLF");
            return true;
        }
        int length = end - in.readerIndex();
        byte[] b = new byte[length];
        in.readBytes(b);
        try {
            parseHead(b, out);
        } catch (BadResponse e) {
            fail(out, e.getMessage());
        }
        return true;
    }

    /**
     * The index just past the empty line that ends a block of lines starting at the reader index; -1 when it has
     * not arrived, -2 when more than {@code max} bytes came without it, -3 at a line not ended by CRLF. Resumes
     * where the last call stopped (kept relative to the reader index, which the cumulation may move).
     */
    private int endOfBlock(ByteBuf in, int max) {
        int r = in.readerIndex();
        int from = r + scanned;
        int limit = Math.min(in.writerIndex(), r + max);
        while (true) {
            int lf = in.indexOf(from, limit, (byte) '\n');
            if (lf < 0) {
                scanned = from - r;
                return in.writerIndex() - r >= max ? -2 : -1;
            }
            if (lf == from || in.getByte(lf - 1) != '\r') {
                scanned = 0;
                return -3;
            }
            if (lf - from == 1) {
                scanned = 0;
                return lf + 1;
            }
            from = lf + 1;
        }
    }

    /**
     * Parses a whole head ({@code b} ends with the empty line, and {@link #endOfBlock} saw every LF preceded by a
     * CR). One pass over each line: its name's token characters up to the colon, then the value's field bytes up
     * to the CR, which must be followed by LF; any other byte ends the scan early and fails the head.
     */
    private void parseHead(byte[] b, List<Object> out) throws BadResponse {
        // Status line: HTTP/1.x SP 3DIGIT [SP reason]
        if (b.length < 16 || b[0] != 'H' || b[1] != 'T' || b[2] != 'T' || b[3] != 'P' || b[4] != '/' || b[5] != '1'
                || b[6] != '.' || (b[7] != '0' && b[7] != '1') || b[8] != ' ' || !digit(b[9]) || !digit(b[10])
                || !digit(b[11]) || (b[12] != ' ' && b[12] != '\r')) {
            throw new BadResponse("malformed status line");
        }
        HttpVersion version = b[7] == '1' ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
        int code = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
        if (code < 100) {
            throw new BadResponse("status " + code);
        }
        int eol = b[12] == ' ' ? fieldEnd(b, 13) : 12;
        endOfLine(b, eol, "reason phrase");
        HttpResponseStatus status = status(code, b, eol);

        int capacity = 16;
        int[] lines = new int[4 * capacity];
        int count = 0;
        long contentLength = -1;
        boolean chunked = false;
        boolean transferEncoding = false;
        boolean close = version == HttpVersion.HTTP_1_0;
        int connectionLines = 0;
        boolean[] dropped = NONE;
        int pos = eol + 2;
        while (b[pos] != '\r') {
            if (b[pos] == ' ' || b[pos] == '\t') {
                throw new BadResponse("obs-fold (header line starting with whitespace)");
            }
            int colon = pos;
            while (TCHAR[b[colon] & 0xff]) {
                colon++;
            }
            if (colon == pos || b[colon] != ':') {
                throw new BadResponse("malformed header line");
            }
            int vs = colon + 1;
            while (b[vs] == ' ' || b[vs] == '\t') {
                vs++;
            }
            int end = fieldEnd(b, vs);
            endOfLine(b, end, "header value");
            int ve = end;
            while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) {
                ve--;
            }
            if (count == capacity) {
                capacity *= 2;
                lines = java.util.Arrays.copyOf(lines, 4 * capacity);
            }
            int kind = Names.kind(b, pos, colon);
            if (kind != Names.OTHER) {
                dropped = markKind(dropped, count, kind, code);
            }
            int n = 4 * count++;
            lines[n] = pos;
            lines[n + 1] = colon;
            lines[n + 2] = vs;
            lines[n + 3] = ve;
            switch (kind) {
                case Names.CONTENT_LENGTH -> {
                    if (contentLength >= 0) {
                        throw new BadResponse("repeated Content-Length");
                    }
                    contentLength = digits(b, vs, ve);
                }
                case Names.TRANSFER_ENCODING -> {
                    if (transferEncoding) {
                        throw new BadResponse("repeated Transfer-Encoding");
                    }
                    transferEncoding = true;
                    if (!Names.equalsIgnoreCase(b, vs, ve, Names.CHUNKED)) {
                        throw new BadResponse("Transfer-Encoding other than chunked");
                    }
                    chunked = true;
                }
                case Names.CONNECTION -> {
                    connectionLines++;
                    if (Names.hasToken(b, vs, ve, Names.CLOSE)) {
                        close = true;
                    } else if (version == HttpVersion.HTTP_1_0 && Names.hasToken(b, vs, ve, Names.KEEP_ALIVE)) {
                        close = false;
                    }
                }
                default -> {
                }
            }
            pos = end + 2;
        }
        if (b[pos + 1] != '\n') {
            throw new BadResponse("bare CR in the response head");
        }
        if (transferEncoding && contentLength >= 0) {
            throw new BadResponse("both Content-Length and Transfer-Encoding");
        }
        if (chunked && version == HttpVersion.HTTP_1_0) {
            close = true; // chunks are HTTP/1.1 framing: read them, but do not trust the connection after
        }
        if (dropped.length < count) {
            dropped = java.util.Arrays.copyOf(dropped, count);
        }
        if (connectionLines > 0) {
            dropNamedByConnection(b, lines, count, dropped);
        }

        if (code == 101) {
            methods.poll();
            out.add(new UpstreamResponse(version, status, new ResponseHead(b, lines, count, dropped), false, false));
            state = State.UPGRADED;
            return;
        }
        if (code < 200) {
            // interim (100, 102, 103): no body, the final response follows on the same request
            out.add(new UpstreamResponse(version, status, new ResponseHead(b, lines, count, dropped), true, false));
            return;
        }
        HttpMethod method = methods.poll();
        keepAlive = !close && (chunked || contentLength >= 0 || code == 204 || code == 304
                || HttpMethod.HEAD.equals(method));
        out.add(new UpstreamResponse(version, status, new ResponseHead(b, lines, count, dropped), keepAlive,
                contentLength >= 0));
        if (HttpMethod.HEAD.equals(method) || code == 204 || code == 304) {
            endMessage(out, LastHttpContent.EMPTY_LAST_CONTENT);
        } else if (chunked) {
            state = State.CHUNK_SIZE;
        } else if (contentLength == 0) {
            endMessage(out, LastHttpContent.EMPTY_LAST_CONTENT);
        } else if (contentLength > 0) {
            remaining = contentLength;
            state = State.FIXED;
        } else {
            state = State.UNTIL_CLOSE; // neither length nor chunks: the body ends when the upstream closes
        }
    }

    private static final boolean[] NONE = new boolean[0];

    /**
     * Marks line {@code i} as not relayed when its kind says so: hop-by-hop, {@code Connection}, the chunked
     * framing (re-done for the client), a length on a response that has no body.
     */
    private static boolean[] markKind(boolean[] dropped, int i, int kind, int code) {
        boolean drop = kind == Names.HOP_BY_HOP || kind == Names.CONNECTION || kind == Names.TRANSFER_ENCODING
                || (kind == Names.CONTENT_LENGTH && (code < 200 || code == 204));
        if (!drop) {
            return dropped;
        }
        boolean[] d = dropped.length > i ? dropped : java.util.Arrays.copyOf(dropped, Math.max(16, 2 * i + 2));
        d[i] = true;
        return d;
    }

    /** A standard reason phrase keeps Netty's shared status; another one is kept as the upstream sent it. */
    private static HttpResponseStatus status(int code, byte[] b, int eol) {
        HttpResponseStatus standard = HttpResponseStatus.valueOf(code);
        int from = Math.min(13, eol); // eol is 12 when there is no reason phrase
        CharSequence phrase = standard.reasonPhrase();
        if (phrase.length() == eol - from) {
            boolean same = true;
            for (int i = 0; i < phrase.length() && same; i++) {
                same = phrase.charAt(i) == (char) (b[from + i] & 0xff);
            }
            if (same) {
                return standard;
            }
        }
        return new HttpResponseStatus(code, new String(b, from, eol - from, java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    /**
     * Headers that a {@code Connection} header lists are for the hop only (RFC 9110 section 7.6.1). The usual
     * values, {@code keep-alive} and {@code close}, name nothing that is relayed anyway. {@code Content-Length}
     * stays whatever it says: the body was framed by it, and the client must be told the same length.
     */
    private static void dropNamedByConnection(byte[] b, int[] lines, int count, boolean[] dropped) {
        for (int i = 0; i < count; i++) {
            if (!dropped[i] || Names.kind(b, lines[4 * i], lines[4 * i + 1]) != Names.CONNECTION) {
                continue;
            }
            Names.forEachToken(b, lines[4 * i + 2], lines[4 * i + 3], (ts, te) -> {
                if (te > ts && !Names.equalsIgnoreCase(b, ts, te, Names.KEEP_ALIVE)
                        && !Names.equalsIgnoreCase(b, ts, te, Names.CLOSE)) {
                    for (int j = 0; j < count; j++) {
                        int ns = lines[4 * j];
                        int ne = lines[4 * j + 1];
                        if (ne - ns == te - ts && Names.regionEqualsIgnoreCase(b, ns, b, ts, te - ts)
                                && Names.kind(b, ns, ne) != Names.CONTENT_LENGTH) {
                            dropped[j] = true; // but never the length the body was framed by
                        }
                    }
                }
                return false;
            });
        }
    }

    /** The index of the first byte from {@code from} on that a field value may not hold (at the latest, a CR). */
    private static int fieldEnd(byte[] b, int from) {
        int i = from;
        while (FIELD[b[i] & 0xff]) {
            i++;
        }
        return i;
    }

    /** Fails unless {@code b[at]} starts the CRLF that ends a line. */
    private static void endOfLine(byte[] b, int at, String what) throws BadResponse {
        if (b[at] != '\r') {
            throw new BadResponse(b[at] == '\n' ? "bare LF in the response head" : "control byte in a " + what);
        }
        if (b[at + 1] != '\n') {
            throw new BadResponse("bare CR in the response head");
        }
    }

    private static long digits(byte[] b, int from, int to) throws BadResponse {
        if (from == to || to - from > 18) {
            throw new BadResponse("malformed Content-Length");
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            if (!digit(b[i])) {
                throw new BadResponse("malformed Content-Length");
            }
            v = v * 10 + (b[i] - '0');
        }
        return v;
    }

    private static boolean digit(byte c) {
        return c >= '0' && c <= '9';
    }

    /** Token characters of a header name (RFC 9110 section 5.6.2), and the bytes of {@link #fieldByte}. */
    private static final boolean[] TCHAR = new boolean[256];
    private static final boolean[] FIELD = new boolean[256];

    static {
        for (int c = 0; c < 256; c++) {
            TCHAR[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            FIELD[c] = c == '\t' || (c >= 0x20 && c != 0x7f);
        }
    }

    /** A byte a field value, reason phrase or chunk extension may hold: HTAB, SP, visible ASCII, obs-text. */
    private static boolean fieldByte(byte c) {
        return FIELD[c & 0xff];
    }

    // ---- bodies ----

    private void fixed(ByteBuf in, List<Object> out) {
        int n = (int) Math.min(remaining, Math.min(in.readableBytes(), MAX_PIECE));
        ByteBuf piece = in.readRetainedSlice(n);
        remaining -= n;
        if (remaining == 0) {
            endMessage(out, new DefaultLastHttpContent(piece, EmptyHttpHeaders.INSTANCE)); // no trailers: no map
        } else {
            out.add(new DefaultHttpContent(piece));
        }
    }

    private boolean chunkSize(ByteBuf in, List<Object> out) {
        int r = in.readerIndex();
        int lf = in.indexOf(r, Math.min(in.writerIndex(), r + MAX_CHUNK_LINE), (byte) '\n');
        if (lf < 0) {
            if (in.readableBytes() >= MAX_CHUNK_LINE) {
                failBody(in, out, "chunk size line over " + MAX_CHUNK_LINE + " bytes");
                return true;
            }
            return false;
        }
        if (lf == r || in.getByte(lf - 1) != '\r') {
            failBody(in, out, "chunk size line not ended by CRLF");
            return true;
        }
        long size = 0;
        int i = r;
        int end = lf - 1;
        for (; i < end; i++) {
            int d = Character.digit((char) in.getByte(i), 16);
            if (d < 0) {
                break;
            }
            if (size > (1L << 40)) {
                failBody(in, out, "chunk size too large");
                return true;
            }
            size = size * 16 + d;
        }
        if (i == r) {
            failBody(in, out, "malformed chunk size");
            return true;
        }
        // What may follow the size: optional whitespace, then chunk extensions (ignored) of field bytes only.
        int k = i;
        while (k < end && (in.getByte(k) == ' ' || in.getByte(k) == '\t')) {
            k++;
        }
        if (k < end && in.getByte(k) != ';') {
            failBody(in, out, "malformed chunk size");
            return true;
        }
        for (; k < end; k++) {
            if (!fieldByte(in.getByte(k))) {
                failBody(in, out, "control byte in a chunk extension");
                return true;
            }
        }
        in.readerIndex(lf + 1);
        if (size == 0) {
            state = State.TRAILERS;
        } else {
            remaining = size;
            state = State.CHUNK_DATA;
        }
        return true;
    }

    private void chunkData(ByteBuf in, List<Object> out) {
        int n = (int) Math.min(remaining, Math.min(in.readableBytes(), MAX_PIECE));
        out.add(new DefaultHttpContent(in.readRetainedSlice(n)));
        remaining -= n;
        if (remaining == 0) {
            state = State.CHUNK_END;
        }
    }

    private boolean chunkEnd(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 2) {
            return false;
        }
        if (in.getByte(in.readerIndex()) != '\r' || in.getByte(in.readerIndex() + 1) != '\n') {
            failBody(in, out, "chunk data not followed by CRLF");
            return true;
        }
        in.skipBytes(2);
        state = State.CHUNK_SIZE;
        return true;
    }

    /** The trailer section after the last chunk: read to its end and dropped (the client gets no trailers). */
    private boolean trailers(ByteBuf in, List<Object> out) {
        int end = endOfBlock(in, MAX_HEAD);
        if (end == -1) {
            return false;
        }
        if (end < 0) {
            failBody(in, out, end == -2 ? "trailers over " + MAX_HEAD + " bytes" : "trailer line not ended by CRLF");
            return true;
        }
        in.readerIndex(end);
        endMessage(out, LastHttpContent.EMPTY_LAST_CONTENT);
        return true;
    }

    private void endMessage(List<Object> out, LastHttpContent last) {
        out.add(last);
        state = keepAlive ? State.HEAD : State.BROKEN; // nothing may follow a response that ends the connection
    }

    // ---- failures ----

    private void fail(List<Object> out, String why) {
        state = State.BROKEN;
        scanned = 0;
        out.add(UpstreamResponse.failed(new BadResponse(why)));
    }

    private void failBody(ByteBuf in, List<Object> out, String why) {
        state = State.BROKEN;
        in.skipBytes(in.readableBytes());
        out.add(failedPiece(new BadResponse(why)));
    }

    private static LastHttpContent failedPiece(Exception cause) {
        LastHttpContent bad = new DefaultLastHttpContent();
        bad.setDecoderResult(DecoderResult.failure(cause));
        return bad;
    }

    /** Why a response could not be read; its message goes to the log next to the upstream's name. */
    static final class BadResponse extends Exception {
        BadResponse(String message) {
            super(message, null, false, false);
        }
    }
}
