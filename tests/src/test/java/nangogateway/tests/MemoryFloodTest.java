package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mockwebserver3.MockWebServer;
import nangogateway.config.ConfigLoader;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many connections each sending a large body with a garbage webhook signature (no secret needed) meet the
 * process's memory budget: the ones it cannot hold get 503, the rest 401, and the gateway keeps serving, its event
 * loops alive and its budget whole again afterwards. Without the budget, direct memory ran out on both event loops.
 */
class MemoryFloodTest {
    private static final int CONNECTIONS = 40;
    private static final int BODY = 1024 * 1024;

    @Test
    void aFloodOfUnsignedBodiesIsRefusedWithinTheBudget(@TempDir Path dir) throws Exception {
        Path secret = dir.resolve("slack-secret");
        Files.writeString(secret, "8f742231b10e8888abcd99yyyzzz85a5");
        try (MockWebServer nango = new MockWebServer()) {
            nango.start();
            try (Gateway g = Gateway.start(ConfigLoader.parse("""
                    server: {buffer_memory: 4MiB}
                    upstreams:
                      nango: {url: "http://127.0.0.1:%d"}
                    listeners:
                      - name: public
                        bind: 127.0.0.1:0
                        routes:
                          - name: slack-webhook
                            path: /webhook/{env}/slack
                            methods: [POST]
                            proxy: {upstream: nango, max_request_body: 1MiB, verify: {provider: slack, secret_file: %s}}
                      - name: admin
                        bind: 127.0.0.1:0
                        admin: true
                    """.formatted(nango.getPort(), secret), "flood.yaml"))) {
                int port = g.port("public");
                String head = "POST /webhook/prod/slack HTTP/1.1\r\nHost: gw\r\nContent-Length: " + BODY
                        + "\r\nX-Slack-Request-Timestamp: " + System.currentTimeMillis() / 1000
                        + "\r\nX-Slack-Signature: v0=" + "0".repeat(64) + "\r\n\r\n";
                byte[] half = new byte[BODY / 2];
                List<RawHttp> clients = new ArrayList<>();
                try {
                    // Every connection holds half a body at once: 20 MiB wanted against a 4 MiB budget.
                    for (int i = 0; i < CONNECTIONS; i++) {
                        RawHttp c = new RawHttp(port);
                        clients.add(c);
                        c.send(head);
                        c.send(half);
                    }
                    int refused = 0;
                    int unsigned = 0;
                    for (RawHttp c : clients) {
                        // A refused body was answered at once (and its connection closed); a held one waits for
                        // the rest of its body, then fails its signature check.
                        c.setTimeout(500);
                        RawHttp.Response r;
                        try {
                            r = c.read();
                        } catch (java.net.SocketTimeoutException held) {
                            c.setTimeout(10_000);
                            c.send(half);
                            r = c.read();
                        }
                        assertTrue(r.status() == 503 || r.status() == 401, "status " + r.status());
                        if (r.status() == 503) {
                            assertEquals("1", r.header("Retry-After"));
                            refused++;
                        } else {
                            unsigned++;
                        }
                    }
                    assertTrue(refused > 0, "the budget refused some bodies");
                    assertEquals(CONNECTIONS, refused + unsigned);
                } finally {
                    for (RawHttp c : clients) {
                        c.close();
                    }
                }
                assertEquals(0, nango.getRequestCount(), "nothing reached Nango");
                RawHttp.Response health = RawHttp.exchange(g.port("admin"), "GET /healthz HTTP/1.1\r\nHost: l\r\n\r\n");
                assertEquals(200, health.status(), "the event loops still serve");
                String metrics = RawHttp.exchange(g.port("admin"), "GET /metrics HTTP/1.1\r\nHost: l\r\n\r\n").bodyText();
                assertTrue(metrics.contains("nango_gateway_buffered_bytes{store=\"memory\"} 0.0"), metrics);
            }
        }
    }
}
