package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import nangogateway.config.ConfigLoader;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Webhook signatures checked on the raw body before anything reaches Nango. */
class WebhookVerifyTest {
    private static final String SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
    private MockWebServer nango;
    private Gateway gateway;
    private int port;

    @BeforeEach
    void start(@TempDir Path dir) throws Exception {
        nango = new MockWebServer();
        nango.start();
        Path slack = dir.resolve("slack-secret");
        Files.writeString(slack, SECRET + "\n");
        Path github = dir.resolve("github-secret");
        Files.writeString(github, "It's a Secret to Everybody");
        gateway = Gateway.start(ConfigLoader.parse("""
                upstreams:
                  nango: {url: "http://127.0.0.1:%d"}
                listeners:
                  - name: public
                    bind: 127.0.0.1:0
                    routes:
                      - name: slack-webhook
                        path: /webhook/{env}/slack
                        methods: [POST]
                        proxy: {upstream: nango, max_request_body: 64KiB, verify: {provider: slack, secret_file: %s}}
                      - name: github-webhook
                        path: /webhook/{env}/github-app
                        methods: [POST]
                        proxy: {upstream: nango, verify: {provider: github, secret_file: %s}}
                      - name: metrics
                        path: /metrics
                        metrics: {}
                """.formatted(nango.getPort(), slack, github), "test.yaml"));
        port = gateway.port("public");
    }

    @AfterEach
    void stop() {
        gateway.close();
        nango.close();
    }

    private static String slackSignature(long ts, String body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "v0=" + HexFormat.of().formatHex(mac.doFinal(("v0:" + ts + ":" + body).getBytes(StandardCharsets.UTF_8)));
    }

    private RawHttp.Response slack(String body, long ts, String signature, boolean chunked) throws Exception {
        String head = "POST /webhook/e1/slack HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "X-Slack-Request-Timestamp: " + ts + "\r\nX-Slack-Signature: " + signature + "\r\n";
        if (chunked) {
            return RawHttp.exchange(port, head + "Transfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n");
        }
        return RawHttp.exchange(port, head + "Content-Length: " + body.length() + "\r\n\r\n" + body);
    }

    @Test
    void aGoodSlackSignaturePassesWithTheBodyByteForByte() throws Exception {
        nango.enqueue(new MockResponse.Builder().body("ok").build());
        nango.enqueue(new MockResponse.Builder().body("ok").build());
        String body = "{\"type\":\"event_callback\",\"text\":\"caf\\\\u00e9 \\\\n\"}";
        long now = System.currentTimeMillis() / 1000;
        assertEquals(200, slack(body, now, slackSignature(now, body), false).status());
        RecordedRequest seen = nango.takeRequest(5, TimeUnit.SECONDS);
        assertEquals(body, seen.getBody().utf8());
        assertEquals(slackSignature(now, body), seen.getHeaders().get("X-Slack-Signature"));
        assertEquals(200, slack(body, now, slackSignature(now, body), true).status(), "chunked works too");
        assertEquals(body, nango.takeRequest(5, TimeUnit.SECONDS).getBody().utf8());
    }

    @Test
    void badMissingOrStaleSignaturesGet401AndNothingReachesNango() throws Exception {
        String body = "{\"type\":\"event_callback\"}";
        long now = System.currentTimeMillis() / 1000;
        assertEquals(401, slack(body, now, slackSignature(now, body + " "), false).status());
        assertEquals(401, slack(body, now - 600, slackSignature(now - 600, body), false).status());
        assertEquals(401, RawHttp.exchange(port, "POST /webhook/e1/slack HTTP/1.1\r\nHost: x\r\n"
                + "Content-Length: 2\r\n\r\n{}").status());
        assertEquals(401, RawHttp.exchange(port, "POST /webhook/e1/github-app HTTP/1.1\r\nHost: x\r\n"
                + "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\r\n"
                + "Content-Length: 13\r\n\r\nHello, World?").status());
        assertEquals(0, nango.getRequestCount());
        String metrics = RawHttp.exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").bodyText();
        assertTrue(metrics.contains("nango_gateway_webhook_rejected_total{listener=\"public\",reason=\"stale\","
                + "route=\"slack-webhook\"} 1.0\n"), metrics);
        assertTrue(metrics.contains("nango_gateway_webhook_rejected_total{listener=\"public\",reason=\"mismatch\","
                + "route=\"github-webhook\"} 1.0\n"), metrics);
    }

    @Test
    void githubDocumentedSignaturePasses() throws Exception {
        nango.enqueue(new MockResponse.Builder().body("ok").build());
        assertEquals(200, RawHttp.exchange(port, "POST /webhook/e1/github-app HTTP/1.1\r\nHost: x\r\n"
                + "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\r\n"
                + "Content-Length: 13\r\n\r\nHello, World!").status());
        assertEquals("Hello, World!", nango.takeRequest(5, TimeUnit.SECONDS).getBody().utf8());
    }

    @Test
    void aBodyOverTheCapIsRefusedBeforeVerification() throws Exception {
        String big = "x".repeat(70 * 1024);
        long now = System.currentTimeMillis() / 1000;
        assertEquals(413, slack(big, now, slackSignature(now, big), true).status());
        assertEquals(0, nango.getRequestCount());
    }
}
