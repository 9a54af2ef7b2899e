package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import nangogateway.config.ConfigLoader;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.Test;

/**
 * When every connection an upstream may have is busy, a request waits in line for the next one to come free, up to
 * {@code connect_timeout}, instead of failing at once; past the wait it gets 503 with Retry-After.
 */
class UpstreamQueueTest {

    /** A stand-in Nango that answers each request after {@code delayMillis} (never, when negative). */
    static final class SlowUpstream implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0);
        final AtomicInteger connections = new AtomicInteger();

        SlowUpstream(long delayMillis) throws IOException {
            this(delayMillis, "");
        }

        /** Each answer followed, in the same write, by {@code trailing}: bytes no request asked for. */
        SlowUpstream(long delayMillis, String trailing) throws IOException {
            StandIn.acceptEach(server, connections, s -> serve(s, delayMillis, trailing));
        }

        private static void serve(Socket s, long delayMillis, String trailing) {
            try (s) {
                InputStream in = s.getInputStream();
                while (true) {
                    if (!StandIn.skipHead(in)) {
                        return;
                    }
                    if (delayMillis < 0) {
                        Thread.sleep(Long.MAX_VALUE);
                    }
                    Thread.sleep(delayMillis);
                    s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + trailing)
                            .getBytes(StandardCharsets.US_ASCII));
                }
            } catch (IOException | InterruptedException gone) {
                // the gateway closed the connection
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** Two connections in all: one per event loop of the gateway's two. */
    private static Gateway gateway(int upstreamPort, String connectTimeout) throws Exception {
        return Gateway.start(ConfigLoader.parse("""
                upstreams:
                  nango: {url: "http://127.0.0.1:%d", max_connections: 2, connect_timeout: %s,
                          response_timeout: 10s}
                listeners:
                  - name: public
                    bind: 127.0.0.1:0
                    routes:
                      - {name: r, path: /oauth/callback, methods: [GET], proxy: {upstream: nango}}
                """.formatted(upstreamPort, connectTimeout), "queue.yaml"));
    }

    private static final String GET = "GET /oauth/callback HTTP/1.1\r\nHost: x\r\n\r\n";

    @Test
    void aBurstWaitsForTheBusyConnectionsInsteadOfFailing() throws Exception {
        try (SlowUpstream nango = new SlowUpstream(100); Gateway g = gateway(nango.server.getLocalPort(), "5s")) {
            int port = g.port("public");
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> answers = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    answers.add(pool.submit(() -> RawHttp.exchange(port, GET).status()));
                }
                for (Future<Integer> a : answers) {
                    assertEquals(200, a.get());
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(nango.connections.get() <= 2, "never more than max_connections: " + nango.connections.get());
        }
    }

    /**
     * Bytes Nango sends after a response, in the same read, belong to no request: they close that connection. A
     * request waiting in line for it gets a fresh one, never those bytes read as its own (broken) response.
     */
    @Test
    void bytesAfterAResponseNeverReachTheRequestWaitingForItsConnection() throws Exception {
        try (SlowUpstream nango = new SlowUpstream(150, "HTTP/1.1 999 stray\r\n\r\n");
                Gateway g = gateway(nango.server.getLocalPort(), "5s")) {
            int port = g.port("public");
            ExecutorService pool = Executors.newFixedThreadPool(6);
            try {
                List<Future<Integer>> answers = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    answers.add(pool.submit(() -> RawHttp.exchange(port, GET).status()));
                }
                for (Future<Integer> a : answers) {
                    assertEquals(200, a.get());
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aRequestThatFindsNoConnectionInTimeGets503WithRetryAfter() throws Exception {
        try (SlowUpstream nango = new SlowUpstream(-1); Gateway g = gateway(nango.server.getLocalPort(), "300ms")) {
            int port = g.port("public");
            // Both connections taken by requests Nango never answers (one per event loop, as connections are
            // spread over the loops in turn), then one request more on each loop.
            List<RawHttp> stuck = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    RawHttp c = new RawHttp(port);
                    c.send(GET);
                    stuck.add(c);
                }
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (nango.connections.get() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertEquals(2, nango.connections.get());
                for (int i = 0; i < 2; i++) {
                    RawHttp.Response r = RawHttp.exchange(port, GET);
                    assertEquals(503, r.status());
                    assertEquals("1", r.header("Retry-After"));
                }
            } finally {
                for (RawHttp c : stuck) {
                    c.close();
                }
            }
            String text = g.metrics().render();
            assertTrue(text.contains("nango_gateway_upstream_errors_total{kind=\"busy\",upstream=\"nango\"} 2.0"),
                    text);
            assertEquals(2, nango.connections.get(), "no connection beyond the limit");
        }
    }
}
