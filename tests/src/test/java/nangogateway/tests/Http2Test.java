package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ServerSettings;
import nangogateway.config.TlsConfig;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 on a TLS listener, through the same admitted-request path as HTTP/1.1, with the JDK's own HTTP/2 client:
 * ALPN picks h2, the allowlist answers 403 without touching Nango, allowed routes are proxied to Nango over
 * HTTP/1.1 with the same forwarding headers, cookies split into crumbs arrive as one {@code Cookie}, bodies and
 * many concurrent streams on one connection go through, and a listener with {@code http2: false} stays HTTP/1.1.
 */
class Http2Test {
    @TempDir
    static Path certs;
    private MockWebServer nango;
    private Gateway gateway;

    @BeforeEach
    void start() throws Exception {
        nango = new MockWebServer();
        nango.start();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        nango.close();
    }

    private int startGateway(boolean http2) throws Exception {
        return startGateway(http2, ListenerLimits.DEFAULTS);
    }

    private int startGateway(boolean http2, ListenerLimits limits) throws Exception {
        if (!certs.resolve("fullchain.pem").toFile().exists()) {
            TestCertificates.generate(certs, "gw.example", "EC");
        }
        TlsConfig tls = new TlsConfig(certs.resolve("fullchain.pem"), certs.resolve("privkey.pem"), http2);
        ListenerConfig pub = new ListenerConfig("public", "127.0.0.1", 0, tls, TestConfigs.publicRoutes(), 403,
                limits);
        gateway = Gateway.start(new GatewayConfig("test",
                Map.of("nango", TestConfigs.nango(nango.getPort(), Duration.ofSeconds(5))), List.of(pub), Map.of(),
                ServerSettings.DEFAULTS));
        return gateway.port("public");
    }

    /** The JDK's client, trusting any certificate. */
    static HttpClient client() throws Exception {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(TestCertificates.trustingAny())
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(30)).build();
    }

    private static HttpRequest.Builder get(int port, String target) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + target)).timeout(Duration.ofSeconds(10));
    }

    @Test
    void negotiatesH2AndProxiesAnAllowedRouteOverHttp11() throws Exception {
        int port = startGateway(true);
        nango.enqueue(new MockResponse.Builder().code(302).addHeader("Location", "https://provider/authorize?x=1")
                .addHeader("Set-Cookie", "oauth2-abc=1; Path=/; HttpOnly").addHeader("Set-Cookie", "b=2")
                .addHeader("Connection", "keep-alive").addHeader("Keep-Alive", "timeout=5").body("moved").build());
        HttpResponse<String> r = client().send(get(port, "/oauth/connect/github?connect_session_token=t")
                .header("Cookie", "a=b").header("Cookie", "c=d").header("User-Agent", "ua/1").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertEquals(302, r.statusCode());
        assertEquals("https://provider/authorize?x=1", r.headers().firstValue("location").orElseThrow());
        assertEquals(List.of("oauth2-abc=1; Path=/; HttpOnly", "b=2"), r.headers().allValues("set-cookie"));
        assertTrue(r.headers().firstValue("connection").isEmpty(), "no connection-specific header in h2");
        assertTrue(r.headers().firstValue("keep-alive").isEmpty());
        assertEquals("moved", r.body());
        RecordedRequest seen = nango.takeRequest(5, TimeUnit.SECONDS);
        assertEquals("GET /oauth/connect/github?connect_session_token=t HTTP/1.1", seen.getRequestLine());
        assertEquals("a=b; c=d", seen.getHeaders().get("Cookie"));
        assertEquals("ua/1", seen.getHeaders().get("User-Agent"));
        assertEquals("127.0.0.1:" + port, seen.getHeaders().get("X-Forwarded-Host"));
        assertEquals("https", seen.getHeaders().get("X-Forwarded-Proto"));
        assertEquals("1.1 nango-gateway", seen.getHeaders().get("Via"));
        assertNull(seen.getHeaders().get("Transfer-Encoding"));
    }

    /**
     * Set-Cookie and Location never enter the connection's HPACK table (RFC 7541 section 7.1.3: a secret that is
     * indexed can be guessed at through compression): every response carries them as never-indexed literals, the
     * second identical answer as the first. HPACK writes such a field with a static-table name as 0001 and the
     * name's index (set-cookie 55: 0x1f 0x28; location 46: 0x1f 0x1f), then the value.
     */
    @Test
    void cookiesAndRedirectTargetsAreNeverIndexed() throws Exception {
        int port = startGateway(true);
        for (int i = 0; i < 2; i++) {
            nango.enqueue(new MockResponse.Builder().code(302).addHeader("Location", "https://provider/authorize?x=1")
                    .addHeader("Set-Cookie", "oauth2-abc=1; Path=/; HttpOnly").addHeader("Set-Cookie", "b=2")
                    .build());
        }
        try (H2Wire w = H2Wire.tls(port)) {
            for (int stream : new int[] {1, 3}) {
                w.headers(stream, true, H2Wire.Block.request("GET", "/oauth/connect/github?connect_session_token=t"));
                assertEquals(302, w.awaitEnd(stream).status());
                byte[] block = w.frames().stream()
                        .filter(f -> f.type() == H2Wire.HEADERS && f.stream() == stream)
                        .findFirst().orElseThrow().payload();
                assertEquals(2, count(block, (byte) 0x1f, (byte) 0x28), "both Set-Cookie never indexed, stream "
                        + stream);
                assertEquals(1, count(block, (byte) 0x1f, (byte) 0x1f), "Location never indexed, stream " + stream);
            }
        }
    }

    private static int count(byte[] in, byte a, byte b) {
        int n = 0;
        for (int i = 0; i + 1 < in.length; i++) {
            if (in[i] == a && in[i + 1] == b) {
                n++;
            }
        }
        return n;
    }

    @Test
    void deniesPrivateRoutesWithoutTouchingNango() throws Exception {
        int port = startGateway(true);
        HttpClient c = client();
        for (String target : List.of("/api/v1/account", "/connection/abc", "/OAUTH/CALLBACK", "/config")) {
            HttpResponse<String> r = c.send(get(port, target).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, r.version());
            assertEquals(403, r.statusCode(), target);
        }
        HttpResponse<String> dot = c.send(get(port, "/oauth/callback/%2e%2e/x").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, dot.statusCode());
        HttpResponse<String> post = c.send(get(port, "/oauth/callback").POST(HttpRequest.BodyPublishers.ofString("x"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        assertEquals("GET", post.headers().firstValue("allow").orElseThrow());
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void forwardsRequestBodiesWithAndWithoutContentLength() throws Exception {
        int port = startGateway(true);
        nango.enqueue(new MockResponse.Builder().body("one").build());
        nango.enqueue(new MockResponse.Builder().body("two").build());
        HttpClient c = client();
        String body = "x".repeat(200_000);
        HttpResponse<String> known = c.send(get(port, "/webhook/prod/github")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, known.statusCode());
        RecordedRequest first = nango.takeRequest(5, TimeUnit.SECONDS);
        assertEquals(body, first.getBody().utf8());
        // A streamed body: the JDK sends no content-length, and DATA frames until END_STREAM.
        HttpResponse<String> streamed = c.send(get(port, "/webhook/prod/github")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(
                        body.getBytes(java.nio.charset.StandardCharsets.US_ASCII)))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, streamed.statusCode());
        assertEquals("two", streamed.body());
        RecordedRequest second = nango.takeRequest(5, TimeUnit.SECONDS);
        assertEquals(body, second.getBody().utf8());
    }

    @Test
    void manyConcurrentStreamsOnOneConnection() throws Exception {
        int port = startGateway(true);
        int n = 30; // within one event loop's share of the pool (64 connections over 2 loops), so none waits
        for (int i = 0; i < n; i++) {
            nango.enqueue(new MockResponse.Builder().body("r").build());
        }
        HttpClient c = client();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(c.sendAsync(get(port, "/oauth/callback?i=" + i).build(), HttpResponse.BodyHandlers.ofString()));
        }
        int denied = 0;
        for (int i = 0; i < n; i++) {
            all.add(c.sendAsync(get(port, "/api/v1/x" + i).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < all.size(); i++) {
            HttpResponse<String> r = all.get(i).get(20, TimeUnit.SECONDS);
            assertEquals(HttpClient.Version.HTTP_2, r.version());
            if (i < n) {
                assertEquals(200, r.statusCode());
                assertEquals("r", r.body());
            } else {
                assertEquals(403, r.statusCode());
                denied++;
            }
        }
        assertEquals(n, denied);
        assertEquals(n, nango.getRequestCount());
    }

    /**
     * With curl (the JDK 17 client fails every stream on any GOAWAY): the stream in flight when the drain starts is
     * answered in full over the connection that got GOAWAY, no new stream is taken on it, and the drain ends with
     * the stream, not at its deadline.
     */
    @Test
    void drainLetsTheStreamInFlightFinishThenCloses() throws Exception {
        Path curl = Path.of("/usr/bin/curl");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(curl), "no /usr/bin/curl");
        int port = startGateway(true);
        nango.enqueue(new MockResponse.Builder().headersDelay(1, TimeUnit.SECONDS).body("slow").build());
        // Two requests, one after the other: the second would reuse the connection, but the GOAWAY sent when the
        // drain began tells curl not to, and the listener no longer accepts a new one.
        Process p = new ProcessBuilder(curl.toString(), "-sk", "--http2", "-w", " %{http_version} %{http_code};",
                "--max-time", "20", "https://127.0.0.1:" + port + "/oauth/callback",
                "https://127.0.0.1:" + port + "/api/v1/x").redirectErrorStream(true).start();
        assertTrue(nango.takeRequest(10, TimeUnit.SECONDS) != null, "the slow request reached Nango");
        long before = System.nanoTime();
        gateway.shutdown(Duration.ofSeconds(20));
        long took = System.nanoTime() - before;
        gateway = null;
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals("slow 2 200; 0 000;", new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertTrue(took < TimeUnit.SECONDS.toNanos(15), "the drain ended with its last stream, not at its deadline");
    }

    /** Short clocks: 1 s for a head, keep-alive and a stalled send. */
    private static final ListenerLimits SHORT = new ListenerLimits(8 * 1024, 16 * 1024, 100, Duration.ofSeconds(1),
            Duration.ofSeconds(1), Duration.ofSeconds(30), ListenerLimits.DEFAULT_MIN_BODY_RATE, Duration.ofSeconds(1),
            0);

    @Test
    void aConnectionWithoutAStreamIsClosedWithGoAway() throws Exception {
        int port = startGateway(true, SHORT);
        try (H2Wire never = H2Wire.tls(port); H2Wire once = H2Wire.tls(port)) {
            never.timeout(15_000);
            once.timeout(15_000);
            once.headers(1, true, H2Wire.Block.request("GET", "/api/v1/account"));
            assertEquals(403, once.awaitEnd(1).status());
            for (H2Wire w : List.of(never, once)) {
                while (w.pump()) {
                    // until the server closes
                }
                assertTrue(w.goAway() != null, "GOAWAY before the close: " + w.frames());
                assertEquals(0, H2Wire.u32(w.goAway().payload(), 4), "NO_ERROR");
            }
        }
        assertEquals(0, nango.getRequestCount());
    }

    /**
     * A client that stops giving the window back (it reads nothing more) holds its stream only for
     * {@code send_timeout}: the stream is reset, Nango's response is not waited on, and the budgets the response was
     * buffered in are given back.
     */
    @Test
    void aStreamWhoseReaderStallsIsResetAfterTheSendTimeout() throws Exception {
        int port = startGateway(true, SHORT);
        nango.enqueue(new MockResponse.Builder().body("y".repeat(4 * 1024 * 1024)).build());
        try (H2Wire w = H2Wire.tls(port)) {
            w.timeout(20_000);
            w.headers(1, true, H2Wire.Block.request("GET", "/oauth/callback?big=1"));
            // Not a byte read for longer than send_timeout: no WINDOW_UPDATE goes back, the stream's window stays shut.
            Thread.sleep(3_000);
            H2Wire.StreamResult r = w.awaitReset(1);
            assertEquals(200, r.status());
            assertTrue(r.body.size() < 4 * 1024 * 1024, "the body was cut: " + r.body.size());
            assertEquals(8, r.reset, "RST_STREAM CANCEL");
            assertTrue(w.goAway() == null, "the connection itself goes on");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String buffered = "";
        while (System.nanoTime() < deadline) {
            buffered = gateway.metrics().render().lines()
                    .filter(l -> l.startsWith("nango_gateway_buffered_bytes{") && !l.endsWith(" 0.0")).toList()
                    .toString();
            if (buffered.equals("[]")) {
                break;
            }
            Thread.sleep(50);
        }
        assertEquals("[]", buffered, "every buffered byte given back");
    }

    /**
     * A client that opens wide flow-control windows and then reads nothing from its socket fills the connection's
     * socket queue: even a stream's reset cannot be written then, so no stream ever closes. The connection's own send
     * clock cuts it after {@code send_timeout}, as an HTTP/1.1 connection would be.
     */
    @Test
    void aConnectionWhoseClientReadsNothingIsClosedAfterTheSendTimeout() throws Exception {
        int port = startGateway(true, SHORT);
        nango.enqueue(new MockResponse.Builder().body("z".repeat(16 * 1024 * 1024)).build());
        try (H2Wire w = H2Wire.tls(port)) {
            byte[] window = new byte[6];
            window[1] = 0x4; // SETTINGS_INITIAL_WINDOW_SIZE = 2^31 - 1
            System.arraycopy(H2Wire.u32(0x7fffffffL), 0, window, 2, 4);
            w.frame(H2Wire.SETTINGS, 0, 0, window);
            w.frame(H2Wire.WINDOW_UPDATE, 0, 0, H2Wire.u32(0x7fffffffL - 65_535));
            w.headers(1, true, H2Wire.Block.request("GET", "/oauth/callback?huge=1"));
            Thread.sleep(6_000); // not a byte read: the kernel's buffers fill, then the gateway's queue
            w.timeout(20_000);
            while (w.pump()) {
                // what was already on its way, then the end; a read that times out throws
            }
            assertTrue(w.closed(), "the gateway closed the connection");
            assertTrue(w.stream(1).body.size() < 16 * 1024 * 1024, "not the whole body: " + w.stream(1).body.size());
        }
    }

    @Test
    void http2FalseKeepsTheListenerOnHttp11() throws Exception {
        int port = startGateway(false);
        nango.enqueue(new MockResponse.Builder().body("ok").build());
        HttpResponse<String> r = client().send(get(port, "/oauth/callback").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_1_1, r.version());
        assertEquals(200, r.statusCode());
    }
}
