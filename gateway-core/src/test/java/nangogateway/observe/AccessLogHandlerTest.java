package nangogateway.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.Set;
import nangogateway.config.AccessLogFormat;
import nangogateway.exchange.LocalResponses;
import nangogateway.exchange.Refusal;
import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.UpstreamFailure;
import nangogateway.testing.FlatJson;
import nangogateway.testing.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One line per final response on nangogateway.access, secrets kept out of it, and the response metrics. */
class AccessLogHandlerTest {
    private static final String LISTENER = "public";

    private LogCapture log;
    private GatewayMetrics metrics;
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        log = new LogCapture(AccessLogHandler.LOGGER, Level.INFO); // the lines are asserted here, not printed
        metrics = new GatewayMetrics();
        channel = channel(AccessLogFormat.COMBINED);
    }

    private EmbeddedChannel channel(AccessLogFormat format) {
        return new EmbeddedChannel(new AccessLogHandler(LISTENER, format, Set.of("sessionid"), metrics));
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
        log.close();
    }

    private List<String> lines() {
        return log.lines();
    }

    private String onlyLine() {
        List<String> lines = lines();
        assertEquals(1, lines.size(), lines.toString());
        return lines.get(0);
    }

    private RequestFacts facts() {
        return RequestFacts.of(channel);
    }

    private static HttpRequest request(HttpMethod method, String uri, String... headers) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    /** Reads a request in; it must come out unchanged on the other side. */
    private void receive(HttpRequest r) {
        channel.writeInbound(r);
        Object in = channel.readInbound();
        assertSame(r, in, "the request is handed on");
        ReferenceCountUtil.release(in);
    }

    /** Writes response parts out; each must come out unchanged, in order. */
    private void respond(Object... parts) {
        channel.writeOutbound(parts);
        for (Object part : parts) {
            Object out = channel.readOutbound();
            try {
                assertSame(part, out, "the response is passed through as is");
            } finally {
                ReferenceCountUtil.release(out);
            }
        }
        assertNull(channel.readOutbound());
    }

    private static LastHttpContent last(String body) {
        return new DefaultLastHttpContent(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    }

    private static DefaultHttpResponse head(int status) {
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
    }

    private double responses(int code) {
        return MetricsText.value(metrics, "nango_gateway_responses_total{code=\"" + code + "\",listener=\"" + LISTENER
                + "\"}");
    }

    private double requests(String route, String cls) {
        return MetricsText.value(metrics, "nango_gateway_requests_total{class=\"" + cls + "\",listener=\"" + LISTENER
                + "\",route=\"" + route + "\"}");
    }

    private double denied(String reason) {
        return MetricsText.value(metrics, "nango_gateway_denied_requests_total{listener=\"" + LISTENER
                + "\",reason=\"" + reason + "\"}");
    }

    private double rejected() {
        return MetricsText.value(metrics, "nango_gateway_rejected_requests_total{listener=\"" + LISTENER + "\"}");
    }

    private static final Pattern COMBINED = Pattern.compile(
            "198\\.51\\.100\\.7 - - \\[\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}] "
            + "\"GET /oauth/callback\\?code=\\[redacted]&state=\\[redacted]&connection_id=c1 HTTP/1\\.1\" 200 11 "
            + "\"https://github\\.com/login\\?access_token=\\[redacted]&x=1\" \"curl/8\\.5\" "
            + "listener=public route=\"oauth-callback\" rt=\\d+\\.\\d{3} urt=0\\.005 us=200 rid=rid-1");

    @Test
    void combinedLineCarriesTheExchangeWithSecretsRedacted() {
        receive(request(HttpMethod.GET, "/oauth/callback?code=SECRET-CODE&state=SECRET-STATE&connection_id=c1",
                "Referer", "https://github.com/login?access_token=SECRET-TOKEN&x=1",
                "User-Agent", "curl/8.5",
                "Cookie", "session=COOKIE-VALUE",
                "Authorization", "Bearer AUTH-VALUE"));
        RequestFacts f = facts();
        f.clientAddress("198.51.100.7");
        f.route("oauth-callback");
        f.requestId("rid-1");
        f.upstreamResponded(200, 5_000_000);
        respond(head(200), new DefaultHttpContent(Unpooled.copiedBuffer("hello", StandardCharsets.UTF_8)),
                last(" world"));
        String line = onlyLine();
        assertTrue(COMBINED.matcher(line).matches(), line);
        for (String secret : List.of("SECRET", "COOKIE-VALUE", "AUTH-VALUE", "Cookie", "Authorization", "Bearer")) {
            assertFalse(line.contains(secret), secret + " in " + line);
        }
    }

    @Test
    void tokenLikeAndConfiguredParametersAreRedacted() {
        receive(request(HttpMethod.GET, "/cb?Code=a1&c%6Fde=a2&refresh_token=a3&client_secret=a4&api_key=a5"
                + "&sessionid=a6&signature=a7&keep=visible&code"));
        respond(LocalResponses.text(channel.alloc(), 204, false));
        String line = onlyLine();
        assertTrue(line.contains("\"GET /cb?Code=[redacted]&c%6Fde=[redacted]&refresh_token=[redacted]"
                + "&client_secret=[redacted]&api_key=[redacted]&sessionid=[redacted]&signature=[redacted]"
                + "&keep=visible&code HTTP/1.1\""), line);
        assertFalse(Pattern.compile("=a\\d").matcher(line).find(), line);
    }

    @Test
    void jsonLineIsOneValidObjectWithTheSameFields() {
        EmbeddedChannel combined = channel;
        channel = channel(AccessLogFormat.JSON);
        combined.finishAndReleaseAll();
        receive(request(HttpMethod.POST, "/webhook/prod/github?token=SECRET-TOKEN&x=1",
                "Referer", "https://app.example.com/?state=SECRET-STATE",
                "User-Agent", "agent \"quoted\" \\ back",
                "Cookie", "session=COOKIE-VALUE",
                "Authorization", "Bearer AUTH-VALUE"));
        RequestFacts f = facts();
        f.clientAddress("2001:db8::7");
        f.route("webhooks");
        f.requestId("rid-2");
        f.upstreamResponded(502, 1_500_000_000L);
        respond(LocalResponses.text(channel.alloc(), 502, false));

        String line = onlyLine();
        assertFalse(line.contains("\n") || line.contains("\r"), "one object per line");
        Map<String, Object> json = FlatJson.parse(line);
        assertEquals(List.of("time", "client", "method", "target", "protocol", "status", "bytes", "referer",
                "user_agent", "listener", "route", "request_time", "upstream_time", "upstream_status", "request_id"),
                List.copyOf(json.keySet()));
        assertTrue(((String) json.get("time")).matches("\\d{4}-\\d{2}-\\d{2}T.*Z"), line);
        assertEquals("2001:db8::7", json.get("client"));
        assertEquals("POST", json.get("method"));
        assertEquals("/webhook/prod/github?token=[redacted]&x=1", json.get("target"));
        assertEquals("HTTP/1.1", json.get("protocol"));
        assertEquals(502.0, json.get("status"));
        assertEquals(16.0, json.get("bytes"), "\"502 Bad Gateway\\n\"");
        assertEquals("https://app.example.com/?state=[redacted]", json.get("referer"));
        assertEquals("agent \"quoted\" \\ back", json.get("user_agent"), "escaped, and reads back the same");
        assertEquals(LISTENER, json.get("listener"));
        assertEquals("webhooks", json.get("route"));
        assertTrue((Double) json.get("request_time") >= 0);
        assertEquals(1.5, json.get("upstream_time"));
        assertEquals(502.0, json.get("upstream_status"));
        assertEquals("rid-2", json.get("request_id"));
        for (String secret : List.of("SECRET", "COOKIE-VALUE", "AUTH-VALUE", "Cookie", "Authorization")) {
            assertFalse(line.contains(secret), secret + " in " + line);
        }
    }

    @Test
    void jsonAbsentFieldsAreNull() {
        EmbeddedChannel combined = channel;
        channel = channel(AccessLogFormat.JSON);
        combined.finishAndReleaseAll();
        receive(request(HttpMethod.GET, "/health"));
        facts().route("health");
        respond(LocalResponses.text(channel.alloc(), 200, false));
        Map<String, Object> json = FlatJson.parse(onlyLine());
        assertEquals("-", json.get("client"), "EmbeddedChannel's peer is no IP address");
        for (String key : List.of("referer", "user_agent", "upstream_time", "upstream_status", "request_id")) {
            assertTrue(json.containsKey(key), key);
            assertNull(json.get(key), key);
        }
    }

    @Test
    void controlCharactersCannotForgeLines() {
        // The decoder rejects these; a header built in-process may still carry them.
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/",
                DefaultHttpHeadersFactory.headersFactory().withValidation(false));
        r.headers().set("User-Agent", "ua\n127.0.0.1 - - [forged]\u0001\u00e9");
        receive(r);
        respond(LocalResponses.text(channel.alloc(), 200, false));
        String line = onlyLine();
        assertFalse(line.contains("\n"), line);
        assertTrue(line.contains("\"ua\\x0a127.0.0.1 - - [forged]\\x01\\xe9\""), line);

        channel.finishAndReleaseAll();
        log.clear();
        channel = channel(AccessLogFormat.JSON);
        HttpRequest j = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/",
                DefaultHttpHeadersFactory.headersFactory().withValidation(false));
        j.headers().set("User-Agent", "ua\n{\"forged\":1}\u0001");
        receive(j);
        respond(LocalResponses.text(channel.alloc(), 200, false));
        String jsonLine = onlyLine();
        assertFalse(jsonLine.contains("\n"), jsonLine);
        assertEquals("ua\n{\"forged\":1}\u0001", FlatJson.parse(jsonLine).get("user_agent"));
    }

    @Test
    void statusAndBodyBytesAreCountedPerResponse() {
        receive(request(HttpMethod.GET, "/a"));
        facts().route("health");
        respond(head(201), new DefaultHttpContent(Unpooled.copiedBuffer("12345", StandardCharsets.UTF_8)),
                last("678"));
        assertTrue(onlyLine().contains("\" 201 8 \""), "body bytes only: " + onlyLine());
        assertEquals(1, responses(201));
        assertEquals(1, requests("health", "2xx"));
        assertTrue(metrics.render().contains(
                "nango_gateway_response_seconds_count{listener=\"" + LISTENER + "\"} 1\n"), metrics.render());

        receive(request(HttpMethod.HEAD, "/a"));
        facts().route("health"); // the router names the route of every request afresh
        respond(head(201), LastHttpContent.EMPTY_LAST_CONTENT);
        assertEquals(2, lines().size());
        assertTrue(lines().get(1).contains("\"HEAD /a HTTP/1.1\" 201 0 \""), "counted afresh: " + lines().get(1));
        assertEquals(2, responses(201));
        assertEquals(2, requests("health", "2xx"));
    }

    @Test
    void aResponseHeadAloneDoesNotEndTheExchange() {
        receive(request(HttpMethod.GET, "/stream"));
        respond(head(200), new DefaultHttpContent(Unpooled.copiedBuffer("partial", StandardCharsets.UTF_8)));
        assertEquals(List.of(), lines());
        assertEquals(0, responses(200));
        respond(LastHttpContent.EMPTY_LAST_CONTENT);
        assertTrue(onlyLine().contains("\" 200 7 \""), onlyLine());
        assertEquals(1, responses(200));
    }

    @Test
    void interimResponsesDoNotEndTheExchange() {
        receive(request(HttpMethod.POST, "/webhook/prod/github?state=SECRET", "Expect", "100-continue"));
        facts().route("webhooks");
        respond(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        respond(head(103), LastHttpContent.EMPTY_LAST_CONTENT);
        assertEquals(List.of(), lines(), "a 1xx is not the response");
        assertEquals(0, responses(100));
        assertEquals(0, responses(103));
        assertEquals(0, requests("webhooks", "1xx"));

        respond(head(202), last("queued"));
        String line = onlyLine();
        assertTrue(line.contains("\"POST /webhook/prod/github?state=[redacted] HTTP/1.1\" 202 6 \""),
                "the request survives the interim responses: " + line);
        assertEquals(1, responses(202));
        assertEquals(1, requests("webhooks", "2xx"));
    }

    @Test
    void everyFactOfTheExchangeIsResetWhenItsResponseEnds() {
        receive(request(HttpMethod.GET, "/x"));
        RequestFacts f = facts();
        f.route("r");
        f.requestId("id");
        f.reject(Refusal.BAD_TARGET, "dot segment in path");
        f.upstreamResponded(503, 7);
        f.upstreamFailed("nango", UpstreamFailure.CONNECT);
        respond(LocalResponses.text(channel.alloc(), 400, true));
        assertNull(f.rejectReason());
        assertNull(f.refusal());
        assertEquals(0, f.upstreamStatus());
        assertEquals(-1, f.upstreamNanos());
        assertNull(f.upstreamFailure());
        assertNull(f.failedUpstream());
        // A response that no route answered (OPTIONS *, a 408) must not inherit the previous request's route or id.
        assertNull(f.route());
        assertNull(f.requestId());
    }

    /** The 101 of a WebSocket upgrade ends the HTTP exchange: it is logged and counted like a final response. */
    @Test
    void aSwitchingProtocolsResponseIsLogged() {
        receive(request(HttpMethod.GET, "/", "Upgrade", "websocket"));
        facts().route("sdk-websocket");
        respond(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS));
        assertTrue(onlyLine().contains("\"GET / HTTP/1.1\" 101 0 "), onlyLine());
        assertEquals(1, responses(101));
        assertEquals(1, requests("sdk-websocket", "1xx"));
    }

    @Test
    void rejectedRequestIsCountedByKind() {
        receive(request(HttpMethod.GET, "/a/../b?code=SECRET"));
        facts().route("stale");
        facts().reject(Refusal.BAD_TARGET, "dot segment in path");
        respond(LocalResponses.text(channel.alloc(), 400, true));
        String line = onlyLine();
        assertTrue(line.contains(" route=\"rejected: dot segment in path\" "), line);
        assertFalse(line.contains("SECRET"), line);
        assertEquals(1, requests("rejected", "4xx"));
        assertEquals(0, requests("stale", "4xx"), "a refusal is not the route's");
        assertEquals(1, rejected());
        assertEquals(1, denied("bad_target"));
    }

    @Test
    void malformedRequestLineIsLoggedWithoutItsTarget() {
        HttpRequest r = request(HttpMethod.GET, "/" + "a".repeat(50) + "?code=SECRET");
        r.setDecoderResult(DecoderResult.failure(
                new TooLongHttpLineException("An HTTP line is larger than 8192 bytes.")));
        facts().requestLineSeen("GET", null); // the decoder's reading of a line cut before its version
        receive(r);
        facts().reject(Refusal.TOO_LARGE,
                "malformed request: TooLongHttpLineException: An HTTP line is larger than 8192 bytes.");
        respond(LocalResponses.text(channel.alloc(), 414, true));
        String line = onlyLine();
        assertTrue(line.contains("\"GET - -\" 414 "), line);
        assertFalse(line.contains("SECRET"), line);
        assertEquals(1, denied("too_large"));
    }

    @Test
    void responseWithoutARequestIsStillLogged() {
        // e.g. a refusal written before any request head was decoded
        facts().reject(Refusal.TIMEOUT, "request head timeout");
        respond(LocalResponses.text(channel.alloc(), 408, true));
        String line = onlyLine();
        assertTrue(line.startsWith("- - - ["), line);
        assertTrue(line.contains("\"- - -\" 408 "), line);
        assertEquals(1, denied("timeout"));
        assertEquals(1, responses(408));
    }

    /** Every kind of refusal, recorded where it was decided, reaches the denied-requests counter under its label. */
    @Test
    void everyRefusalKindReachesTheMetrics() {
        for (Refusal kind : Refusal.values()) {
            receive(request(HttpMethod.GET, "/"));
            facts().reject(kind, "why: " + kind);
            respond(LocalResponses.text(channel.alloc(), 400, true));
            assertEquals(1, denied(kind.label()), kind.toString());
        }
        int n = Refusal.values().length;
        assertEquals(n, rejected());
        assertEquals(n, requests("rejected", "4xx"));
    }

    /** An upstream failure is counted under its upstream and kind, from the typed fact alone. */
    @Test
    void upstreamFailuresAreCountedByKind() {
        for (UpstreamFailure kind : UpstreamFailure.values()) {
            receive(request(HttpMethod.GET, "/"));
            facts().route("r");
            facts().upstreamFailed("cap-upstream", kind);
            respond(LocalResponses.text(channel.alloc(), 502, true));
            assertEquals(1, MetricsText.value(metrics, "nango_gateway_upstream_errors_total{kind=\"" + kind.label()
                    + "\",upstream=\"cap-upstream\"}"), kind.toString());
        }
    }

    @Test
    void policyRefusalsAreCountedByRoute() {
        Object[][] cases = {
            {"otherwise", 403, "not_allowlisted", Refusal.NOT_ALLOWLISTED},
            {"method-not-allowed", 405, "method", Refusal.METHOD},
            {"rate-limited", 429, "rate_limited", Refusal.RATE_LIMITED},
        };
        for (Object[] c : cases) {
            receive(request(HttpMethod.GET, "/"));
            facts().deny((String) c[0], (Refusal) c[3]);
            respond(LocalResponses.text(channel.alloc(), (Integer) c[1], false));
            assertEquals(1, denied((String) c[2]), (String) c[0]);
            assertEquals(1, requests((String) c[0], "4xx"));
        }
        assertEquals(0, rejected(),
                "policy answers are not malformed requests");

        // Nango's own 403 on a proxied route is not a gateway refusal.
        receive(request(HttpMethod.GET, "/connect/session"));
        facts().route("connect-ui-session");
        respond(LocalResponses.text(channel.alloc(), 403, false));
        assertEquals(3, metrics.render().lines().filter(l -> l.startsWith("nango_gateway_denied_requests_total"))
                .count(), metrics.render());
    }

    @Test
    void upstreamErrorsAreCountedByUpstreamAndKind() {
        receive(request(HttpMethod.GET, "/oauth/connect/github"));
        facts().route("oauth-connect");
        facts().upstreamFailed("nango", UpstreamFailure.TIMEOUT);
        respond(LocalResponses.text(channel.alloc(), 504, false));
        assertEquals(1, MetricsText.value(metrics,
                "nango_gateway_upstream_errors_total{kind=\"timeout\",upstream=\"nango\"}"));
        assertEquals(1, requests("oauth-connect", "5xx"));

        receive(request(HttpMethod.GET, "/oauth/connect/github"));
        respond(LocalResponses.text(channel.alloc(), 200, false));
        assertEquals(1, MetricsText.value(metrics,
                "nango_gateway_upstream_errors_total{kind=\"timeout\",upstream=\"nango\"}"),
                "the error belonged to the previous response only");
    }

    @Test
    void metricsAreKeptWhenTheAccessLogIsOff() {
        log.level(Level.WARN);
        receive(request(HttpMethod.GET, "/x", "Referer", "https://r.example/?code=SECRET"));
        facts().deny("otherwise", Refusal.NOT_ALLOWLISTED);
        respond(LocalResponses.text(channel.alloc(), 403, false));
        assertEquals(List.of(), lines());
        assertEquals(1, responses(403));
        assertEquals(1, denied("not_allowlisted"));
    }

    @Test
    void otherMessagesPassThrough() {
        Object event = new Object();
        channel.writeInbound(event);
        assertSame(event, channel.readInbound());
        respond(Unpooled.copiedBuffer("raw", StandardCharsets.UTF_8));
        assertEquals(List.of(), lines(), "raw bytes (a tunnel) are no HTTP response");
    }
}
