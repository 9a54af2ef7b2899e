package nangogateway.server;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.Map;
import nangogateway.http.BadMessage;
import nangogateway.http.Http1;

/**
 * An HTTP/2 request's header section held to RFC 9113 sections 8.2 and 8.3, strictly, and turned into the request
 * head the rest of the pipeline reads, so the allowlist, the guard and every action apply to it unchanged:
 * <ul>
 *   <li>exactly one each of {@code :method}, {@code :scheme} ({@code https}: the connection is TLS) and
 *       {@code :path}, at most one {@code :authority}, no other pseudo-header;</li>
 *   <li>{@code :path} in origin form (or {@code *} for OPTIONS); the guard then applies the same target rules as to
 *       HTTP/1.1 (no dot segments, no encoded {@code /}, ...);</li>
 *   <li>names lowercase tokens without {@code _} (as the HTTP/1.1 decoder), values without CR, LF, NUL or another
 *       control byte and without leading or trailing white space;</li>
 *   <li>no connection-specific field ({@code connection}, {@code keep-alive}, {@code proxy-connection},
 *       {@code transfer-encoding}, {@code upgrade}), {@code te} only {@code trailers};</li>
 *   <li>{@code :authority} and {@code host} the same when both are sent; the authority becomes {@code Host};</li>
 *   <li>at most one {@code content-length}, of digits, 0 when the HEADERS frame ends the stream; the stream's DATA
 *       must then add up to it (checked as they come);</li>
 *   <li>{@code cookie} crumbs joined with {@code "; "} into one {@code Cookie} (section 8.2.3).</li>
 * </ul>
 * A request that breaks a rule becomes a failed request the guard answers (400, or 431 for too many fields) and
 * nothing of it goes further. A body without {@code content-length} is framed as chunked for the HTTP/1.1 side.
 */
final class Http2RequestHead {
    /** The version a request read over HTTP/2 carries, for the access log; it is forwarded as HTTP/1.1. */
    static final HttpVersion HTTP_2 = new HttpVersion("HTTP", 2, 0, true);

    private Http2RequestHead() {
    }

    /**
     * The request, or a failed one carrying the reason. {@code endStream}: the HEADERS frame ended the stream (no
     * body). {@code declaredLength} receives the content-length, or -1 when none was sent.
     */
    static HttpRequest translate(Http2Headers in, boolean endStream, int maxRequestLine, int maxHeaders,
            long[] declaredLength) {
        declaredLength[0] = -1;
        try {
            return read(in, endStream, maxRequestLine, maxHeaders, declaredLength);
        } catch (BadMessage | TooLongHttpHeaderException | TooLongHttpLineException e) {
            return failed(e);
        }
    }

    /** A request the guard refuses, with {@code cause} as its reason (400; 431 for a too-long header section). */
    static HttpRequest failed(Exception cause) {
        DefaultFullHttpRequest bad = new DefaultFullHttpRequest(HTTP_2, HttpMethod.GET, "/bad-request",
                Unpooled.EMPTY_BUFFER);
        bad.setDecoderResult(DecoderResult.failure(cause));
        return bad;
    }

    private static HttpRequest read(Http2Headers in, boolean endStream, int maxRequestLine, int maxHeaders,
            long[] declaredLength) throws BadMessage {
        CharSequence method = null;
        CharSequence scheme = null;
        CharSequence path = null;
        CharSequence authority = null;
        CharSequence host = null;
        StringBuilder cookie = null;
        int fields = 0;
        HttpHeaders headers = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
        for (Map.Entry<CharSequence, CharSequence> e : in) {
            CharSequence name = e.getKey();
            CharSequence value = e.getValue();
            if (++fields > maxHeaders) {
                throw new TooLongHttpHeaderException("more than " + maxHeaders + " header fields");
            }
            if (name.length() > 0 && name.charAt(0) == ':') {
                switch (name.toString()) {
                    case ":method" -> method = once(method, value, name);
                    case ":scheme" -> scheme = once(scheme, value, name);
                    case ":path" -> path = once(path, value, name);
                    case ":authority" -> authority = once(authority, value, name);
                    default -> throw new BadMessage("pseudo-header " + name + " in a request");
                }
                continue;
            }
            checkName(name);
            checkValue(name, value);
            String lower = name.toString();
            switch (lower) {
                case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade" ->
                        throw new BadMessage("connection-specific header " + lower + " in HTTP/2");
                case "te" -> {
                    if (!"trailers".contentEquals(value)) {
                        throw new BadMessage("te other than trailers in HTTP/2");
                    }
                }
                case "host" -> {
                    host = once(host, value, name);
                    continue; // set once below, from the authority when there is one
                }
                case "content-length" -> {
                    if (declaredLength[0] >= 0) {
                        throw new BadMessage("repeated content-length");
                    }
                    declaredLength[0] = length(value);
                }
                case "cookie" -> {
                    cookie = cookie == null ? new StringBuilder(value) : cookie.append("; ").append(value);
                    continue;
                }
                default -> { }
            }
            headers.add(lower, value.toString());
        }
        if (method == null || scheme == null || path == null) {
            throw new BadMessage("missing " + (method == null ? ":method" : scheme == null ? ":scheme" : ":path"));
        }
        checkMethod(method);
        if (!"https".contentEquals(scheme)) {
            throw new BadMessage(":scheme " + scheme + " on a TLS connection");
        }
        String target = path.toString();
        if (target.length() > maxRequestLine) {
            throw new TooLongHttpLineException(":path over " + maxRequestLine + " bytes"); // 414, as in HTTP/1.1
        }
        boolean asterisk = target.equals("*") && "OPTIONS".contentEquals(method);
        if (!asterisk && (target.isEmpty() || target.charAt(0) != '/')) {
            throw new BadMessage(":path not in origin form");
        }
        checkTarget(target);
        if (authority != null) {
            checkValue(":authority", authority);
            if (authority.toString().indexOf('@') >= 0) {
                throw new BadMessage(":authority with userinfo");
            }
            if (host != null && !authority.toString().equalsIgnoreCase(host.toString())) {
                throw new BadMessage(":authority and host differ");
            }
            host = authority;
        }
        if (endStream && declaredLength[0] > 0) {
            throw new BadMessage("content-length " + declaredLength[0] + " on a request without a body");
        }
        HttpRequest request;
        HttpMethod m = HttpMethod.valueOf(method.toString());
        if (endStream) {
            request = new DefaultFullHttpRequest(HTTP_2, m, target, Unpooled.EMPTY_BUFFER, headers,
                    DefaultHttpHeadersFactory.trailersFactory().newHeaders());
        } else {
            if (declaredLength[0] < 0) {
                headers.add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
            request = new DefaultHttpRequest(HTTP_2, m, target, headers);
        }
        if (host != null) {
            headers.set(HttpHeaderNames.HOST, host.toString());
        }
        if (cookie != null) {
            headers.add(HttpHeaderNames.COOKIE, cookie.toString());
        }
        return request;
    }

    /** Trailers (a HEADERS frame that ends the stream after DATA): fields only, held to the same rules. */
    static String checkTrailers(Http2Headers in, HttpHeaders out) {
        try {
            for (Map.Entry<CharSequence, CharSequence> e : in) {
                CharSequence name = e.getKey();
                if (name.length() > 0 && name.charAt(0) == ':') {
                    return "pseudo-header " + name + " in trailers";
                }
                checkName(name);
                checkValue(name, e.getValue());
                String lower = name.toString();
                switch (lower) {
                    case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te",
                            "host", "content-length", "trailer" ->
                            throw new BadMessage(lower + " in trailers");
                    default -> out.add(lower, e.getValue().toString());
                }
            }
            return null;
        } catch (BadMessage e) {
            return e.getMessage();
        }
    }

    private static CharSequence once(CharSequence seen, CharSequence value, CharSequence name) throws BadMessage {
        if (seen != null) {
            throw new BadMessage("repeated " + name);
        }
        return value;
    }

    /** A lowercase token, without {@code _} (refused in HTTP/1.1 too: Node and others read it as {@code -}). */
    private static void checkName(CharSequence name) throws BadMessage {
        if (name.length() == 0) {
            throw new BadMessage("empty header name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c > 0xff || !Http1.tchar((byte) c) || (c >= 'A' && c <= 'Z') || c == '_') {
                throw new BadMessage("bad header name in HTTP/2: " + printable(name));
            }
        }
    }

    /** HTAB, SP, visible ASCII and obs-text, as HTTP/1.1; and never white space at either end (section 8.2.1). */
    private static void checkValue(CharSequence name, CharSequence value) throws BadMessage {
        int n = value.length();
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c > 0xff || !Http1.fieldByte((byte) c)) {
                throw new BadMessage("control byte in the value of " + printable(name));
            }
        }
        if (n > 0 && (isWhite(value.charAt(0)) || isWhite(value.charAt(n - 1)))) {
            throw new BadMessage("white space around the value of " + printable(name));
        }
    }

    private static void checkMethod(CharSequence method) throws BadMessage {
        if (method.length() == 0) {
            throw new BadMessage("empty :method");
        }
        for (int i = 0; i < method.length(); i++) {
            char c = method.charAt(i);
            if (c > 0xff || !Http1.tchar((byte) c)) {
                throw new BadMessage("bad :method");
            }
        }
    }

    /** Visible ASCII only, as an HTTP/1.1 request line allows; the guard's target rules do the rest. */
    private static void checkTarget(String target) throws BadMessage {
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw new BadMessage(":path with a byte a request line may not hold");
            }
        }
    }

    private static long length(CharSequence value) throws BadMessage {
        int n = value.length();
        if (n == 0 || n > 18) {
            throw new BadMessage("bad content-length");
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                throw new BadMessage("bad content-length");
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static boolean isWhite(char c) {
        return c == ' ' || c == '\t';
    }

    private static String printable(CharSequence s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 64));
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x21 && c < 0x7f ? c : '?');
        }
        return b.toString();
    }
}
