package nangogateway.tests.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import nangogateway.config.ConfigLoader;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole OAuth flow in headless Chromium, with Nango's real frontend SDK ({@code @nangohq/frontend}, pinned in
 * tests/browser/package.json), through the gateway to a stand-in Nango and a stand-in provider.
 *
 * <p>Origins. Three loopback addresses are three sites, as in production:
 * <ul>
 * <li>the app page on 127.0.0.3 (the app's own site; it is not Nango's);</li>
 * <li>the gateway on 127.0.0.1: the SDK's {@code host}, so the WebSocket at {@code /}, the popup's
 *     {@code /oauth/connect/...} and the provider's redirect target {@code /integrations/oauth-callback} all
 *     have this one origin. That is what lets the flow complete: the {@code oauth2-<session>} cookie Nango sets
 *     on the connect response belongs to this host and comes back on the callback, and the callback page is
 *     served from the origin Nango's Connect UI compares {@code evt.origin} with;</li>
 * <li>the provider on 127.0.0.2: a third site, so the redirect back to the gateway is a cross-site top-level
 *     navigation, as from accounts.google.com (the SameSite=Lax cookie must survive it).</li>
 * </ul>
 * The SDK's promise settles from the WebSocket message Nango publishes, not from the page's postMessage.
 *
 * <p>Routes. The gateway runs the shipped {@code conf/dev.yaml}, read from the jar as {@code run} reads it when
 * given no {@code --config}; only its listeners' ports and Nango's address are changed (see
 * {@link #shippedDevYaml}), so a route the flow needs and the file lacks fails here.
 *
 * <p>Screenshots go to {@code tests/target/browser-screenshots/}. Skipped when /usr/bin/chromium or
 * tests/browser/node_modules is missing ({@code .ci/run} installs both and sets
 * {@code NANGO_GATEWAY_BROWSER_TEST=1}, which turns a missing prerequisite into a failure).
 */
class BrowserOAuthFlowTest {
    private static final Path SHOTS = Path.of("target", "browser-screenshots");
    /** The default configuration {@code run} loads when given no {@code --config}: conf/dev.yaml, in the jar. */
    private static final String EMBEDDED_DEV_YAML = "nangogateway/conf/dev.yaml";
    private static final String GMAIL_ALIAS = "  google-mail:\n    aliases: [gmail]\n";

    private StandInNango nango;
    private StandInProvider provider;
    private AppServer app;
    private Gateway gateway;
    private String gatewayOrigin;
    private final List<Integer> dashboardDuringFlow = new CopyOnWriteArrayList<>();
    private final List<Integer> socketsDuringFlow = new CopyOnWriteArrayList<>();

    /** Set by {@code .ci/run}: there, a missing prerequisite is a failure, not a reason to skip. */
    private static final boolean REQUIRED = "1".equals(System.getenv("NANGO_GATEWAY_BROWSER_TEST"));

    @BeforeAll
    static void browserInstalled() {
        prerequisite(Files.isExecutable(BrowserDriver.CHROMIUM),
                "no /usr/bin/chromium: apt-get install chromium chromium-driver (.ci/run does)");
        prerequisite(Files.isDirectory(BrowserDriver.browserDir()
                .resolve("node_modules/@nangohq/frontend/dist")) && Files.isDirectory(BrowserDriver.browserDir()
                .resolve("node_modules/playwright-core")), "no tests/browser/node_modules: run npm ci in tests/browser");
        boolean node;
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            node = p.waitFor() == 0;
        } catch (Exception e) {
            node = false;
        }
        prerequisite(node, "no node on PATH");
    }

    private static void prerequisite(boolean present, String missing) {
        if (REQUIRED) {
            assertTrue(present, missing + " (NANGO_GATEWAY_BROWSER_TEST=1 requires the browser test to run)");
        } else {
            Assumptions.assumeTrue(present, missing);
        }
    }

    /**
     * The shipped conf/dev.yaml as {@code run} loads it, changed only where a test must differ: every listener binds
     * a free loopback port instead of 8080, 8081 and 9090, and the upstream is the stand-in Nango instead of
     * 127.0.0.1:3003 (and, when asked, the gmail alias is taken out). Each change must match exactly once, so an
     * edit to dev.yaml fails here rather than leaving the test to prove some other configuration.
     */
    private static String shippedDevYaml(int nangoPort, boolean gmailAlias) throws IOException {
        return shippedDevYaml(nangoPort, gmailAlias, null);
    }

    /** As above; with {@code tlsDir}, the public listener also gets {@code tls:} with the PEM files there. */
    private static String shippedDevYaml(int nangoPort, boolean gmailAlias, Path tlsDir) throws IOException {
        String yaml;
        try (InputStream in = BrowserOAuthFlowTest.class.getClassLoader().getResourceAsStream(EMBEDDED_DEV_YAML)) {
            assertNotNull(in, EMBEDDED_DEV_YAML + " is not on the class path (gateway-cli packages it)");
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertEquals(Files.readString(Path.of(System.getProperty("gateway.conf.dir", "../conf"), "dev.yaml")), yaml,
                "the embedded default is conf/dev.yaml");
        yaml = once(yaml, "url: http://127.0.0.1:3003", "url: http://127.0.0.1:" + nangoPort);
        for (String port : List.of("8080", "8081", "9090")) {
            String tls = port.equals("8080") && tlsDir != null
                    ? "    tls: { cert: " + tlsDir.resolve("fullchain.pem") + ", key: " + tlsDir.resolve("privkey.pem")
                            + " }\n"
                    : "";
            yaml = once(yaml, "bind: 127.0.0.1:" + port + "\n", "bind: 127.0.0.1:0\n" + tls);
        }
        Matcher bind = Pattern.compile("(?m)^\\s*bind:\\s*(\\S+)").matcher(yaml);
        while (bind.find()) {
            assertEquals("127.0.0.1:0", bind.group(1), "a listener of dev.yaml the test does not move to a free port");
        }
        return gmailAlias ? yaml : once(yaml, GMAIL_ALIAS, "");
    }

    private static String once(String text, String from, String to) {
        int at = text.indexOf(from);
        assertTrue(at >= 0 && text.indexOf(from, at + 1) < 0,
                "conf/dev.yaml must hold `" + from.strip() + "` exactly once for the browser test to change it");
        return text.substring(0, at) + to + text.substring(at + from.length());
    }

    /** The flow's pieces, the gateway running dev.yaml as shipped. */
    private void start() throws Exception {
        start(true);
    }

    private void start(boolean gmailAlias) throws Exception {
        start(gmailAlias, null);
    }

    /** With {@code tlsDir}: the public listener serves HTTPS (and HTTP/2) with the certificate there. */
    private void start(boolean gmailAlias, Path tlsDir) throws Exception {
        nango = new StandInNango(Set.of("google-mail"));
        nango.start();
        gateway = Gateway.start(ConfigLoader.parse(shippedDevYaml(nango.port(), gmailAlias, tlsDir),
                "dev.yaml (free ports, stand-in Nango)"));
        gatewayOrigin = (tlsDir == null ? "http" : "https") + "://127.0.0.1:" + gateway.port("public");
        String callbackUrl = gatewayOrigin + "/integrations/oauth-callback";
        provider = new StandInProvider(callbackUrl);
        provider.start();
        nango.wire(provider, callbackUrl);
        app = new AppServer(BrowserDriver.browserDir());
        // Mid-flow (the browser is at the provider, the SDK's WebSocket is open): the dashboard path without
        // an upgrade must still be refused.
        provider.onAuthorize(() -> {
            socketsDuringFlow.add(nango.openSockets());
            dashboardDuringFlow.add(get("/", null).statusCode());
        });
    }

    @AfterEach
    void stop() {
        if (app != null) {
            app.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (provider != null) {
            provider.close();
        }
        if (nango != null) {
            nango.close();
        }
    }

    private HttpResponse<String> get(String path, String authorization) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gatewayOrigin + path)).timeout(Duration.ofSeconds(5));
            if (authorization != null) {
                b.header("Authorization", authorization);
            }
            return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
                    .sslContext(nangogateway.tests.TestCertificates.trustingAny()).build()
                    .send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private Map<String, Object> drive(String name, String integration) throws Exception {
        String page = app.origin() + "/?host=" + URLEncoder.encode(gatewayOrigin, StandardCharsets.UTF_8)
                + "&integration=" + integration + "&token=" + StandInNango.TOKEN;
        return BrowserDriver.run(name, page, gatewayOrigin, SHOTS);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> result(Map<String, Object> r) {
        return (Map<String, Object>) r.get("result");
    }

    /** The top-level documents the browser loaded, in order: url, status, location, setCookie, body. */
    private static List<Map<String, Object>> documents(Map<String, Object> r) {
        return BrowserDriver.list(r, "documents");
    }

    private static Map<String, Object> document(Map<String, Object> r, String urlPrefix) {
        return documents(r).stream().filter(d -> ((String) d.get("url")).startsWith(urlPrefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no document " + urlPrefix + " in " + documents(r)));
    }

    private static List<String> framesIn(Map<String, Object> r) {
        return BrowserDriver.list(r, "frames").stream().filter(f -> "in".equals(f.get("dir")))
                .map(f -> (String) f.get("payload")).toList();
    }

    private static void assertScreenshots(Map<String, Object> r) {
        List<Map<String, Object>> shots = BrowserDriver.list(r, "screenshots");
        long files = shots.stream().map(s -> (String) s.get("file")).filter(f -> f != null && Files.isRegularFile(Path.of(f)))
                .count();
        assertTrue(files >= 2, "screenshots of the app and the popup page: " + shots);
    }

    /** The chain the popup navigated, each hop a browser request made because of the previous hop's 302. */
    private void assertBrowserFollowedRedirects(Map<String, Object> r, String connectPath) {
        List<Map<String, Object>> nav = BrowserDriver.list(r, "requests").stream()
                .filter(q -> Boolean.TRUE.equals(q.get("nav"))).toList();
        String connect = gatewayOrigin + connectPath;
        Map<String, Object> toProvider = nav.stream()
                .filter(q -> ((String) q.get("url")).startsWith(provider.authorizeUrl())).findFirst()
                .orElseThrow(() -> new AssertionError("the browser never went to the provider: " + nav));
        assertTrue(((String) toProvider.get("from")).startsWith(connect), "provider reached by the 302 of " + connect
                + ": " + toProvider);
        Map<String, Object> back = nav.stream()
                .filter(q -> ((String) q.get("url")).startsWith(gatewayOrigin + "/integrations/oauth-callback?"))
                .findFirst().orElseThrow(() -> new AssertionError("the browser never came back to the gateway: " + nav));
        assertTrue(((String) back.get("from")).startsWith(provider.authorizeUrl()), "callback reached by the provider's 302: "
                + back);
        // Each 302 reached the browser as a 302 (the gateway followed none of them) ...
        assertEquals(302, document(r, connect).get("status"));
        assertTrue(((String) document(r, connect).get("location")).startsWith(provider.authorizeUrl()));
        assertEquals(302, document(r, provider.authorizeUrl()).get("status"));
        // ... and the provider saw the browser (Chromium's User-Agent) exactly once, never the gateway.
        assertEquals(1, provider.seen.size(), "one /authorize: " + provider.seen);
        assertTrue(provider.seen.get(0).userAgent().contains("Chrome"), provider.seen.get(0).toString());
        assertEquals(List.of(), provider.problems);
    }

    private List<StandInNango.Seen> nangoSaw(String pathPrefix) {
        return nango.seen.stream().filter(s -> s.target().startsWith(pathPrefix)).toList();
    }

    /**
     * The same flow with the public listener on HTTPS: Chromium loads the gateway's pages over HTTP/2 (ALPN h2) and
     * opens the SDK's WebSocket over HTTP/1.1 on a connection of its own, and everything else holds as over HTTP/1.1:
     * the promise resolves, the 302s reach the browser with their cookie, the callback reaches Nango once.
     */
    @Test
    void theConnectFlowWorksOverHttp2(@org.junit.jupiter.api.io.TempDir Path tls) throws Exception {
        nangogateway.tests.TestCertificates.generate(tls, "127.0.0.1", "EC");
        // The access log says which protocol each request came over: kept here for the assertions below.
        var access = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                nangogateway.observe.AccessLogHandler.LOGGER);
        var lines = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        lines.start();
        ch.qos.logback.classic.Level level = access.getLevel();
        access.setLevel(ch.qos.logback.classic.Level.INFO);
        access.setAdditive(false);
        access.addAppender(lines);
        Map<String, Object> r;
        try {
            start(true, tls);
            r = drive("h2", "google-mail");
        } finally {
            access.detachAppender(lines);
            access.setLevel(level);
            access.setAdditive(true);
        }
        List<String> logged = lines.list.stream().map(e -> e.getFormattedMessage()).toList();
        Map<String, Object> result = result(r);
        assertNotNull(result, "the SDK's promise settled: " + r.get("ended") + " " + r.get("console"));
        assertEquals("resolved", result.get("outcome"), result.toString());
        assertEquals(gatewayOrigin.replace("https:", "wss:") + "/", BrowserDriver.list(r, "websockets").get(0).get("url"));
        List<String> frames = framesIn(r);
        assertEquals(2, frames.size(), frames.toString());
        assertTrue(frames.get(1).contains("\"success\""), frames.toString());
        // The popup's requests to the gateway came over HTTP/2, the WebSocket's upgrade over HTTP/1.1.
        for (String request : List.of("GET /oauth/connect/google-mail?", "GET /integrations/oauth-callback?")) {
            List<String> seen = logged.stream().filter(l -> l.contains("\"" + request)).toList();
            assertEquals(1, seen.size(), request + " in " + logged);
            assertTrue(seen.get(0).contains(" HTTP/2.0\""), seen.get(0));
        }
        assertTrue(logged.stream().anyMatch(l -> l.contains("\"GET / HTTP/1.1\" 101 ")), logged.toString());
        assertBrowserFollowedRedirects(r, "/oauth/connect/google-mail?connect_session_token=" + StandInNango.TOKEN);
        assertEquals(List.of("present"), nango.cookieChecks, "the oauth2-<session> cookie came back on the callback");
        List<StandInNango.Seen> callbacks = nangoSaw("/oauth/callback?");
        assertEquals(1, callbacks.size(), nango.seen.toString());
        assertEquals("https", callbacks.get(0).forwardedProto());
        assertEquals(List.of(Map.of("origin", gatewayOrigin, "type", "nango_oauth_callback_success")),
                BrowserDriver.list(r, "messages"));
    }

    @Test
    void theSdkPromiseResolvesWithTheConnection() throws Exception {
        start();
        Map<String, Object> r = drive("success", "google-mail");
        Map<String, Object> result = result(r);
        assertNotNull(result, "the SDK's promise settled: " + r.get("ended") + " " + r.get("console"));
        assertEquals("resolved", result.get("outcome"), result.toString());
        assertEquals("google-mail", result.get("providerConfigKey"));
        assertTrue(((String) result.get("connectionId")).startsWith("conn-"), result.toString());
        assertEquals(false, result.get("isPending"));

        // The WebSocket went through the gateway: ack, then the success Nango published.
        assertEquals(gatewayOrigin.replace("http:", "ws:") + "/", BrowserDriver.list(r, "websockets").get(0).get("url"));
        List<String> frames = framesIn(r);
        assertEquals(2, frames.size(), frames.toString());
        assertTrue(frames.get(0).contains("\"connection_ack\""), frames.toString());
        assertTrue(frames.get(1).contains("\"success\""), frames.toString());

        // The state cookie round-tripped: set on the connect 302 (seen by the browser), sent back on the callback.
        assertBrowserFollowedRedirects(r, "/oauth/connect/google-mail?connect_session_token=" + StandInNango.TOKEN);
        String setCookie = (String) document(r, gatewayOrigin + "/oauth/connect/").get("setCookie");
        assertNotNull(setCookie, "Set-Cookie relayed to the browser");
        assertTrue(setCookie.startsWith("oauth2-") && setCookie.contains("HttpOnly"), setCookie);
        assertEquals(List.of("present"), nango.cookieChecks, "the oauth2-<session> cookie came back on the callback");
        List<StandInNango.Seen> callbacks = nangoSaw("/oauth/callback?");
        assertEquals(1, callbacks.size(), nango.seen.toString());
        assertTrue(callbacks.get(0).cookie().contains(setCookie.substring(0, setCookie.indexOf(';'))));
        assertTrue(callbacks.get(0).userAgent().contains("Chrome"), "User-Agent replayed: " + callbacks.get(0));
        assertTrue(callbacks.get(0).target().contains("code=4%2F0A"), "code passed byte for byte: " + callbacks.get(0));

        // The popup got Nango's page from the gateway's callback URL, and was closed afterwards.
        Map<String, Object> page = document(r, gatewayOrigin + "/integrations/oauth-callback?");
        assertEquals(200, page.get("status"));
        assertTrue(((String) page.get("body")).contains("nango_oauth_callback_success"));
        assertEquals(true, r.get("popupClosed"));
        // The popup kept its opener across the three sites, and the message comes from the gateway's origin:
        // what Nango's Connect UI checks (evt.origin === new URL(apiURL).origin).
        assertEquals(List.of(Map.of("origin", gatewayOrigin, "type", "nango_oauth_callback_success")),
                BrowserDriver.list(r, "messages"));
        assertTrue(((String) r.get("pageText")).startsWith("Connected: google-mail / conn-"), (String) r.get("pageText"));

        // Meanwhile, the dashboard path without an upgrade stayed 403 and never reached Nango.
        assertEquals(List.of(1), socketsDuringFlow, "the SDK's WebSocket was open while the browser was at the provider");
        assertEquals(List.of(403), dashboardDuringFlow);
        assertEquals(403, get("/", null).statusCode());
        assertTrue(nango.seen.stream().noneMatch(s -> "/".equals(s.target()) && !s.upgrade()), nango.seen.toString());

        // The Connect UI's session call passes with the session token only.
        HttpResponse<String> session = get("/connect/session", "Bearer " + StandInNango.TOKEN);
        assertEquals(200, session.statusCode());
        assertTrue(session.body().contains("\"websocketsPath\":\"/\""), session.body());
        // Without the token it is refused (405: in dev.yaml the CORS-preflight route holds the path, for OPTIONS
        // only) and never reaches Nango.
        assertEquals(405, get("/connect/session", null).statusCode());
        assertEquals(1, nangoSaw("/connect/session").size(), nango.seen.toString());
        assertScreenshots(r);
    }

    @Test
    void theCatalogIdGmailWithoutAnAliasIsRefusedByNangoAndTheSdkRejects() throws Exception {
        start(false); // dev.yaml without its google-mail alias
        Map<String, Object> r = drive("gmail-no-alias", "gmail");
        Map<String, Object> result = result(r);
        assertNotNull(result, "the SDK's promise settled: " + r.get("console"));
        assertEquals("rejected", result.get("outcome"));
        assertEquals("unknown_config_key", result.get("type"));
        assertTrue(((String) result.get("message")).contains("gmail"), result.toString());
        assertEquals(1, nangoSaw("/oauth/connect/gmail?").size(), nango.seen.toString());
        assertEquals(List.of(), provider.seen, "the browser never got to the provider");
        Map<String, Object> page = document(r, gatewayOrigin + "/oauth/connect/gmail?");
        assertEquals(400, page.get("status"));
        assertTrue(((String) page.get("body")).contains("gmail"));
        assertTrue(((String) r.get("pageText")).contains("unknown_config_key"));
        assertScreenshots(r);
    }

    @Test
    void theCatalogIdGmailWithAnAliasIsRewrittenAndTheFlowCompletes() throws Exception {
        start();
        Map<String, Object> r = drive("gmail-alias", "gmail");
        Map<String, Object> result = result(r);
        assertNotNull(result, "the SDK's promise settled: " + r.get("console"));
        assertEquals("resolved", result.get("outcome"), result.toString());
        assertEquals("google-mail", result.get("providerConfigKey"), "Nango's key, not the catalog id");
        assertEquals(List.of(), nangoSaw("/oauth/connect/gmail"));
        assertEquals(1, nangoSaw("/oauth/connect/google-mail?").size(), nango.seen.toString());
        assertBrowserFollowedRedirects(r, "/oauth/connect/gmail?");
        assertEquals(List.of("present"), nango.cookieChecks);
        assertScreenshots(r);
    }

    @Test
    void aProviderErrorRedirectIsShownToTheUserAndRejectsTheSdk() throws Exception {
        start();
        provider.mode(StandInProvider.Mode.DENY);
        Map<String, Object> r = drive("access-denied", "google-mail");
        Map<String, Object> result = result(r);
        assertNotNull(result, "the SDK's promise settled: " + r.get("console"));
        assertEquals("rejected", result.get("outcome"));
        assertEquals("callback_err", result.get("type"));
        assertTrue(((String) result.get("message")).contains("access_denied"), result.toString());
        assertBrowserFollowedRedirects(r, "/oauth/connect/google-mail?");
        Map<String, Object> page = document(r, gatewayOrigin + "/integrations/oauth-callback?error=access_denied");
        assertEquals(400, page.get("status"));
        assertTrue(((String) page.get("body")).contains("access_denied: The user denied access"),
                (String) page.get("body"));
        assertTrue(((String) r.get("pageText")).contains("access_denied"), (String) r.get("pageText"));
        assertEquals(List.of(Map.of("origin", gatewayOrigin, "type", "nango_oauth_callback_error")),
                BrowserDriver.list(r, "messages"));
        assertEquals(List.of("present"), nango.cookieChecks);
        assertScreenshots(r);
    }

    @Test
    void nangoDownDuringTheCallbackShowsTheGatewaysErrorPage() throws Exception {
        start();
        // Nango goes away while the browser is at the provider: the callback replay finds nobody.
        provider.onAuthorize(() -> nango.close());
        Map<String, Object> r = drive("nango-down", "google-mail");
        assertBrowserFollowedRedirects(r, "/oauth/connect/google-mail?");
        Map<String, Object> page = document(r, gatewayOrigin + "/integrations/oauth-callback?");
        assertEquals(502, page.get("status"));
        String body = (String) page.get("body");
        assertTrue(body.contains("<h1>Sign-in failed</h1>"), body);
        assertFalse(body.contains("127.0.0.1:" + nango.port()), "no internals on the error page: " + body);
        assertTrue(String.valueOf(r.get("popupText")).contains("Sign-in failed"), "the user sees it: " + r.get("popupText")
                + " " + r.get("screenshots") + " " + r.get("console"));
        // Nango's WebSocket died with it: the SDK's promise is never settled (the SDK ignores a closed socket).
        assertNull(result(r), "nothing settles the SDK's promise: " + r.get("result"));
        assertEquals(true, BrowserDriver.list(r, "websockets").get(0).get("closed"));
        assertScreenshots(r);
    }

    /**
     * A GitHub App installed from GitHub's pages comes to the callback without {@code state}; Nango answers 302 to
     * the Referer. The gateway relays that 302 (status, Location, Set-Cookie) and Chromium follows it itself: on
     * the callback route the provider is told to use (replayed) and on Nango's own callback URL (proxied).
     */
    @ParameterizedTest
    @ValueSource(strings = {"/integrations/oauth-callback", "/oauth/callback"})
    void nangosRedirectFromTheCallbackIsFollowedByTheBrowserNotTheGateway(String callbackPath) throws Exception {
        start();
        String callback = gatewayOrigin + callbackPath + "?";
        Map<String, Object> r = BrowserDriver.clickThrough("github-app-redirect" + callbackPath.replace('/', '-'),
                provider.installUrl(gatewayOrigin + callbackPath), "#install", provider.homeUrl(), gatewayOrigin, SHOTS);

        // Nango saw the callback once, as the browser sent it: no state, and the Referer it redirects to.
        List<StandInNango.Seen> callbacks = nangoSaw("/oauth/callback?");
        assertEquals(1, callbacks.size(), nango.seen.toString());
        StandInNango.Seen seen = callbacks.get(0);
        assertTrue(seen.target().contains("installation_id=" + StandInProvider.INSTALLATION_ID)
                && !seen.target().contains("state="), seen.toString());
        assertEquals(provider.homeUrl(), seen.referer(), "Referer replayed: " + seen);
        assertTrue(seen.userAgent().contains("Chrome"), seen.toString());

        // The browser got Nango's answer as Nango gave it: 302, its Location and its Set-Cookie ...
        Map<String, Object> relayed = document(r, callback);
        assertEquals(302, relayed.get("status"), "the callback's answer reached the browser as: " + relayed);
        assertEquals(provider.homeUrl(), relayed.get("location"), relayed.toString());
        assertEquals(nango.cookiesSet, List.of(String.valueOf(relayed.get("setCookie"))), relayed.toString());
        // ... and followed it itself: the next navigation asked for the Location because of that 302, and the tab
        // shows the provider's page.
        List<Map<String, Object>> nav = BrowserDriver.list(r, "requests").stream()
                .filter(q -> Boolean.TRUE.equals(q.get("nav"))).toList();
        assertTrue(nav.stream().anyMatch(q -> provider.homeUrl().equals(q.get("url"))
                && String.valueOf(q.get("from")).startsWith(callback)), "Location requested by the browser: " + nav);
        assertEquals("landed", r.get("ended"), "the tab never showed " + provider.homeUrl() + ": " + r.get("landedAt"));
        assertEquals(provider.homeUrl(), r.get("landedAt"));
        assertTrue(String.valueOf(r.get("pageText")).contains("The App is installed."), (String) r.get("pageText"));

        // The provider served its page once, to Chromium: the gateway never fetched the Location. The page did not
        // get the gateway's cookie (another host); Chromium keeps it for the gateway's host.
        assertEquals(1, provider.homeVisits.size(), provider.homeVisits.toString());
        StandInProvider.Visit home = provider.homeVisits.get(0);
        assertTrue(home.userAgent().contains("Chrome"), home.toString());
        assertNull(home.cookie(), home.toString());
        List<Map<String, Object>> cookies = BrowserDriver.list(r, "cookies");
        assertEquals(List.of(Map.of("name", StandInNango.INSTALL_COOKIE, "value", StandInProvider.INSTALLATION_ID,
                "domain", "127.0.0.1", "path", "/", "httpOnly", true, "sameSite", "Lax")), cookies);
        assertEquals(List.of(), provider.seen, "no /authorize in this flow");
        assertTrue(BrowserDriver.list(r, "screenshots").stream().map(x -> (String) x.get("file"))
                .anyMatch(f -> f != null && Files.isRegularFile(Path.of(f))), r.get("screenshots").toString());
    }
}
