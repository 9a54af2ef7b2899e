package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import nangogateway.config.ConfigLoader;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.Test;

/**
 * Each way an upstream exchange fails is counted under its own kind, whatever the upstream is called: the kind is
 * set where the failure happens, never read back out of a message (an upstream whose name holds "cap" once made
 * every failure a bad response).
 */
class UpstreamFailureKindsTest {

    private static Gateway gateway(int upstreamPort) throws Exception {
        return Gateway.start(ConfigLoader.parse("""
                upstreams:
                  capybara: {url: "http://127.0.0.1:%d", connect_timeout: 500ms, response_timeout: 300ms}
                listeners:
                  - name: public
                    bind: 127.0.0.1:0
                    routes:
                      - {name: r, path: /oauth/callback, methods: [GET], proxy: {upstream: capybara}}
                """.formatted(upstreamPort), "kinds.yaml"));
    }

    private static String get() {
        return "GET /oauth/callback HTTP/1.1\r\nHost: x\r\n\r\n";
    }

    private static void assertCounted(Gateway g, String kind) {
        String text = g.metrics().render();
        assertTrue(text.contains("nango_gateway_upstream_errors_total{kind=\"" + kind + "\",upstream=\"capybara\"} 1.0"),
                text);
        assertEquals(1, text.lines().filter(l -> l.startsWith("nango_gateway_upstream_errors_total{")).count(), text);
    }

    @Test
    void aRefusedConnectionIsConnect() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        try (Gateway g = gateway(closed)) {
            assertEquals(502, RawHttp.exchange(g.port("public"), get()).status());
            assertCounted(g, "connect");
        }
    }

    @Test
    void noAnswerInTimeIsTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0); Gateway g = gateway(silent.getLocalPort())) {
            assertEquals(504, RawHttp.exchange(g.port("public"), get()).status());
            assertCounted(g, "timeout");
        }
    }

    @Test
    void aMalformedAnswerIsBadResponse() throws Exception {
        try (ServerSocket bad = new ServerSocket(0); Gateway g = gateway(bad.getLocalPort())) {
            Thread upstream = new Thread(() -> {
                try (Socket s = bad.accept()) {
                    s.getInputStream().read(new byte[4096]);
                    OutputStream out = s.getOutputStream();
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBad Name: x\r\n\r\nok"
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    Thread.sleep(500);
                } catch (Exception ignored) {
                    // the gateway closes the connection: expected
                }
            });
            upstream.start();
            assertEquals(502, RawHttp.exchange(g.port("public"), get()).status());
            upstream.join(5000);
            assertCounted(g, "bad_response");
        }
    }

    @Test
    void aCloseBeforeTheAnswerIsClosed() throws Exception {
        try (ServerSocket closing = new ServerSocket(0); Gateway g = gateway(closing.getLocalPort())) {
            Thread upstream = new Thread(() -> {
                try (Socket s = closing.accept()) {
                    s.getInputStream().read(new byte[4096]);
                } catch (Exception ignored) {
                    // closed right after the request: the point of the test
                }
            });
            upstream.start();
            assertEquals(502, RawHttp.exchange(g.port("public"), get()).status());
            upstream.join(5000);
            assertCounted(g, "closed");
        }
    }
}
