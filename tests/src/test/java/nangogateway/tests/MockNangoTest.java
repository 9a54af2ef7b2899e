package nangogateway.tests;

import java.time.Duration;
import mockwebserver3.MockWebServer;
import nangogateway.config.ListenerLimits;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * For socket tests of the proxy: a fresh MockWebServer standing in for Nango and a gateway in front of it
 * ({@link TestConfigs#gateway}) for every test; {@link #port} is the public listener's.
 */
abstract class MockNangoTest {
    protected MockWebServer nango;
    protected Gateway gateway;
    protected int port;

    /** The upstream's {@code response_timeout}. */
    protected Duration responseTimeout() {
        return Duration.ofSeconds(2);
    }

    @BeforeEach
    void startNangoAndGateway() throws Exception {
        nango = new MockWebServer();
        nango.start();
        gateway = Gateway.start(TestConfigs.gateway(nango.getPort(), responseTimeout(), ListenerLimits.DEFAULTS));
        port = gateway.port("public");
    }

    @AfterEach
    void stopNangoAndGateway() {
        gateway.close();
        nango.close();
    }
}
