package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import nangogateway.config.ConfigLoader;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.Test;

/**
 * A WebSocket tunnel gives its connection slot back when it closes: one address (a company's NAT) that opened
 * and closed far more Connect popups over time than {@code max_connections_per_client} is still served.
 */
class WebSocketAccountingTest {
    private static final String UPGRADE = "GET / HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    /** A stand-in Nango that switches every connection to WebSocket and holds it until the gateway closes it. */
    private static void serveUpgrades(ServerSocket server, ExecutorService pool) {
        pool.submit(() -> {
            while (!server.isClosed()) {
                Socket s = server.accept();
                pool.submit(() -> {
                    try (s) {
                        readHead(s.getInputStream());
                        s.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        while (s.getInputStream().read() >= 0) {
                            // until the tunnel closes
                        }
                    }
                    return null;
                });
            }
            return null;
        });
    }

    private static String readHead(InputStream in) throws Exception {
        StringBuilder b = new StringBuilder();
        while (!b.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.append((char) c);
        }
        return b.toString();
    }

    /**
     * Opens a tunnel and closes it; true once one was switched. The gateway sees a close a moment after the client
     * makes it, so a few of the last tunnels may still hold their slots: a refused attempt is tried again, a few
     * times. A slot that never comes back fails every attempt.
     */
    private static boolean openTunnel(int port) throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (Socket c = new Socket("127.0.0.1", port)) {
                c.setSoTimeout(5000);
                OutputStream out = c.getOutputStream();
                out.write(UPGRADE.getBytes(StandardCharsets.US_ASCII));
                if (readHead(c.getInputStream()).startsWith("HTTP/1.1 101 ")) {
                    return true;
                }
            } catch (java.io.IOException refused) {
                // closed at accept: over the per-client cap for now
            }
            Thread.sleep(20);
        }
        return false;
    }

    @Test
    void aThousandClosedTunnelsFromOneAddressLockNobodyOut() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (ServerSocket nango = new ServerSocket(0)) {
            serveUpgrades(nango, pool);
            try (Gateway g = Gateway.start(ConfigLoader.parse("""
                    upstreams:
                      nango: {url: "http://127.0.0.1:%d"}
                    listeners:
                      - name: public
                        bind: 127.0.0.1:0
                        max_connections_per_client: 8
                        routes:
                          - {name: sdk-websocket, path: /, websocket: true, proxy: {upstream: nango}}
                          - {name: health, path: /health, methods: [GET], respond: {status: 200, body: ok}}
                    """.formatted(nango.getLocalPort()), "ws.yaml"))) {
                int port = g.port("public");
                for (int i = 0; i < 1000; i++) {
                    assertTrue(openTunnel(port), "tunnel " + i + " refused");
                }
                RawHttp.Response r = RawHttp.exchange(port, "GET /health HTTP/1.1\r\nHost: gw\r\n\r\n");
                assertEquals(200, r.status());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
