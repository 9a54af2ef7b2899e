package nangogateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExplainCommandTest {
    private static final String TOKEN = "nango_connect_session_" + "0123456789abcdef".repeat(4);

    @TempDir
    Path dir;
    private String config;

    @BeforeEach
    void writeConfig() {
        config = Cli.write(dir, "gateway.yaml", Cli.ROUTES_YAML).toString();
    }

    private Cli.Result explain(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "explain";
        all[1] = "--config";
        all[2] = config;
        System.arraycopy(args, 0, all, 3, args.length);
        return Cli.run(all);
    }

    @Test
    void anAllowedRouteShowsTheTargetTheTraceAndTheRoute() {
        Cli.Result r = explain("GET", "/oauth/connect/github?connect_session_token=abc%2Fdef");
        assertEquals(0, r.code(), r.toString());
        assertEquals(List.of(
                "listener public on 127.0.0.1:8080 (http)",
                "request  GET /oauth/connect/github?connect_session_token=abc%2Fdef",
                "path     /oauth/connect/github",
                "query    connect_session_token=abc%2Fdef",
                "routes   (tried in file order)",
                "  oauth-callback-replay: path does not match /integrations/oauth-callback",
                "  oauth-connect: MATCH {key=github}",
                "-> route oauth-connect (proxy to nango)"), r.out().lines().toList());
        assertEquals("", r.err());
    }

    @Test
    void aKnownPathWithAnotherMethodIs405WithAllow() {
        Cli.Result r = explain("PUT", "/webhook/prod/github");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("  webhooks: method PUT not in [POST]\n"), r.out());
        assertTrue(r.out().endsWith("-> 405 Allow: POST\n"), r.out());
    }

    @Test
    void anUnlistedPathGoesToOtherwise() {
        Cli.Result r = explain("GET", "/api/v1/account");
        assertEquals(0, r.code(), r.toString());
        assertEquals(7, r.out().lines().filter(l -> l.startsWith("  ") && l.contains(": path does not match")).count(),
                "every public route tried: " + r.out());
        assertTrue(r.out().endsWith("-> otherwise 403\n"), r.out());
        assertTrue(r.out().contains("query    (none)\n"), r.out());
    }

    @Test
    void aDotSegmentIsRejectedBeforeRoutingWithExitTwo() {
        Cli.Result r = explain("GET", "/oauth/../api");
        assertEquals(ExplainCommand.TARGET_REJECTED, r.code(), r.toString());
        assertEquals(List.of(
                "listener public on 127.0.0.1:8080 (http)",
                "request  GET /oauth/../api",
                "target   rejected: dot segment in path",
                "-> 400 Bad Request: dot segment in path (refused before any route is tried)"),
                r.out().lines().toList());
    }

    @Test
    void aFailingHeaderConditionFallsThroughToTheNextRoute() {
        Cli.Result r = explain("GET", "/connect/session", "--header", "Authorization: Bearer guess");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("  connect-session: header Authorization does not match "
                + "^Bearer nango_connect_session_[a-f0-9]{64}$\n"), r.out());
        assertTrue(r.out().contains("  connect-session-denied: MATCH\n"), r.out());
        assertTrue(r.out().endsWith("-> route connect-session-denied (respond 401)\n"), r.out());
    }

    @Test
    void aMatchingHeaderTakesTheGuardedRoute() {
        Cli.Result r = explain("GET", "/connect/session", "-H", "Authorization: Bearer " + TOKEN);
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().endsWith("  connect-session: MATCH\n-> route connect-session (proxy to nango)\n"), r.out());
    }

    @Test
    void aHeaderGivenTwiceIsSentTwiceAndSatisfiesNoCondition() {
        String auth = "Authorization: Bearer " + TOKEN;
        Cli.Result r = explain("GET", "/connect/session", "--header", auth, "--header", auth);
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("  connect-session: header Authorization given 2 times\n"), r.out());
        assertTrue(r.out().endsWith("-> route connect-session-denied (respond 401)\n"), r.out());
    }

    @Test
    void aWebSocketRouteNeedsAValidUpgrade() {
        Cli.Result plain = explain("GET", "/");
        assertTrue(plain.out().contains("  sdk-websocket: not a valid WebSocket upgrade\n"), plain.out());
        assertTrue(plain.out().endsWith("-> otherwise 403\n"), plain.out());

        Cli.Result upgrade = explain("GET", "/", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
                "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "-H", "Sec-WebSocket-Version: 13");
        assertTrue(upgrade.out().endsWith("-> route sdk-websocket (proxy to nango)\n"), upgrade.out());
    }

    @Test
    void anotherListenerIsChosenByName() {
        Cli.Result r = explain("--listener", "internal", "DELETE", "/proxy/2/files/delete");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().startsWith("listener internal on 127.0.0.1:3004 (http)\n"), r.out());
        assertTrue(r.out().contains("  nango-proxy-api: MATCH\n-> route nango-proxy-api (proxy to nango)\n"), r.out());
        assertTrue(r.out().endsWith("Base-Url-Override: refused with 400 provider_config_key_required: send exactly"
                + " one Provider-Config-Key header\n"), r.out());

        Cli.Result prefixOnly = explain("--listener", "internal", "GET", "/proxyx");
        assertTrue(prefixOnly.out().endsWith("-> otherwise 404\n"), prefixOnly.out());
    }

    /** A route file with an admin listener; the answers expected are written out, as the admin handler serves them. */
    private Cli.Result explainAdmin(String method, String target) {
        Path file = Cli.write(dir, "admin.yaml", """
                upstreams:
                  nango:
                    url: http://127.0.0.1:3003
                listeners:
                  - name: admin
                    bind: 127.0.0.1:9090
                    admin: true
                """);
        return Cli.run("explain", "--config", file.toString(), "--listener", "admin", method, target);
    }

    @Test
    void anAdminListenerAnswersItsOwnPathsNotRoutes() {
        Cli.Result r = explainAdmin("GET", "/healthz");
        assertEquals(0, r.code(), r.toString());
        assertEquals(List.of(
                "listener admin on 127.0.0.1:9090 (http)",
                "request  GET /healthz",
                "path     /healthz",
                "query    (none)",
                "-> admin /healthz: 200 ok (the process answers)"), r.out().lines().toList());
        assertTrue(explainAdmin("HEAD", "/readyz?verbose=1").out().endsWith("-> admin /readyz: 200 when every"
                + " upstream accepts a TCP connection within its connect timeout, else 503\n"));
        assertTrue(explainAdmin("GET", "/metrics").out().endsWith(
                "-> admin /metrics: 200, the metrics in Prometheus text format\n"));
        assertTrue(explainAdmin("GET", "/").out().endsWith(
                "-> 404 (any other path 404; methods other than GET and HEAD 405)\n"));
        assertTrue(explainAdmin("GET", "/healthz/").out().endsWith("-> 404 (any other path 404; methods other than"
                + " GET and HEAD 405)\n"), "only the exact path");
        assertTrue(explainAdmin("POST", "/healthz").out().endsWith("-> 405 Allow: GET, HEAD\n"));
        assertTrue(explainAdmin("get", "/healthz").out().endsWith("-> 405 Allow: GET, HEAD\n"),
                "methods are case-sensitive");
        assertEquals(ExplainCommand.TARGET_REJECTED, explainAdmin("GET", "/a/../healthz").code(),
                "the target is read as on any listener first");
    }

    @Test
    void anUnknownListenerIsAUsageErrorNamingTheListeners() {
        Cli.Result r = explain("--listener", "admin", "GET", "/");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().startsWith("no listener 'admin' in " + config + "; listeners: public, internal\n"), r.err());
    }

    @Test
    void aHeaderWithoutColonIsAUsageError() {
        Cli.Result r = explain("GET", "/", "--header", "Authorization Bearer x");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().startsWith("--header 'Authorization Bearer x': write it as 'Name: value'\n"), r.err());
    }

    @Test
    void showsTheBaseUrlOverrideDecisionOnTheShippedTemplate() {
        String conf = java.nio.file.Path.of("..", "conf", "gateway.yaml").toString();
        Cli.Result set = Cli.run("explain", "--config", conf, "--listener", "internal", "POST",
                "/proxy/2/files/download", "--header", "Provider-Config-Key: dropbox");
        assertEquals(0, set.code(), set.err());
        assertTrue(set.out().contains("Base-Url-Override: https://content.dropboxapi.com (set by rule /2/files/download)"),
                set.out());
        Cli.Result refused = Cli.run("explain", "--config", conf, "--listener", "internal", "GET", "/proxy/x",
                "--header", "Provider-Config-Key: dropbox", "--header", "Base-Url-Override: https://evil.example");
        assertTrue(refused.out().contains("Base-Url-Override: refused with 403 base_url_override_not_allowed"),
                refused.out());
        Cli.Result alias = Cli.run("explain", "--config", conf, "GET", "/oauth/connect/gmail?connect_session_token=x");
        assertTrue(alias.out().contains("provider key {key} 'gmail' is an alias: rewritten to 'google-mail'"),
                alias.out());
    }
}
