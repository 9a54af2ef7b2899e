package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ListenerOptions;
import nangogateway.config.ServerSettings;
import nangogateway.config.UpstreamConfig;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The gateway's limits sit under Node's, counting the headers the gateway adds. Node refuses a request whose target,
 * header names and values reach 16 KiB together ({@code HPE_HEADER_OVERFLOW}), while the gateway takes an 8 KiB
 * request line and a 16 KiB header block and adds its own {@code X-Forwarded-*} and {@code Via}: a request between
 * the two was sent to Nango and then reset (502, or a second send through the retry of a reused connection). Here
 * heads of every size across the boundary go through the gateway to a real {@code node:http} server, which answers
 * with the size it counted: the gateway forwards each one Node takes, answers 431 itself for the rest, and Node
 * never overflows.
 */
class NodeHeadLimitTest {
    private static final boolean REQUIRED = "1".equals(System.getenv("NANGO_GATEWAY_BROWSER_TEST"));
    /** Node answers with the bytes it counted against its limit (the URL and every raw header name and value). */
    private static final String SERVER = """
            const http = require('http');
            const s = http.createServer((q, r) => {
              let n = q.url.length;
              for (const h of q.rawHeaders) n += h.length;
              r.end(String(n));
            });
            s.on('clientError', (e, sock) => { console.log('clientError ' + e.code); sock.destroy(); });
            s.listen(0, '127.0.0.1', () => console.log('port ' + s.address().port));
            """;

    @Test
    void everyHeadNodeTakesIsForwardedAndNoOtherReachesIt() throws Exception {
        Path node = Path.of("/usr/bin/node");
        if (!Files.isExecutable(node)) {
            assertTrue(!REQUIRED, "node is required (NANGO_GATEWAY_BROWSER_TEST=1)");
            Assumptions.abort("node is not installed");
        }
        Process p = new ProcessBuilder(node.toString(), "-e", SERVER).redirectErrorStream(true).start();
        List<String> said = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String l = r.readLine(); l != null; l = r.readLine()) {
                    said.add(l);
                }
            } catch (java.io.IOException e) {
                // the process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        Gateway gateway = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (said.stream().noneMatch(l -> l.startsWith("port ")) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            int nodePort = Integer.parseInt(said.stream().filter(l -> l.startsWith("port ")).findFirst()
                    .orElseThrow(() -> new AssertionError("node did not start: " + said)).substring(5));
            UpstreamConfig nango = TestConfigs.nango(nodePort, Duration.ofSeconds(5));
            assertEquals(UpstreamConfig.DEFAULT_MAX_REQUEST_HEAD, nango.maxRequestHead());
            ListenerConfig l = new ListenerConfig("public", "127.0.0.1", 0, null, TestConfigs.publicRoutes(), 403,
                    ListenerLimits.DEFAULTS, ListenerOptions.DEFAULTS);
            gateway = Gateway.start(new GatewayConfig("test", Map.of("nango", nango), List.of(l), Map.of(),
                    ServerSettings.DEFAULTS));
            int port = gateway.port("public");

            // A 7 KiB query and a header padded so that, with what the gateway adds, the forwarded head runs from
            // well under Node's 16 KiB to well over it, one byte at a time: each within the gateway's own limits.
            String query = "?connect_session_token=" + "q".repeat(7 * 1024);
            List<Integer> statuses = new ArrayList<>();
            int lastCounted = -1;
            int firstRefused = -1;
            for (int pad = 8_800; pad <= 9_400; pad++) {
                RawHttp.Response r = RawHttp.exchange(port, "GET /oauth/connect/github" + query + " HTTP/1.1\r\n"
                        + "Host: gw.example\r\nX-Pad: " + "p".repeat(pad) + "\r\nConnection: close\r\n\r\n");
                assertTrue(r != null && (r.status() == 200 || r.status() == 431), "pad " + pad + ": " + r);
                statuses.add(r.status());
                if (r.status() == 200) {
                    assertEquals(-1, firstRefused, "a larger head was forwarded after a smaller one was refused");
                    lastCounted = Integer.parseInt(new String(r.body(), StandardCharsets.US_ASCII).trim());
                } else if (firstRefused < 0) {
                    firstRefused = pad;
                }
            }
            assertTrue(statuses.contains(200) && statuses.contains(431), "the sizes straddle the limit: " + statuses);

            // With a body: the webhook route buffers it whole before the head goes anywhere; refused all the same,
            // the held body given back (leak detection is paranoid) and the connection closed.
            String pad = "p".repeat(16_300); // the client's header block stays under the listener's 16 KiB
            for (String framing : new String[] {"Content-Length: 5\r\n\r\nhello",
                    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"}) {
                RawHttp.Response r = RawHttp.exchange(port, "POST /webhook/prod/github HTTP/1.1\r\n"
                        + "Host: gw.example\r\nX-Pad: " + pad + "\r\n" + framing);
                assertTrue(r != null && r.status() == 431, framing + ": " + r);
            }
            assertEquals(UpstreamConfig.DEFAULT_MAX_REQUEST_HEAD - 1, lastCounted,
                    "the largest head forwarded is the largest Node takes: the gateway counts as Node does");
            assertTrue(said.stream().noneMatch(s -> s.startsWith("clientError")), "Node refused a head: " + said);
        } finally {
            if (gateway != null) {
                gateway.close();
            }
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
