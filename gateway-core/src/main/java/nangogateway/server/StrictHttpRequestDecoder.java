package nangogateway.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.buffer.Unpooled;
import io.netty.util.AsciiString;
import java.util.List;
import nangogateway.config.ListenerLimits;

/**
 * Netty's request decoder, made strict where Netty is lenient (research/security.md section 4): the request
 * line must be exactly {@code METHOD SP target SP version} (no TAB/VT/FF separators, no doubled spaces, no
 * leading whitespace), header lines may not be folded (obs-fold), header names may not hold {@code _}, and
 * the number of header fields is capped. A violation becomes a request whose decoder result is a failure, and
 * everything after it on the connection is discarded: {@link RequestGuardHandler} answers 400 and closes.
 */
public final class StrictHttpRequestDecoder extends HttpRequestDecoder {
    private final int maxHeaders;
    /** End offsets of the first two words of the request line being split. */
    private int methodEnd;
    private int targetEnd;
    private int headerCount;
    /** True while the next bytes belong to a request's line and header block. */
    private boolean inHead = true;
    /** True once part of the current head (at least the request line) has been consumed. */
    private boolean midHead;
    private boolean poisoned;

    public StrictHttpRequestDecoder(ListenerLimits limits) {
        super(new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxRequestLine())
                .setMaxHeaderSize(limits.maxHeaderBlock())
                .setMaxChunkSize(64 * 1024)
                .setValidateHeaders(true)
                .setAllowDuplicateContentLengths(false)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true));
        this.maxHeaders = limits.maxHeaders();
    }

    /** True while bytes of a request not yet decoded wait here (a head arriving in pieces). */
    public boolean holdsBytes() {
        return actualReadableBytes() > 0;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (poisoned) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        String problem = inHead ? headProblem(buffer, midHead) : null;
        if (problem != null) {
            poisoned = true;
            buffer.skipBytes(buffer.readableBytes());
            out.add(invalid(new IllegalArgumentException(problem)));
            return;
        }
        int before = out.size();
        int readBefore = buffer.readerIndex();
        super.decode(ctx, buffer, out);
        if (inHead && buffer.readerIndex() > readBefore) {
            midHead = true;
        }
        for (int i = before; i < out.size(); i++) {
            Object o = out.get(i);
            if (o instanceof HttpRequest r) {
                inHead = false;
                midHead = false;
                if (r.decoderResult().isFailure()) {
                    poisoned = true;
                }
            }
            if (o instanceof LastHttpContent) {
                inHead = true;
                headerCount = 0;
            }
        }
        mergeBodiless(out, before);
    }

    /**
     * A request without a body comes out of Netty's decoder as its head followed by an empty end marker, both from
     * the same call. They are handed on as one {@link FullHttpRequest} (same headers object, empty content), so
     * the handlers see one message per such request instead of two.
     */
    private static void mergeBodiless(List<Object> out, int from) {
        for (int i = from; i + 1 < out.size(); i++) {
            if (out.get(i) instanceof HttpRequest r && !(r instanceof FullHttpRequest)
                    && r.decoderResult().isSuccess() && out.get(i + 1) == LastHttpContent.EMPTY_LAST_CONTENT) {
                // The request line was checked when Netty's decoder made the head; it is not scanned again.
                DefaultFullHttpRequest whole = new DefaultFullHttpRequest(r.protocolVersion(), r.method(), r.uri(),
                        Unpooled.EMPTY_BUFFER, r.headers(), EmptyHttpHeaders.INSTANCE, false);
                out.set(i, whole);
                out.remove(i + 1);
            }
        }
    }

    /**
     * Netty's parsers consume whole lines only, so while a head is being read, the reader index sits at the start
     * of a line (after leading empty lines, the request line; once that is consumed, a header line). Checks every
     * complete line there for what Netty would silently repair: obs-fold (a line starting with SP or HTAB, which
     * Netty unfolds into the previous value), and whitespace after {@code Transfer-Encoding} or
     * {@code Content-Length} values (which Netty trims, so {@code chunked<HTAB>} would read as {@code chunked}).
     */
    static String headProblem(ByteBuf buffer, boolean midHead) {
        int i = buffer.readerIndex();
        int end = buffer.writerIndex();
        boolean requestLine = !midHead;
        if (!midHead) {
            while (i < end && (buffer.getByte(i) == '\r' || buffer.getByte(i) == '\n')) {
                i++; // empty lines before a request line are allowed
            }
        }
        while (i < end) {
            int lf = buffer.indexOf(i, end, (byte) '\n');
            byte first = buffer.getByte(i);
            if (isOws(first)) {
                return "obs-fold (header line starting with whitespace)";
            }
            if (lf < 0) {
                return null; // incomplete line: checked again when it is whole
            }
            int lineEnd = lf > i && buffer.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            if (lineEnd == i) {
                return null; // the empty line ends the head; a body follows
            }
            if (!requestLine && isFramingHeader(buffer, i, lineEnd) && isOws(buffer.getByte(lineEnd - 1))) {
                return "whitespace after a Transfer-Encoding or Content-Length value";
            }
            requestLine = false;
            i = lf + 1;
        }
        return null;
    }

    private static boolean isFramingHeader(ByteBuf b, int start, int end) {
        return startsWithIgnoreCase(b, start, end, "transfer-encoding:")
                || startsWithIgnoreCase(b, start, end, "content-length:");
    }

    private static boolean startsWithIgnoreCase(ByteBuf b, int start, int end, String prefix) {
        if (end - start < prefix.length()) {
            return false;
        }
        for (int k = 0; k < prefix.length(); k++) {
            if (Character.toLowerCase((char) b.getByte(start + k)) != prefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isOws(byte b) {
        return b == ' ' || b == '\t';
    }

    private DefaultFullHttpRequest invalid(Exception cause) {
        DefaultFullHttpRequest bad = new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request",
                Unpooled.EMPTY_BUFFER);
        bad.setDecoderResult(DecoderResult.failure(cause));
        return bad;
    }

    @Override
    protected String splitFirstWordInitialLine(byte[] ascii, int start, int length) {
        if (start != 0) {
            throw new IllegalArgumentException("whitespace before the request method");
        }
        methodEnd = start + length;
        return super.splitFirstWordInitialLine(ascii, start, length);
    }

    @Override
    protected String splitSecondWordInitialLine(byte[] ascii, int start, int length) {
        if (start != methodEnd + 1 || ascii[methodEnd] != ' ') {
            throw new IllegalArgumentException("request line separator is not a single space");
        }
        targetEnd = start + length;
        return super.splitSecondWordInitialLine(ascii, start, length);
    }

    @Override
    protected String splitThirdWordInitialLine(byte[] ascii, int start, int length) {
        if (start != targetEnd + 1 || ascii[targetEnd] != ' ') {
            throw new IllegalArgumentException("request line separator is not a single space");
        }
        String version = super.splitThirdWordInitialLine(ascii, start, length);
        if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
            throw new IllegalArgumentException("unsupported HTTP version");
        }
        return version;
    }

    @Override
    protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
        for (int i = start; i < start + length; i++) {
            if (sb[i] == '_') {
                throw new IllegalArgumentException("'_' in header name");
            }
        }
        if (++headerCount > maxHeaders) {
            throw new TooLongHttpHeaderException("more than " + maxHeaders + " header fields");
        }
        return super.splitHeaderName(sb, start, length);
    }
}
