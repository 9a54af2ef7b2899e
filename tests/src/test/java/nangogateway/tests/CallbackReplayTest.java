package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The OAuth callback replay: verbatim in, verbatim out, never follow a redirect, cap the body. */
class CallbackReplayTest extends MockNangoTest {
    private static final int CAP = 1024 * 1024;

    private RecordedRequest taken() throws InterruptedException {
        return nango.takeRequest(5, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "code=4%2F0AY0e-g7&state=abc+def&scope=email%20profile",
        "code=a+b&code=c&state=&empty",
        "state=x%2Fy%3D%3D&code=%2B%2F%3D",
        "error=access_denied&error_description=The+user+denied"})
    void replaysTheQueryByteForByte(String query) throws Exception {
        nango.enqueue(new MockResponse.Builder().body("<html>done</html>").build());
        RawHttp.Response r = RawHttp.exchange(port, "GET /integrations/oauth-callback?" + query + " HTTP/1.1\r\n"
                + "Host: ai.example\r\n\r\n");
        assertEquals(200, r.status());
        assertEquals("<html>done</html>", r.bodyText());
        assertEquals("/oauth/callback?" + query, taken().getTarget());
    }

    @Test
    void replaysALongStateAndNoQueryAtAll() throws Exception {
        String state = "s".repeat(4096);
        nango.enqueue(new MockResponse.Builder().body("a").build());
        nango.enqueue(new MockResponse.Builder().body("b").build());
        RawHttp.exchange(port, "GET /integrations/oauth-callback?state=" + state + " HTTP/1.1\r\nHost: x\r\n\r\n");
        RawHttp.exchange(port, "GET /integrations/oauth-callback HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("/oauth/callback?state=" + state, taken().getTarget());
        assertEquals("/oauth/callback", taken().getTarget());
    }

    @Test
    void forwardsOnlyCookieAndUserAgentVerbatim() throws Exception {
        nango.enqueue(new MockResponse.Builder().body("ok").build());
        String cookie = "oauth2-7f3a=1;  other=\"quoted value\" ;last=x";
        String ua = "Mozilla/5.0 (X11; Linux x86_64)  Chrome/156.0";
        RawHttp.exchange(port, "GET /integrations/oauth-callback?code=c&state=s HTTP/1.1\r\nHost: ai.example\r\n"
                + "Cookie: " + cookie + "\r\nUser-Agent: " + ua + "\r\nAuthorization: Bearer secret\r\n"
                + "X-Forwarded-Host: evil.example\r\nReferer: https://accounts.example/\r\nX-Custom: 1\r\n\r\n");
        RecordedRequest seen = taken();
        assertEquals("GET", seen.getMethod());
        assertEquals(cookie, seen.getHeaders().get("Cookie"));
        assertEquals(ua, seen.getHeaders().get("User-Agent"));
        assertNull(seen.getHeaders().get("Authorization"));
        assertNull(seen.getHeaders().get("Referer"));
        assertNull(seen.getHeaders().get("X-Custom"));
        assertEquals("ai.example", seen.getHeaders().get("X-Forwarded-Host"));
        assertEquals(List.of("Cookie"), seen.getHeaders().names().stream().filter(n -> n.equalsIgnoreCase("cookie"))
                .toList());
    }

    @Test
    void relaysEverySetCookieInOrder() throws Exception {
        nango.enqueue(new MockResponse.Builder().code(200)
                .addHeader("Set-Cookie", "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/; Secure; HttpOnly")
                .addHeader("Set-Cookie", "b=2; SameSite=None; Secure")
                .addHeader("Set-Cookie", "c=3")
                .addHeader("Cache-Control", "no-store")
                .addHeader("Content-Type", "text/html; charset=utf-8")
                .body("<p>hi</p>").build());
        RawHttp.Response r = RawHttp.exchange(port, "GET /integrations/oauth-callback?code=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(List.of("a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/; Secure; HttpOnly",
                "b=2; SameSite=None; Secure", "c=3"), r.headers("Set-Cookie"));
        assertEquals("no-store", r.header("Cache-Control"));
        assertEquals("text/html; charset=utf-8", r.header("Content-Type"));
        assertEquals("<p>hi</p>", r.bodyText());
    }

    @ParameterizedTest
    @ValueSource(ints = {301, 302, 303, 307, 308})
    void relaysRedirectsWithoutFollowingThem(int status) throws Exception {
        nango.enqueue(new MockResponse.Builder().code(status).addHeader("Location", "https://github.com/x?y=1")
                .body("").build());
        RawHttp.Response r = RawHttp.exchange(port, "GET /integrations/oauth-callback?installation_id=1 HTTP/1.1\r\n"
                + "Host: x\r\n\r\n");
        assertEquals(status, r.status());
        assertEquals("https://github.com/x?y=1", r.header("Location"));
        taken();
        assertEquals(1, nango.getRequestCount(), "the redirect was not followed");
    }

    @Test
    void capsTheBodyExactlyAtTheLimit() throws Exception {
        nango.enqueue(new MockResponse.Builder().chunkedBody("x".repeat(CAP), 64 * 1024).build());
        RawHttp.Response atCap = RawHttp.exchange(port, "GET /integrations/oauth-callback HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(200, atCap.status());
        assertEquals(CAP, atCap.body().length);

        nango.enqueue(new MockResponse.Builder().chunkedBody("x".repeat(CAP + 1), 64 * 1024).build());
        RawHttp.Response over = RawHttp.exchange(port, "GET /integrations/oauth-callback HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(502, over.status());
        assertTrue(over.bodyText().contains("<html>"));

        nango.enqueue(new MockResponse.Builder().body("y".repeat(CAP + 1)).build());
        RawHttp.Response declared = RawHttp.exchange(port, "GET /integrations/oauth-callback HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(502, declared.status());
    }

    @Test
    void refusesOtherMethodsWithoutReachingNango() throws Exception {
        RawHttp.Response r = RawHttp.exchange(port, "POST /integrations/oauth-callback?code=1 HTTP/1.1\r\nHost: x\r\n"
                + "Content-Length: 0\r\n\r\n");
        assertEquals(405, r.status());
        assertEquals("GET", r.header("Allow"));
        try (RawHttp c = new RawHttp(port)) {
            c.send("HEAD /integrations/oauth-callback HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(405, c.readHead().status());
        }
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void explainsFaultsToAPersonInABrowser() throws Exception {
        nango.enqueue(new MockResponse.Builder().headersDelay(4, TimeUnit.SECONDS).body("late").build());
        RawHttp.Response slow = RawHttp.exchange(port, "GET /integrations/oauth-callback HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(504, slow.status());
        assertTrue(slow.header("Content-Type").startsWith("text/html"));
        nango.close();
        RawHttp.Response down = RawHttp.exchange(port, "GET /integrations/oauth-callback HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(502, down.status());
        assertTrue(down.bodyText().contains("Sign-in failed"));
        assertTrue(!down.bodyText().contains("127.0.0.1"), "no internals in the body");
    }
}
