package nangogateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoutesCommandTest {
    @TempDir
    Path dir;

    @Test
    void printsEachListenerTableInFileOrder() {
        Path file = Cli.write(dir, "gateway.yaml", Cli.ROUTES_YAML);
        Cli.Result r = Cli.run("routes", "--config", file.toString());
        assertEquals(0, r.code(), r.toString());
        List<String> lines = r.out().lines().toList();

        assertEquals("listener public on 127.0.0.1:8080 (http)", lines.get(0));
        assertTrue(lines.get(1).matches("  ROUTE +METHODS +PATH +CONDITIONS +ACTION"), lines.get(1));
        List<String> publicRoutes = List.of("oauth-callback-replay", "oauth-connect", "oauth2-auth", "connect-session",
                "connect-session-denied", "sdk-websocket", "webhooks");
        for (int i = 0; i < publicRoutes.size(); i++) {
            assertTrue(lines.get(2 + i).startsWith("  " + publicRoutes.get(i) + " "),
                    "row " + i + " is " + publicRoutes.get(i) + ": " + lines.get(2 + i));
        }
        assertEquals("  otherwise 403", lines.get(9));
        assertEquals("", lines.get(10));
        assertEquals("listener internal on 127.0.0.1:3004 (http)", lines.get(11));
        assertTrue(lines.get(13).startsWith("  nango-proxy-api "), lines.get(13));
        assertEquals("  otherwise 404", lines.get(14));
        assertEquals(15, lines.size(), r.out());
    }

    @Test
    void rowsShowMethodsPathConditionsAndAction() {
        Path file = Cli.write(dir, "gateway.yaml", Cli.ROUTES_YAML);
        String out = Cli.run("routes", "--config", file.toString()).out();

        assertRow(out, "oauth-callback-replay", "GET", "/integrations/oauth-callback",
                "callback -> nango /oauth/callback (max response body 1MiB)");
        assertRow(out, "oauth-connect", "GET", "/oauth/connect/{key}",
                "proxy -> nango (max body 1MiB, base_url_override strip)");
        assertRow(out, "connect-session", "GET", "/connect/session",
                "Authorization ~ ^Bearer nango_connect_session_[a-f0-9]{64}$",
                "proxy -> nango (max body 1MiB, base_url_override strip)");
        assertRow(out, "connect-session-denied", "*", "/connect/session", "respond 401");
        assertRow(out, "sdk-websocket", "GET", "/", "websocket", "proxy -> nango");
        assertRow(out, "webhooks", "POST", "/webhook/{env}/{key}", "proxy -> nango (max body 75MiB, ");
        assertRow(out, "nango-proxy-api", "*", "prefix /proxy/", "base_url_override enforce)");
    }

    @Test
    void aRouteWithSeveralPathsListsOnePerLine() {
        Path file = Cli.write(dir, "paths.yaml", """
                upstreams:
                  nango:
                    url: http://127.0.0.1:3003
                listeners:
                  - name: public
                    bind: 127.0.0.1:8080
                    routes:
                      - name: connect-providers
                        path: ['/providers', '/providers/{provider}']
                        methods: [GET, HEAD]
                        proxy: { upstream: nango }
                      - name: health
                        path: /healthz
                        respond: { status: 204 }
                """);
        Cli.Result r = Cli.run("routes", "--config", file.toString());
        assertEquals(0, r.code(), r.toString());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(2).matches("  connect-providers +GET,HEAD +/providers +proxy -> nango .*"), lines.get(2));
        assertTrue(lines.get(3).matches(" +/providers/\\{provider}"), lines.get(3));
        assertEquals(lines.get(2).indexOf("/providers"), lines.get(3).indexOf("/providers"), "same column");
        assertTrue(lines.get(4).startsWith("  health "), lines.get(4));
        assertEquals("  otherwise 403", lines.get(5));
    }

    @Test
    void anAdminListenerListsWhatItAnswersInsteadOfAnOtherwise() {
        Path file = Cli.write(dir, "admin.yaml", """
                upstreams:
                  nango:
                    url: http://127.0.0.1:3003
                listeners:
                  - name: admin
                    bind: 127.0.0.1:9090
                    admin: true
                """);
        Cli.Result r = Cli.run("routes", "--config", file.toString());
        assertEquals(0, r.code(), r.toString());
        assertEquals(List.of(
                "listener admin on 127.0.0.1:9090 (http)",
                "  admin /healthz: 200 ok (the process answers)",
                "  admin /readyz: 200 when every upstream accepts a TCP connection within its connect timeout,"
                        + " else 503",
                "  admin /metrics: 200, the metrics in Prometheus text format",
                "  any other path 404; methods other than GET and HEAD 405"), r.out().lines().toList());
    }

    @Test
    void aBrokenFileGivesItsErrorsAndNoTable() {
        Path file = Cli.write(dir, "broken.yaml", "listeners: [ {name: public\n");
        Cli.Result r = Cli.run("routes", "--config", file.toString());
        assertEquals(1, r.code(), r.toString());
        assertEquals("", r.out());
        CheckCommandTest.assertLocated(file, r.err().lines().findFirst().orElseThrow());
    }

    /** The route's row holds these cells, in this order. */
    private static void assertRow(String out, String route, String... cells) {
        String row = out.lines().filter(l -> l.startsWith("  " + route + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + route + " in\n" + out));
        int at = route.length() + 2;
        for (String cell : cells) {
            int found = row.indexOf(cell, at);
            assertTrue(found > at, "'" + cell + "' after column " + at + " in: " + row);
            at = found + cell.length();
        }
    }
}
