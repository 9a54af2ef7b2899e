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
