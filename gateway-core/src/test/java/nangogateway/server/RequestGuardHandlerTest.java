package nangogateway.server;

import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.AdmittedRequest;
import nangogateway.exchange.LocalResponses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import nangogateway.config.ListenerLimits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The guard alone: what it admits (as AdmittedRequest + content) and how it refuses everything else. */
class RequestGuardHandlerTest {
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel(new RequestGuardHandler());
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private static FullHttpRequest full(HttpMethod method, String uri, String body, String... headers) {
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, content);
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    private static FullHttpRequest get(String uri, String... headers) {
        return full(HttpMethod.GET, uri, "", headers);
    }

    private static LastHttpContent last(String s) {
        return new DefaultLastHttpContent(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
    }

    /**
     * Sends {@code bad} followed (in the same read) by a request that would be fine on its own; asserts exactly one
     * response with {@code Connection: close}, a closed channel, both messages released, nothing passed on.
     */
    private FullHttpResponse assertRejected(HttpRequest bad, int status) {
        FullHttpRequest follower = get("/after", "Host", "example.com");
        channel.writeInbound(bad, follower);
        if (bad instanceof FullHttpRequest f) {
            assertEquals(0, f.refCnt(), "rejected message released");
        }
        assertEquals(0, follower.refCnt(), "a message after the rejection is released");
        assertNull(channel.readInbound(), "nothing passed on");
        FullHttpResponse response = channel.readOutbound();
        assertNotNull(response, "a response was written");
        try {
            assertEquals(status, response.status().code());
            assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
            assertNull(channel.readOutbound(), "exactly one response");
            assertFalse(channel.isOpen(), "connection closed");
        } finally {
            response.release();
        }
        return response;
    }

    private static FullHttpRequest failed(Throwable cause) {
        FullHttpRequest r = get("/bad-request", "Host", "example.com");
        r.setDecoderResult(DecoderResult.failure(cause));
        return r;
    }

    @Test
    void admitsABodilessFullRequestAsOneCompleteAdmittedRequest() {
        FullHttpRequest r = get("/oauth/connect/github?connection_id=a%2Fb", "Host", "gw.example.com");
        channel.writeInbound(r);
        AdmittedRequest admitted = assertInstanceOf(AdmittedRequest.class, channel.readInbound());
        assertSame(r, admitted.request());
        assertEquals("/oauth/connect/github?connection_id=a%2Fb", admitted.target().raw());
        assertEquals("/oauth/connect/github", admitted.target().path());
        assertEquals("connection_id=a%2Fb", admitted.target().query());
        assertFalse(admitted.hasBody());
        assertEquals(0, admitted.contentLength());
        assertTrue(admitted.complete(), "nothing follows a bodiless request the decoder gave whole");
        assertEquals(0, r.refCnt(), "its empty content is released by the guard");
        assertNull(channel.readInbound());
        assertNull(channel.readOutbound(), "nothing answered");
        assertTrue(channel.isOpen());
    }

    @Test
    void aFullRequestWithContentHasItsContentFollowTheHead() {
        FullHttpRequest r = full(HttpMethod.POST, "/webhook/a/b", "xyz", "Host", "h", "Content-Length", "3");
        channel.writeInbound(r);
        AdmittedRequest admitted = assertInstanceOf(AdmittedRequest.class, channel.readInbound());
        assertFalse(admitted.complete());
        assertTrue(admitted.hasBody());
        Object content = channel.readInbound();
        assertSame(r, content);
        ReferenceCountUtil.release(content);
        assertNull(channel.readInbound());
    }

    @Test
    void aStreamedHeadIsNeverComplete() {
        DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/oauth/callback");
        head.headers().set("Host", "h");
        channel.writeInbound(head, LastHttpContent.EMPTY_LAST_CONTENT);
        AdmittedRequest admitted = assertInstanceOf(AdmittedRequest.class, channel.readInbound());
        assertFalse(admitted.complete(), "its end comes as a message of its own");
        assertSame(LastHttpContent.EMPTY_LAST_CONTENT, channel.readInbound());
        assertNull(channel.readInbound());
    }

    @Test
    void admitsAStreamedBodyWithItsLength() {
        DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/webhook/prod/github");
        head.headers().set("Host", "gw.example.com").set("Content-Length", "11");
        HttpContent part = new DefaultHttpContent(Unpooled.copiedBuffer("hello ", StandardCharsets.UTF_8));
        LastHttpContent end = last("world");
        channel.writeInbound(head, part, end);
        AdmittedRequest admitted = assertInstanceOf(AdmittedRequest.class, channel.readInbound());
        assertEquals("/webhook/prod/github", admitted.target().path());
        assertNull(admitted.target().query());
        assertTrue(admitted.hasBody());
        assertEquals(11, admitted.contentLength());
        HttpContent c1 = channel.readInbound();
        HttpContent c2 = channel.readInbound();
        try {
            assertSame(part, c1);
            assertSame(end, c2);
            assertEquals("hello world", c1.content().toString(StandardCharsets.UTF_8)
                    + c2.content().toString(StandardCharsets.UTF_8));
        } finally {
            c1.release();
            c2.release();
        }
        assertNull(channel.readInbound());
        assertNull(channel.readOutbound());
    }

    @Test
    void admitsChunkedWithUnknownLength() {
        DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/webhook/a/b");
        head.headers().set("Host", "h").set("Transfer-Encoding", "Chunked");
        channel.writeInbound(head, last("x"));
        AdmittedRequest admitted = assertInstanceOf(AdmittedRequest.class, channel.readInbound());
        assertTrue(admitted.hasBody());
        assertEquals(-1, admitted.contentLength());
        LastHttpContent end = channel.readInbound();
        assertEquals("x", end.content().toString(StandardCharsets.UTF_8));
        end.release();
    }

    @Test
    void admitsKeepAliveRequestsOneAfterAnother() {
        channel.writeInbound(get("/a", "Host", "h"), get("/b?c=d", "Host", "h:8080"),
                full(HttpMethod.POST, "/c", "xyz", "Host", "[::1]:443", "Content-Length", "3",
                        "Expect", "100-continue"));
        String[] paths = {"/a", "/b", "/c"};
        for (String path : paths) {
            AdmittedRequest a = assertInstanceOf(AdmittedRequest.class, channel.readInbound());
            assertEquals(path, a.target().path());
            if (!path.equals("/c")) {
                assertTrue(a.complete());
                continue;
            }
            Object content = channel.readInbound();
            assertSame(a.request(), content);
            assertTrue(a.hasBody());
            assertEquals(3, a.contentLength());
            assertEquals("xyz", ((HttpContent) content).content().toString(StandardCharsets.UTF_8));
            ReferenceCountUtil.release(content);
        }
        assertNull(channel.readInbound());
        assertNull(channel.readOutbound());
        assertTrue(channel.isOpen());
    }

    @Test
    void decoderFailureIs400() {
        assertRejected(failed(new IllegalArgumentException("obs-fold")), 400);
        assertNotNull(RequestFacts.of(channel).rejectReason());
    }

    @Test
    void tooLongRequestLineIs414() {
        assertRejected(failed(new TooLongHttpLineException("line")), 414);
    }

    @Test
    void tooLongHeaderIs431() {
        assertRejected(failed(new TooLongHttpHeaderException("headers")), 431);
    }

    /** A HEAD refused here is answered as every HEAD is (RFC 9110 section 9.3.2): its headers, no body. */
    @Test
    void aRefusedHeadIsAnsweredWithoutABody() {
        for (HttpMethod m : new HttpMethod[] {HttpMethod.HEAD, HttpMethod.GET}) {
            EmbeddedChannel c = new EmbeddedChannel(new RequestGuardHandler());
            c.writeInbound(full(m, "/", "")); // no Host
            FullHttpResponse response = c.readOutbound();
            try {
                assertEquals(400, response.status().code());
                assertEquals(m == HttpMethod.HEAD, response.content().readableBytes() == 0, m + ": " + response);
            } finally {
                response.release();
                c.finishAndReleaseAll();
            }
        }
    }

    @Test
    void missingHostIs400() {
        assertRejected(get("/"), 400);
        assertEquals("missing Host", RequestFacts.of(channel).rejectReason());
    }

    @Test
    void repeatedHostIs400() {
        assertRejected(get("/", "Host", "a.example", "Host", "a.example"), 400);
        assertEquals("repeated Host", RequestFacts.of(channel).rejectReason());
    }

    @ParameterizedTest
    @ValueSource(strings = {"exa mple.com", "a/b", "user@host", "host:", "host:123456", ":80", "host:8o", "[::1",
        "[::1]x", "[zz]:1", "host:80:90", "", "h\u00e9.example"})
    void malformedHostIs400(String host) {
        assertRejected(get("/", "Host", host), 400);
        assertEquals("malformed Host", RequestFacts.of(channel).rejectReason());
    }

    @Test
    void transferEncodingOnHttp10Is400() {
        DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.POST, "/x");
        head.headers().set("Host", "h").set("Transfer-Encoding", "chunked");
        assertRejected(head, 400);
    }

    /**
     * Framing the guard does not look at, because the strict decoder in front of it never lets it through: a
     * version other than HTTP/1.1 and 1.0, a Transfer-Encoding other than one exactly chunked, a repeated or
     * malformed Content-Length, or both. Read by the real decoder, each is still refused with 400 and a close.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
        "GET / HTTP/0.9\r\nHost: h\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5 \r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5,5\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456789\r\n\r\nhello",
    })
    void framingTheDecoderRefusesNeverReachesTheGuardAsARequest(String raw) {
        EmbeddedChannel ch = new EmbeddedChannel(new StrictHttpRequestDecoder(ListenerLimits.DEFAULTS),
                new RequestGuardHandler());
        try {
            ch.writeInbound(Unpooled.copiedBuffer(raw + "GET /after HTTP/1.1\r\nHost: h\r\n\r\n",
                    StandardCharsets.ISO_8859_1));
            assertNull(ch.readInbound(), "nothing admitted");
            FullHttpResponse response = ch.readOutbound();
            assertNotNull(response, "a response was written");
            try {
                assertEquals(400, response.status().code());
                assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
            } finally {
                response.release();
            }
            assertNull(ch.readOutbound(), "exactly one response");
            assertFalse(ch.isOpen(), "connection closed");
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"close, Host", "keep-alive, X-Forwarded-For", "Content-Length", "Transfer-Encoding",
        "close,authorization", "COOKIE"})
    void connectionNamingAHeaderTheGatewayOwnsIs400(String connection) {
        assertRejected(get("/x", "Host", "h", "Connection", connection), 400);
        assertEquals("Connection names a header the gateway owns", RequestFacts.of(channel).rejectReason());
    }

    @ParameterizedTest
    @ValueSource(strings = {"something-else", "100-continue, foo", "200-ok"})
    void unsupportedExpectationIs417(String expect) {
        assertRejected(full(HttpMethod.POST, "/x", "hello", "Host", "h", "Content-Length", "5", "Expect", expect),
                417);
    }

    static Stream<Arguments> nonCanonicalTargets() {
        return Stream.of("/a/../b", "/a/./b", "/a/%2e%2e/b", "/a/%2E/b", "//evil", "/a//b", "/a%2fb", "/a%5Cb",
                "/a\\b", "/a;b", "/a%00b", "/a%252fb", "/a%zz", "/a%4", "/%41", "http://evil/x", "x", "",
                "/a#b", "/a?b#c").map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("nonCanonicalTargets")
    void nonCanonicalTargetIs400(String uri) {
        assertRejected(get(uri, "Host", "h"), 400);
    }

    @Test
    void optionsAsteriskIsAnswered200AndClosed() {
        FullHttpRequest r = full(HttpMethod.OPTIONS, "*", "", "Host", "h");
        FullHttpResponse response = assertRejected(r, 200);
        assertNotNull(response);
        assertEquals("options-asterisk", RequestFacts.of(channel).route(), "logged and counted under its own name");
    }

    @Test
    void asteriskWithAnotherMethodIs400() {
        assertRejected(get("*", "Host", "h"), 400);
    }

    @Test
    void bodyFramingFailureAfterAnAdmittedHeadIs400() {
        DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/x");
        head.headers().set("Host", "h").set("Transfer-Encoding", "chunked");
        channel.writeInbound(head);
        AdmittedRequest admitted = assertInstanceOf(AdmittedRequest.class, channel.readInbound());
        assertTrue(admitted.hasBody());
        HttpContent bad = new DefaultHttpContent(Unpooled.copiedBuffer("zz", StandardCharsets.UTF_8));
        bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("bad chunk size")));
        channel.writeInbound(bad);
        assertEquals(0, bad.refCnt());
        assertNull(channel.readInbound());
        FullHttpResponse response = channel.readOutbound();
        try {
            assertEquals(400, response.status().code());
            assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
        assertFalse(channel.isOpen());
    }

    @Test
    void bodyFramingFailureAfterTheResponseStartedJustCloses() {
        DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/x");
        head.headers().set("Host", "h").set("Transfer-Encoding", "chunked");
        channel.writeInbound(head);
        assertInstanceOf(AdmittedRequest.class, channel.readInbound());
        FullHttpResponse early = LocalResponses.text(channel.alloc(), 200, false);
        channel.writeOutbound(early);
        ReferenceCountUtil.release(channel.readOutbound());
        HttpContent bad = new DefaultHttpContent(Unpooled.copiedBuffer("zz", StandardCharsets.UTF_8));
        bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("bad chunk size")));
        channel.writeInbound(bad);
        assertEquals(0, bad.refCnt());
        assertNull(channel.readOutbound(), "no second response inside the first");
        assertFalse(channel.isOpen());
    }
}
