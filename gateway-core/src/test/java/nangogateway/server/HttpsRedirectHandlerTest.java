package nangogateway.server;

import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.AdmittedRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import nangogateway.target.RequestTarget;
import nangogateway.testing.Outbound;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plain-HTTP listener of a TLS site: redirects everything except ACME HTTP-01 challenges. */
class HttpsRedirectHandlerTest {
    private static final String TOKEN = "Xk4_q-Zr9bT0";
    private static final String KEY_AUTH = TOKEN + ".thumbprint-abc";

    @TempDir
    Path webroot;

    private EmbeddedChannel channel;
    /** read() calls that got past the handler to the transport. */
    private int transportReads;

    @BeforeEach
    void setUp() throws Exception {
        Path challenges = Files.createDirectories(webroot.resolve(".well-known").resolve("acme-challenge"));
        Files.writeString(challenges.resolve(TOKEN), KEY_AUTH);
        Files.writeString(webroot.resolve("secret"), "not for the internet");
        channel = channel(webroot);
    }

    /** A registered channel, its opening read already counted and forgotten. */
    private EmbeddedChannel channel(Path acmeWebroot) throws Exception {
        EmbeddedChannel ch = unregistered(acmeWebroot);
        ch.register();
        transportReads = 0;
        return ch;
    }

    /** Reads are counted and auto-read is off (as on client connections), so only the handler's read() calls show. */
    private EmbeddedChannel unregistered(Path acmeWebroot) {
        return unregistered(acmeWebroot, new java.util.ArrayList<>(), false);
    }

    /** As above; with {@code holdWrites}, answers are released and their promises kept in {@code held}, unwritten. */
    private EmbeddedChannel unregistered(Path acmeWebroot, java.util.List<io.netty.channel.ChannelPromise> held,
            boolean holdWrites) {
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) {
                transportReads++;
                ctx.read();
            }

            @Override
            public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
                if (!holdWrites) {
                    ctx.write(msg, promise);
                    return;
                }
                ReferenceCountUtil.release(msg);
                held.add(promise); // a slow client: the answer stays unwritten until the test completes it
            }
        });
        ch.pipeline().addLast(new HttpsRedirectHandler(acmeWebroot));
        return ch;
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private static HttpRequest head(HttpMethod method, String uri, String... headers) {
        return head(HttpVersion.HTTP_1_1, method, uri, headers);
    }

    private static HttpRequest head(HttpVersion version, HttpMethod method, String uri, String... headers) {
        HttpRequest r = new DefaultHttpRequest(version, method, uri);
        r.headers().set("Host", "gw.example.com");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().set(headers[i], headers[i + 1]);
        }
        return r;
    }

    /** What the guard hands on. The target is built as given, so the handler's own checks are what is tested. */
    private static AdmittedRequest admitted(HttpRequest r, boolean hasBody) {
        String uri = r.uri();
        int q = uri.indexOf('?');
        RequestTarget target = new RequestTarget(uri, q < 0 ? uri : uri.substring(0, q),
                q < 0 ? null : uri.substring(q + 1));
        return new AdmittedRequest(r, target, hasBody, hasBody ? -1 : 0);
    }

    /** A bodiless request the decoder gave whole, as the guard delivers it: one complete AdmittedRequest. */
    private static AdmittedRequest whole(HttpRequest r) {
        AdmittedRequest a = admitted(r, false);
        return new AdmittedRequest(r, a.target(), false, 0, true);
    }

    /** A bodyless request as the guard delivers it: the head, then the empty last content. */
    private FullHttpResponse exchange(HttpRequest r) {
        channel.writeInbound(admitted(r, false), LastHttpContent.EMPTY_LAST_CONTENT);
        return onlyResponse();
    }

    private FullHttpResponse onlyResponse() {
        FullHttpResponse r = Outbound.onlyResponse(channel);
        assertNull(channel.readInbound(), "nothing is handed further in");
        return r;
    }

    private static String text(FullHttpResponse r) {
        return r.content().toString(StandardCharsets.UTF_8);
    }

    private FullHttpResponse get(String uri) {
        return exchange(head(HttpMethod.GET, uri));
    }

    @Test
    void getIsMovedPermanentlyToTheSameTargetOverHttps() {
        FullHttpResponse r = exchange(head(HttpMethod.GET, "/oauth/callback?code=abc&state=x%20y",
                "Host", "gw.example.com:8080"));
        try {
            assertEquals(301, r.status().code());
            assertEquals("https://gw.example.com/oauth/callback?code=abc&state=x%20y",
                    r.headers().get(HttpHeaderNames.LOCATION), "port dropped, target kept byte for byte");
            assertEquals("301 Moved Permanently\n", text(r));
            assertFalse(r.headers().contains(HttpHeaderNames.CONNECTION));
        } finally {
            r.release();
        }
        assertTrue(channel.isOpen(), "keep-alive");
        assertEquals("redirect-to-https", RequestFacts.of(channel).route());
    }

    @Test
    void headGetsTheRedirectWithoutABody() {
        FullHttpResponse r = exchange(head(HttpMethod.HEAD, "/"));
        try {
            assertEquals(301, r.status().code());
            assertEquals("https://gw.example.com/", r.headers().get(HttpHeaderNames.LOCATION));
            assertEquals(0, r.content().readableBytes());
            assertTrue(ClientResponseEncoderTest.onTheWire(r.retain()).contains("\r\ncontent-length: 22\r\n"),
                    "the GET's length");
        } finally {
            r.release();
        }
        assertTrue(channel.isOpen());
    }

    @Test
    void otherMethodsGet308SoTheMethodIsKept() {
        for (HttpMethod m : new HttpMethod[] {HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.OPTIONS}) {
            FullHttpResponse r = exchange(head(m, "/webhook/prod/github"));
            try {
                assertEquals(308, r.status().code(), m.name());
                assertEquals("https://gw.example.com/webhook/prod/github", r.headers().get(HttpHeaderNames.LOCATION));
                assertFalse(r.headers().contains(HttpHeaderNames.CONNECTION), "no body: the connection is kept");
            } finally {
                r.release();
            }
            assertTrue(channel.isOpen());
        }
    }

    @Test
    void aRequestWithABodyIsAnsweredThenClosedAndItsBodyReleased() {
        HttpRequest post = head(HttpMethod.POST, "/webhook/prod/github", "Content-Length", "10");
        HttpContent part = new DefaultHttpContent(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII));
        LastHttpContent end = new DefaultLastHttpContent(Unpooled.copiedBuffer("world", StandardCharsets.US_ASCII));
        channel.writeInbound(admitted(post, true), part, end);
        FullHttpResponse r = onlyResponse();
        try {
            assertEquals(308, r.status().code());
            assertEquals("close", r.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            r.release();
        }
        assertFalse(channel.isOpen(), "a body it did not read cannot be skipped safely");
        assertEquals(0, part.refCnt());
        assertEquals(0, end.refCnt());
    }

    @Test
    void http10AndConnectionCloseAreHonoured() throws Exception {
        FullHttpResponse r = exchange(head(HttpVersion.HTTP_1_0, HttpMethod.GET, "/", "Connection", "keep-alive"));
        try {
            assertEquals(301, r.status().code());
            assertEquals("close", r.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            r.release();
        }
        assertFalse(channel.isOpen());

        EmbeddedChannel second = channel(webroot);
        EmbeddedChannel first = channel;
        channel = second;
        first.finishAndReleaseAll();
        r = exchange(head(HttpMethod.GET, "/", "Connection", "close"));
        try {
            assertEquals("close", r.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            r.release();
        }
        assertFalse(channel.isOpen());
    }

    @Test
    void ipv6HostKeepsItsBracketsAndLosesItsPort() {
        FullHttpResponse r = get("/a", "[2001:db8::1]:8080");
        try {
            assertEquals("https://[2001:db8::1]/a", r.headers().get(HttpHeaderNames.LOCATION));
        } finally {
            r.release();
        }
        r = get("/b", "[::1]");
        try {
            assertEquals("https://[::1]/b", r.headers().get(HttpHeaderNames.LOCATION));
        } finally {
            r.release();
        }
    }

    private FullHttpResponse get(String uri, String host) {
        return exchange(head(HttpMethod.GET, uri, "Host", host));
    }

    @Test
    void keepAliveConnectionAsksForEachNextMessage() {
        channel.writeInbound(admitted(head(HttpMethod.GET, "/one"), false));
        ReferenceCountUtil.release(channel.readOutbound());
        assertEquals(1, transportReads, "after answering, the rest of the request is read");
        channel.writeInbound(LastHttpContent.EMPTY_LAST_CONTENT);
        assertEquals(2, transportReads, "after the request's end, the next request is read");

        FullHttpResponse r = get("/two");
        try {
            assertEquals("https://gw.example.com/two", r.headers().get(HttpHeaderNames.LOCATION));
        } finally {
            r.release();
        }
        assertEquals(4, transportReads);
        assertTrue(channel.isOpen());
    }

    @Test
    void aWholeRequestIsAnsweredAndTheNextReadWaitsForTheWrite() {
        channel.writeInbound(whole(head(HttpMethod.GET, "/one")));
        ReferenceCountUtil.release(channel.readOutbound());
        assertEquals(1, transportReads, "a whole request: nothing of it is left to read; the next one is read");
    }

    @Test
    void aPipelinedRequestIsNotReadWhileTheAnswerIsStillBeingWritten() throws Exception {
        java.util.List<io.netty.channel.ChannelPromise> held = new java.util.ArrayList<>();
        EmbeddedChannel ch = unregistered(webroot, held, true);
        ch.register();
        try {
            transportReads = 0;
            ch.writeInbound(whole(head(HttpMethod.GET, "/one")));
            assertEquals(1, held.size());
            assertEquals(0, transportReads, "no next request before this answer is written");
            held.get(0).setSuccess();
            assertEquals(1, transportReads, "written: now the next request");
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void firstReadIsRequestedWhenTheConnectionOpens() throws Exception {
        EmbeddedChannel fresh = unregistered(webroot);
        try {
            transportReads = 0;
            fresh.register();
            assertTrue(fresh.isActive());
            assertEquals(1, transportReads, "with auto-read off nothing else would ever read the first request");
        } finally {
            fresh.finishAndReleaseAll();
        }
    }

    @Test
    void otherMessagesArePassedOn() {
        Object event = new Object();
        channel.writeInbound(event);
        assertSame(event, channel.readInbound());
        assertNull(channel.readOutbound());
    }

    /** A challenge is only ever fetched; anything else at the challenge path is refused, not served or redirected. */
    @Test
    void acmeChallengeRefusesOtherMethods() {
        FullHttpResponse r = exchange(head(HttpMethod.DELETE, HttpsRedirectHandler.ACME_PREFIX + TOKEN));
        try {
            assertEquals(405, r.status().code());
            assertEquals("GET, HEAD", r.headers().get(HttpHeaderNames.ALLOW));
            assertFalse(text(r).contains(KEY_AUTH), "the challenge file is not served");
        } finally {
            r.release();
        }
    }

    @Test
    void acmeChallengeIsServedFromTheWebroot() {
        FullHttpResponse r = get(HttpsRedirectHandler.ACME_PREFIX + TOKEN);
        try {
            assertEquals(200, r.status().code());
            assertEquals(KEY_AUTH, text(r));
            assertEquals(Integer.toString(KEY_AUTH.length()), r.headers().get(HttpHeaderNames.CONTENT_LENGTH));
            assertEquals("text/plain", r.headers().get(HttpHeaderNames.CONTENT_TYPE));
            assertNull(r.headers().get(HttpHeaderNames.LOCATION), "not redirected: the CA fetches over plain HTTP");
        } finally {
            r.release();
        }
        assertTrue(channel.isOpen());
        assertEquals("acme-challenge", RequestFacts.of(channel).route());
    }

    @Test
    void acmeChallengeWithAQueryIsStillServed() {
        FullHttpResponse r = get(HttpsRedirectHandler.ACME_PREFIX + TOKEN + "?x=1");
        try {
            assertEquals(200, r.status().code());
            assertEquals(KEY_AUTH, text(r));
        } finally {
            r.release();
        }
    }

    @Test
    void headOnAChallengeHasItsLengthButNoBody() {
        FullHttpResponse r = exchange(head(HttpMethod.HEAD, HttpsRedirectHandler.ACME_PREFIX + TOKEN));
        try {
            assertEquals(200, r.status().code());
            assertEquals(0, r.content().readableBytes());
            assertEquals(Integer.toString(KEY_AUTH.length()), r.headers().get(HttpHeaderNames.CONTENT_LENGTH));
        } finally {
            r.release();
        }
    }

    private void assertNotFound(String uri) {
        FullHttpResponse r = get(uri);
        try {
            assertEquals(404, r.status().code(), uri);
            assertEquals("404 Not Found\n", text(r), uri);
            assertNull(r.headers().get(HttpHeaderNames.LOCATION), uri);
        } finally {
            r.release();
        }
        assertTrue(channel.isOpen(), "a miss keeps the connection");
    }

    @Test
    void unknownOrEmptyTokenIsNotFound() {
        assertNotFound(HttpsRedirectHandler.ACME_PREFIX + "no-such-token");
        assertNotFound(HttpsRedirectHandler.ACME_PREFIX);
        assertNotFound(HttpsRedirectHandler.ACME_PREFIX + "x".repeat(256)); // longer than a token can be
    }

    @Test
    void nothingOutsideTheChallengeDirectoryCanBeNamed() throws IOException {
        // These never get past the guard; the handler must not depend on that.
        Files.writeString(webroot.resolve(".well-known").resolve("acme-challenge").resolve("a.txt"), "dotted");
        Files.createDirectories(webroot.resolve(".well-known").resolve("acme-challenge").resolve("sub"));
        Files.writeString(webroot.resolve(".well-known").resolve("acme-challenge").resolve("sub").resolve("f"), "x");
        for (String rest : new String[] {"../../secret", "..%2F..%2Fsecret", "..", "%2e%2e/%2e%2e/secret",
                "..\\..\\secret", "/etc/passwd", "a.txt", "sub/f", TOKEN + "/", TOKEN + "%00"}) {
            assertNotFound(HttpsRedirectHandler.ACME_PREFIX + rest);
        }
    }

    @Test
    void symlinksAndDirectoriesAreNotServed() throws IOException {
        Path dir = webroot.resolve(".well-known").resolve("acme-challenge");
        Files.createSymbolicLink(dir.resolve("linked"), webroot.resolve("secret"));
        Files.createDirectories(dir.resolve("adir"));
        assertNotFound(HttpsRedirectHandler.ACME_PREFIX + "linked");
        assertNotFound(HttpsRedirectHandler.ACME_PREFIX + "adir");
    }

    @Test
    void oversizedChallengeFileIsNotServed() throws IOException {
        Path dir = webroot.resolve(".well-known").resolve("acme-challenge");
        Files.write(dir.resolve("big"), new byte[64 * 1024 + 1]);
        Files.write(dir.resolve("limit"), new byte[64 * 1024]);
        assertNotFound(HttpsRedirectHandler.ACME_PREFIX + "big");
        FullHttpResponse r = get(HttpsRedirectHandler.ACME_PREFIX + "limit");
        try {
            assertEquals(200, r.status().code());
            assertEquals(64 * 1024, r.content().readableBytes());
        } finally {
            r.release();
        }
    }

    @Test
    void withoutAWebrootChallengesAreNotFoundNotRedirected() throws Exception {
        EmbeddedChannel first = channel;
        channel = channel(null);
        first.finishAndReleaseAll();
        assertNotFound(HttpsRedirectHandler.ACME_PREFIX + TOKEN);
    }

    @Test
    void onlyTheChallengeDirectoryIsSpecial() {
        for (String uri : new String[] {"/.well-known/acme-challenge", "/.well-known/other", "/secret"}) {
            FullHttpResponse r = get(uri);
            try {
                assertEquals(301, r.status().code(), uri);
                assertEquals("https://gw.example.com" + uri, r.headers().get(HttpHeaderNames.LOCATION));
            } finally {
                r.release();
            }
        }
    }
}
