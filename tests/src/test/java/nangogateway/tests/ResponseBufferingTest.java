package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import nangogateway.config.ConfigLoader;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Response buffering: a response is read ahead of a slow client (memory, then a temporary file), so Nango's
 * connection goes back to the pool when Nango is done; a client that stops taking its response is cut off.
 */
class ResponseBufferingTest {
    /** Larger than what the kernel's socket buffers on both sides of loopback hold (4 MiB of send buffer at most). */
    private static final int SIZE = 16 * 1024 * 1024;

    /** A stand-in Nango answering every request with {@link #SIZE} bytes of a known pattern, kept alive. */
    static final class BigUpstream implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0);
        final AtomicInteger connections = new AtomicInteger();
        final AtomicInteger answered = new AtomicInteger();

        BigUpstream() throws IOException {
            StandIn.acceptEach(server, connections, s -> serve(s));
        }

        private void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                while (StandIn.skipHead(in)) {
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + SIZE
                            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    byte[] block = new byte[64 * 1024];
                    for (int at = 0; at < SIZE; at += block.length) {
                        for (int i = 0; i < block.length; i++) {
                            block[i] = pattern(at + i);
                        }
                        out.write(block);
                    }
                    out.flush();
                    answered.incrementAndGet();
                }
            } catch (IOException gone) {
                // the gateway closed the connection
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    static byte pattern(long i) {
        return (byte) (i * 31 + (i >>> 11));
    }

    private BigUpstream nango;
    private Gateway gateway;

    private int start(String server, String proxyOptions, String limits) throws Exception {
        nango = new BigUpstream();
        gateway = Gateway.start(ConfigLoader.parse("""
                server: {%s}
                upstreams:
                  nango: {url: "http://127.0.0.1:%d"}
                listeners:
                  - name: public
                    bind: 127.0.0.1:0
                    limits: {%s}
                    routes:
                      - {name: big, path: /big, methods: [GET], proxy: {upstream: nango%s}}
                """.formatted(server, nango.server.getLocalPort(), limits, proxyOptions), "responses.yaml"));
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

    /** A client with a small receive window that asks for /big and reads only the response head. */
    private static Socket stalledClient(int port) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(16 * 1024);
        s.connect(new InetSocketAddress("127.0.0.1", port));
        s.setSoTimeout(20_000);
        s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        InputStream in = s.getInputStream();
        assertTrue(StandIn.skipHead(in), "a response head");
        return s;
    }

    /** Reads the whole body and checks every byte of the pattern; returns how many bytes came before EOF. */
    private static long readBody(InputStream in, long expected) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long at = 0;
        while (at < expected) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, expected - at));
            if (n < 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                if (buf[i] != pattern(at + i)) {
                    throw new AssertionError("byte " + (at + i) + " is wrong");
                }
            }
            at += n;
        }
        return at;
    }

    private double metric(String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(gateway.metrics().render());
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    private static final String IDLE = "nango_gateway_upstream_connections{state=\"idle\",upstream=\"nango\"}";
    private static final String DISK = "nango_gateway_buffered_bytes{store=\"disk\"}";
    private static final String MEMORY = "nango_gateway_buffered_bytes{store=\"memory\"}";

    private boolean waitFor(String series, Predicate<Double> ok) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (ok.test(metric(series))) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    @Test
    void aSlowReaderFreesNangosConnectionWhenNangoIsDone(@TempDir Path temp) throws Exception {
        int port = start("temp_dir: '" + temp + "'", "", "");
        try (Socket s = stalledClient(port)) {
            assertTrue(waitFor(IDLE, v -> v == 1.0), "Nango's connection is back in the pool while the client reads"
                    + " nothing: " + gateway.metrics().render());
            assertEquals(1, nango.answered.get());
            assertTrue(metric(DISK) > 0, "the part the client has not taken waits on disk");
            try (var files = Files.list(temp)) {
                assertEquals(0, files.count(), "the temp file has no name in the directory");
            }
            InputStream in = s.getInputStream();
            assertEquals(SIZE, readBody(in, SIZE), "the whole response, byte for byte");
            // The same connection serves the next request: the end of the response followed the file.
            s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String head = new String(in.readNBytes(17), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 200 OK\r\n", head);
        }
        assertTrue(waitFor(DISK, v -> v == 0.0), "the disk budget is given back");
        assertTrue(waitFor(MEMORY, v -> v == 0.0), "the memory budget is given back");
        assertEquals(1, nango.connections.get(), "one connection to Nango, reused");
    }

    @Test
    void withBufferingOffASlowReaderHoldsNangosConnection() throws Exception {
        int port = start("", ", response_buffering: false", "");
        try (Socket s = stalledClient(port)) {
            assertTrue(waitFor("nango_gateway_upstream_connections{state=\"open\",upstream=\"nango\"}",
                    v -> v == 1.0));
            Thread.sleep(1000);
            assertEquals(0.0, metric(IDLE), "unbuffered, the connection stays leased while the client stalls");
            assertEquals(0.0, metric(DISK));
            assertEquals(SIZE, readBody(s.getInputStream(), SIZE));
        }
        assertTrue(waitFor(IDLE, v -> v == 1.0));
    }

    @Test
    void pastTheDiskBudgetTheResponseWaitsForTheClientAndStillArrivesWhole(@TempDir Path temp) throws Exception {
        int port = start("response_buffer_memory: 64KiB, buffer_disk: 2MiB, temp_dir: '" + temp + "'", "", "");
        try (Socket s = stalledClient(port)) {
            assertTrue(waitFor(DISK, v -> v > 0));
            Thread.sleep(1000);
            assertEquals(0.0, metric(IDLE), "no room left: the connection waits for the client");
            assertTrue(metric(DISK) <= 2 * 1024 * 1024, "within the disk budget: " + metric(DISK));
            assertTrue(metric("nango_gateway_buffer_refusals_total{store=\"disk\"}") > 0);
            assertEquals(SIZE, readBody(s.getInputStream(), SIZE));
        }
        assertTrue(waitFor(IDLE, v -> v == 1.0));
        assertTrue(waitFor(DISK, v -> v == 0.0));
    }

    @Test
    void aClientThatStopsTakingItsResponseIsCutOff(@TempDir Path temp) throws Exception {
        int port = start("temp_dir: '" + temp + "'", "",
                "header_timeout: 1s, body_timeout: 1s, keepalive_timeout: 1s, send_timeout: 1s");
        try (Socket s = stalledClient(port)) {
            Thread.sleep(4000); // the client takes nothing for longer than send_timeout
            long got;
            try {
                got = readBody(s.getInputStream(), SIZE);
            } catch (SocketException reset) {
                got = -1;
            }
            assertTrue(got < SIZE, "the stalled client was cut off, after " + got + " bytes");
        }
        assertTrue(waitFor(DISK, v -> v == 0.0), "its file went with it");
    }

    @Test
    void aClientReadingSteadilyIsNeverCutOff() throws Exception {
        int port = start("", "", "header_timeout: 1s, body_timeout: 1s, keepalive_timeout: 1s, send_timeout: 1s");
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertTrue(StandIn.skipHead(in), "a response head");
            // 16 MiB at about 4 MiB/s: several seconds of a client that always takes bytes, never all at once.
            byte[] buf = new byte[64 * 1024];
            long at = 0;
            while (at < SIZE) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, SIZE - at));
                assertTrue(n > 0, "cut off after " + at + " bytes");
                at += n;
                if (at % (256 * 1024) < n) {
                    Thread.sleep(60);
                }
            }
            assertEquals(SIZE, at);
        }
    }
}
