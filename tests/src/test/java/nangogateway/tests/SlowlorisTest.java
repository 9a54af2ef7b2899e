package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import nangogateway.config.ListenerLimits;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.Test;

/** A thousand connections trickling a request head must not keep a normal client from being served. */
class SlowlorisTest {
    private static final int SLOW = 1000;

    @Test
    void trickleAttackDoesNotStarveANormalClientAndIsCutOff() throws Exception {
        MockWebServer nango = new MockWebServer();
        nango.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return new MockResponse.Builder().body("ok").build();
            }
        });
        nango.start();
        ListenerLimits limits = new ListenerLimits(8 * 1024, 16 * 1024, 100, Duration.ofSeconds(2),
                Duration.ofSeconds(60), Duration.ofSeconds(30));
        Gateway gateway = Gateway.start(TestConfigs.gateway(nango.getPort(), Duration.ofSeconds(5), limits));
        int port = gateway.port("public");
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < SLOW; i++) {
                Socket s = new Socket("127.0.0.1", port);
                s.setSoTimeout(10_000);
                s.getOutputStream().write("GET /oauth/callback HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(
                        StandardCharsets.US_ASCII));
                slow.add(s);
            }
            // While all of them hold a half-sent head, a normal client is served.
            for (int i = 0; i < 3; i++) {
                RawHttp.Response r = RawHttp.exchange(port, "GET /oauth/callback?n=" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, r.status());
                for (int j = 0; j < SLOW; j += 10) {
                    slow.get(j).getOutputStream().write('a'); // keep trickling
                }
            }
            // Past header_timeout every slow connection has been answered 408 and closed.
            int closed = 0;
            for (Socket s : slow) {
                if (answered408AndClosed(s)) {
                    closed++;
                }
            }
            assertEquals(SLOW, closed);
            assertEquals(200, RawHttp.exchange(port, "GET /oauth/callback HTTP/1.1\r\nHost: x\r\n\r\n").status());
            assertTrue(nango.takeRequest(1, TimeUnit.SECONDS) != null);
        } finally {
            for (Socket s : slow) {
                s.close();
            }
            gateway.close();
            nango.close();
        }
    }

    private static boolean answered408AndClosed(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        byte[] all = in.readAllBytes(); // until the gateway closes (or the 10 s socket timeout throws)
        String text = new String(all, StandardCharsets.US_ASCII);
        return text.startsWith("HTTP/1.1 408 ");
    }

}
