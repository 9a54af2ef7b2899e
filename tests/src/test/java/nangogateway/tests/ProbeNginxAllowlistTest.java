package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import nangogateway.config.ConfigLoader;
import nangogateway.probe.ProbeCase;
import nangogateway.probe.ProbeCatalog;
import nangogateway.probe.ProbeKind;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code probe} against the deployment it exists to catch: an nginx vhost with a prefix allowlist of Nango's
 * public routes ({@code location /oauth/ { proxy_pass http://nango; }}, 403 elsewhere), as an operator writes it,
 * in front of a stand-in shaped like Nango on real Express (tests/nango-standin, the version Nango pins). nginx
 * matches the resolved path and passes the raw target on; Express matches the raw one. The stand-in records which
 * handler each request reached, and the probe must report exactly those that reached a private one, saying what
 * each reached. The same probe against the gateway in front of the same stand-in reports nothing.
 *
 * <p>Skipped when nginx, node or tests/nango-standin/node_modules is missing ({@code .ci/run} installs them and
 * sets {@code NANGO_GATEWAY_BROWSER_TEST=1}, which turns a missing prerequisite into a failure).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProbeNginxAllowlistTest {
    private static final Path NGINX = Path.of("/usr/sbin/nginx");
    private static final boolean REQUIRED = "1".equals(System.getenv("NANGO_GATEWAY_BROWSER_TEST"));
    /** What Nango's router must never see from outside: its API handlers (401 JSON here) and the dashboard. */
    private static final Set<String> PRIVATE_HANDLERS = Set.of("api", "dashboard");
    private static final String KINDS = "bypass,private,override";

    private Process standIn;
    private Process nginx;
    private Path dir;
    private int appPort;
    private int controlPort;
    private int rawPort;
    private int resolvingPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void start() throws Exception {
        Path standInDir = Path.of(System.getProperty("gateway.conf.dir")).getParent().resolve("tests/nango-standin");
        prerequisite(Files.isExecutable(NGINX), "no /usr/sbin/nginx: apt-get install nginx (.ci/run does)");
        prerequisite(Files.isDirectory(standInDir.resolve("node_modules/express")),
                "no tests/nango-standin/node_modules: run npm ci in tests/nango-standin (.ci/run does)");
        prerequisite(nodeRuns(), "no node on PATH");

        standIn = new ProcessBuilder("node", "server.js").directory(standInDir.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(standIn.getInputStream(), StandardCharsets.UTF_8));
        String listening = out.readLine();
        assertNotNull(listening, "the stand-in exited before listening");
        String[] ports = listening.split(" ");
        appPort = Integer.parseInt(ports[1]);
        controlPort = Integer.parseInt(ports[2]);

        // nginx's workers run as nobody: everything they read or write lives in a world-readable directory.
        dir = Files.createTempDirectory("probe-nginx", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        rawPort = freePort();
        resolvingPort = freePort();
        Path conf = dir.resolve("nginx.conf");
        Files.writeString(conf, nginxConf());
        nginx = new ProcessBuilder(NGINX.toString(), "-p", dir.toString(), "-c", conf.toString(),
                "-e", dir.resolve("error.log").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("nginx.out").toFile()).start();
        awaitListening(rawPort);
        awaitListening(resolvingPort);
    }

    /** The operator's config: Nango's public prefixes proxied, everything else 403. */
    private String nginxConf() {
        String d = dir.toString();
        return """
                daemon off;
                worker_processes 1;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log warn;
                events { worker_connections 64; }
                http {
                    access_log %1$s/access.log;
                    client_body_temp_path %1$s/body;
                    proxy_temp_path %1$s/proxy;
                    fastcgi_temp_path %1$s/fastcgi;
                    uwsgi_temp_path %1$s/uwsgi;
                    scgi_temp_path %1$s/scgi;
                    upstream nango { server 127.0.0.1:%2$d; }

                    # Nango's public routes by prefix; proxy_pass without a URI passes the target on as sent.
                    server {
                        listen 127.0.0.1:%3$d;
                        location /oauth/ { proxy_pass http://nango; }
                        location /oauth2/auth/ { proxy_pass http://nango; }
                        location /auth/ { proxy_pass http://nango; }
                        location /api-auth/ { proxy_pass http://nango; }
                        location /app-auth/ { proxy_pass http://nango; }
                        location /webhook/ { proxy_pass http://nango; }
                        location = /connect/session { proxy_pass http://nango; }
                        location / { return 403; }
                    }

                    # The same allowlist with a URI on proxy_pass: nginx passes on the path it resolved.
                    server {
                        listen 127.0.0.1:%4$d;
                        location /oauth/ { proxy_pass http://nango/oauth/; }
                        location /webhook/ { proxy_pass http://nango/webhook/; }
                        location / { return 403; }
                    }
                }
                """.formatted(d, appPort, rawPort, resolvingPort);
    }

    @AfterAll
    void stop() throws Exception {
        if (nginx != null) {
            nginx.destroy(); // SIGTERM: nginx's fast shutdown, the workers with it
            if (!nginx.waitFor(10, TimeUnit.SECONDS)) {
                nginx.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (standIn != null) {
            standIn.getOutputStream().close(); // the stand-in exits when its stdin ends
            if (!standIn.waitFor(5, TimeUnit.SECONDS)) {
                standIn.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    void everyTargetThatReachesAPrivateHandlerThroughThePrefixAllowlistIsReportedAsWhatItReached()
            throws Exception {
        reset();
        String authority = "127.0.0.1:" + rawPort;
        ProbeTest.Result r = ProbeTest.probe("http://" + authority, "--rate", ProbeTest.RATE, "--timeout", "5s",
                "--skip-port-check", "--only", KINDS);
        Map<String, String> reached = assertReportedExactly(r, authority);
        Map<String, String> reported = findings(r, authority);
        // The ways into /proxy the prefix allowlist leaves open, with the private path first.
        String webhook = ProbeCatalog.all().stream().filter(c -> c.kind() == ProbeKind.SMUGGLING).findFirst()
                .orElseThrow().raw(authority).split(" ")[1];
        for (String way : List.of("GET /proxy/x/../../oauth/callback", "GET /proxy/..%2Foauth/callback",
                "POST /proxy/..%2F" + webhook.substring(1))) {
            assertTrue(reported.containsKey(way), way + " not reported:\n" + r);
            assertTrue(reported.get(way).contains("reached Nango's /proxy API (certain"), reported.get(way));
        }
        // every private family is found
        for (String family : List.of("/proxy", "/connection", "/config", "/v1", "/connections",
                "/environment-variables", "/mcp", "/api/v1", "/signin")) {
            assertTrue(reached.keySet().stream().anyMatch(k -> k.split(" ")[1].toLowerCase().startsWith(family)),
                    family + " never reached: " + reached.keySet());
        }
    }

    /**
     * nginx resolving the target before passing it on: every private-first traversal reaches only the allowed route
     * (not a finding); what nginx does not resolve ({@code \\}, {@code ..;}, {@code %252e}) after an allowed prefix
     * still reaches the dashboard, Express's catch-all, and is reported as that.
     */
    @Test
    void anAllowlistThatPassesOnTheResolvedPathLeaksOnlyTheDashboard() throws Exception {
        reset();
        String authority = "127.0.0.1:" + resolvingPort;
        ProbeTest.Result r = ProbeTest.probe("http://" + authority, "--rate", ProbeTest.RATE, "--timeout", "5s",
                "--skip-port-check", "--only", KINDS);
        Map<String, String> reached = assertReportedExactly(r, authority);
        assertEquals(Set.of("dashboard"), Set.copyOf(reached.values()), r.toString());
        assertTrue(reached.keySet().stream().allMatch(k -> k.startsWith("GET /oauth/callback")), r.toString());
        Matcher resolved = Pattern.compile("(?m)^bypass +\\d+ of \\d+ let through.*; (\\d+) resolved to the allowed "
                + "route they climb to \\(not findings\\)$").matcher(r.out());
        assertTrue(resolved.find(), r.toString());
        // nginx decodes %XX (any case) and resolves dot segments; it leaves \\, ..; and what decodes only twice
        // or as overlong UTF-8 alone, and those stay under the private path it refuses.
        List<String> nginxResolves = List.of("dot segments ", "encoded dots %2e%2e ", "mixed dots .%2E ",
                "encoded slashes ..%2f ", "every slash %2F ", "all encoded %2e%2e%2f ", "upper-case private path ");
        long resolvable = ProbeCatalog.all().stream()
                .filter(c -> c.aim() != null && nginxResolves.stream().anyMatch(c.name()::startsWith)).count();
        assertEquals(resolvable, Long.parseLong(resolved.group(1)), "each traversal nginx resolves reached its "
                + "allowed route\n" + r);
    }

    @Test
    void theGatewayInFrontOfTheSameStandInReportsNothing() throws Exception {
        try (Gateway gateway = Gateway.start(ConfigLoader.parse(ProbeTest.devConfig(appPort), "dev.yaml"))) {
            reset();
            ProbeTest.Result r = ProbeTest.probe("http://127.0.0.1:" + gateway.port("public"), "--rate",
                    ProbeTest.RATE, "--timeout", "5s", "--skip-port-check");
            assertEquals(0, r.code(), r.toString());
            assertFalse(r.out().contains("FINDING") || r.out().contains("NO VERDICT"), r.toString());
            assertTrue(r.out().contains("probe: 0 of " + ProbeCatalog.all().size() + " requests were let through"),
                    r.toString());
            assertEquals(Map.of(), reachedPrivate(), r.toString());
            assertTrue(seen().stream().anyMatch(l -> l.contains("\tpublic\t")), "the plain requests reach Nango");
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /**
     * The probe reported exactly the requests that reached a private handler, each as what it reached: Nango's API
     * (certain, from its 401 JSON) or the dashboard page. Returns what reached a private handler.
     */
    private Map<String, String> assertReportedExactly(ProbeTest.Result r, String authority) throws Exception {
        // The whole report, for reading after the run.
        Files.writeString(Path.of("target", "probe-report-" + authority.replace(':', '-') + ".txt"), r.out());
        Map<String, String> reached = reachedPrivate();
        Map<String, String> reported = findings(r, authority);
        assertEquals(reached.isEmpty() ? 0 : 1, r.code(), r.toString());
        assertFalse(r.out().contains("NO VERDICT"), r.toString());
        assertEquals(new TreeSet<>(reached.keySet()), new TreeSet<>(reported.keySet()),
                "reported (right) must be exactly what reached a private handler (left)\n" + r);
        for (Map.Entry<String, String> e : reached.entrySet()) {
            String line = reported.get(e.getKey());
            if (e.getValue().equals("dashboard")) {
                assertTrue(line.contains("200 text/html: reached the dashboard page (certain: "), e.getKey() + ": " + line);
            } else {
                assertTrue(line.matches(".* -> 401 application/json: reached (a private API handler|Nango's /proxy API) "
                        + "\\(certain: Nango's API refused the credentials with 401 .*"), e.getKey() + ": " + line);
            }
        }
        return reached;
    }

    /**
     * Each FINDING's method and target (as sent; an absolute-form target by its path) and its detail line. The
     * names are looked up in the catalog under the kind whose section they are in.
     */
    private static Map<String, String> findings(ProbeTest.Result r, String authority) {
        Map<String, ProbeCase> byName = new HashMap<>();
        for (ProbeCase c : ProbeCatalog.all()) {
            byName.put(c.kind().label() + " " + c.name(), c);
        }
        Map<String, String> found = new TreeMap<>();
        String kind = null;
        List<String> lines = r.out().lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.matches("^[a-z]+ +\\d+ of \\d+ let through.*")) {
                kind = line.substring(0, line.indexOf(' '));
            } else if (line.startsWith("  FINDING ")) {
                ProbeCase c = byName.get(kind + " " + line.substring("  FINDING ".length()));
                assertNotNull(c, "no such case: " + line);
                String[] requestLine = c.raw(authority).split("\r\n", 2)[0].split(" ");
                String target = requestLine[1].replaceFirst("^http://[^/]+", "");
                found.put(requestLine[0] + " " + escapesInUpperCase(target), lines.get(i + 1));
            }
        }
        return found;
    }

    /** "METHOD target" of each request the stand-in answered from a private handler, and which one. */
    private Map<String, String> reachedPrivate() throws Exception {
        Map<String, String> reached = new TreeMap<>();
        for (String line : seen()) {
            String[] f = line.split("\t", 4);
            if (PRIVATE_HANDLERS.contains(f[1])) {
                reached.put(f[0] + " " + escapesInUpperCase(f[3]), f[1]);
            }
        }
        return reached;
    }

    /** nginx passes on a path it resolved with its own escapes ({@code %5c} becomes {@code %5C}). */
    private static String escapesInUpperCase(String target) {
        return Pattern.compile("%[0-9a-fA-F]{2}").matcher(target).replaceAll(m -> m.group().toUpperCase());
    }

    private List<String> seen() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + controlPort + "/seen")).build(), HttpResponse.BodyHandlers.ofString());
        return new ArrayList<>(response.body().lines().toList());
    }

    private void reset() throws Exception {
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controlPort + "/reset"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
    }

    private static void prerequisite(boolean present, String missing) {
        if (REQUIRED) {
            assertTrue(present, missing + " (NANGO_GATEWAY_BROWSER_TEST=1 requires this test to run)");
        } else {
            Assumptions.assumeTrue(present, missing);
        }
    }

    private static boolean nodeRuns() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            try {
                new Socket(InetAddress.getLoopbackAddress(), port).close();
                return;
            } catch (IOException e) {
                if (!nginx.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("nginx did not listen on " + port + ": "
                            + Files.readString(dir.resolve("nginx.out")) + readIfThere(dir.resolve("error.log")));
                }
                Thread.sleep(50);
            }
        }
    }

    private static String readIfThere(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p) : "";
    }
}
