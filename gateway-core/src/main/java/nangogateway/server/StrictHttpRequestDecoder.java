package nangogateway.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import nangogateway.config.ListenerLimits;
import nangogateway.exchange.RequestFacts;
import nangogateway.http.BadMessage;
import nangogateway.http.BodyDecoder;
import nangogateway.http.Http1;

/**
 * Reads the client's requests, strictly, in one pass over each head. Nothing is repaired, so no request can be
 * read two ways:
 * <ul>
 *   <li>the request line is exactly {@code method SP target SP version CRLF}: a token method, a target of
 *       visible bytes (the guard decides which), {@code HTTP/1.1} or {@code HTTP/1.0}; no other separator, no
 *       leading whitespace (empty lines before it are skipped, as RFC 9112 section 2.2 allows);</li>
 *   <li>header lines are a token name without {@code _}, a colon right after it, and a value of field bytes,
 *       each line ended by CRLF; obs-fold, a bare CR or LF and control bytes are refused;</li>
 *   <li>the body is framed by one {@code Content-Length} of digits only, or by {@code Transfer-Encoding}
 *       exactly {@code chunked}, never both, with no whitespace after either value;</li>
 *   <li>the request line, the header block and the number of header fields are capped (414, 431).</li>
 * </ul>
 * A violation becomes a request whose decoder result is a failure (or a failed body piece), and every byte after
 * it on the connection is discarded: {@link RequestGuardHandler} answers 400 and closes. A request without a body
 * comes out as one {@link FullHttpRequest}; one with a body as its head, then pieces of at most 64 KiB as they
 * arrive (chunk extensions and trailers dropped). Each head is copied out of the connection's buffer once, and
 * its header names and values are views of that copy.
 */
public final class StrictHttpRequestDecoder extends ByteToMessageDecoder {
    private enum State { HEAD, BODY, BROKEN }

    /**
     * Header names come out of the parse checked, and the only names handlers set later are the gateway's own
     * constants, so the map does not check each name again.
     */
    private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    private final int maxRequestLine;
    private final int maxHeaderBlock;
    private final int maxHeaders;
    private final Http1.BlockScanner headScan = new Http1.BlockScanner();
    private final BodyDecoder body;
    private State state = State.HEAD;
    private RequestFacts facts;

    public StrictHttpRequestDecoder(ListenerLimits limits) {
        this.maxRequestLine = limits.maxRequestLine();
        this.maxHeaderBlock = limits.maxHeaderBlock();
        this.maxHeaders = limits.maxHeaders();
        this.body = new BodyDecoder(limits.maxHeaderBlock());
    }

    /** True while bytes of a request not yet decoded wait here (a head arriving in pieces). */
    public boolean holdsBytes() {
        return actualReadableBytes() > 0;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (facts == null) {
            facts = RequestFacts.of(ctx.channel());
        }
        while (in.isReadable()) {
            switch (state) {
                case HEAD -> {
                    if (!head(in, out)) {
                        return;
                    }
                }
                case BODY -> {
                    switch (body.decode(in, out)) {
                        case MORE -> {
                            return;
                        }
                        case END -> state = State.HEAD;
                        case FAILED -> state = State.BROKEN;
                    }
                }
                case BROKEN -> in.skipBytes(in.readableBytes());
            }
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        decode(ctx, in, out);
        if (state == State.BODY) {
            // The client went away mid-body: what came is not a whole request and is not passed on as one.
            state = State.BROKEN;
            out.add(BodyDecoder.failedPiece(new PrematureChannelClosureException("client closed mid-body")));
        }
    }

    // ---- the head ----

    /** Decodes a head once all of it is here; false when more bytes are needed. */
    private boolean head(ByteBuf in, List<Object> out) {
        if (!skipEmptyLines(in)) {
            return false;
        }
        byte first = in.getByte(in.readerIndex());
        if (!Http1.tchar(first)) { // no request line starts so: refused now, not once a whole head is held
            fail(in, out, new BadMessage(first == ' ' || first == '\t' ? "whitespace before the request method"
                    : first == '\r' ? "bare CR before the request line" : "malformed request method"));
            return true;
        }
        int end = headScan.endOfBlock(in, maxRequestLine + 2 + maxHeaderBlock + 2);
        if (end == Http1.BlockScanner.MORE) {
            // Not all here yet: refuse early what cannot fit, rather than hold it. Looked for only once enough
            // bytes are held to break a limit, so a head arriving in pieces is not searched again for each one.
            if (in.readableBytes() > maxRequestLine + 1) {
                int lf = in.indexOf(in.readerIndex(), in.readerIndex() + maxRequestLine + 2, (byte) '\n');
                if (lf < 0) {
                    fail(in, out, new TooLongHttpLineException("request line over " + maxRequestLine + " bytes"));
                    return true;
                }
                if (in.writerIndex() - (lf + 1) > maxHeaderBlock + 1) {
                    fail(in, out, new TooLongHttpHeaderException("header block over " + maxHeaderBlock + " bytes"));
                    return true;
                }
            }
            return false;
        }
        if (end == Http1.BlockScanner.BARE_LF) {
            fail(in, out, new BadMessage("line not ended by CRLF"));
            return true;
        }
        if (end == Http1.BlockScanner.TOO_LONG) {
            int lf = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
            fail(in, out, lf < 0 || lf - in.readerIndex() - 1 > maxRequestLine
                    ? new TooLongHttpLineException("request line over " + maxRequestLine + " bytes")
                    : new TooLongHttpHeaderException("header block over " + maxHeaderBlock + " bytes"));
            return true;
        }
        byte[] b = new byte[end - in.readerIndex()];
        in.readBytes(b);
        try {
            parseHead(b, out);
        } catch (BadMessage | TooLongHttpLineException | TooLongHttpHeaderException e) {
            fail(b, out, e);
        }
        return true;
    }

    /**
     * Skips the empty lines (CRLF) a client may send before a request line; false when what is here may still be
     * one. Anything else that is not a request line's first byte is left for the parse to refuse.
     */
    private boolean skipEmptyLines(ByteBuf in) {
        while (in.isReadable() && in.getByte(in.readerIndex()) == '\r') {
            if (in.readableBytes() < 2) {
                return false;
            }
            if (in.getByte(in.readerIndex() + 1) != '\n') {
                return true; // a bare CR: the parse refuses it
            }
            in.skipBytes(2);
        }
        return in.isReadable();
    }

    /** Parses a whole head: {@code b} ends with the empty line, and every LF in it follows a CR. */
    private void parseHead(byte[] b, List<Object> out) throws BadMessage {
        // The limits first, so a head is refused for its size the same way however it arrived.
        int firstCr = 0;
        while (b[firstCr] != '\n') {
            firstCr++;
        }
        firstCr--; // every LF in a head follows a CR
        if (firstCr > maxRequestLine) {
            throw new TooLongHttpLineException("request line over " + maxRequestLine + " bytes");
        }
        if (b.length - (firstCr + 2) - 2 > maxHeaderBlock) {
            throw new TooLongHttpHeaderException("header block over " + maxHeaderBlock + " bytes");
        }
        // method SP target SP version CRLF
        int methodEnd = Http1.tokenEnd(b, 0);
        if (methodEnd == 0) {
            throw new BadMessage(b[0] == ' ' || b[0] == '\t' ? "whitespace before the request method"
                    : "malformed request method");
        }
        if (b[methodEnd] != ' ') {
            throw new BadMessage("request line separator is not a single space");
        }
        int targetStart = methodEnd + 1;
        int targetEnd = targetStart;
        while ((b[targetEnd] & 0xff) > ' ' && b[targetEnd] != 0x7f) {
            targetEnd++;
        }
        if (targetEnd == targetStart || b[targetEnd] != ' ') {
            throw new BadMessage(b[targetEnd] == '\r' ? "request line without a version"
                    : "request line separator is not a single space");
        }
        int versionStart = targetEnd + 1;
        HttpVersion version = version(b, versionStart);
        int lineEnd = versionStart + 8;
        if (b[lineEnd] != '\r' || b[lineEnd + 1] != '\n') {
            throw new BadMessage("malformed request line");
        }
        HttpMethod method = HttpMethod.valueOf(new String(b, 0, methodEnd, StandardCharsets.US_ASCII));
        String target = new String(b, targetStart, targetEnd - targetStart, StandardCharsets.ISO_8859_1);

        HttpHeaders headers = HEADERS.newHeaders();
        int count = 0;
        long contentLength = -1;
        boolean chunked = false;
        int pos = lineEnd + 2;
        int[] at = new int[4];
        while (b[pos] != '\r') {
            int next = Http1.fieldLine(b, pos, at);
            int colon = at[0];
            int vs = at[1];
            int ve = at[2];
            int end = at[3];
            for (int i = pos; i < colon; i++) {
                if (b[i] == '_') {
                    throw new BadMessage("'_' in header name");
                }
            }
            if (++count > maxHeaders) {
                throw new TooLongHttpHeaderException("more than " + maxHeaders + " header fields");
            }
            if (Http1.equalsIgnoreCase(b, pos, colon, "content-length")) {
                if (ve != end) {
                    throw new BadMessage("whitespace after a Content-Length value");
                }
                if (contentLength >= 0) {
                    throw new BadMessage("repeated Content-Length");
                }
                contentLength = Http1.digits(b, vs, ve);
                if (contentLength < 0) {
                    throw new BadMessage("malformed Content-Length");
                }
            } else if (Http1.equalsIgnoreCase(b, pos, colon, "transfer-encoding")) {
                if (ve != end) {
                    throw new BadMessage("whitespace after a Transfer-Encoding value");
                }
                if (chunked) {
                    throw new BadMessage("repeated Transfer-Encoding");
                }
                if (!Http1.equalsIgnoreCase(b, vs, ve, "chunked")) {
                    throw new BadMessage("Transfer-Encoding other than exactly 'chunked'");
                }
                chunked = true;
            }
            headers.add(new AsciiString(b, pos, colon - pos, false), new AsciiString(b, vs, ve - vs, false));
            pos = next;
        }
        Http1.endOfFields(b, pos);
        if (chunked && contentLength >= 0) {
            throw new BadMessage("both Content-Length and Transfer-Encoding");
        }

        if (chunked) {
            out.add(new DefaultHttpRequest(version, method, target, headers));
            body.chunked();
            state = State.BODY;
        } else if (contentLength > 0) {
            out.add(new DefaultHttpRequest(version, method, target, headers));
            body.fixed(contentLength);
            state = State.BODY;
        } else {
            out.add(new DefaultFullHttpRequest(version, method, target, Unpooled.EMPTY_BUFFER, headers,
                    EmptyHttpHeaders.INSTANCE));
        }
    }

    /**
     * Tells the access log what can be told of a refused request's line: its method when it starts with a token and
     * a space, its version when the whole line is here and ends with one (a 431's line does; a 414's is cut before
     * it). The target is not kept: a refused target is not logged.
     */
    private void noteRequestLine(byte[] b) {
        int methodEnd = 0;
        while (methodEnd < b.length && Http1.tchar(b[methodEnd])) {
            methodEnd++;
        }
        String method = methodEnd > 0 && methodEnd < b.length && b[methodEnd] == ' '
                ? new String(b, 0, methodEnd, StandardCharsets.US_ASCII) : null;
        String version = null;
        int cr = 0;
        while (cr < b.length && b[cr] != '\r' && b[cr] != '\n') {
            cr++;
        }
        if (cr < b.length && cr >= 9 && b[cr - 9] == ' ') {
            try {
                version = version(Arrays.copyOfRange(b, cr - 8, cr + 2), 0).text();
            } catch (BadMessage e) {
                // not a version we speak: left out
            }
        }
        facts.requestLineSeen(method, version);
    }

    private static HttpVersion version(byte[] b, int at) throws BadMessage {
        if (b.length - at >= 10 && b[at] == 'H' && b[at + 1] == 'T' && b[at + 2] == 'T' && b[at + 3] == 'P'
                && b[at + 4] == '/' && b[at + 5] == '1' && b[at + 6] == '.') {
            if (b[at + 7] == '1') {
                return HttpVersion.HTTP_1_1;
            }
            if (b[at + 7] == '0') {
                return HttpVersion.HTTP_1_0;
            }
        }
        throw new BadMessage("unsupported HTTP version");
    }

    // ---- failures ----

    /** Poisons the connection: a failed request now, and every byte after it skipped. */
    private void fail(ByteBuf in, List<Object> out, Exception cause) {
        byte[] head = new byte[Math.min(in.readableBytes(), maxRequestLine + 2)];
        in.getBytes(in.readerIndex(), head);
        in.skipBytes(in.readableBytes());
        fail(head, out, cause);
    }

    /** {@link #fail(ByteBuf, List, Exception)} once the head's bytes are out of the buffer. */
    private void fail(byte[] head, List<Object> out, Exception cause) {
        state = State.BROKEN;
        headScan.reset();
        noteRequestLine(head);
        DefaultFullHttpRequest bad = new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request",
                Unpooled.EMPTY_BUFFER);
        bad.setDecoderResult(DecoderResult.failure(cause));
        out.add(bad);
    }
}
