package nangogateway.exchange;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import nangogateway.upstream.RelayedResponse;
import nangogateway.upstream.ResponseHead;

/** Responses the gateway answers itself: small, uncacheable, no internals in the body. */
public final class LocalResponses {
    private LocalResponses() {
    }

    /** Bodies of the plain-text status responses, encoded once: denied requests are the common case. */
    private static final ByteBuf[] TEXT_BODIES = new ByteBuf[600];

    static {
        for (int code = 100; code < 600; code++) {
            HttpResponseStatus s = HttpResponseStatus.valueOf(code);
            byte[] bytes = (s.code() + " " + s.reasonPhrase() + "\n").getBytes(StandardCharsets.US_ASCII);
            // Heap, so the encoder copies it with one array copy into the response head's buffer; every response
            // gets its own duplicate (own indexes) and nothing writes into the shared bytes.
            TEXT_BODIES[code] = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(bytes));
        }
    }

    private static final io.netty.handler.codec.http.HttpHeadersFactory HEADERS =
            io.netty.handler.codec.http.DefaultHttpHeadersFactory.headersFactory().withValidation(false);
    private static final HttpResponseStatus[] STATUSES = new HttpResponseStatus[600];
    /**
     * The fixed header lines of each plain-text status page, encoded once: the page is written as its status
     * line, these bytes, the few headers set per response ({@code X-Request-Id}, {@code Connection: close}) and
     * the body. None for the statuses that carry no body (1xx, 204, 205, 304).
     */
    private static final ResponseHead[] TEXT_LINES = new ResponseHead[600];

    static {
        for (int code = 100; code < 600; code++) {
            STATUSES[code] = HttpResponseStatus.valueOf(code);
            if (code >= 200 && code != 204 && code != 205 && code != 304) {
                TEXT_LINES[code] = ResponseHead.fixed(
                        "content-type", "text/plain; charset=utf-8",
                        "content-length", Integer.toString(TEXT_BODIES[code].readableBytes()),
                        "cache-control", "no-store",
                        "X-Content-Type-Options", "nosniff");
            }
        }
    }

    /**
     * A plain-text status page; {@code close} adds {@code Connection: close}. Its fixed lines are not in
     * {@link FullHttpResponse#headers()}, which holds only what is set per response; a header set there
     * replaces the fixed line of that name. A status that carries no body gets a plain response without one.
     */
    public static FullHttpResponse text(ByteBufAllocator alloc, int status, boolean close) {
        HttpHeaders headers = HEADERS.newHeaders();
        if (close) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ResponseHead lines = TEXT_LINES[status];
        if (lines == null) {
            headers.set(HttpHeaderNames.CACHE_CONTROL, "no-store").set("X-Content-Type-Options", "nosniff");
            return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, STATUSES[status], Unpooled.EMPTY_BUFFER, headers,
                    io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
        }
        return RelayedResponse.whole(STATUSES[status], lines, headers,
                TEXT_BODIES[status].duplicate());
    }

    /**
     * 503 with {@code Retry-After: 1} and {@code Connection: close}: the gateway has no room for this request now
     * (its memory budget is spent), and a retry in a moment may find some.
     */
    public static FullHttpResponse retryLater(ByteBufAllocator alloc) {
        return retryLater(alloc, true);
    }

    /** 503 with {@code Retry-After: 1}; {@code close}: with {@code Connection: close}. */
    public static FullHttpResponse retryLater(ByteBufAllocator alloc, boolean close) {
        FullHttpResponse r = text(alloc, 503, close);
        r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        return r;
    }

    /** A small HTML page a person in a browser understands, for errors on browser-facing routes. */
    public static FullHttpResponse html(ByteBufAllocator alloc, int status, String title, String explanation,
            boolean close) {
        HttpResponseStatus s = HttpResponseStatus.valueOf(status);
        String body = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + title + "</title></head>"
                + "<body><h1>" + title + "</h1><p>" + explanation + "</p></body></html>\n";
        return build(alloc, s, body, "text/html; charset=utf-8", close);
    }

    /** A JSON error for API callers: {@code {"error": code, "message": message}}. */
    public static FullHttpResponse json(ByteBufAllocator alloc, int status, String code, String message) {
        String body = "{\"error\":\"" + jsonEscape(code) + "\",\"message\":\"" + jsonEscape(message) + "\"}\n";
        return build(alloc, HttpResponseStatus.valueOf(status), body, "application/json", true);
    }

    private static String jsonEscape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    public static FullHttpResponse build(ByteBufAllocator alloc, HttpResponseStatus status, String body,
            String contentType, boolean close) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = alloc.buffer(bytes.length).writeBytes(bytes);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, buf);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        r.headers().set("X-Content-Type-Options", "nosniff");
        if (close) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }
}
