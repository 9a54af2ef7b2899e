package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Responses from Nango that MockWebServer cannot produce: a raw socket plays Nango and writes exactly the bytes
 * given, in one write.
 */
class UpstreamFramingTest {
    /** The client's request in every case: a bodiless GET on the proxied callback route. */
    private static final String CALLBACK = "GET /oauth/callback?code=a HTTP/1.1\r\nHost: gw.example\r\n\r\n";

    /** Accepts one connection, reads one bodiless request head, writes {@code response} and closes. */
    private static void answerOnce(ServerSocket server, String response) {
        try (Socket s = server.accept()) {
            if (!readHead(s.getInputStream())) {
                return;
            }
            s.getOutputStream().write(response.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static RawHttp.Response through(String nangoResponse, String request) throws Exception {
        try (ServerSocket upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            upstream.setSoTimeout(5000);
            Gateway gw = Gateway.start(TestConfigs.gateway(upstream.getLocalPort()));
            try {
                CompletableFuture<Void> nango = CompletableFuture.runAsync(() -> answerOnce(upstream, nangoResponse));
                RawHttp.Response r = RawHttp.exchange(gw.port("public"), request);
                nango.get(10, TimeUnit.SECONDS);
                return r;
            } finally {
                gw.close();
            }
        }
    }

    @Test
    void aHeadFollowedByABrokenChunkBecomes502NotATruncatedResponse() throws Exception {
        RawHttp.Response r = through("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n",
                CALLBACK);
        assertEquals(502, r.status(), "nothing of the broken response reached the client, so it gets a clean 502");
        assertEquals("close", r.header("Connection"));
    }

    @Test
    void aWholeResponseInOneReadIsRelayedWhole() throws Exception {
        RawHttp.Response r = through("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Nango: 1\r\n"
                        + "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhello",
                CALLBACK);
        assertEquals(201, r.status());
        assertEquals("hello", r.bodyText());
        assertEquals("1", r.header("X-Nango"));
        assertEquals("5", r.header("Content-Length"));
        assertTrue(r.header("Keep-Alive") == null, "the upstream hop's Keep-Alive is not relayed");
    }

    @Test
    void aChunkedResponseInOneReadIsReframedForTheClient() throws Exception {
        RawHttp.Response r = through("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
                        + "3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n",
                CALLBACK);
        assertEquals(200, r.status());
        assertEquals("abcde", r.bodyText());
        assertEquals("chunked", r.header("Transfer-Encoding"));
    }

    /**
     * Heads a lenient parser would repair or read differently than a client might (response splitting, a
     * smuggled second response): the client gets the gateway's own 502, never a byte of what Nango sent.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
            "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded: in\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nX-A: 1\rSet-Cookie: injected=1\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 2\r\n\r\nok",
    })
    void aMalformedHeadFromNangoBecomesTheGateways502(String nangoResponse) throws Exception {
        RawHttp.Response r = through(nangoResponse, CALLBACK);
        assertEquals(502, r.status(), nangoResponse);
        assertNull(r.header("Set-Cookie"));
        assertNull(r.header("X-A"));
    }

    @Test
    void headersNangosConnectionHeaderNamesAreNotRelayed() throws Exception {
        RawHttp.Response r = through("HTTP/1.1 200 OK\r\nConnection: X-Hop\r\nX-Hop: secret\r\nX-Kept: 1\r\n"
                + "Content-Length: 2\r\n\r\nok", CALLBACK);
        assertEquals(200, r.status());
        assertEquals("ok", r.bodyText());
        assertNull(r.header("X-Hop"));
        assertEquals("1", r.header("X-Kept"));
    }

    /**
     * On a kept-alive connection, Nango answers the first request, then sends part of a head for the second and
     * closes. Some of an answer came back, so the request may have been acted on: the client gets a 502 and the
     * request is not sent again (a close before any byte would be retried once).
     */
    @Test
    void partOfAHeadThenACloseIs502AndNoRetry() throws Exception {
        try (ServerSocket upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            upstream.setSoTimeout(5000);
            java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
            Gateway gw = Gateway.start(TestConfigs.gateway(upstream.getLocalPort()));
            try {
                CompletableFuture<Void> nango = CompletableFuture.runAsync(() -> {
                    try {
                        try (Socket s = upstream.accept()) {
                            assertTrue(readHead(s.getInputStream()));
                            requests.incrementAndGet();
                            s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                                    .getBytes(StandardCharsets.ISO_8859_1));
                            assertTrue(readHead(s.getInputStream()));
                            requests.incrementAndGet();
                            s.getOutputStream().write("HTTP/1.1 200 OK\r\nX-Partial: 1\r\n"
                                    .getBytes(StandardCharsets.ISO_8859_1));
                            s.getOutputStream().flush();
                        }
                        upstream.setSoTimeout(1500); // a retry would connect again: wait for one a while
                        try (Socket again = upstream.accept()) {
                            if (readHead(again.getInputStream())) {
                                requests.incrementAndGet();
                            }
                        } catch (java.net.SocketTimeoutException expected) {
                            // no retry came
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                try (RawHttp c = new RawHttp(gw.port("public"))) {
                    c.send(CALLBACK);
                    assertEquals(200, c.read().status());
                    c.send(CALLBACK);
                    assertEquals(502, c.read().status());
                }
                nango.get(10, TimeUnit.SECONDS);
                assertEquals(2, requests.get(), "the second request reached Nango once");
            } finally {
                gw.close();
            }
        }
    }

    /** Reads one bodiless request head; false when the connection closed first. */
    private static boolean readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return false;
            }
            head.write(b);
        }
        return true;
    }
}
