package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import nangogateway.config.ConfigLoader;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The admin listener (/healthz, /readyz, /metrics) and the systemd unit's sandbox score. */
class AdminListenerTest {
    private MockWebServer nango;
    private Gateway gateway;
    private int admin;
    private int pub;

    @BeforeEach
    void start() throws Exception {
        nango = new MockWebServer();
        nango.start();
        gateway = Gateway.start(ConfigLoader.parse("""
                upstreams:
                  nango: {url: "http://127.0.0.1:%d", connect_timeout: 500ms}
                listeners:
                  - name: public
                    bind: 127.0.0.1:0
                    routes:
                      - {name: oauth-callback, path: /oauth/callback, methods: [GET], proxy: {upstream: nango}}
                  - name: admin
                    bind: 127.0.0.1:0
                    admin: true
                """.formatted(nango.getPort()), "admin.yaml"));
        admin = gateway.port("admin");
        pub = gateway.port("public");
    }

    @AfterEach
    void stop() {
        gateway.close();
        nango.close();
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    }

    @Test
    void healthAndReadiness() throws Exception {
        assertEquals("ok\n", RawHttp.exchange(admin, get("/healthz")).bodyText());
        RawHttp.Response ready = RawHttp.exchange(admin, get("/readyz"));
        assertEquals(200, ready.status());
        assertEquals("{\"ready\":true,\"upstreams\":{\"nango\":\"ok\"}}\n", ready.bodyText());
        assertEquals(404, RawHttp.exchange(admin, get("/api/v1/account")).status());
        assertEquals(405, RawHttp.exchange(admin, "POST /healthz HTTP/1.1\r\nHost: l\r\nContent-Length: 0\r\n\r\n")
                .status());
        nango.close();
        RawHttp.Response down = RawHttp.exchange(admin, get("/readyz"));
        assertEquals(503, down.status());
        assertEquals("{\"ready\":false,\"upstreams\":{\"nango\":\"unreachable\"}}\n", down.bodyText());
    }

    /** HEAD gets the headers GET would get, Content-Length included, and not one byte of body (RFC 9110 9.3.2). */
    @Test
    void headOnTheAdminListenerHasNoBody() throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", admin)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("HEAD /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            assertTrue(all.startsWith("HTTP/1.1 200 "), all);
            assertTrue(all.toLowerCase(java.util.Locale.ROOT).contains("\r\ncontent-length: 3\r\n"), all);
            assertTrue(all.endsWith("\r\n\r\n"), "bytes after the head: " + all);
        }
    }

    /** A Prometheus text-format (0.0.4) line: a comment, or name{labels} value. */
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\")*)?\\})? (-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)");
    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)");
    private static final Pattern HELP = Pattern.compile("# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (?:[^\\\\\n]|\\\\[\\\\n])+");

    private static Map<String, Double> parse(String text) {
        Map<String, Double> samples = new HashMap<>();
        Map<String, String> types = new HashMap<>();
        Set<String> helped = new HashSet<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            Matcher h = HELP.matcher(line);
            if (h.matches()) {
                assertTrue(helped.add(h.group(1)), "HELP given twice: " + line);
                continue;
            }
            Matcher t = TYPE.matcher(line);
            if (t.matches()) {
                assertTrue(types.put(t.group(1), t.group(2)) == null, "TYPE given twice: " + line);
                assertTrue(helped.contains(t.group(1)), "no HELP before " + line);
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a Prometheus sample line: " + line);
            String family = m.group(1).replaceAll("_(bucket|sum|count)$", "");
            assertTrue(types.containsKey(m.group(1)) || types.containsKey(family), "no TYPE before " + line);
            assertTrue(samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)),
                    Double.parseDouble(m.group(5).replace("+Inf", "Infinity"))) == null, "duplicate series " + line);
        }
        return samples;
    }

    @Test
    void metricsParseAndCountWhatHappened() throws Exception {
        nango.enqueue(new MockResponse.Builder().body("ok").build());
        assertEquals(200, RawHttp.exchange(pub, get("/oauth/callback?code=1")).status());
        assertEquals(403, RawHttp.exchange(pub, get("/api/v1/account")).status());
        assertEquals(400, RawHttp.exchange(pub, get("/oauth/%2e%2e/api")).status());
        assertEquals(405, RawHttp.exchange(pub, "POST /oauth/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                .status());
        nango.enqueue(new MockResponse.Builder().headersDelay(2, TimeUnit.SECONDS).body("late").build());
        nango.close();
        assertEquals(502, RawHttp.exchange(pub, get("/oauth/callback?code=2")).status());

        Map<String, Double> m = parse(RawHttp.exchange(admin, get("/metrics")).bodyText());
        assertEquals(1.0, m.get("nango_gateway_responses_total{code=\"200\",listener=\"public\"}"));
        assertEquals(1.0, m.get("nango_gateway_requests_total{class=\"2xx\",listener=\"public\",route=\"oauth-callback\"}"));
        assertEquals(1.0, m.get("nango_gateway_requests_total{class=\"5xx\",listener=\"public\",route=\"oauth-callback\"}"));
        assertEquals(1.0, m.get("nango_gateway_requests_total{class=\"4xx\",listener=\"public\",route=\"otherwise\"}"));
        assertEquals(1.0, m.get("nango_gateway_requests_total{class=\"4xx\",listener=\"public\",route=\"rejected\"}"));
        assertEquals(1.0, m.get("nango_gateway_denied_requests_total{listener=\"public\",reason=\"not_allowlisted\"}"));
        assertEquals(1.0, m.get("nango_gateway_denied_requests_total{listener=\"public\",reason=\"bad_target\"}"));
        assertEquals(1.0, m.get("nango_gateway_denied_requests_total{listener=\"public\",reason=\"method\"}"));
        assertEquals(1.0, m.get("nango_gateway_upstream_errors_total{kind=\"connect\",upstream=\"nango\"}"));
        assertEquals(5.0, m.get("nango_gateway_response_seconds_count{listener=\"public\"}"));
        assertEquals(5.0, m.get("nango_gateway_response_seconds_bucket{listener=\"public\",le=\"+Inf\"}"));
        assertTrue(m.containsKey("nango_gateway_open_connections{listener=\"admin\"}"), m.keySet().toString());
        assertTrue(m.containsKey("nango_gateway_upstream_connections{state=\"open\",upstream=\"nango\"}"),
                m.keySet().toString());
    }

    @Test
    void reloadOutcomesAreCounted() throws Exception {
        gateway.reload(gateway.config());
        gateway.recordFailedReload();
        Map<String, Double> m = parse(RawHttp.exchange(admin, get("/metrics")).bodyText());
        assertEquals(1.0, m.get("nango_gateway_reloads_total{result=\"ok\"}"));
        assertEquals(1.0, m.get("nango_gateway_reloads_total{result=\"failed\"}"));
    }

    /** systemd reads every line of the unit as written: nothing it ignores (an unquoted JAVA_OPTS once lost -Xmx). */
    @Test
    void systemdReadsTheUnitWithoutComplaint() throws Exception {
        Path unit = Path.of(System.getProperty("gateway.conf.dir", "../conf"), "..", "systemd", "nango-gateway.service");
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        Assumptions.assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not installed");
        Process p = new ProcessBuilder(analyze.toString(), "verify", unit.toAbsolutePath().normalize().toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        // The package's own commands (the launcher, the reload helper) exist where it is installed, which is where
        // tests/systemd/run.sh verifies the unit again; here only their absence is forgiven.
        Pattern packaged = Pattern.compile("Command (/usr/bin/nango-gateway|/usr/share/nango-gateway/\\S+) is not"
                + " executable: No such file or directory");
        List<String> complaints = out.lines().filter(l -> l.contains("nango-gateway.service:"))
                .filter(l -> {
                    Matcher m = packaged.matcher(l);
                    return !m.find() || Files.exists(Path.of(m.group(1)));
                }).toList();
        assertEquals(List.of(), complaints, out);
        String text = Files.readString(unit);
        assertTrue(text.contains("\nExecStart=/usr/bin/nango-gateway run "), "the unit runs the launcher: " + text);
        assertTrue(text.contains("\nWatchdogSec="), "systemd restarts a gateway whose event loops stopped");
        // The launcher's one place for JVM options: a bounded heap and direct memory, exit on out-of-memory.
        Path defaults = unit.getParent().resolve("../packaging/src/deb/etc/default-nango-gateway").normalize();
        String options = Files.readString(defaults);
        assertTrue(options.contains("-XX:+ExitOnOutOfMemoryError") && options.contains("-XX:MaxDirectMemorySize=")
                && options.contains("-Xmx"), options);
    }

    @Test
    void systemdUnitExposureIsAtMostOnePointFive() throws Exception {
        Path unit = Path.of(System.getProperty("gateway.conf.dir", "../conf"), "..", "systemd", "nango-gateway.service");
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        Assumptions.assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not installed");
        Process p = new ProcessBuilder(analyze.toString(), "security", "--offline=yes", unit.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        Matcher m = Pattern.compile("Overall exposure level for \\S+: ([0-9.]+)").matcher(out);
        assertTrue(m.find(), out);
        double exposure = Double.parseDouble(m.group(1));
        assertTrue(exposure <= 1.5, "exposure " + exposure + "\n" + out);
        assertTrue(List.of(out.split("\n")).stream().noneMatch(l -> l.contains("MemoryDenyWriteExecute=") && l.contains("✓")),
                "MemoryDenyWriteExecute must stay off: the JIT needs W+X pages");
    }
}
