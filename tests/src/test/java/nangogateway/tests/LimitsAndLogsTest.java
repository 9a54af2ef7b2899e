package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import nangogateway.observe.AccessLogHandler;
import ch.qos.logback.classic.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import nangogateway.config.AccessLogFormat;
import nangogateway.config.Cidr;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ListenerOptions;
import nangogateway.config.RateLimit;
import nangogateway.config.ServerSettings;
import nangogateway.server.Gateway;
import nangogateway.testing.FlatJson;
import nangogateway.testing.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Access logs that keep secrets, the real client address, rate and connection limits, HSTS, HTTPS redirect. */
class LimitsAndLogsTest {
    private MockWebServer nango;
    private Gateway gateway;

    @BeforeEach
    void start() throws Exception {
        nango = new MockWebServer();
        nango.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return new MockResponse.Builder().addHeader("Set-Cookie", "sid=SECRETCOOKIE; HttpOnly").body("ok")
                        .build();
            }
        });
        nango.start();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        nango.close();
    }

    private Gateway start(ListenerOptions options) throws Exception {
        ListenerConfig l = new ListenerConfig("public", "127.0.0.1", 0, null, TestConfigs.publicRoutes(), 403,
                ListenerLimits.DEFAULTS, options);
        gateway = Gateway.start(new GatewayConfig("test", Map.of("nango", TestConfigs.nango(nango.getPort(),
                Duration.ofSeconds(5))), List.of(l), Map.of(), ServerSettings.DEFAULTS));
        return gateway;
    }

    private static ListenerOptions options(List<Cidr> trusted, RateLimit rate, int maxConn, int maxPerClient,
            AccessLogFormat format) {
        return new ListenerOptions(null, false, null, trusted, rate, maxConn, maxPerClient, format, Set.of("my_secret"));
    }

    @Test
    void accessLogRedactsSecretsOnEveryRouteKind() throws Exception {
        int port = start(options(List.of(), null, 0, 0, AccessLogFormat.COMBINED)).port("public");
        String secretQuery = "code=SECRETCODE&state=SECRETSTATE&connect_session_token=SECRETTOKEN&c%6Fde=SECRETENC"
                + "&my_secret=SECRETCUSTOM&keep=visible";
        String headers = "Host: x\r\nCookie: sid=SECRETCOOKIE\r\nAuthorization: Bearer SECRETBEARER\r\n"
                + "Referer: https://p.example/cb?code=SECRETREFERER\r\n";
        try (LogCapture log = new LogCapture(AccessLogHandler.LOGGER, Level.INFO)) {
            RawHttp.exchange(port, "GET /integrations/oauth-callback?" + secretQuery + " HTTP/1.1\r\n" + headers + "\r\n");
            RawHttp.exchange(port, "GET /oauth/connect/github?" + secretQuery + " HTTP/1.1\r\n" + headers + "\r\n");
            RawHttp.exchange(port, "GET /api/v1/account?" + secretQuery + " HTTP/1.1\r\n" + headers + "\r\n");
            RawHttp.exchange(port, "POST /oauth/callback?" + secretQuery + " HTTP/1.1\r\n" + headers
                    + "Content-Length: 0\r\n\r\n");
            RawHttp.exchange(port, "GET /healthz?" + secretQuery + " HTTP/1.1\r\n" + headers + "\r\n");
            RawHttp.exchange(port, "GET /oauth/../x?" + secretQuery + " HTTP/1.1\r\n" + headers + "\r\n");
            waitForLines(log, 6);
            List<String> lines = log.lines();
            assertEquals(6, lines.size(), String.join("\n", lines));
            // nginx combined, then the gateway's fields
            java.util.regex.Pattern combined = java.util.regex.Pattern.compile("^(\\S+) - - \\[([^\\]]+)\\] "
                    + "\"(\\S+) (\\S+) (HTTP/1\\.[01]|-)\" (\\d{3}) (\\d+) \"([^\"]*)\" \"([^\"]*)\" listener=(\\S+) "
                    + "route=\"([^\"]*)\" rt=([0-9.]+) urt=([0-9.]+|-) us=(\\d{3}|-) rid=([0-9a-f]{32})$");
            for (String line : lines) {
                assertFalse(line.contains("SECRET"), line);
                java.util.regex.Matcher m = combined.matcher(line);
                assertTrue(m.matches(), "not a combined-format line: " + line);
                assertEquals("127.0.0.1", m.group(1));
                assertEquals("public", m.group(10));
            }
            assertTrue(lines.get(0).contains("code=[redacted]") && lines.get(0).contains("keep=visible"), lines.get(0));
            assertTrue(lines.get(0).contains("route=\"oauth-callback-replay\""), lines.get(0));
            assertTrue(lines.get(2).contains(" 403 ") && lines.get(2).contains("route=\"otherwise\""), lines.get(2));
            assertTrue(lines.get(5).contains(" 400 ") && lines.get(5).contains("rejected: dot segment"), lines.get(5));
        }
    }

    @Test
    void jsonAccessLogCarriesRequestIdAndUpstreamFields() throws Exception {
        int port = start(options(List.of(), null, 0, 0, AccessLogFormat.JSON)).port("public");
        try (LogCapture log = new LogCapture(AccessLogHandler.LOGGER, Level.INFO)) {
            RawHttp.Response r = RawHttp.exchange(port, "GET /oauth/callback?state=s HTTP/1.1\r\nHost: x\r\n"
                    + "X-Request-Id: abc-123\r\n\r\n");
            assertEquals("abc-123", r.header("X-Request-Id"));
            assertEquals("abc-123", nango.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("X-Request-Id"));
            RawHttp.Response fresh = RawHttp.exchange(port, "GET /api/v1/x HTTP/1.1\r\nHost: x\r\n"
                    + "X-Request-Id: bad id with spaces\r\n\r\n");
            assertNotNull(fresh.header("X-Request-Id"));
            assertTrue(fresh.header("X-Request-Id").matches("[0-9a-f]{32}"), fresh.header("X-Request-Id"));
            waitForLines(log, 2);
            Map<String, Object> line = FlatJson.parse(log.lines().get(0));
            assertEquals("abc-123", line.get("request_id"));
            assertEquals(200.0, line.get("upstream_status"));
            assertEquals(200.0, line.get("status"));
            assertEquals("oauth-callback", line.get("route"));
            assertEquals("public", line.get("listener"));
            assertEquals("GET", line.get("method"));
            assertEquals("/oauth/callback?state=[redacted]", line.get("target"));
            assertTrue(line.get("request_time") instanceof Double && line.get("upstream_time") instanceof Double, line.toString());
            Map<String, Object> denied = FlatJson.parse(log.lines().get(1));
            assertEquals(403.0, denied.get("status"));
            assertEquals(null, denied.get("upstream_status"));
            assertEquals("otherwise", denied.get("route"));
        }
    }

    @Test
    void xForwardedForIsBelievedOnlyFromTrustedProxies() throws Exception {
        int port = start(options(List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("10.0.0.0/8")), null, 0, 0,
                AccessLogFormat.COMBINED)).port("public");
        RawHttp.exchange(port, "GET /oauth/callback HTTP/1.1\r\nHost: x\r\n"
                + "X-Forwarded-For: 6.6.6.6, 203.0.113.9, 10.1.2.3\r\n\r\n");
        assertEquals("203.0.113.9", nango.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("X-Forwarded-For"));
        RawHttp.exchange(port, "GET /oauth/callback HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: not-an-ip\r\n\r\n");
        assertEquals("127.0.0.1", nango.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("X-Forwarded-For"));
    }

    @Test
    void xForwardedForFromAnUntrustedPeerIsIgnored() throws Exception {
        int port = start(options(List.of(Cidr.parse("10.0.0.0/8")), null, 0, 0, AccessLogFormat.COMBINED))
                .port("public");
        RawHttp.exchange(port, "GET /oauth/callback HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n");
        assertEquals("127.0.0.1", nango.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("X-Forwarded-For"));
    }

    @Test
    void rateLimitAnswers429WithRetryAfter() throws Exception {
        int port = start(options(List.of(), new RateLimit(0.5, 3), 0, 0, AccessLogFormat.COMBINED)).port("public");
        try (RawHttp c = new RawHttp(port)) {
            for (int i = 0; i < 3; i++) {
                c.send("GET /api/v1/meta HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(403, c.read().status());
            }
            c.send("GET /oauth/callback HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response limited = c.read();
            assertEquals(429, limited.status());
            assertEquals("2", limited.header("Retry-After"));
        }
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void connectionLimitsCloseAtAccept() throws Exception {
        Gateway g = start(options(List.of(), null, 0, 2, AccessLogFormat.COMBINED));
        int port = g.port("public");
        // Each connection is served before the next opens: accepts may land on different event loops.
        try (RawHttp a = new RawHttp(port)) {
            a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, a.read().status());
            try (RawHttp b = new RawHttp(port)) {
                b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, b.read().status());
                try (RawHttp c = new RawHttp(port)) {
                    assertTrue(c.isClosedByPeer(), "third connection from one address is closed at accept");
                }
            }
        }
        assertEquals(1, g.refusedConnections("public"));
        // the counters drop when connections close: a new one is admitted again
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        RawHttp.Response r = null;
        while (System.nanoTime() < deadline) {
            try {
                r = RawHttp.exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                if (r != null) {
                    break;
                }
            } catch (java.io.IOException e) {
                Thread.sleep(20);
            }
        }
        assertNotNull(r);
        assertEquals(200, r.status());
    }

    @Test
    void hstsOnEveryTlsResponseAndRedirectListenerServesAcme(@TempDir Path dir) throws Exception {
        Path webroot = Files.createDirectories(dir.resolve("www/.well-known/acme-challenge"));
        Files.writeString(webroot.resolve("tok_EN-1"), "tok_EN-1.thumbprint");
        Files.writeString(dir.resolve("secret.txt"), "do not serve");
        ListenerOptions redirect = new ListenerOptions(null, true, dir.resolve("www"), List.of(), null, 0, 0,
                AccessLogFormat.COMBINED, Set.of());
        int port = start(redirect).port("public");
        RawHttp.Response r = RawHttp.exchange(port, "GET /oauth/connect/github?x=1 HTTP/1.1\r\nHost: ai.example:80\r\n\r\n");
        assertEquals(301, r.status());
        assertEquals("https://ai.example/oauth/connect/github?x=1", r.header("Location"));
        RawHttp.Response acme = RawHttp.exchange(port, "GET /.well-known/acme-challenge/tok_EN-1 HTTP/1.1\r\nHost: a\r\n\r\n");
        assertEquals(200, acme.status());
        assertEquals("tok_EN-1.thumbprint", acme.bodyText());
        assertEquals(400, RawHttp.exchange(port, "GET /.well-known/acme-challenge/../../secret.txt HTTP/1.1\r\nHost: a\r\n\r\n").status());
        assertEquals(404, RawHttp.exchange(port, "GET /.well-known/acme-challenge/missing HTTP/1.1\r\nHost: a\r\n\r\n").status());
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void metricsRouteReportsResponsesAndRefusals() throws Exception {
        ListenerConfig pub = new ListenerConfig("public", "127.0.0.1", 0, null, TestConfigs.publicRoutes(), 403,
                ListenerLimits.DEFAULTS, options(List.of(), null, 0, 2, AccessLogFormat.COMBINED));
        ListenerConfig internal = new ListenerConfig("internal", "127.0.0.1", 0, null, List.of(
                new nangogateway.config.RouteConfig("metrics", List.of(nangogateway.target.PathPattern.compile(
                        "/metrics")), null, Set.of("GET"), List.of(), false, new nangogateway.config.MetricsAction(),
                        1)), 403, ListenerLimits.DEFAULTS);
        gateway = Gateway.start(new GatewayConfig("test", Map.of("nango", TestConfigs.nango(nango.getPort(),
                Duration.ofSeconds(5))), List.of(pub, internal), Map.of(), ServerSettings.DEFAULTS));
        int port = gateway.port("public");
        try (RawHttp a = new RawHttp(port)) {
            a.send("GET /api/v1/account HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(403, a.read().status());
            try (RawHttp b = new RawHttp(port)) {
                b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, b.read().status());
                try (RawHttp refused = new RawHttp(port)) {
                    assertTrue(refused.isClosedByPeer());
                }
                b.send("GET /oauth/../x HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(400, b.read().status());
            }
        }
        String text = RawHttp.exchange(gateway.port("internal"), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                .bodyText();
        assertTrue(text.contains("nango_gateway_responses_total{code=\"403\",listener=\"public\"} 1.0\n"), text);
        assertTrue(text.contains("nango_gateway_responses_total{code=\"400\",listener=\"public\"} 1.0\n"), text);
        assertTrue(text.contains("nango_gateway_rejected_requests_total{listener=\"public\"} 1.0\n"), text);
        assertTrue(text.contains("nango_gateway_refused_connections_total{listener=\"public\"} 1.0\n"), text);
        assertTrue(text.contains("# TYPE nango_gateway_responses_total counter\n"), text);
        assertTrue(text.contains("# TYPE nango_gateway_refused_connections_total counter\n"), text);
    }

    private static void waitForLines(LogCapture log, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (log.lines().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

}
