package nangogateway.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import nangogateway.config.ConfigLoader;
import nangogateway.config.GatewayConfig;
import nangogateway.config.RouteConfig;
import nangogateway.limits.ByteBudget;
import nangogateway.observe.GatewayMetrics;
import nangogateway.observe.MetricsText;
import nangogateway.target.RequestTarget;
import nangogateway.exchange.AdmittedRequest;
import nangogateway.exchange.GatewaySnapshot;
import nangogateway.exchange.RoutedRequest;
import nangogateway.testing.Outbound;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Webhook bodies held until the provider's signature checks out: forwarded byte for byte, or 401/413 and nothing. */
class WebhookVerifyHandlerTest {
    private static final String SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
    private static final String GITHUB_SECRET = "It's a Secret to Everybody";
    private static final int MAX_BODY = 64;

    @TempDir
    Path dir;

    private GatewaySnapshot snapshot;
    private GatewayMetrics metrics;
    private ByteBudget budget = new ByteBudget(1 << 20);
    private EmbeddedChannel channel;
    /** read() calls the handler asked for. */
    private int reads;

    @BeforeEach
    void setUp() throws Exception {
        Path slack = dir.resolve("slack");
        Files.writeString(slack, SLACK_SECRET + "\n"); // the trailing newline is not part of the secret
        Path github = dir.resolve("github");
        Files.writeString(github, GITHUB_SECRET);
        GatewayConfig config = ConfigLoader.parse("""
                upstreams:
                  nango: {url: http://127.0.0.1:3003}
                listeners:
                  - name: public
                    bind: 127.0.0.1:8080
                    routes:
                      - name: slack-hook
                        path: /webhook/{env}/slack
                        methods: [POST]
                        proxy:
                          upstream: nango
                          max_request_body: %d
                          verify: {provider: slack, secret_file: %s}
                      - name: github-hook
                        path: /webhook/{env}/github
                        methods: [POST]
                        proxy:
                          upstream: nango
                          verify: {provider: github, secret_file: %s}
                      - name: plain
                        path: /api/{rest}
                        proxy: {upstream: nango}
                """.formatted(MAX_BODY, slack, github), "test.yaml");
        snapshot = new GatewaySnapshot(config);
        metrics = new GatewayMetrics();
        channel = newChannel();
    }

    private EmbeddedChannel newChannel() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAutoRead(false); // reads are what the handler asks for, nothing else
        ch.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) {
                reads++;
                ctx.read();
            }
        });
        ch.pipeline().addLast(new WebhookVerifyHandler("public", metrics, budget));
        return ch;
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private RouteConfig route(String name) {
        return snapshot.config().listener("public").orElseThrow().routes().stream()
                .filter(r -> r.name().equals(name)).findFirst().orElseThrow();
    }

    private RoutedRequest routed(String routeName, HttpRequest request, boolean hasBody, long contentLength) {
        RequestTarget target = RequestTarget.parse(request.uri()).target();
        return new RoutedRequest(new AdmittedRequest(request, target, hasBody, contentLength), route(routeName),
                Map.of("env", "prod"), snapshot);
    }

    private static HttpRequest head(String uri, String... headers) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, uri);
        r.headers().set("Host", "gw.example.com");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    private static HttpContent chunk(byte[] b) {
        return new DefaultHttpContent(Unpooled.wrappedBuffer(b));
    }

    private static LastHttpContent last(byte[] b) {
        return new DefaultLastHttpContent(Unpooled.wrappedBuffer(b));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    private static String hmacHex(String secret, byte[] data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(utf8(secret), "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(data));
    }

    /** Slack's v0 signature: HMAC-SHA256 over "v0:{timestamp}:{body}". */
    private static String slackSignature(long timestamp, byte[] body) throws Exception {
        byte[] base = utf8("v0:" + timestamp + ":");
        byte[] signed = Arrays.copyOf(base, base.length + body.length);
        System.arraycopy(body, 0, signed, base.length, body.length);
        return "v0=" + hmacHex(SLACK_SECRET, signed);
    }

    private static HttpRequest slackHead(long timestamp, String signature, String... more) {
        HttpRequest h = head("/webhook/prod/slack", more);
        h.headers().set("X-Slack-Request-Timestamp", Long.toString(timestamp));
        if (signature != null) {
            h.headers().set("X-Slack-Signature", signature);
        }
        return h;
    }

    private String rejected(String route, String reason) {
        return "nango_gateway_webhook_rejected_total{listener=\"public\",reason=\"" + reason + "\",route=\"" + route
                + "\"}";
    }

    private FullHttpResponse onlyResponse() {
        return Outbound.onlyResponse(channel);
    }

    /** The request was answered locally with {@code status} and the connection closed, nothing handed on. */
    private void assertRefused(int status, String error, String message) {
        assertNull(channel.readInbound(), "nothing reaches the proxy");
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(status, response.status().code());
            assertEquals("{\"error\":\"" + error + "\",\"message\":\"" + message + "\"}\n",
                    response.content().toString(StandardCharsets.UTF_8));
            assertEquals("application/json", response.headers().get(HttpHeaderNames.CONTENT_TYPE));
            assertEquals("close", response.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
        assertFalse(channel.isOpen(), "the connection is closed after the answer");
    }

    /** Reads the RoutedRequest and the single body message that must follow it; returns the body bytes. */
    private byte[] forwarded(RoutedRequest expected) {
        RoutedRequest got = assertInstanceOf(RoutedRequest.class, channel.readInbound());
        assertSame(expected, got);
        LastHttpContent body = assertInstanceOf(LastHttpContent.class, channel.readInbound(),
                "the whole body follows as one last content");
        try {
            assertNull(channel.readInbound(), "nothing else handed on");
            return ByteBufUtil.getBytes(body.content());
        } finally {
            body.release();
        }
    }

    private RoutedRequest whole(String routeName, HttpRequest request) {
        RequestTarget target = RequestTarget.parse(request.uri()).target();
        return new RoutedRequest(new AdmittedRequest(request, target, false, 0, true), route(routeName),
                Map.of("env", "prod"), snapshot);
    }

    /** Held bodies count against the process's budget while held, and give it back once handed on. */
    @Test
    void aHeldBodyCountsAgainstTheMemoryBudgetUntilItIsHandedOn() throws Exception {
        byte[] body = utf8("token=x&text=hello");
        long ts = now();
        RoutedRequest r = routed("slack-hook", slackHead(ts, slackSignature(ts, body), "Transfer-Encoding", "chunked"),
                true, -1);
        channel.writeInbound(r);
        channel.writeInbound(chunk(Arrays.copyOfRange(body, 0, 5)));
        assertEquals(5, budget.used(), "held, so counted");
        channel.writeInbound(last(Arrays.copyOfRange(body, 5, body.length)));
        assertArrayEquals(body, forwarded(r));
        assertEquals(0, budget.used(), "handed on: the proxy counts it from here");
    }

    /** When the budget is spent, a body that wants more gets 503 with Retry-After, not an OutOfMemoryError. */
    @Test
    void aBodyThatFindsTheBudgetSpentGets503() throws Exception {
        budget = new ByteBudget(10);
        channel.finishAndReleaseAll();
        channel = newChannel();
        long ts = now();
        byte[] body = utf8("0123456789abcdef");
        channel.writeInbound(routed("slack-hook", slackHead(ts, slackSignature(ts, body), "Transfer-Encoding",
                "chunked"), true, -1));
        HttpContent c = chunk(body);
        channel.writeInbound(c);
        assertEquals(0, c.refCnt());
        assertNull(channel.readInbound(), "nothing reaches the proxy");
        FullHttpResponse response = onlyResponse();
        try {
            assertEquals(503, response.status().code());
            assertEquals("1", response.headers().get(HttpHeaderNames.RETRY_AFTER));
        } finally {
            response.release();
        }
        assertFalse(channel.isOpen());
        assertEquals(0, budget.used());
        assertEquals(1, budget.refusals());
    }

    @Test
    void aBodilessRequestIsCheckedAtOnceOverTheEmptyBody() throws Exception {
        long ts = now();
        RoutedRequest r = whole("slack-hook", slackHead(ts, slackSignature(ts, new byte[0])));
        int before = reads;
        channel.writeInbound(r);
        assertSame(r, channel.readInbound(), "signed over the empty body: handed on");
        assertNull(channel.readInbound(), "nothing follows a whole request");
        assertEquals(before, reads, "nothing of it is left to read");
        assertEquals("0", r.admitted().request().headers().get(HttpHeaderNames.CONTENT_LENGTH));
        assertTrue(channel.isOpen());
    }

    @Test
    void aBodilessRequestWithABadSignatureIsRefusedAtOnce() throws Exception {
        long ts = now();
        channel.writeInbound(whole("slack-hook", slackHead(ts, slackSignature(ts, utf8("not empty")))));
        assertRefused(401, "invalid_signature", "webhook signature mismatch");
    }

    @Test
    void goodSlackSignatureForwardsTheRequestAndTheBodyByteForByte() throws Exception {
        // Multi-byte UTF-8 split across chunks: the body must be re-joined exactly, not decoded and re-encoded.
        byte[] body = utf8("token=x&text=caf\u00e9 \u2713&url=hooks.slack.com");
        long ts = now();
        HttpRequest h = slackHead(ts, slackSignature(ts, body), "Transfer-Encoding", "chunked");
        RoutedRequest r = routed("slack-hook", h, true, -1);
        HttpContent c1 = chunk(Arrays.copyOfRange(body, 0, 17)); // ends inside the two-byte é
        HttpContent c2 = chunk(Arrays.copyOfRange(body, 17, 20)); // ends inside the three-byte ✓
        LastHttpContent c3 = last(Arrays.copyOfRange(body, 20, body.length));

        int before = reads;
        channel.writeInbound(r);
        assertNull(channel.readInbound(), "the head is held until the body is checked");
        assertEquals(before + 1, reads, "asks for the body");
        channel.writeInbound(c1);
        channel.writeInbound(c2);
        assertNull(channel.readInbound(), "no part of the body goes on before the check");
        assertEquals(before + 3, reads, "asks for each next chunk");
        channel.writeInbound(c3);
        assertEquals(before + 3, reads, "the whole body is in: nothing more to read for this request");

        assertArrayEquals(body, forwarded(r));
        assertEquals(0, c1.refCnt());
        assertEquals(0, c2.refCnt());
        assertEquals(0, c3.refCnt());
        assertFalse(h.headers().contains(HttpHeaderNames.TRANSFER_ENCODING), "re-framed: the body is whole now");
        assertEquals(Integer.toString(body.length), h.headers().get(HttpHeaderNames.CONTENT_LENGTH));
        assertEquals(Long.toString(ts), h.headers().get("X-Slack-Request-Timestamp"), "provider headers go on to Nango");
        assertNull(channel.readOutbound(), "nothing answered locally");
        assertTrue(channel.isOpen());
        assertFalse(metrics.render().contains("webhook_rejected"), "a good request is not counted as rejected");
    }

    /**
     * The proxy, handed the head on a pooled connection, asks for the body at once; the body is already whole, and
     * a read passed out then would hand on the next pipelined request ahead of it.
     */
    @Test
    void readsAskedForWhileTheVerifiedRequestIsHandedOnAreAbsorbed() throws Exception {
        channel.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof RoutedRequest) {
                    ctx.read();
                }
                ctx.fireChannelRead(msg);
            }
        });
        byte[] body = utf8("{\"event\":\"x\"}");
        long ts = now();
        RoutedRequest r = routed("slack-hook", slackHead(ts, slackSignature(ts, body)), true, body.length);
        channel.writeInbound(r);
        int before = reads;
        channel.writeInbound(last(body));
        assertEquals(before, reads, "no read leaves while the held request is handed on");
        assertArrayEquals(body, forwarded(r));
        channel.read(); // the next request is asked for once this one is done
        assertEquals(before + 1, reads, "reads pass again afterwards");
    }

    @Test
    void theNextRequestOnTheConnectionIsCheckedAfresh() throws Exception {
        byte[] first = utf8("{\"n\":1}");
        long ts = now();
        RoutedRequest r1 = routed("slack-hook", slackHead(ts, slackSignature(ts, first)), true, first.length);
        channel.writeInbound(r1, last(first));
        assertArrayEquals(first, forwarded(r1));

        // A plain request after a verified one is not held.
        HttpRequest plain = head("/api/x");
        RoutedRequest r2 = routed("plain", plain, false, 0);
        channel.writeInbound(r2, LastHttpContent.EMPTY_LAST_CONTENT);
        assertSame(r2, channel.readInbound());
        assertSame(LastHttpContent.EMPTY_LAST_CONTENT, channel.readInbound());

        byte[] second = utf8("{\"n\":2}");
        RoutedRequest r3 = routed("slack-hook", slackHead(ts, slackSignature(ts, first)), true, second.length);
        channel.writeInbound(r3, last(second));
        assertRefused(401, "invalid_signature", "webhook signature mismatch");
    }

    @Test
    void exactlyMaxRequestBodyIsVerified() throws Exception {
        byte[] body = utf8("b".repeat(MAX_BODY));
        long ts = now();
        RoutedRequest r = routed("slack-hook", slackHead(ts, slackSignature(ts, body)), true, -1);
        channel.writeInbound(r, chunk(Arrays.copyOf(body, 40)), last(Arrays.copyOfRange(body, 40, MAX_BODY)));
        assertArrayEquals(body, forwarded(r));
    }

    @Test
    void badSignatureGets401AndNothingIsForwarded() throws Exception {
        byte[] body = utf8("payload=original");
        long ts = now();
        String sig = slackSignature(ts, body);
        HttpContent c1 = chunk(utf8("payload="));
        LastHttpContent c2 = last(utf8("tampered"));
        channel.writeInbound(routed("slack-hook", slackHead(ts, sig), true, -1), c1, c2);
        assertRefused(401, "invalid_signature", "webhook signature mismatch");
        assertEquals(0, c1.refCnt(), "the held body is released");
        assertEquals(0, c2.refCnt());
        assertEquals(1, MetricsText.value(metrics, rejected("slack-hook", "mismatch")));
    }

    @Test
    void signatureWithTheWrongSecretGets401() throws Exception {
        byte[] body = utf8("payload=x");
        long ts = now();
        byte[] base = utf8("v0:" + ts + ":payload=x");
        String forged = "v0=" + hmacHex("not-the-secret", base);
        channel.writeInbound(routed("slack-hook", slackHead(ts, forged), true, body.length), last(body));
        assertRefused(401, "invalid_signature", "webhook signature mismatch");
    }

    @Test
    void missingSignatureGets401() {
        LastHttpContent body = last(utf8("payload=x"));
        channel.writeInbound(routed("slack-hook", slackHead(now(), null), true, 9), body);
        assertRefused(401, "invalid_signature", "webhook signature missing");
        assertEquals(0, body.refCnt());
        assertEquals(1, MetricsText.value(metrics, rejected("slack-hook", "missing")));
    }

    @Test
    void staleTimestampGets401EvenWithAGoodSignature() throws Exception {
        byte[] body = utf8("payload=x");
        long ts = now() - 600; // the default tolerance is five minutes
        LastHttpContent content = last(body);
        channel.writeInbound(routed("slack-hook", slackHead(ts, slackSignature(ts, body)), true, body.length),
                content);
        assertRefused(401, "invalid_signature", "webhook signature stale");
        assertEquals(0, content.refCnt());
        assertEquals(1, MetricsText.value(metrics, rejected("slack-hook", "stale")));
    }

    @Test
    void bodyOverMaxRequestBodyGets413AndTheHeldPartIsReleased() {
        HttpContent c1 = chunk(utf8("a".repeat(40)));
        HttpContent c2 = chunk(utf8("a".repeat(MAX_BODY - 40 + 1)));
        channel.writeInbound(routed("slack-hook", slackHead(now(), "v0=00"), true, -1), c1);
        assertEquals(1, c1.refCnt(), "held, not yet released");
        channel.writeInbound(c2);
        assertRefused(413, "payload_too_large", "webhook body too large");
        assertEquals(0, c1.refCnt(), "what was held is released");
        assertEquals(0, c2.refCnt(), "the chunk over the limit is released");
        assertEquals(1, MetricsText.value(metrics, rejected("slack-hook", "body_too_large")));
    }

    @Test
    void fullRequestIsVerifiedToo() throws Exception {
        // The router hands a FullHttpRequest on as its own body.
        byte[] body = utf8("{\"action\":\"opened\"}");
        FullHttpRequest full = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                "/webhook/prod/github", Unpooled.wrappedBuffer(body));
        full.headers().set("X-Hub-Signature-256", "sha256=" + hmacHex(GITHUB_SECRET, body));
        RoutedRequest r = routed("github-hook", full, true, body.length);
        channel.writeInbound(r, full);
        assertArrayEquals(body, forwarded(r));
        assertEquals(0, full.refCnt(), "the original message is released once its body is copied out");
        assertEquals(Integer.toString(body.length), full.headers().get(HttpHeaderNames.CONTENT_LENGTH));
    }

    @Test
    void githubSignatureOverADifferentBodyGets401() throws Exception {
        String sig = "sha256=" + hmacHex(GITHUB_SECRET, utf8("{\"action\":\"opened\"}"));
        channel.writeInbound(routed("github-hook", head("/webhook/prod/github", "X-Hub-Signature-256", sig), true,
                19), last(utf8("{\"action\":\"closed\"}")));
        assertRefused(401, "invalid_signature", "webhook signature mismatch");
        assertEquals(1, MetricsText.value(metrics, rejected("github-hook", "mismatch")));
    }

    @Test
    void routesWithoutVerifyPassThroughUntouched() {
        HttpRequest h = head("/api/x", "Transfer-Encoding", "chunked");
        RoutedRequest r = routed("plain", h, true, -1);
        HttpContent c1 = chunk(utf8("hello "));
        LastHttpContent c2 = last(utf8("world"));
        int before = reads;
        channel.writeInbound(r);
        assertSame(r, channel.readInbound(), "handed on at once");
        channel.writeInbound(c1, c2);
        HttpContent got1 = channel.readInbound();
        HttpContent got2 = channel.readInbound();
        try {
            assertSame(c1, got1, "the same messages, not copies");
            assertSame(c2, got2);
            assertEquals(1, c1.refCnt(), "not released on the way");
            assertEquals(1, c2.refCnt());
        } finally {
            ReferenceCountUtil.release(got1);
            ReferenceCountUtil.release(got2);
        }
        assertEquals("chunked", h.headers().get(HttpHeaderNames.TRANSFER_ENCODING), "framing left alone");
        assertFalse(h.headers().contains(HttpHeaderNames.CONTENT_LENGTH));
        assertEquals(before, reads, "reading is left to the proxy");
        assertNull(channel.readOutbound());
        assertTrue(channel.isOpen());
    }

    @Test
    void otherMessagesPassThrough() {
        Object event = "not a request";
        channel.writeInbound(event);
        assertSame(event, channel.readInbound());
    }

    @Test
    void closingWhileHoldingReleasesTheBody() {
        HttpContent c1 = chunk(utf8("partial"));
        channel.writeInbound(routed("slack-hook", slackHead(now(), "v0=00"), true, -1), c1);
        assertEquals(1, c1.refCnt());
        channel.close();
        assertEquals(0, c1.refCnt(), "the held body is released when the client goes away");
        assertNull(channel.readInbound());
        assertNull(channel.readOutbound(), "no answer to a closed connection");
    }

    @Test
    void removingTheHandlerReleasesTheBody() {
        HttpContent c1 = chunk(utf8("partial"));
        channel.writeInbound(routed("slack-hook", slackHead(now(), "v0=00"), true, -1), c1);
        channel.pipeline().remove(WebhookVerifyHandler.class);
        assertEquals(0, c1.refCnt());
    }

    @Test
    void rejectionsAreCountedByRouteAndReason() throws Exception {
        byte[] body = utf8("payload=x");
        long ts = now();
        String good = slackSignature(ts, body);
        // Each refusal closes its connection, so each request gets a channel of its own.
        sendOnNewChannel(routed("slack-hook", slackHead(ts, "v0=" + "0".repeat(64)), true, 9), last(body));
        sendOnNewChannel(routed("slack-hook", slackHead(ts, "v0=" + "1".repeat(64)), true, 9), last(body));
        sendOnNewChannel(routed("slack-hook", slackHead(ts, null), true, 9), last(body));
        sendOnNewChannel(routed("slack-hook", slackHead(ts - 3600, good), true, 9), last(body));
        sendOnNewChannel(routed("slack-hook", slackHead(ts, "sha256=" + good.substring(3)), true, 9), last(body));
        sendOnNewChannel(routed("slack-hook", slackHead(ts, good), true, -1), chunk(new byte[MAX_BODY + 1]));
        sendOnNewChannel(routed("github-hook", head("/webhook/prod/github"), true, 9), last(body));
        sendOnNewChannel(routed("slack-hook", slackHead(ts, good), true, 9), last(body)); // accepted

        String text = metrics.render();
        assertTrue(text.contains(rejected("slack-hook", "mismatch") + " 2.0\n"), text);
        assertTrue(text.contains(rejected("slack-hook", "missing") + " 1.0\n"), text);
        assertTrue(text.contains(rejected("slack-hook", "stale") + " 1.0\n"), text);
        assertTrue(text.contains(rejected("slack-hook", "malformed") + " 1.0\n"), text);
        assertTrue(text.contains(rejected("slack-hook", "body_too_large") + " 1.0\n"), text);
        assertTrue(text.contains(rejected("github-hook", "missing") + " 1.0\n"), text);
        assertEquals(6, text.lines().filter(l -> l.startsWith("nango_gateway_webhook_rejected_total{")).count(),
                text);
        assertTrue(text.contains("# TYPE nango_gateway_webhook_rejected_total counter\n"), text);
    }

    private void sendOnNewChannel(Object... msgs) {
        EmbeddedChannel ch = newChannel();
        ch.writeInbound(msgs);
        ch.finishAndReleaseAll();
    }
}
