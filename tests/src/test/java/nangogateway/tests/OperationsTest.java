package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ServerSettings;
import nangogateway.config.TlsConfig;
import nangogateway.server.Gateway;
import nangogateway.server.GatewayException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reload without a dropped request, graceful drain, listeners added and removed, TLS and certificate reload. */
class OperationsTest {
    private MockWebServer nango;
    private Gateway gateway;

    @BeforeEach
    void start() throws Exception {
        nango = new MockWebServer();
        nango.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                if (request.getTarget().contains("slow")) {
                    return new MockResponse.Builder().headersDelay(800, TimeUnit.MILLISECONDS).body("slow").build();
                }
                return new MockResponse.Builder().body("ok").build();
            }
        });
        nango.start();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        nango.close();
    }

    private GatewayConfig config(List<ListenerConfig> listeners) {
        return new GatewayConfig("test", Map.of("nango", TestConfigs.nango(nango.getPort(), Duration.ofSeconds(5))),
                listeners, Map.of(), ServerSettings.DEFAULTS);
    }

    private static ListenerConfig listener(String name, TlsConfig tls) {
        return new ListenerConfig(name, "127.0.0.1", 0, tls, TestConfigs.publicRoutes(), 403, ListenerLimits.DEFAULTS);
    }

    @Test
    void twentyReloadsUnderTrafficDropNoRequest() throws Exception {
        GatewayConfig a = config(List.of(listener("public", null)));
        GatewayConfig b = new GatewayConfig("test-b", a.upstreams(), List.of(new ListenerConfig("public", "127.0.0.1",
                0, null, TestConfigs.publicRoutes().subList(0, 4), 404, ListenerLimits.DEFAULTS)), Map.of(),
                ServerSettings.DEFAULTS);
        gateway = Gateway.start(a);
        int port = gateway.port("public");
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger ok = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<Void>> clients = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            clients.add(CompletableFuture.runAsync(() -> {
                while (running.get()) {
                    try (RawHttp c = new RawHttp(port)) {
                        for (int i = 0; i < 50 && running.get(); i++) {
                            c.send("GET /oauth/callback?i=" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
                            RawHttp.Response r = c.read();
                            if (r == null || r.status() != 200) {
                                failures.add(r == null ? "closed" : r.statusLine());
                            } else {
                                ok.incrementAndGet();
                            }
                        }
                    } catch (IOException e) {
                        failures.add(e.toString());
                    }
                }
            }));
        }
        // The port survives each reload because the listener's address does not change.
        for (int i = 0; i < 20; i++) {
            int before = ok.get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ok.get() < before + 5 && System.nanoTime() < deadline) {
                Thread.sleep(5); // let traffic flow between reloads
            }
            gateway.reload(i % 2 == 0 ? b : a);
            assertEquals(port, gateway.port("public"));
        }
        running.set(false);
        CompletableFuture.allOf(clients.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
        assertEquals(List.of(), new ArrayList<>(failures));
        assertTrue(ok.get() >= 100, "requests served during the reloads: " + ok.get());
    }

    @Test
    void drainFinishesInFlightRequestsAndClosesIdleConnections() throws Exception {
        gateway = Gateway.start(config(List.of(listener("public", null))));
        int port = gateway.port("public");
        try (RawHttp idle = new RawHttp(port); RawHttp busy = new RawHttp(port)) {
            idle.send("GET /oauth/callback HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, idle.read().status());
            busy.send("GET /oauth/callback?slow=1 HTTP/1.1\r\nHost: x\r\n\r\n");
            Thread.sleep(200); // the slow request is now in flight at Nango
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> gateway.shutdown(Duration.ofSeconds(10)));
            RawHttp.Response r = busy.read();
            assertEquals(200, r.status());
            assertEquals("slow", r.bodyText());
            assertEquals("close", r.header("Connection"));
            assertTrue(busy.isClosedByPeer());
            assertTrue(idle.isClosedByPeer());
            stopping.get(10, TimeUnit.SECONDS);
        }
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
        gateway = null;
    }

    @Test
    void reloadBindsAddedAndUnbindsRemovedListeners() throws Exception {
        gateway = Gateway.start(config(List.of(listener("public", null))));
        gateway.reload(config(List.of(listener("public", null), listener("second", null))));
        int second = gateway.port("second");
        assertEquals(200, RawHttp.exchange(second, "GET /oauth/callback HTTP/1.1\r\nHost: x\r\n\r\n").status());
        gateway.reload(config(List.of(listener("public", null))));
        assertThrows(IllegalArgumentException.class, () -> gateway.port("second"));
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", second).close());
    }

    @Test
    void servesTlsAndReloadsTheCertificateWithoutRestart(@TempDir Path dir) throws Exception {
        TestCertificates.generate(dir, "first.example", "RSA");
        TlsConfig tls = new TlsConfig(dir.resolve("fullchain.pem"), dir.resolve("privkey.pem"));
        gateway = Gateway.start(config(List.of(listener("public", tls))));
        int port = gateway.port("public");
        assertEquals("CN=first.example", handshake(port, "TLSv1.3"));
        assertEquals("CN=first.example", handshake(port, "TLSv1.2"));
        assertThrows(IOException.class, () -> handshake(port, "TLSv1.1"));

        Path other = Files.createDirectory(dir.resolve("next"));
        TestCertificates.generate(other, "second.example", "EC");
        Files.copy(other.resolve("fullchain.pem"), dir.resolve("fullchain.pem"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(other.resolve("privkey.pem"), dir.resolve("privkey.pem"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        gateway.reloadCertificates();
        assertEquals("CN=second.example", handshake(port, "TLSv1.3"));

        // A key that does not belong to the certificate is refused; the last good pair keeps serving.
        Path third = Files.createDirectory(dir.resolve("third"));
        TestCertificates.generate(third, "third.example", "EC");
        Files.copy(third.resolve("fullchain.pem"), dir.resolve("fullchain.pem"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        gateway.reloadCertificates();
        assertEquals("CN=second.example", handshake(port, "TLSv1.3"));
    }

    @Test
    void renewedFilesOnDiskArePickedUpWithoutASignal(@TempDir Path dir) throws Exception {
        Path live = Files.createDirectory(dir.resolve("live"));
        Path v1 = Files.createDirectory(dir.resolve("archive1"));
        TestCertificates.generate(v1, "first.example", "RSA");
        // certbot's layout: live/ holds symlinks into archive/, swapped on renewal
        Files.createSymbolicLink(live.resolve("fullchain.pem"), v1.resolve("fullchain.pem"));
        Files.createSymbolicLink(live.resolve("privkey.pem"), v1.resolve("privkey.pem"));
        TlsConfig tls = new TlsConfig(live.resolve("fullchain.pem"), live.resolve("privkey.pem"));
        GatewayConfig c = config(List.of(listener("public", tls)));
        gateway = Gateway.start(new GatewayConfig(c.source(), c.upstreams(), c.listeners(), c.providers(),
                new ServerSettings(Duration.ofSeconds(5), Duration.ofMillis(100))));
        int port = gateway.port("public");
        assertEquals("CN=first.example", handshake(port, "TLSv1.3"));
        Path v2 = Files.createDirectory(dir.resolve("archive2"));
        TestCertificates.generate(v2, "renewed.example", "EC");
        Files.delete(live.resolve("fullchain.pem"));
        Files.createSymbolicLink(live.resolve("fullchain.pem"), v2.resolve("fullchain.pem"));
        Files.delete(live.resolve("privkey.pem"));
        Files.createSymbolicLink(live.resolve("privkey.pem"), v2.resolve("privkey.pem"));
        String subject = "";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && !(subject = handshake(port, "TLSv1.3")).equals("CN=renewed.example")) {
            Thread.sleep(100); // the watcher checks every 100 ms and waits one more check for the files to settle
        }
        assertEquals("CN=renewed.example", subject);
    }

    @Test
    void aBadCertificateFailsTheReloadAndKeepsTheOldConfig(@TempDir Path dir) throws Exception {
        gateway = Gateway.start(config(List.of(listener("public", null))));
        Files.writeString(dir.resolve("fullchain.pem"), "not a certificate");
        Files.writeString(dir.resolve("privkey.pem"), "not a key");
        TlsConfig bad = new TlsConfig(dir.resolve("fullchain.pem"), dir.resolve("privkey.pem"));
        GatewayException e = assertThrows(GatewayException.class,
                () -> gateway.reload(config(List.of(listener("public", null), listener("secure", bad)))));
        assertTrue(e.getMessage().contains("fullchain.pem"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> gateway.port("secure"));
        int port = gateway.port("public");
        assertEquals(200, RawHttp.exchange(port, "GET /oauth/callback HTTP/1.1\r\nHost: x\r\n\r\n").status());
    }

    /** Completes a handshake and one request; returns the served certificate's subject. */
    static String handshake(int port, String protocol) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.setEnabledProtocols(new String[] {protocol});
            s.startHandshake();
            s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes());
            String response = new String(s.getInputStream().readAllBytes());
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
        }
    }
}
