package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import org.junit.jupiter.api.Test;

/** The proxy core over real sockets, with MockWebServer standing in for Nango. */
class ProxyCoreTest extends MockNangoTest {

    private static String get(String target) {
        return "GET " + target + " HTTP/1.1\r\nHost: gw.example\r\n\r\n";
    }

    private RecordedRequest taken() throws InterruptedException {
        return nango.takeRequest(5, TimeUnit.SECONDS);
    }

    @Test
    void proxiesAnAllowedRouteAndSetsForwardingHeaders() throws Exception {
        nango.enqueue(new MockResponse.Builder().code(302).addHeader("Location", "https://provider/authorize?x=1")
                .addHeader("Set-Cookie", "oauth2-abc=1; Path=/; HttpOnly").body("").build());
        RawHttp.Response r = RawHttp.exchange(port, "GET /oauth/connect/github?connect_session_token=t HTTP/1.1\r\n"
                + "Host: gw.example\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n"
                + "Base-Url-Override: https://evil.example\r\nX-Original-URL: /api/v1/account\r\n"
                + "Connection: keep-alive, X-Drop-Me\r\nX-Drop-Me: 1\r\nUpgrade: h2c\r\nHTTP2-Settings: AAA\r\n"
                + "Cookie: a=b\r\n\r\n");
        assertEquals(302, r.status());
        assertEquals("https://provider/authorize?x=1", r.header("Location"));
        assertEquals("oauth2-abc=1; Path=/; HttpOnly", r.header("Set-Cookie"));
        RecordedRequest seen = taken();
        assertEquals("GET /oauth/connect/github?connect_session_token=t HTTP/1.1", seen.getRequestLine());
        assertEquals("127.0.0.1", seen.getHeaders().get("X-Forwarded-For"));
        assertEquals("http", seen.getHeaders().get("X-Forwarded-Proto"));
        assertEquals("gw.example", seen.getHeaders().get("X-Forwarded-Host"));
        assertEquals("127.0.0.1:" + nango.getPort(), seen.getHeaders().get("Host"));
        assertEquals("1.1 nango-gateway", seen.getHeaders().get("Via"));
        assertEquals("a=b", seen.getHeaders().get("Cookie"));
        assertNull(seen.getHeaders().get("Base-Url-Override"));
        assertNull(seen.getHeaders().get("X-Original-URL"));
        assertNull(seen.getHeaders().get("X-Drop-Me"));
        assertNull(seen.getHeaders().get("Upgrade"));
        assertNull(seen.getHeaders().get("HTTP2-Settings"));
        assertEquals(1, seen.getHeaders().values("X-Forwarded-For").size());
    }

    @Test
    void deniesPrivateRoutesWithoutTouchingNango() throws Exception {
        assertEquals(403, RawHttp.exchange(port, get("/api/v1/account")).status());
        assertEquals(403, RawHttp.exchange(port, get("/connection/abc")).status());
        assertEquals(403, RawHttp.exchange(port, get("/OAUTH/CALLBACK")).status());
        RawHttp.Response notAllowed = RawHttp.exchange(port, "POST /oauth/callback HTTP/1.1\r\nHost: x\r\n"
                + "Content-Length: 0\r\n\r\n");
        assertEquals(405, notAllowed.status());
        assertEquals("GET", notAllowed.header("Allow"));
        assertEquals(403, RawHttp.exchange(port, get("/connect/session")).status(), "no bearer: falls through");
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void answersRespondRoutesLocally() throws Exception {
        RawHttp.Response r = RawHttp.exchange(port, get("/healthz"));
        assertEquals(200, r.status());
        assertEquals("ok\n", r.bodyText());
        try (RawHttp c = new RawHttp(port)) {
            c.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response head = c.readHead();
            assertEquals(200, head.status());
            assertEquals("3", head.header("Content-Length"));
            c.send(get("/healthz")); // the HEAD response carried no body: the next response parses cleanly
            assertEquals("ok\n", c.read().bodyText());
        }
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void reusesKeepAliveConnectionsToNango() throws Exception {
        for (int i = 0; i < 3; i++) {
            nango.enqueue(new MockResponse.Builder().body("page " + i).build());
        }
        try (RawHttp c = new RawHttp(port)) {
            for (int i = 0; i < 3; i++) {
                c.send(get("/oauth/callback?state=s" + i));
                RawHttp.Response r = c.read();
                assertEquals(200, r.status());
                assertEquals("page " + i, r.bodyText());
            }
        }
        RecordedRequest first = taken();
        RecordedRequest second = taken();
        RecordedRequest third = taken();
        assertEquals(first.getConnectionIndex(), second.getConnectionIndex());
        assertEquals(first.getConnectionIndex(), third.getConnectionIndex());
        assertEquals(2, third.getExchangeIndex());
    }

    @Test
    void answersPipelinedRequestsInOrder() throws Exception {
        nango.enqueue(new MockResponse.Builder().body("one").build());
        nango.enqueue(new MockResponse.Builder().body("two").build());
        try (RawHttp c = new RawHttp(port)) {
            c.send(get("/oauth/callback?n=1") + get("/api/v1/meta") + get("/oauth/callback?n=2"));
            assertEquals("one", c.read().bodyText());
            assertEquals(403, c.read().status());
            assertEquals("two", c.read().bodyText());
        }
        assertEquals("/oauth/callback?n=1", taken().getTarget());
        assertEquals("/oauth/callback?n=2", taken().getTarget());
    }

    @Test
    void streamsAChunkedResponseAndAWebhookBody() throws Exception {
        nango.enqueue(new MockResponse.Builder().chunkedBody("x".repeat(100_000), 4096).build());
        RawHttp.Response r = RawHttp.exchange(port, get("/oauth/callback?code=1"));
        assertEquals(100_000, r.body().length);
        assertEquals("chunked", r.header("Transfer-Encoding"));

        nango.enqueue(new MockResponse.Builder().code(200).body("{\"ok\":true}").build());
        String payload = "{\"event\":\"" + "y".repeat(300_000) + "\"}";
        try (RawHttp c = new RawHttp(port)) {
            c.send("POST /webhook/0e9d1a52-3a44-4f0a-9a4c-3b6c5b8d2f10/slack HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
            byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
            for (int off = 0; off < bytes.length; off += 50_000) {
                int n = Math.min(50_000, bytes.length - off);
                c.send((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                byte[] chunk = new byte[n];
                System.arraycopy(bytes, off, chunk, 0, n);
                c.send(chunk);
                c.send("\r\n");
            }
            c.send("0\r\n\r\n");
            assertEquals(200, c.read().status());
        }
        taken();
        RecordedRequest hook = taken();
        assertEquals("POST", hook.getMethod());
        assertEquals(payload, hook.getBody().utf8());
    }

    @Test
    void refusesABodyOverTheRouteCap() throws Exception {
        RawHttp.Response r = RawHttp.exchange(port, "POST /oauth2/auth/github HTTP/1.1\r\nHost: x\r\n"
                + "Content-Length: 2000000\r\n\r\n");
        assertEquals(413, r.status());
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void answers502WhenNangoIsDownAnd504WhenItIsSlow() throws Exception {
        nango.enqueue(new MockResponse.Builder().headersDelay(5, TimeUnit.SECONDS).body("late").build());
        RawHttp.Response slow = RawHttp.exchange(port, get("/oauth/callback?slow=1"));
        assertEquals(504, slow.status());

        nango.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.ShutdownConnection.INSTANCE)
                .body("x").build());
        RawHttp.Response reset = RawHttp.exchange(port, get("/oauth/callback?reset=1"));
        assertEquals(502, reset.status());

        nango.close();
        RawHttp.Response down = RawHttp.exchange(port, get("/oauth/callback?down=1"));
        assertEquals(502, down.status());
    }

    @Test
    void retriesOnceWhenAPooledConnectionWasClosedByNango() throws Exception {
        nango.enqueue(new MockResponse.Builder().body("first")
                .onResponseEnd(SocketEffect.ShutdownConnection.INSTANCE).build());
        nango.enqueue(new MockResponse.Builder().body("second").build());
        nango.enqueue(new MockResponse.Builder().body("third").build());
        try (RawHttp c = new RawHttp(port)) {
            c.send(get("/oauth/callback?n=1"));
            assertEquals("first", c.read().bodyText());
            Thread.sleep(200); // let Nango's close reach the idle pooled connection, or not: both must work
            c.send(get("/oauth/callback?n=2"));
            RawHttp.Response r = c.read();
            assertEquals(200, r.status());
            assertEquals("second", r.bodyText());
            // The connection the request was retried on went back to the pool; it must carry the next one cleanly.
            c.send(get("/oauth/callback?n=3"));
            RawHttp.Response third = c.read();
            assertEquals(200, third.status());
            assertEquals("third", third.bodyText());
        }
    }

    @Test
    void bodilessResponsesKeepTheConnectionForTheNextRequest() throws Exception {
        nango.enqueue(new MockResponse.Builder().code(204).build());
        nango.enqueue(new MockResponse.Builder().code(304).addHeader("ETag", "\"v1\"").build());
        nango.enqueue(new MockResponse.Builder().body("third").build());
        try (RawHttp c = new RawHttp(port)) {
            c.send(get("/proxy/a"));
            RawHttp.Response noContent = c.read();
            assertEquals(204, noContent.status());
            assertEquals(0, noContent.body().length);
            assertNull(noContent.header("Transfer-Encoding"), "a 204 is never re-framed as chunked");
            c.send(get("/proxy/b"));
            RawHttp.Response notModified = c.read();
            assertEquals(304, notModified.status());
            assertEquals("\"v1\"", notModified.header("ETag"));
            assertEquals(0, notModified.body().length);
            c.send(get("/proxy/c"));
            RawHttp.Response third = c.read();
            assertEquals(200, third.status());
            assertEquals("third", third.bodyText());
        }
        assertEquals("/proxy/a", taken().getTarget());
        assertEquals("/proxy/b", taken().getTarget());
        assertEquals("/proxy/c", taken().getTarget());
    }

    @Test
    void pipelinedBodilessRequestsAreAnsweredInOrderOneAtATime() throws Exception {
        nango.enqueue(new MockResponse.Builder().body("one").headersDelay(300, TimeUnit.MILLISECONDS).build());
        nango.enqueue(new MockResponse.Builder().body("two").build());
        try (RawHttp c = new RawHttp(port)) {
            c.send(get("/oauth/callback?n=1") + get("/oauth/callback?n=2"));
            RecordedRequest first = taken();
            assertEquals("/oauth/callback?n=1", first.getTarget());
            assertNull(nango.takeRequest(150, TimeUnit.MILLISECONDS),
                    "the second request waits until the first is answered");
            assertEquals("one", c.read().bodyText());
            assertEquals("two", c.read().bodyText());
        }
        assertEquals("/oauth/callback?n=2", taken().getTarget());
    }

    @Test
    void http10ClientGetsAClosedDelimitedResponse() throws Exception {
        nango.enqueue(new MockResponse.Builder().chunkedBody("hello world", 3).build());
        try (RawHttp c = new RawHttp(port)) {
            c.send("GET /oauth/callback HTTP/1.0\r\nHost: x\r\n\r\n");
            RawHttp.Response r = c.read();
            assertEquals(200, r.status());
            assertEquals("hello world", r.bodyText());
            assertNull(r.header("Transfer-Encoding"));
            assertTrue(c.isClosedByPeer());
        }
    }

    @Test
    void expectContinueIsAnsweredOnlyForAdmittedRequests() throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.send("POST /api/v1/account/signup HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    + "Expect: 100-continue\r\n\r\n");
            RawHttp.Response r = c.read();
            assertEquals(403, r.status());
        }
        nango.enqueue(new MockResponse.Builder().body("ok").build());
        try (RawHttp c = new RawHttp(port)) {
            c.send("POST /oauth2/auth/github HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    + "Expect: 100-continue\r\n\r\n");
            RawHttp.Response interim = c.read();
            assertEquals(100, interim.status());
            c.send("hello");
            RawHttp.Response r = c.read();
            assertEquals(200, r.status());
        }
        RecordedRequest seen = taken();
        assertEquals("hello", seen.getBody().utf8());
        assertNull(seen.getHeaders().get("Expect"));
    }

    @Test
    void rejectsSmugglingShapesAndCloses() throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.send("POST /oauth2/auth/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/v1/meta HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response r = c.read();
            assertEquals(400, r.status());
            assertEquals("close", r.header("Connection"));
            assertNotNull(r);
            assertTrue(c.isClosedByPeer());
        }
        assertEquals(0, nango.getRequestCount());
        assertFalse(false);
    }
}
