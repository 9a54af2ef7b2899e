package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import nangogateway.config.ConfigLoader;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Request buffering: a body is read whole, in memory up to a per-request amount and beyond it in a temporary
 * file, before a connection to Nango is leased; a process-wide memory budget bounds what all bodies hold.
 */
class RequestBufferingTest {
    private static final String HOOK = "/webhook/0e9d1a52-3a44-4f0a-9a4c-3b6c5b8d2f10/github";

    /** A stand-in Nango that counts connections and records each request it reads whole (by Content-Length). */
    static final class CountingUpstream implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0);
        final AtomicInteger connections = new AtomicInteger();
        final BlockingQueue<byte[]> requests = new LinkedBlockingQueue<>();

        CountingUpstream() throws IOException {
            StandIn.acceptEach(server, connections, s -> serve(s));
        }

        private void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                while (true) {
                    ByteArrayOutputStream all = new ByteArrayOutputStream();
                    String head = readHead(in, all);
                    if (head == null) {
                        return;
                    }
                    int length = 0;
                    for (String line : head.split("\r\n")) {
                        if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                            length = Integer.parseInt(line.substring(15).trim());
                        }
                    }
                    all.write(in.readNBytes(length));
                    requests.add(all.toByteArray());
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                            .getBytes(StandardCharsets.US_ASCII));
                }
            } catch (IOException gone) {
                // the gateway closed the connection
            }
        }

        private static String readHead(InputStream in, ByteArrayOutputStream all) throws IOException {
            StringBuilder b = new StringBuilder();
            while (!b.toString().endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) {
                    return null;
                }
                b.append((char) c);
                all.write(c);
            }
            return b.toString();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    private CountingUpstream nango;
    private Gateway gateway;

    private int start(String server, String proxyOptions) throws Exception {
        nango = new CountingUpstream();
        gateway = Gateway.start(ConfigLoader.parse("""
                server: {%s}
                upstreams:
                  nango: {url: "http://127.0.0.1:%d"}
                listeners:
                  - name: public
                    bind: 127.0.0.1:0
                    routes:
                      - {name: webhooks, path: '/webhook/{env}/{provider}', methods: [POST],
                         proxy: {upstream: nango, max_request_body: 1MiB%s}}
                """.formatted(server, nango.port(), proxyOptions), "buffering.yaml"));
        return gateway.port("public");
    }

    @AfterEach
    void stop() throws IOException {
        if (gateway != null) {
            gateway.close();
        }
        if (nango != null) {
            nango.close();
        }
    }

    private static String bodyOf(byte[] request) {
        String all = new String(request, StandardCharsets.ISO_8859_1);
        return all.substring(all.indexOf("\r\n\r\n") + 4);
    }

    @Test
    void aSlowBodyHoldsNoConnectionToNangoUntilItIsWhole() throws Exception {
        int port = start("", "");
        try (RawHttp c = new RawHttp(port)) {
            c.send("POST " + HOOK + " HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
            // The gateway has read the head and half the body; a sentinel exchange on another connection shows
            // it is serving, while this request still holds nothing of Nango's.
            Thread.sleep(300);
            assertEquals(0, nango.connections.get(), "a connection to Nango was opened for half a body");
            c.send("world");
            assertEquals(200, c.read().status());
        }
        byte[] seen = nango.requests.poll(10, TimeUnit.SECONDS);
        String text = new String(seen, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("\r\ncontent-length: 10\r\n") || text.contains("\r\nContent-Length: 10\r\n"), text);
        assertEquals("helloworld", bodyOf(seen));
    }

    @Test
    void withBufferingOffABodyStreamsAsItComes() throws Exception {
        int port = start("", ", request_buffering: false");
        try (RawHttp c = new RawHttp(port)) {
            c.send("POST " + HOOK + " HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (nango.connections.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1, nango.connections.get(), "streaming leases a connection with the first bytes");
            c.send("world");
            assertEquals(200, c.read().status());
        }
        assertEquals("helloworld", bodyOf(nango.requests.poll(10, TimeUnit.SECONDS)));
    }

    @Test
    void aBodyBeyondItsMemoryGoesToATempFileAndArrivesWhole(@TempDir Path temp) throws Exception {
        int port = start("request_buffer_memory: 1KiB, temp_dir: '" + temp + "'", "");
        byte[] payload = new byte[300_000];
        new Random(7).nextBytes(payload);
        try (RawHttp c = new RawHttp(port)) {
            c.send("POST " + HOOK + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int off = 0; off < payload.length; off += 70_000) {
                int n = Math.min(70_000, payload.length - off);
                c.send((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                byte[] chunk = new byte[n];
                System.arraycopy(payload, off, chunk, 0, n);
                c.send(chunk);
                c.send("\r\n");
                try (var files = Files.list(temp)) {
                    assertEquals(0, files.count(), "the temp file has no name in the directory");
                }
            }
            c.send("0\r\n\r\n");
            assertEquals(200, c.read().status());
        }
        byte[] seen = nango.requests.poll(10, TimeUnit.SECONDS);
        String text = new String(seen, StandardCharsets.ISO_8859_1);
        assertTrue(text.toLowerCase(Locale.ROOT).contains("\r\ncontent-length: 300000\r\n"), text.substring(0, 300));
        assertTrue(!text.toLowerCase(Locale.ROOT).contains("transfer-encoding"), "framed by its length");
        byte[] body = new byte[payload.length];
        System.arraycopy(seen, seen.length - payload.length, body, 0, payload.length);
        assertArrayEquals(payload, body);
        try (var files = Files.list(temp)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void aBodyWithNoRoomInMemoryNorOnDiskGets503AndNangoNothing(@TempDir Path temp) throws Exception {
        int port = start("buffer_memory: 16KiB, temp_dir: '" + temp.resolve("missing") + "'", "");
        try (RawHttp c = new RawHttp(port)) {
            c.send("POST " + HOOK + " HTTP/1.1\r\nHost: x\r\nContent-Length: 40000\r\n\r\n" + "x".repeat(40_000));
            RawHttp.Response r = c.read();
            assertEquals(503, r.status());
            assertEquals("1", r.header("Retry-After"));
        }
        assertEquals(0, nango.connections.get());
        assertTrue(gateway.metrics().render().contains("nango_gateway_buffer_refusals_total{store=\"memory\"} "),
                gateway.metrics().render());
    }

    @Test
    void aBodyBeyondTheDiskBudgetGets503AndNangoNothing(@TempDir Path temp) throws Exception {
        int port = start("request_buffer_memory: 1KiB, buffer_disk: 64KiB, temp_dir: '" + temp + "'", "");
        try (RawHttp c = new RawHttp(port)) {
            c.send("POST " + HOOK + " HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + "x".repeat(200_000));
            RawHttp.Response r = c.read();
            assertEquals(503, r.status());
            assertEquals("1", r.header("Retry-After"));
        }
        assertEquals(0, nango.connections.get());
        String metrics = gateway.metrics().render();
        assertTrue(metrics.contains("nango_gateway_buffer_refusals_total{store=\"disk\"} 1.0"), metrics);
        assertTrue(metrics.contains("nango_gateway_buffered_bytes{store=\"disk\"} 0.0"), metrics);
    }

    @Test
    void bodiesThatEndedGiveTheirMemoryBack() throws Exception {
        int port = start("buffer_memory: 64KiB", "");
        for (int i = 0; i < 20; i++) {
            try (RawHttp c = new RawHttp(port)) {
                c.send("POST " + HOOK + " HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n"
                        + "y".repeat(50_000));
                assertEquals(200, c.read().status(), "request " + i);
            }
            assertEquals(50_000, bodyOf(nango.requests.poll(10, TimeUnit.SECONDS)).length());
        }
        assertTrue(gateway.metrics().render().contains("nango_gateway_buffered_bytes{store=\"memory\"} 0.0"),
                gateway.metrics().render());
    }
}
