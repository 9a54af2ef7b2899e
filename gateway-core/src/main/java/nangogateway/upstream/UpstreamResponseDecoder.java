package nangogateway.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.List;
import nangogateway.http.BadMessage;
import nangogateway.http.BodyDecoder;
import nangogateway.http.Http1;

/**
 * Reads Nango's responses, strictly, in one pass over each head: {@code HTTP/1.0} or {@code HTTP/1.1}, a
 * three-digit status, header lines of a token name, a colon and a value of visible characters, spaces and tabs,
 * each ended by CRLF. Anything else (obs-fold, a bare CR or LF, control bytes, whitespace before the colon, an
 * unreadable or repeated {@code Content-Length}, a {@code Transfer-Encoding} other than exactly {@code chunked},
 * whitespace after either value, both of them, a head over 72 KiB) is a failed {@link UpstreamResponse} or body
 * piece, which the proxy answers with 502 and the connection is not used again. Bodies come out as content pieces
 * of at most 64 KiB as they arrive: by {@code Content-Length}, by chunks (re-framed for the client, trailers
 * dropped), or until the upstream closes; none for a HEAD request, 1xx, 204 and 304. After a 101 the decoder stops, and the bytes it
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

    private enum State { HEAD, BODY, UNTIL_CLOSE, UPGRADED, BROKEN }

    private State state = State.HEAD;
    private final Http1.BlockScanner headScan = new Http1.BlockScanner();
    /** The body being read, in state BODY: by length or by chunks (trailers dropped). */
    private final BodyDecoder body = new BodyDecoder(MAX_HEAD);
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
                case BODY -> {
                    switch (body.decode(in, out)) {
                        case MORE -> {
                            return;
                        }
                        case END -> state = keepAlive ? State.HEAD : State.BROKEN; // nothing may follow a closing one
                        case FAILED -> state = State.BROKEN;
                    }
                }
                case UNTIL_CLOSE -> out.add(new DefaultHttpContent(in.readRetainedSlice(
                        Math.min(in.readableBytes(), BodyDecoder.MAX_PIECE))));
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
            case BODY -> {
                out.add(BodyDecoder.failedPiece(new PrematureChannelClosureException("upstream closed mid-body")));
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
        int end = headScan.endOfBlock(in, MAX_HEAD);
        if (end == Http1.BlockScanner.MORE) {
            return false;
        }
        if (end < 0) {
            fail(out, end == Http1.BlockScanner.TOO_LONG ? "response head over " + MAX_HEAD + " bytes"
                    : "response head line not ended by CRLF");
            return true;
        }
        int length = end - in.readerIndex();
        byte[] b = new byte[length];
        in.readBytes(b);
        try {
            parseHead(b, out);
        } catch (BadMessage e) {
            fail(out, e.getMessage());
        }
        return true;
    }

    /**
     * Parses a whole head ({@code b} ends with the empty line, and the block scan saw every LF preceded by a
     * CR). One pass over each line: its name's token characters up to the colon, then the value's field bytes up
     * to the CR, which must be followed by LF; any other byte ends the scan early and fails the head.
     */
    private void parseHead(byte[] b, List<Object> out) throws BadMessage {
        // Status line: HTTP/1.x SP 3DIGIT [SP reason]
        if (b.length < 16 || b[0] != 'H' || b[1] != 'T' || b[2] != 'T' || b[3] != 'P' || b[4] != '/' || b[5] != '1'
                || b[6] != '.' || (b[7] != '0' && b[7] != '1') || b[8] != ' ' || !digit(b[9]) || !digit(b[10])
                || !digit(b[11]) || (b[12] != ' ' && b[12] != '\r')) {
            throw new BadMessage("malformed status line");
        }
        HttpVersion version = b[7] == '1' ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
        int code = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
        if (code < 100) {
            throw new BadMessage("status " + code);
        }
        int eol = b[12] == ' ' ? Http1.fieldEnd(b, 13) : 12;
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
        int[] at = new int[4];
        while (b[pos] != '\r') {
            int next = Http1.fieldLine(b, pos, at);
            int colon = at[0];
            int vs = at[1];
            int ve = at[2];
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
                    if (ve != at[3]) {
                        throw new BadMessage("whitespace after a Content-Length value");
                    }
                    if (contentLength >= 0) {
                        throw new BadMessage("repeated Content-Length");
                    }
                    contentLength = Http1.digits(b, vs, ve);
                    if (contentLength < 0) {
                        throw new BadMessage("malformed Content-Length");
                    }
                }
                case Names.TRANSFER_ENCODING -> {
                    if (ve != at[3]) {
                        // llhttp reads "chunked<HTAB>" as another coding, and the body to the close
                        throw new BadMessage("whitespace after a Transfer-Encoding value");
                    }
                    if (transferEncoding) {
                        throw new BadMessage("repeated Transfer-Encoding");
                    }
                    transferEncoding = true;
                    if (!Http1.equalsIgnoreCase(b, vs, ve, Names.CHUNKED)) {
                        throw new BadMessage("Transfer-Encoding other than chunked");
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
            pos = next;
        }
        Http1.endOfFields(b, pos);
        if (transferEncoding && contentLength >= 0) {
            throw new BadMessage("both Content-Length and Transfer-Encoding");
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
            body.chunked();
            state = State.BODY;
        } else if (contentLength == 0) {
            endMessage(out, LastHttpContent.EMPTY_LAST_CONTENT);
        } else if (contentLength > 0) {
            body.fixed(contentLength);
            state = State.BODY;
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
                if (te > ts && !Http1.equalsIgnoreCase(b, ts, te, Names.KEEP_ALIVE)
                        && !Http1.equalsIgnoreCase(b, ts, te, Names.CLOSE)) {
                    for (int j = 0; j < count; j++) {
                        int ns = lines[4 * j];
                        int ne = lines[4 * j + 1];
                        if (ne - ns == te - ts && Http1.regionEqualsIgnoreCase(b, ns, b, ts, te - ts)
                                && Names.kind(b, ns, ne) != Names.CONTENT_LENGTH) {
                            dropped[j] = true; // but never the length the body was framed by
                        }
                    }
                }
                return false;
            });
        }
    }

    /** Fails unless {@code b[at]} starts the CRLF that ends a line. */
    private static void endOfLine(byte[] b, int at, String what) throws BadMessage {
        if (b[at] != '\r') {
            throw new BadMessage(b[at] == '\n' ? "bare LF in the response head" : "control byte in a " + what);
        }
        if (b[at + 1] != '\n') {
            throw new BadMessage("bare CR in the response head");
        }
    }

    private static boolean digit(byte c) {
        return c >= '0' && c <= '9';
    }

    // ---- bodies ----

    private void endMessage(List<Object> out, LastHttpContent last) {
        out.add(last);
        state = keepAlive ? State.HEAD : State.BROKEN; // nothing may follow a response that ends the connection
    }

    // ---- failures ----

    private void fail(List<Object> out, String why) {
        state = State.BROKEN;
        headScan.reset();
        out.add(UpstreamResponse.failed(new BadMessage(why)));
    }
}
