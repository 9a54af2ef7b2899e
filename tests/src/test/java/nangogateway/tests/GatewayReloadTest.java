package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
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

/**
 * Reloads against certificate checks and sockets that will not bind: a reload either takes effect completely or
 * fails and leaves the old config and sockets serving; certificate checks never stall a reload.
 */
class GatewayReloadTest {
    private static final String OK = "nango_gateway_reloads_total{result=\"ok\"}";
    private static final String FAILED = "nango_gateway_reloads_total{result=\"failed\"}";

    private MockWebServer nango;
    private Gateway gateway;

    @BeforeEach
    void start() throws Exception {
        nango = new MockWebServer();
        nango.enqueue(new MockResponse.Builder().body("ok").build());
        nango.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            Gateway g = gateway;
            // a hang guard: a gateway left deadlocked by a failed test must not hold up the run
            CompletableFuture.runAsync(g::close).completeOnTimeout(null, 30, TimeUnit.SECONDS).get();
        }
        nango.close();
    }

    private GatewayConfig config(Duration certificateCheck, ListenerConfig... listeners) {
        return new GatewayConfig("test", Map.of("nango", TestConfigs.nango(nango.getPort(), Duration.ofSeconds(5))),
                List.of(listeners), Map.of(), new ServerSettings(Duration.ofSeconds(5), certificateCheck));
    }

    private GatewayConfig config(ListenerConfig... listeners) {
        return config(ServerSettings.DEFAULTS.certificateCheckInterval(), listeners);
    }

    private static ListenerConfig listener(String name, String host, int port, TlsConfig tls) {
        return new ListenerConfig(name, host, port, tls, TestConfigs.publicRoutes(), 403, ListenerLimits.DEFAULTS);
    }

    @Test
    void certificateChecksNeverStallAReload(@TempDir Path dir) throws Exception {
        TestCertificates.generate(dir, "secure.example", "EC");
        TlsConfig tls = new TlsConfig(dir.resolve("fullchain.pem"), dir.resolve("privkey.pem"));
        Duration often = Duration.ofMillis(1);
        ListenerConfig pub = listener("public", "127.0.0.1", 0, null);
        gateway = Gateway.start(config(often, pub, listener("secure", "127.0.0.1", 0, tls)));
        GatewayConfig plain = config(often, pub);
        GatewayConfig plainPlusOne = config(often, pub, listener("extra", "127.0.0.1", 0, null));
        gateway.reload(plain);
        // The removed listener's files go away; the watcher must forget them rather than report them every check.
        Files.delete(tls.cert());
        Files.delete(tls.key());
        // Each reload binds or unbinds a socket while certificate checks run every millisecond.
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < 60; i++) {
                gateway.reload(i % 2 == 0 ? plainPlusOne : plain);
            }
        }, "a reload hung against the certificate check");
        assertEquals(200, RawHttp.exchange(gateway.port("public"), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                .status());
        assertEquals(61, nangogateway.observe.MetricsText.value(gateway.metrics(), OK));
    }

    @Test
    void aHostChangeThatCannotBindFailsAndKeepsTheOldSocket() throws Exception {
        int port = freePort();
        gateway = Gateway.start(config(listener("public", "127.0.0.1", port, null)));
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("127.0.0.2", port));
            GatewayException e = assertThrows(GatewayException.class,
                    () -> gateway.reload(config(listener("public", "127.0.0.2", port, null))));
            assertTrue(e.getMessage().contains("127.0.0.2:" + port), e.getMessage());
        }
        assertOldStillServes(port);
    }

    @Test
    void aRebindOverTheOldSocketThatFailsRestoresTheOldSocket() throws Exception {
        int port = freePort();
        gateway = Gateway.start(config(listener("public", "127.0.0.1", port, null)));
        // The wildcard overlaps the old socket, so it must be closed first; the squatter then makes the bind fail.
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("127.0.0.2", port));
            GatewayException e = assertThrows(GatewayException.class,
                    () -> gateway.reload(config(listener("public", "0.0.0.0", port, null))));
            assertTrue(e.getMessage().contains("0.0.0.0:" + port), e.getMessage());
        }
        assertOldStillServes(port);
    }

    @Test
    void turningOnTlsOnTheSamePortRebindsBeforeTheSwap(@TempDir Path dir) throws Exception {
        TestCertificates.generate(dir, "secure.example", "RSA");
        TlsConfig tls = new TlsConfig(dir.resolve("fullchain.pem"), dir.resolve("privkey.pem"));
        int port = freePort();
        gateway = Gateway.start(config(listener("public", "127.0.0.1", port, null)));
        gateway.reload(config(listener("public", "127.0.0.1", port, tls)));
        assertEquals(port, gateway.port("public"));
        assertEquals("CN=secure.example", OperationsTest.handshake(port, "TLSv1.3"));
        assertEquals(1, nangogateway.observe.MetricsText.value(gateway.metrics(), OK));
        gateway.reload(config(listener("public", "127.0.0.1", port, null)));
        assertEquals(200, RawHttp.exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").status());
        assertEquals(2, nangogateway.observe.MetricsText.value(gateway.metrics(), OK));
    }

    @Test
    void aListenerRenamedOnTheSamePortTakesOverItsSocket() throws Exception {
        int port = freePort();
        gateway = Gateway.start(config(listener("public", "127.0.0.1", port, null)));
        gateway.reload(config(listener("renamed", "127.0.0.1", port, null)));
        assertEquals(port, gateway.port("renamed"));
        assertThrows(IllegalArgumentException.class, () -> gateway.port("public"));
        assertEquals(200, RawHttp.exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").status());
        assertEquals(1, nangogateway.observe.MetricsText.value(gateway.metrics(), OK));
    }

    @Test
    void aReloadAfterShutdownIsRefused() throws Exception {
        gateway = Gateway.start(config(listener("public", "127.0.0.1", 0, null)));
        gateway.shutdown(Duration.ZERO);
        assertThrows(GatewayException.class, () -> gateway.reload(config(listener("public", "127.0.0.1", 0, null))));
        gateway.close(); // a second stop is harmless
    }

    private void assertOldStillServes(int port) throws IOException {
        assertEquals("127.0.0.1", gateway.config().listener("public").orElseThrow().host());
        assertEquals(port, gateway.port("public"));
        assertEquals(200, RawHttp.exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").status());
        assertEquals(0, nangogateway.observe.MetricsText.value(gateway.metrics(), OK));
        assertEquals(1, nangogateway.observe.MetricsText.value(gateway.metrics(), FAILED));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
