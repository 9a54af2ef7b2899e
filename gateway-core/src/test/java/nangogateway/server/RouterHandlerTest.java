package nangogateway.server;

import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.RoutedRequest;
import nangogateway.exchange.GatewaySnapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
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
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import nangogateway.config.GatewayConfig;
import nangogateway.config.HeaderCondition;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ProxyAction;
import nangogateway.config.RespondAction;
import nangogateway.config.RouteAction;
import nangogateway.config.RouteConfig;
import nangogateway.config.ServerSettings;
import nangogateway.config.UpstreamConfig;
import nangogateway.limits.RateLimiter;
import nangogateway.observe.GatewayMetrics;
import nangogateway.target.PathPattern;
import nangogateway.testing.Outbound;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Guard + router over a small route table: local answers, 403/405, and what is handed on to proxy actions. */
class RouterHandlerTest {
    private static final long WEBHOOK_MAX_BODY = 16;

    private GatewaySnapshot snapshot;
    private EmbeddedChannel channel;

    private static RouteConfig route(String name, String path, Set<String> methods, RouteAction action,
            HeaderCondition... headers) {
        return new RouteConfig(name, List.of(PathPattern.compile(path)), null, methods, List.of(headers), false,
                action, 1);
    }

    static GatewaySnapshot snapshot() {
        ProxyAction proxy = new ProxyAction("nango", ProxyAction.DEFAULT_MAX_REQUEST_BODY,
                ProxyAction.BaseUrlOverrideMode.STRIP, null);
        List<RouteConfig> routes = List.of(
                route("health", "/health", Set.of("GET", "HEAD"),
                        new RespondAction(200, "ok\n", Map.of("X-Reply", "yes"))),
                route("ping", "/ping", Set.of("GET"), new RespondAction(204, "", Map.of())),
                route("connect-ui-session", "/connect/session", Set.of("GET"), proxy,
                        new HeaderCondition("Authorization", Pattern.compile("^Bearer good$"))),
                route("oauth-connect", "/oauth/connect/{key}", Set.of("GET"), proxy),
                route("webhooks", "/webhook/{env}/{key}", Set.of("POST"),
                        new ProxyAction("nango", WEBHOOK_MAX_BODY, ProxyAction.BaseUrlOverrideMode.STRIP, null)));
        ListenerConfig listener = new ListenerConfig("public", "127.0.0.1", 0, null, routes, 403,
                ListenerLimits.DEFAULTS);
        UpstreamConfig nango = new UpstreamConfig("nango", "http", "127.0.0.1", 3003, Duration.ofSeconds(2),
                Duration.ofSeconds(60), Duration.ofSeconds(4), 256);
        return new GatewaySnapshot(new GatewayConfig("test", Map.of("nango", nango), List.of(listener), Map.of(),
                ServerSettings.DEFAULTS));
    }

    @BeforeEach
    void setUp() {
        snapshot = snapshot();
        channel = new EmbeddedChannel(new RequestGuardHandler(),
                new RouterHandler("public", () -> snapshot, new RateLimiter(), new GatewayMetrics()));
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private static FullHttpRequest request(HttpMethod method, String uri, String body, String... headers) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().set("Host", "gw.example.com");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    private static HttpRequest head(HttpMethod method, String uri, String... headers) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        r.headers().set("Host", "gw.example.com");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    private static HttpContent chunk(String s) {
        return new DefaultHttpContent(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
    }

    private static LastHttpContent last(String s) {
        return new DefaultLastHttpContent(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
    }

    private FullHttpResponse onlyResponse() {
        return Outbound.onlyResponse(channel);
    }

    private static String text(FullHttpResponse r) {
        return r.content().toString(StandardCharsets.UTF_8);
    }

    /** A request that reaches no route: 403, connection kept; the next request on it is routed normally. */
    @Test
    void unmatchedGetsOtherwiseAndKeepsTheConnection() {
        FullHttpRequest r = request(HttpMethod.GET, "/api/v1/connections", "");
        channel.writeInbound(r);
        assertEquals(0, r.refCnt(), "a denied request is released");
        assertNull(channel.readInbound(), "nothing handed on");
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(403, response.status().code());
            assertEquals("403 Forbidden\n", text(response));
            assertFalse(response.headers().contains(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
        assertTrue(channel.isOpen());

        channel.writeInbound(request(HttpMethod.GET, "/health", ""));
        FullHttpResponse next = onlyResponse();
        try {
            assertEquals(200, next.status().code());
        } finally {
            next.release();
        }
    }

    @Test
    void otherMethodGets405WithAllow() {
        channel.writeInbound(request(HttpMethod.POST, "/health", ""));
        assertNull(channel.readInbound());
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(405, response.status().code());
            assertEquals("GET, HEAD", response.headers().get(HttpHeaderNames.ALLOW));
        } finally {
            response.release();
        }
        assertTrue(channel.isOpen());
    }

    @Test
    void failingHeaderConditionFallsThroughToOtherwise() {
        channel.writeInbound(request(HttpMethod.GET, "/connect/session", "", "Authorization", "Bearer bad"));
        assertNull(channel.readInbound());
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(403, response.status().code());
        } finally {
            response.release();
        }
        channel.writeInbound(request(HttpMethod.GET, "/connect/session", "", "Authorization", "Bearer good",
                "Authorization", "Bearer good"));
        assertNull(channel.readInbound(), "a header given twice never satisfies a condition");
        FullHttpResponse twice = onlyResponse();
        try {
            assertEquals(403, twice.status().code());
        } finally {
            twice.release();
        }
    }

    @Test
    void respondRouteAnswersLocally() {
        channel.writeInbound(request(HttpMethod.GET, "/health", ""));
        assertNull(channel.readInbound());
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(200, response.status().code());
            assertEquals("ok\n", text(response));
            assertEquals("3", response.headers().get(HttpHeaderNames.CONTENT_LENGTH));
            assertEquals("yes", response.headers().get("X-Reply"));
            assertFalse(response.headers().contains(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
        assertTrue(channel.isOpen());
    }

    @Test
    void headGetsTheHeadersWithoutABody() {
        channel.writeInbound(request(HttpMethod.HEAD, "/health", ""));
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(200, response.status().code());
            assertEquals("3", response.headers().get(HttpHeaderNames.CONTENT_LENGTH), "the GET's length");
            assertEquals("yes", response.headers().get("X-Reply"));
            assertEquals(0, response.content().readableBytes());
        } finally {
            response.release();
        }
    }

    @Test
    void headOnA405GetsNoBody() {
        channel.writeInbound(request(HttpMethod.HEAD, "/ping", ""));
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(405, response.status().code());
            assertEquals("GET", response.headers().get(HttpHeaderNames.ALLOW));
            assertEquals(0, response.content().readableBytes());
        } finally {
            response.release();
        }
    }

    @Test
    void noContentRouteHasNoContentLength() {
        channel.writeInbound(request(HttpMethod.GET, "/ping", ""));
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(204, response.status().code());
            assertEquals(0, response.content().readableBytes());
            assertFalse(response.headers().contains(HttpHeaderNames.CONTENT_TYPE));
            assertFalse(response.headers().contains(HttpHeaderNames.CONTENT_LENGTH));
        } finally {
            response.release();
        }
    }

    @Test
    void proxyRouteEmitsRoutedRequestThenTheBody() {
        HttpRequest h = head(HttpMethod.POST, "/webhook/prod/github?x=1", "Content-Length", "5");
        HttpContent part = chunk("hel");
        LastHttpContent end = last("lo");
        channel.writeInbound(h, part, end);
        assertNull(channel.readOutbound(), "nothing answered locally");
        RoutedRequest routed = assertInstanceOf(RoutedRequest.class, channel.readInbound());
        assertEquals("webhooks", routed.route().name());
        assertEquals(Map.of("env", "prod", "key", "github"), routed.params());
        assertSame(snapshot, routed.snapshot());
        assertSame(h, routed.admitted().request());
        assertEquals("/webhook/prod/github?x=1", routed.admitted().target().raw());
        assertTrue(routed.admitted().hasBody());
        assertEquals(5, routed.admitted().contentLength());
        HttpContent c1 = channel.readInbound();
        HttpContent c2 = channel.readInbound();
        try {
            assertSame(part, c1);
            assertSame(end, c2);
            assertEquals("hello", c1.content().toString(StandardCharsets.UTF_8)
                    + c2.content().toString(StandardCharsets.UTF_8));
        } finally {
            c1.release();
            c2.release();
        }
        assertNull(channel.readInbound());
        assertEquals("webhooks", RequestFacts.of(channel).route());
    }

    @Test
    void proxyRouteWithAFullRequest() {
        FullHttpRequest r = request(HttpMethod.GET, "/oauth/connect/github?connection_id=c1", "");
        channel.writeInbound(r);
        RoutedRequest routed = assertInstanceOf(RoutedRequest.class, channel.readInbound());
        assertEquals("oauth-connect", routed.route().name());
        assertEquals(Map.of("key", "github"), routed.params());
        assertTrue(routed.admitted().complete(), "a bodiless full request goes on as one message");
        assertEquals(0, r.refCnt());
        assertNull(channel.readInbound());
        assertNull(channel.readOutbound());
    }

    @Test
    void deniedRequestWithABodyIsAnsweredWithConnectionClose() {
        HttpRequest h = head(HttpMethod.POST, "/api/v1/connections", "Content-Length", "5");
        HttpContent body = last("hello");
        channel.writeInbound(h, body);
        assertEquals(0, body.refCnt(), "the body of a denied request is released");
        assertNull(channel.readInbound());
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(403, response.status().code());
            assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
        assertFalse(channel.isOpen());
    }

    @Test
    void http10AndConnectionCloseAreHonouredOnLocalAnswers() {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/health",
                Unpooled.EMPTY_BUFFER);
        r.headers().set("Host", "h");
        channel.writeInbound(r);
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(200, response.status().code());
            assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
        assertFalse(channel.isOpen());
    }

    @Test
    void connectionCloseRequestIsClosedAfterTheAnswer() {
        channel.writeInbound(request(HttpMethod.GET, "/nowhere", "", "Connection", "close"));
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(403, response.status().code());
            assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
        assertFalse(channel.isOpen());
    }

    @Test
    void expectContinueIsAnsweredOnAnAdmittedRoute() {
        HttpRequest h = head(HttpMethod.POST, "/webhook/prod/github", "Content-Length", "5",
                "Expect", "100-continue");
        channel.writeInbound(h);
        FullHttpResponse cont = onlyResponse();
        try {
            assertEquals(100, cont.status().code());
            assertEquals(0, cont.content().readableBytes());
        } finally {
            cont.release();
        }
        RoutedRequest routed = assertInstanceOf(RoutedRequest.class, channel.readInbound());
        assertEquals("webhooks", routed.route().name());
        assertFalse(routed.admitted().request().headers().contains(HttpHeaderNames.EXPECT),
                "Expect is consumed by the gateway, not forwarded");
        LastHttpContent body = last("hello");
        channel.writeInbound(body);
        LastHttpContent passed = channel.readInbound();
        assertSame(body, passed);
        passed.release();
        assertTrue(channel.isOpen());
    }

    @Test
    void expectContinueOverTheRouteBodyLimitGets413AndNo100() {
        HttpRequest h = head(HttpMethod.POST, "/webhook/prod/github", "Content-Length",
                Long.toString(WEBHOOK_MAX_BODY + 1), "Expect", "100-continue");
        channel.writeInbound(h);
        assertNull(channel.readInbound(), "not handed on");
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(413, response.status().code());
            assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
        assertFalse(channel.isOpen());
    }

    @Test
    void bodyOverTheRouteLimitGets413WithoutExpect() {
        HttpRequest h = head(HttpMethod.POST, "/webhook/prod/github", "Content-Length",
                Long.toString(WEBHOOK_MAX_BODY + 1));
        LastHttpContent body = last("x".repeat((int) WEBHOOK_MAX_BODY + 1));
        channel.writeInbound(h, body);
        assertEquals(0, body.refCnt());
        assertNull(channel.readInbound());
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(413, response.status().code());
            assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
        assertFalse(channel.isOpen());
    }

    @Test
    void expectContinueOnADeniedRouteGetsNo100() {
        HttpRequest h = head(HttpMethod.POST, "/api/v1/upload", "Content-Length", "5", "Expect", "100-continue");
        channel.writeInbound(h);
        assertNull(channel.readInbound());
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(403, response.status().code());
            assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
        assertFalse(channel.isOpen());
    }

    @Test
    void expectContinueOnAWrongMethodGets405AndNo100() {
        HttpRequest h = head(HttpMethod.PUT, "/webhook/prod/github", "Content-Length", "5",
                "Expect", "100-continue");
        channel.writeInbound(h);
        assertNull(channel.readInbound());
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(405, response.status().code());
            assertEquals("POST", response.headers().get(HttpHeaderNames.ALLOW));
            assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
    }
}
