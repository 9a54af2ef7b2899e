package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import nangogateway.cli.Main;
import nangogateway.config.ConfigLoader;
import nangogateway.probe.PortExposureCheck;
import nangogateway.probe.ProbeCatalog;
import nangogateway.probe.ProbeKind;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code nango-gateway probe} against live gateways: the shipped development config (everything refused), a
 * deliberately permissive one (findings, by kind), front ends that answer wrongly, and Nango's port exposure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProbeTest {
    /** Fast enough for a test; the pacing itself is not what is tested here. */
    static final String RATE = "2000";

    private MockWebServer nango;
    private Gateway shipped;
    private Gateway permissive;

    @BeforeAll
    void start() throws Exception {
        nango = new MockWebServer();
        nango.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return new MockResponse.Builder().code(200).body("nango saw " + request.getTarget()).build();
            }
        });
        nango.start();
        shipped = Gateway.start(ConfigLoader.parse(devConfig(nango.getPort()), "dev.yaml"));
        permissive = Gateway.start(ConfigLoader.parse(permissiveConfig(nango.getPort()), "permissive.yaml"));
    }

    @AfterAll
    void stop() {
        permissive.close();
        shipped.close();
        nango.close();
    }

    /** conf/dev.yaml as shipped, with Nango at the mock and every listener on a free port. */
    static String devConfig(int nangoPort) throws IOException {
        String yaml = Files.readString(Path.of(System.getProperty("gateway.conf.dir"), "dev.yaml"));
        String moved = yaml.replace("url: http://127.0.0.1:3003", "url: http://127.0.0.1:" + nangoPort)
                .replaceAll("bind: 127\\.0\\.0\\.1:\\d+", "bind: 127.0.0.1:0");
        assertTrue(moved.contains("http://127.0.0.1:" + nangoPort), "dev.yaml no longer names Nango's URL as expected");
        return moved;
    }

    /** The mistake the probe exists to catch: everything proxied to Nango. */
    static String permissiveConfig(int nangoPort) {
        return """
                upstreams:
                  nango:
                    url: http://127.0.0.1:%d
                listeners:
                  - name: public
                    bind: 127.0.0.1:0
                    routes:
                      - name: everything
                        prefix: /
                        proxy: { upstream: nango }
                    otherwise:
                      status: 403
                """.formatted(nangoPort);
    }

    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }

        /** The "N of M let through" summary line of one kind, or empty when the kind was not run. */
        Optional<int[]> kind(ProbeKind kind) {
            Matcher m = Pattern.compile("(?m)^" + kind.label() + " +(\\d+) of (\\d+) let through").matcher(out);
            return m.find() ? Optional.of(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))})
                    : Optional.empty();
        }
    }

    static Result probe(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 1];
        all[0] = "probe";
        System.arraycopy(args, 0, all, 1, args.length);
        CommandLine cli = Main.commandLine(all); // builds only the command named, as the launcher does
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(all);
        return new Result(code, out.toString(), err.toString());
    }

    static String url(Gateway g) {
        return "http://127.0.0.1:" + g.port("public");
    }

    static long count(ProbeKind kind) {
        return ProbeCatalog.all().stream().filter(c -> c.kind() == kind).count();
    }

    // ------------------------------------------------------------------------------------------------ tests

    @Test
    void theCatalogHasEveryKindAndAtLeastEightyCases() {
        assertTrue(ProbeCatalog.all().size() >= 80, "cases: " + ProbeCatalog.all().size());
        for (ProbeKind kind : ProbeKind.values()) {
            assertTrue(count(kind) > 0, kind.label());
        }
    }

    /** Nango on loopback only, as it should be: the port check finds nothing there either. */
    @Test
    void theShippedConfigRefusesEveryRequest() {
        Result r = probe(url(shipped), "--rate", RATE, "--timeout", "5s", "--nango-port",
                Integer.toString(nango.getPort()));
        int total = ProbeCatalog.all().size();
        assertEquals(0, r.code(), r.toString());
        for (ProbeKind kind : ProbeKind.values()) {
            assertEquals(0, r.kind(kind).orElseThrow()[0], r.toString());
            assertEquals(count(kind), r.kind(kind).orElseThrow()[1], r.toString());
        }
        assertFalse(r.out().contains("FINDING"), r.toString());
        assertTrue(r.out().contains("probe: 0 of " + total + " requests were let through"), r.toString());
        assertTrue(r.out().contains("port check: "), r.toString());
    }

    @Test
    void aPermissiveConfigIsReportedByKind() {
        Result r = probe(url(permissive), "--rate", RATE, "--skip-port-check");
        assertEquals(1, r.code(), r.toString());
        // Canonical private paths and the /proxy API now reach Nango; non-canonical targets and bad framing are
        // still refused by the gateway's parser whatever the routes say.
        assertTrue(r.kind(ProbeKind.PRIVATE).orElseThrow()[0] > 0, r.toString());
        assertTrue(r.kind(ProbeKind.OVERRIDE).orElseThrow()[0] > 0, r.toString());
        assertTrue(r.kind(ProbeKind.BYPASS).orElseThrow()[0] > 0, r.toString()); // case and trailing slash
        assertEquals(0, r.kind(ProbeKind.SMUGGLING).orElseThrow()[0], r.toString());
        assertTrue(r.out().contains("  FINDING GET /api/v1/account\n"), r.toString());
        assertTrue(r.out().contains("GET /api/v1/account HTTP/1.1  -> 200: answered with success"), r.toString());
        assertTrue(r.out().contains("  FINDING GET to a foreign host\n"), r.toString());
        assertTrue(r.out().contains("  FINDING upper case to /api/v1/account\n"), r.toString());
        assertTrue(r.out().matches("(?s).*probe: [1-9]\\d* of " + ProbeCatalog.all().size()
                + " requests were let through\n"), r.toString());
    }

    /**
     * With Nango down, a broken chunk after a valid head on an allowed route is still refused with 400: the body is
     * read whole before anything goes upstream, so the answer never depends on Nango and the probe has a verdict
     * for every request (a streaming proxy would answer 502 there, which the probe reports as NO VERDICT).
     */
    @Test
    void withNangoDownBrokenBodiesAreStillRefused() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Gateway down = Gateway.start(ConfigLoader.parse(devConfig(nango.getPort())
                .replace("url: http://127.0.0.1:" + nango.getPort(), "url: http://127.0.0.1:" + closedPort),
                "dev.yaml"));
        try {
            Result r = probe(url(down), "--rate", RATE, "--skip-port-check", "--only", "smuggling");
            assertEquals(0, r.code(), r.toString());
            assertFalse(r.out().contains("FINDING"), r.toString());
            assertFalse(r.out().contains("NO VERDICT"), r.toString());
            assertEquals(0, r.kind(ProbeKind.SMUGGLING).orElseThrow()[0], r.toString());
        } finally {
            down.close();
        }
    }

    @Test
    void onlyLimitsTheKinds() {
        Result r = probe(url(permissive), "--rate", RATE, "--skip-port-check", "--only", "smuggling");
        assertEquals(0, r.code(), r.toString());
        assertEquals(count(ProbeKind.SMUGGLING), r.kind(ProbeKind.SMUGGLING).orElseThrow()[1]);
        assertTrue(r.kind(ProbeKind.PRIVATE).isEmpty() && r.kind(ProbeKind.BYPASS).isEmpty()
                && r.kind(ProbeKind.OVERRIDE).isEmpty(), r.toString());

        Result two = probe(url(permissive), "--rate", RATE, "--skip-port-check", "--only", "private",
                "--only", "override");
        assertEquals(1, two.code(), two.toString());
        assertTrue(two.kind(ProbeKind.SMUGGLING).isEmpty() && two.kind(ProbeKind.BYPASS).isEmpty(), two.toString());
        assertEquals(count(ProbeKind.PRIVATE) + count(ProbeKind.OVERRIDE),
                Long.parseLong(two.out().replaceAll("(?s).*probe: \\d+ of (\\d+) requests.*", "$1")), two.toString());
    }

    @Test
    void usageErrorsExitWithTwo() {
        for (String[] args : new String[][] {
                {url(shipped), "--only", "nonsense"},
                {url(shipped), "--rate", "0"},
                {url(shipped), "--timeout", "3"},
                {url(shipped), "--nango-port", "70000"},
                {"ftp://127.0.0.1/"},
                {url(shipped) + "/oauth"},
                {}}) {
            Result r = probe(args);
            assertEquals(2, r.code(), String.join(" ", args) + "\n" + r);
        }
        assertTrue(probe(url(shipped), "--only", "nonsense").err().contains("no such kind; kinds: bypass, "));
    }

    @Test
    void dryRunPrintsEveryRequestAndSendsNothing() throws Exception {
        int before = nango.getRequestCount();
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Result r = probe("http://127.0.0.1:" + listener.getLocalPort(), "--dry-run");
            assertEquals(0, r.code(), r.toString());
            assertTrue(r.out().startsWith("probe http://127.0.0.1:" + listener.getLocalPort() + ": dry run, "
                    + ProbeCatalog.all().size() + " requests"), r.toString());
            assertTrue(r.out().contains("[smuggling] CL+TE\n    POST /webhook/"), r.toString());
            assertTrue(r.out().contains("Host: 127.0.0.1:" + listener.getLocalPort() + "\\r\\n"), r.toString());
            assertEquals(ProbeCatalog.all().size(), r.out().lines().filter(l -> l.startsWith("[")).count());
            listener.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, listener::accept, "dry run connected");
        }
        Result g = probe(url(shipped), "--dry-run", "--only", "private");
        assertEquals(0, g.code(), g.toString());
        assertEquals(before, nango.getRequestCount());
    }

    @Test
    void anUnreachableListenerIsAFailureNotARefusal() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Result r = probe("http://127.0.0.1:" + port, "--rate", RATE, "--skip-port-check");
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.out().contains("probe: cannot reach http://127.0.0.1:" + port + ": could not connect"), r.toString());
    }

    /** A front end that forwards everything and keeps the connection: every framing attack is a finding. */
    @Test
    void framingIsJudgedByTheCloseNotOnlyTheStatus() throws Exception {
        try (CannedServer ok = new CannedServer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true);
             CannedServer keeps = new CannedServer("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", false);
             CannedServer closes = new CannedServer("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", true)) {
            Result r = probe(ok.url(), "--rate", RATE, "--skip-port-check", "--only", "smuggling");
            assertEquals(1, r.code(), r.toString());
            assertEquals(count(ProbeKind.SMUGGLING), r.kind(ProbeKind.SMUGGLING).orElseThrow()[0], r.toString());

            Result kept = probe(keeps.url(), "--rate", RATE, "--timeout", "100ms", "--skip-port-check", "--only",
                    "smuggling");
            assertEquals(1, kept.code(), kept.toString());
            assertEquals(count(ProbeKind.SMUGGLING), kept.kind(ProbeKind.SMUGGLING).orElseThrow()[0], kept.toString());
            assertTrue(kept.out().contains("-> 400, kept open: refused but the connection stayed open"), kept.toString());

            Result closed = probe(closes.url(), "--rate", RATE, "--skip-port-check", "--only", "smuggling");
            assertEquals(0, closed.code(), closed.toString());
        }
    }

    /**
     * A framing finding names its case and shows the bytes that make it (framing headers, line endings, body),
     * escaped: every smuggling finding on the webhook route has its own line, not the same request line.
     */
    @Test
    void framingFindingsShowTheirBytes() throws Exception {
        try (CannedServer ok = new CannedServer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true)) {
            Result r = probe(ok.url(), "--rate", RATE, "--skip-port-check", "--only", "smuggling");
            assertTrue(r.out().contains("  FINDING CL+TE\n      POST /webhook/0e9d1a52-3a44-4f0a-9a4c-3b6c5b8d2f10/probe "
                    + "HTTP/1.1\\r\\nContent-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n0"
                    + "\\r\\n\\r\\n  -> 200: answered with success"), r.toString());
            assertTrue(r.out().contains("      GET /oauth/callback HTTP/1.1\\nHost: "), r.toString()); // bare LF
            assertTrue(r.out().contains("      GET /oauth/callback?x=[9000 x 'a'] HTTP/1.1\\r\\n\\r\\n  -> 200"),
                    r.toString());
            List<String> shown = r.out().lines().filter(l -> l.startsWith("      ")).toList();
            assertEquals(count(ProbeKind.SMUGGLING), shown.size(), r.toString());
            assertEquals(shown.size(), Set.copyOf(shown).size(), "two findings show the same bytes:\n" + r);
        }
    }

    /** An answer without a status line is described as such, with its first bytes. */
    @Test
    void anAnswerWithoutAStatusLineShowsItsFirstBytes() throws Exception {
        try (CannedServer raw = new CannedServer("oauth-callback\n<html>page</html>", true)) {
            Result r = probe(raw.url(), "--rate", RATE, "--skip-port-check", "--only", "smuggling");
            assertEquals(1, r.code(), r.toString());
            assertFalse(r.out().contains("not an HTTP/1.x status line"), r.toString());
            assertTrue(r.out().contains("-> not HTTP/1.x: an answer without a status line (HTTP/0.9-style raw bytes, "
                    + "no status, no headers), first bytes: 'oauth-callback"), r.toString());
        }
    }

    /**
     * A target that answers its first requests slowly (a gateway that just started, on a loaded machine) gets a
     * verdict for every request: the plain requests before the cases take the slowness and raise the timeout.
     */
    @Test
    void aSlowStartIsNotLeftWithoutAVerdict() throws Exception {
        String refusal = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        try (CannedServer cold = new CannedServer(refusal, true, n -> n <= 2 ? 700L : 0L)) {
            Result r = probe(cold.url(), "--rate", RATE, "--timeout", "400ms", "--skip-port-check", "--only", "private");
            assertEquals(0, r.code(), r.toString());
            assertFalse(r.out().contains("NO VERDICT"), r.toString());
            assertTrue(r.out().matches("(?s).*calibration: a plain GET /oauth/callback took \\d+ms, so each request got "
                    + "\\d+ms instead of 400ms\n.*"), r.toString());
        }
        // one slow answer in the middle: tried once more, with twice the timeout
        try (CannedServer hiccup = new CannedServer(refusal, true, n -> n == 3 ? 700L : 0L)) {
            Result r = probe(hiccup.url(), "--rate", RATE, "--timeout", "400ms", "--skip-port-check", "--only",
                    "private");
            assertEquals(0, r.code(), r.toString());
            assertFalse(r.out().contains("NO VERDICT"), r.toString());
        }
    }

    /** 502/504 mean the front end tried to reach Nango: a finding, never a refusal. */
    @Test
    void aBadGatewayAnswerIsAFinding() throws Exception {
        try (CannedServer bad = new CannedServer("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", true)) {
            Result r = probe(bad.url(), "--rate", RATE, "--skip-port-check", "--only", "private");
            assertEquals(1, r.code(), r.toString());
            assertEquals(count(ProbeKind.PRIVATE), r.kind(ProbeKind.PRIVATE).orElseThrow()[0], r.toString());
            assertTrue(r.out().contains("-> 502: the front end tried to reach its upstream"), r.toString());
        }
    }

    @Test
    void nangosPortOnANonLoopbackAddressIsReported() throws Exception {
        Optional<InetAddress> address = PortExposureCheck.nonLoopbackAddresses().stream()
                .map(PortExposureCheck.HostAddress::address)
                .filter(a -> a instanceof Inet4Address && !a.isLinkLocalAddress())
                .findFirst();
        Assumptions.assumeTrue(address.isPresent(), "this machine has no non-loopback IPv4 address");
        try (ServerSocket exposed = new ServerSocket(0, 50, address.get())) {
            Result r = probe(url(shipped), "--rate", RATE, "--only", "override", "--nango-port",
                    Integer.toString(exposed.getLocalPort()));
            assertEquals(1, r.code(), r.toString());
            assertEquals(0, r.kind(ProbeKind.OVERRIDE).orElseThrow()[0], r.toString());
            assertTrue(r.out().contains("port check: FINDING Nango's port " + exposed.getLocalPort() + " answers on "
                    + address.get().getHostAddress() + " ("), r.toString());
            assertTrue(r.out().contains("probe: 0 of " + count(ProbeKind.OVERRIDE) + " requests were let through"),
                    r.toString());
        }
    }

    @Test
    void tlsIsVerifiedUnlessInsecureIsGiven(@TempDir Path dir) throws Exception {
        TestCertificates.generate(dir, "localhost", "EC");
        String yaml = devConfig(nango.getPort()).replaceFirst("(?m)^(    bind: 127\\.0\\.0\\.1:0)$",
                "$1\n    tls:\n      cert: " + dir.resolve("fullchain.pem") + "\n      key: " + dir.resolve("privkey.pem"));
        assertTrue(yaml.contains("tls:"), yaml);
        try (Gateway tls = Gateway.start(ConfigLoader.parse(yaml, "dev-tls.yaml"))) {
            String url = "https://localhost:" + tls.port("public");
            Result untrusted = probe(url, "--rate", RATE, "--skip-port-check", "--only", "private");
            assertEquals(1, untrusted.code(), untrusted.toString());
            assertTrue(untrusted.out().contains("TLS handshake failed"), untrusted.toString());

            Result insecure = probe(url, "--rate", RATE, "--skip-port-check", "--only", "private,smuggling",
                    "--insecure");
            assertEquals(0, insecure.code(), insecure.toString());
            assertEquals(0, insecure.kind(ProbeKind.SMUGGLING).orElseThrow()[0], insecure.toString());
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /**
     * A stand-in front end that answers every connection with the same bytes, whatever it was sent, and then
     * closes or keeps the connection until the client does.
     */
    static final class CannedServer implements AutoCloseable {
        private final ServerSocket socket;
        private final Thread acceptor;
        final AtomicInteger connections = new AtomicInteger();

        CannedServer(String response, boolean close) throws IOException {
            this(response, close, n -> 0L);
        }

        /** @param delayMillis how long to wait before answering the n-th connection (counted from 1) */
        CannedServer(String response, boolean close, IntFunction<Long> delayMillis) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            byte[] bytes = response.getBytes(StandardCharsets.ISO_8859_1);
            acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket c = socket.accept()) {
                        int n = connections.incrementAndGet();
                        c.setSoTimeout(2000);
                        InputStream in = c.getInputStream();
                        if (in.read() < 0) {
                            continue;
                        }
                        Thread.sleep(delayMillis.apply(n));
                        c.getOutputStream().write(bytes);
                        c.getOutputStream().flush();
                        if (!close) {
                            while (in.read(new byte[8192]) >= 0) {
                                // keep the connection until the client gives up on it
                            }
                        }
                    } catch (IOException e) {
                        // the client went away, or the server socket closed
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "canned-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            socket.close();
            acceptor.join(5000);
        }
    }
}
