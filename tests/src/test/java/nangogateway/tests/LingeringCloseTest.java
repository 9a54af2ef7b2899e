package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocket;
import mockwebserver3.MockWebServer;
import nangogateway.config.ConfigLoader;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client refused in the middle of sending a body still reads its answer. The gateway answers 413 as soon as it
 * has read the head, with most of the body still unread in its socket: closing then would send a TCP reset, and the
 * reset makes the client's kernel drop the answer before the client reads it. The gateway ends its side first and
 * discards what still comes (lingering close), over plain TCP and over TLS, and closes once the client has.
 */
class LingeringCloseTest {
    private static final int BODY = 4 * 1024 * 1024;
    /** Sent in one go before reading: far more than the gateway reads before it answers. */
    private static final int SENT_FIRST = 1024 * 1024;

    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?i)\r\ncontent-length: *(\\d+)");

    private MockWebServer nango;
    private Gateway gateway;

    @BeforeEach
    void start(@TempDir Path dir) throws Exception {
        TestCertificates.generate(dir, "gw.example", "EC");
        nango = new MockWebServer();
        nango.start();
        gateway = Gateway.start(ConfigLoader.parse("""
                upstreams:
                  nango: {url: "http://127.0.0.1:%d"}
                listeners:
                  - name: plain
                    bind: 127.0.0.1:0
                    limits: {header_timeout: 1s}
                    routes: &routes
                      - name: webhooks
                        path: /webhook/{env}/{key}
                        methods: [POST]
                        proxy: {upstream: nango, max_request_body: 64KiB}
                  - name: tls
                    bind: 127.0.0.1:0
                    tls: {cert: %s, key: %s, http2: false}
                    routes: *routes
                """.formatted(nango.getPort(), dir.resolve("fullchain.pem"), dir.resolve("privkey.pem")),
                "linger.yaml"));
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        nango.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void aClientRefusedMidBodyReadsItsAnswer(String listener) throws Exception {
        for (int round = 0; round < 5; round++) {
            try (Socket s = connect(listener)) {
                OutputStream out = s.getOutputStream();
                out.write(("POST /webhook/prod/github HTTP/1.1\r\nHost: gw\r\nContent-Length: " + BODY
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(new byte[SENT_FIRST]);
                out.flush();
                String answer = readAnswer(s.getInputStream());
                assertTrue(answer.startsWith("HTTP/1.1 413 "), "round " + round + ": " + answer);
                assertTrue(answer.toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close\r\n"), answer);
            }
        }
        assertEquals(0, nango.getRequestCount(), "a refused body reaches nothing");
    }

    @Test
    void aClientThatGoesOnSendingIsReadUntilItStopsThenClosed() throws Exception {
        try (Socket s = connect("plain")) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /webhook/prod/github HTTP/1.1\r\nHost: gw\r\nContent-Length: " + BODY
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            // The whole body goes out after the answer came: the gateway takes it all (and drops it), so the
            // client's writes never block or fail.
            for (int sent = 0; sent < BODY; sent += 64 * 1024) {
                out.write(new byte[64 * 1024]);
            }
            out.flush();
            s.shutdownOutput();
            String answer = readAll(s.getInputStream()); // EOF: the gateway closed once the client had
            assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
        }
    }

    @Test
    void whatATlsClientSendsWhileTheGatewayLingersIsNeverHeld() throws Exception {
        int port = gateway.port("tls");
        try (Socket raw = new Socket("127.0.0.1", port)) {
            raw.setSoTimeout(15_000);
            // TLS layered on a socket the test keeps, so that bytes can follow the client's close_notify.
            SSLSocket tls = (SSLSocket) TestCertificates.trustingAny().getSocketFactory()
                    .createSocket(raw, "127.0.0.1", port, false);
            tls.startHandshake();
            tls.getOutputStream().write(("POST /webhook/prod/github HTTP/1.1\r\nHost: gw\r\nContent-Length: " + BODY
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            tls.getOutputStream().flush();
            assertTrue(readAnswer(tls.getInputStream()).startsWith("HTTP/1.1 413 "));
            tls.close();
            // Bytes that are no TLS record the gateway could read: once its TLS side was shut, a TLS engine takes
            // no more input, and each of these bytes held in the TLS handler's buffer would stay until the close.
            long before = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            OutputStream out = raw.getOutputStream();
            byte[] junk = new byte[1024 * 1024];
            for (int i = 0; i < 256; i++) {
                out.write(junk); // 256 MiB: dropped as they come off the socket, so the writes never stall
            }
            out.flush();
            long held = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - before;
            assertTrue(held < 32L * 1024 * 1024, "held " + held + " bytes of what the client sent");
            raw.shutdownOutput();
            assertEquals(-1, raw.getInputStream().read(), "closed once the client's FIN came");
        }
    }

    @Test
    void aSlowHeadGetsIts408AndNoLingering() throws Exception {
        try (Socket s = connect("plain")) {
            OutputStream out = s.getOutputStream();
            out.write("POST /webhook/prod/github HTTP/1.1\r\nHost: gw\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertTrue(readAnswer(s.getInputStream()).startsWith("HTTP/1.1 408 "));
            // A slow-loris that goes on trickling: were its connection lingering, each byte would keep it 5 s more
            // (30 s in all); closed, the next writes fail.
            for (int i = 0; i < 50; i++) {
                try {
                    out.write('x');
                    out.flush();
                } catch (IOException closed) {
                    return;
                }
                Thread.sleep(100);
            }
            throw new AssertionError("the connection of a timed-out head is still open 5 s after its 408");
        }
    }

    @Test
    void aLingeringConnectionIsClosedWhenTheGatewayStops() throws Exception {
        try (Socket s = connect("plain")) {
            s.getOutputStream().write(("POST /webhook/prod/github HTTP/1.1\r\nHost: gw\r\nContent-Length: " + BODY
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            byte[] head = new byte[12];
            assertEquals(12, in.readNBytes(head, 0, 12));
            assertEquals("HTTP/1.1 413", new String(head, StandardCharsets.US_ASCII));
            long started = System.nanoTime();
            gateway.shutdown(java.time.Duration.ofSeconds(20));
            gateway = null;
            // A stop drains in-flight requests, not clients that were already answered: it ends well before the
            // lingering timers (5 s idle) or the drain deadline would.
            assertTrue(System.nanoTime() - started < 4_000_000_000L, "the stop waited on a lingering client");
        }
    }

    private Socket connect(String listener) throws Exception {
        int port = gateway.port(listener);
        if (listener.equals("plain")) {
            Socket s = new Socket("127.0.0.1", port);
            s.setSoTimeout(15_000);
            return s;
        }
        SSLSocket s = (SSLSocket) TestCertificates.trustingAny().getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(15_000);
        s.startHandshake();
        return s;
    }

    /** One answer: its head, then as many bytes as its Content-Length says; a reset before the end fails. */
    private static String readAnswer(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            while (!got.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b == -1) {
                    throw new IOException("closed before the head ended");
                }
                got.write(b);
            }
            String head = got.toString(StandardCharsets.ISO_8859_1);
            Matcher m = CONTENT_LENGTH.matcher(head);
            assertTrue(m.find(), head);
            got.write(in.readNBytes(Integer.parseInt(m.group(1))));
        } catch (IOException e) {
            throw new IOException("after " + got.size() + " bytes (" + got.toString(StandardCharsets.ISO_8859_1)
                    + "): " + e, e);
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    /** Everything until the gateway closes; a reset before the end fails the test with what was read so far. */
    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) != -1; ) {
                got.write(buf, 0, n);
            }
        } catch (IOException e) {
            throw new IOException("after " + got.size() + " bytes (" + got.toString(StandardCharsets.ISO_8859_1)
                    + "): " + e, e);
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }
}
