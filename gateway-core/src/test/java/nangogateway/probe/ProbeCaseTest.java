package nangogateway.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The verdict rules and the target URL, without sockets. */
class ProbeCaseTest {
    static final ProbeCase PLAIN = new ProbeCase(ProbeKind.PRIVATE, "p", ProbeCatalog.get("/api/v1/account"),
            ProbeCase.Rule.REFUSE);
    static final ProbeCase FRAMING = new ProbeCase(ProbeKind.SMUGGLING, "f", ProbeCatalog.get("/oauth/callback"),
            ProbeCase.Rule.REFUSE_AND_CLOSE);
    static final ProbeCase BODY = new ProbeCase(ProbeKind.SMUGGLING, "b", ProbeCatalog.get("/oauth/callback"),
            ProbeCase.Rule.REFUSE_BODY_AND_CLOSE);

    static boolean refused(ProbeCase c, Exchange seen) {
        return c.judge(seen).refused();
    }

    static Exchange status(int code, boolean closed) {
        return new Exchange.Answered(code, closed, null);
    }

    @Test
    void refusalStatusesAndDroppedConnectionsAreRefusals() {
        for (int code : List.of(400, 403, 404, 405, 413, 414, 431)) {
            assertTrue(refused(PLAIN, status(code, false)), Integer.toString(code));
        }
        assertTrue(refused(PLAIN, new Exchange.Dropped("EOF")));
    }

    @Test
    void answersFromBehindTheFrontEndAreFindings() {
        for (int code : List.of(101, 200, 204, 301, 302, 401, 500, 502, 503, 504, 501)) {
            assertTrue(PLAIN.judge(status(code, true)).finding(), Integer.toString(code));
        }
        Verdict limited = PLAIN.judge(status(429, true));
        assertFalse(limited.refused() || limited.decided(), "429 tells neither way: " + limited);
        assertTrue(PLAIN.judge(status(502, true)).why().contains("tried to reach its upstream"));
        assertEquals("redirected to https://x/", PLAIN.judge(new Exchange.Answered(301, false, "https://x/")).why());
    }

    @Test
    void silenceGarbageAndUnreachableAreNeverRefusals() {
        assertFalse(refused(PLAIN, new Exchange.Silent("no answer in 3s")));
        assertFalse(PLAIN.judge(new Exchange.Silent("no answer in 3s")).decided());
        assertTrue(PLAIN.judge(new Exchange.Garbled("x")).finding());
        assertFalse(refused(PLAIN, new Exchange.Unreachable("could not connect")));
        assertFalse(PLAIN.judge(new Exchange.Unreachable("could not connect")).decided());
    }

    static final String DASHBOARD = "<!DOCTYPE html>\n<html lang=\"en\"><head><title>Nango</title><script "
            + "src=\"/env.js\"></script></head><body><div id=\"root\"></div></body></html>";
    static final String CALLBACK = "<html><script>window.opener.postMessage({type: 'nango_oauth_callback_error'}, "
            + "'*')</script></html>";

    static Exchange.Answered answer(int status, String type, String body) {
        return new Exchange.Answered(status, false, null, type, body);
    }

    /** What answered is read from the answer, not guessed from the status. */
    @Test
    void whatWasReachedIsSaid() {
        Verdict dashboard = PLAIN.judge(answer(200, "text/html; charset=utf-8", DASHBOARD));
        assertTrue(dashboard.finding());
        assertEquals("200 text/html", dashboard.seen());
        assertTrue(dashboard.why().startsWith("reached the dashboard page (certain: "), dashboard.why());

        Verdict api = PLAIN.judge(answer(401, "application/json; charset=utf-8",
                "{\"error\":{\"code\":\"missing_auth_header\",\"message\":\"Authentication failed.\"}}"));
        assertEquals("reached a private API handler (certain: Nango's API refused the credentials with 401 "
                + "(error code missing_auth_header))", api.why());

        // A refusal status from Nango's API is Nango answering, not the front end refusing.
        Verdict notFound = PLAIN.judge(answer(404, "application/json", "{\"error\":{\"code\":\"not_found\"}}"));
        assertTrue(notFound.finding(), notFound.toString());
        assertTrue(notFound.why().startsWith("reached a private API handler (likely: "), notFound.why());

        assertTrue(PLAIN.judge(answer(403, "text/html", "<html><head><title>403 Forbidden</title></head><body>"
                + "<center><h1>403 Forbidden</h1></center><hr><center>nginx/1.22.1</center></body></html>")).refused());
        assertTrue(PLAIN.judge(answer(403, "text/plain; charset=utf-8", "403 Forbidden\n")).refused());

        Verdict unclear = PLAIN.judge(answer(200, "text/plain", "hello"));
        assertTrue(unclear.finding());
        assertTrue(unclear.why().contains("reached something behind the front end (unclear: "), unclear.why());
    }

    /** A traversal answered like its allowed route was resolved to that route: clean, and said so. */
    @Test
    void aTraversalResolvedToItsAllowedRouteIsNoFinding() {
        ProbeCase traversal = ProbeCatalog.all().stream()
                .filter(c -> c.aim() != null && c.aim().privatePath().equals("/proxy/x")
                        && c.aim().anchorMethod().equals("GET"))
                .findFirst().orElseThrow();
        Exchange.Answered baseline = answer(200, "text/html", CALLBACK);
        Verdict resolved = traversal.judge(answer(200, "text/html", CALLBACK), baseline, "gw.example");
        assertTrue(resolved.refused() && resolved.resolvedToAllowedRoute(), resolved.toString());
        assertTrue(resolved.why().startsWith("reached the public route itself (likely: the same answer as a plain "
                + "GET /oauth/callback"), resolved.why());

        Verdict proxy = traversal.judge(answer(401, "application/json", "{\"error\":{\"code\":\"x\"}}"), baseline,
                "gw.example");
        assertTrue(proxy.finding());
        assertTrue(proxy.why().startsWith("reached Nango's /proxy API (certain: "), proxy.why());
    }

    /**
     * Private-first traversals climb exactly to the allowed route: as many dot segments as the private part has
     * segments, so a front end that resolves them lands on the route, never above the root.
     */
    @Test
    void traversalsClimbExactlyToTheAllowedRoute() {
        List<ProbeCase> traversals = ProbeCatalog.all().stream().filter(c -> c.aim() != null).toList();
        assertTrue(traversals.size() >= 200, "traversals: " + traversals.size());
        for (ProbeCase c : traversals) {
            String target = c.methodAndTarget("gw.example").split(" ")[1];
            if (!c.name().startsWith("dot segments ") && !c.name().startsWith("encoded dots %2e%2e ")
                    && !c.name().startsWith("encoded slashes ") && !c.name().startsWith("every slash %2F ")) {
                continue;
            }
            String decoded = target.replace("%2e", ".").replace("%2f", "/").replace("%2F", "/");
            assertEquals(c.aim().anchorPath(), java.net.URI.create(decoded).normalize().getPath(), c.name());
        }
        Set<String> families = new HashSet<>();
        traversals.forEach(c -> families.add(c.aim().privatePath()));
        assertTrue(families.containsAll(List.of("/proxy/x", "/connection/x", "/config/x", "/api/v1/account",
                "/signin", "/v1/x")), families.toString());
        assertTrue(traversals.stream().anyMatch(c -> c.methodAndTarget("h").equals("GET /proxy/x/../../oauth/callback")));
        assertTrue(traversals.stream().anyMatch(c -> c.methodAndTarget("h").equals("GET /proxy/..%2foauth/callback")));
        assertTrue(traversals.stream().anyMatch(c -> c.methodAndTarget("h")
                .equals("POST /proxy/..%2f" + ProbeCatalog.WEBHOOK.substring(1))));
    }

    @Test
    void framingAttacksMustAlsoClose() {
        assertTrue(refused(FRAMING, status(400, true)));
        assertTrue(refused(FRAMING, status(501, true)));
        assertTrue(refused(FRAMING, status(505, true)));
        assertFalse(refused(FRAMING, status(400, false)));
        assertFalse(refused(FRAMING, status(200, true)));
        assertFalse(refused(PLAIN, status(505, true)), "505 is a refusal for framing attacks only");
        assertFalse(refused(BODY, status(502, true)));
        assertFalse(BODY.judge(status(502, true)).decided(), "a body judged only after Nango answers: no verdict");
        assertTrue(BODY.judge(status(502, true)).why().contains("Nango did not answer"));
        assertTrue(BODY.judge(status(200, true)).finding());
    }

    @Test
    void theCatalogNamesAreUniqueAndEveryRequestNamesTheHost() {
        Set<String> names = new HashSet<>();
        for (ProbeCase c : ProbeCatalog.all()) {
            assertTrue(names.add(c.kind() + " " + c.name()), "duplicate: " + c.name());
            assertTrue(c.raw("gw.example:8443").contains("gw.example:8443") || c.name().equals("no Host"), c.name());
        }
        assertTrue(names.size() >= 80);
    }

    @Test
    void targets() {
        ProbeTarget t = ProbeTarget.parse("https://Nango.example.com/");
        assertEquals("Nango.example.com", t.host());
        assertEquals(443, t.port());
        assertEquals("Nango.example.com", t.authority());
        assertTrue(t.tls());
        ProbeTarget v6 = ProbeTarget.parse("http://[::1]:8080");
        assertEquals("::1", v6.host());
        assertEquals("[::1]:8080", v6.authority());
        for (String bad : List.of("ftp://x", "x", "http://x/oauth", "http://x?a=1", "http://u@x", "//x")) {
            assertThrows(IllegalArgumentException.class, () -> ProbeTarget.parse(bad), bad);
        }
    }
}
