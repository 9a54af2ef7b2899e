package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The raw-socket attack battery: target spellings that bypass a prefix route, request smuggling by ambiguous
 * framing, and generated mutations (bypass spelling x private target). Each refused case asserts the exact
 * status, that framing errors close the connection, and that Nango (MockWebServer) saw nothing; each control
 * asserts exactly the canonical request Nango received.
 *
 * <p>Leak check: after every refused case a sentinel request goes through the gateway; Nango must have seen
 * exactly that one request since the case began.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AttackBatteryTest {
    static final String HOST = "Host: gw.example\r\n";
    static final String BEARER = "Bearer nango_connect_session_" + "0123456789abcdef".repeat(4);
    static final String WEBHOOK = "/webhook/0e9d1a52-3a44-4f0a-9a4c-3b6c5b8d2f10/slack";
    static final String WS_HEADERS = "Connection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    private MockWebServer nango;
    private Gateway gateway;
    private int port;
    private final AtomicInteger sentinels = new AtomicInteger();

    /** One refused request: the raw bytes, the gateway's required status, and for 405 the required Allow. */
    record Attack(String name, String raw, int status, String allow) {
        Attack(String name, String raw, int status) {
            this(name, raw, status, null);
        }

        @Override
        public String toString() {
            return name;
        }
    }

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
        gateway = Gateway.start(TestConfigs.gateway(nango.getPort()));
        port = gateway.port("public");
    }

    @AfterAll
    void stop() {
        gateway.close();
        nango.close();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    static String get(String target) {
        return "GET " + target + " HTTP/1.1\r\n" + HOST + "\r\n";
    }

    static String req(String method, String target) {
        String body = method.equals("POST") || method.equals("PUT") || method.equals("PATCH")
                ? "Content-Length: 0\r\n" : "";
        return method + " " + target + " HTTP/1.1\r\n" + HOST + body + "\r\n";
    }

    /** A printable rendering of raw bytes for test names. */
    static String show(String raw) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < raw.length() && sb.length() < 110; i++) {
            char c = raw.charAt(i);
            switch (c) {
                case '\r' -> sb.append("\\r");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c >= 0x7f) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        if (sb.length() >= 110) {
            sb.append("...");
        }
        return sb.toString();
    }

    static Attack a(int status, String raw) {
        return new Attack(status + " <- " + show(raw), raw, status);
    }

    static Attack a(String label, int status, String raw) {
        return new Attack(label + ": " + status + " <- " + show(raw), raw, status);
    }

    static Attack na(String allow, String raw) {
        return new Attack("405 (Allow: " + allow + ") <- " + show(raw), raw, 405, allow);
    }

    static boolean closes(int status) {
        return status == 400 || status == 414 || status == 431;
    }

    /** Sends the attack on a fresh connection and checks status, close and that Nango saw nothing. */
    void assertRefused(Attack attack) throws Exception {
        try {
            refuse(attack, false);
        } catch (AssertionError | Exception e) {
            settle();
            throw new AssertionError("[" + attack.name() + "] " + e, e);
        }
    }

    /**
     * @param headAdmitted the request head is valid and routed to a proxy route, only its body framing is bad: the
     *                     body is buffered before anything goes upstream, so Nango must see nothing of it at all
     */
    void refuse(Attack attack, boolean headAdmitted) throws Exception {
        int before = nango.getRequestCount();
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(port)) {
            c.send(attack.raw());
            r = attack.raw().startsWith("HEAD ") ? c.readHead() : c.read();
            assertNotNull(r, "connection closed without a response");
            assertEquals(attack.status(), r.status(), "status for " + show(attack.raw()) + "; body: " + r.bodyText());
            if (attack.allow() != null) {
                assertEquals(attack.allow(), r.header("Allow"));
            }
            if (closes(attack.status())) {
                assertEquals("close", r.header("Connection"), "a framing/target error closes the connection");
                c.setTimeout(3000);
                assertTrue(c.isClosedByPeer(), "gateway must close the connection after " + attack.status());
            }
        }
        assertTrue(!r.bodyText().startsWith("nango saw"), "the answer came from Nango: " + r.bodyText());
        if (headAdmitted) {
            List<RecordedRequest> partial = new ArrayList<>();
            RecordedRequest p;
            while ((p = nango.takeRequest(300, TimeUnit.MILLISECONDS)) != null) {
                partial.add(p);
            }
            // Bodies are read whole before anything goes upstream: a body that breaks mid-way reaches nothing,
            // not even a head or a truncated request.
            assertEquals(List.of(), partial.stream().map(RecordedRequest::getRequestLine).toList(),
                    "Nango received part of a refused request");
        }
        assertNangoSawNothingSince(before);
    }

    /** Sends a sentinel through the gateway; Nango must have seen exactly that one request since {@code before}. */
    void assertNangoSawNothingSince(int before) throws Exception {
        String target = "/oauth/callback?sentinel=" + sentinels.incrementAndGet();
        RawHttp.Response s = RawHttp.exchange(port, get(target));
        assertEquals(200, s.status(), "sentinel");
        List<RecordedRequest> seen = drain();
        List<String> lines = new ArrayList<>();
        for (RecordedRequest r : seen) {
            lines.add(r.getRequestLine() + (r.getFailure() != null ? " (failed: " + r.getFailure() + ")" : ""));
        }
        assertEquals(before + 1, nango.getRequestCount(), "Nango received a refused request: " + lines);
        assertEquals(List.of("GET " + target + " HTTP/1.1"), lines, "Nango received a refused request");
    }

    /** After a failed case: let stray upstream requests land and discard them, so the next case starts clean. */
    void settle() throws InterruptedException {
        while (nango.takeRequest(300, TimeUnit.MILLISECONDS) != null) {
            // discard
        }
    }

    /** Every request MockWebServer has recorded and not yet handed out. */
    List<RecordedRequest> drain() throws InterruptedException {
        List<RecordedRequest> all = new ArrayList<>();
        RecordedRequest r;
        while ((r = nango.takeRequest(0, TimeUnit.MILLISECONDS)) != null) {
            all.add(r);
        }
        return all;
    }

    /** Sends one legitimate request and returns the single request Nango received for it. */
    RecordedRequest forwarded(String raw, int expectedStatus) throws Exception {
        drain();
        int before = nango.getRequestCount();
        RawHttp.Response r = RawHttp.exchange(port, raw);
        assertEquals(expectedStatus, r.status(), "body: " + r.bodyText());
        List<RecordedRequest> seen = drain();
        assertEquals(1, seen.size(), "Nango must see exactly one request");
        assertEquals(before + 1, nango.getRequestCount());
        return seen.get(0);
    }

    // ------------------------------------------------------------------ section 2: request-target bypasses

    static Stream<Attack> targetBypasses() {
        List<Attack> t = new ArrayList<>();
        // 1-2 case and trailing slash on private routes: canonical but not allowlisted
        for (String p : List.of("/OAUTH/CALLBACK", "/OAuth/Connect/github", "/Oauth/callback", "/oauth/Callback",
                "/OAUTH/CONNECT/github", "/API/V1/META", "/api/v1/meta/", "/api/v1/meta", "/Proxy/x", "/PROXY/x",
                "/HEALTHZ", "/Connect/Session", "/api/v1/account", "/config/k", "/environment-variables",
                "/oauth/callback.", "/oauth/callback%20", "/oauth/callbackx", "/oauth/connect",
                "/oauth/connect/", "/oauth/connect/github/extra", "/oauth", "/oauth/", "/oauthx", "/proxyx",
                "/proxyx/a", "/proxy", "/healthzx", "/connection/abc", "/connections", "/connect/sessionx",
                "/webhooks", "/dashboard", "/index.html", "/integrations/oauth-callbackx",
                "/oauth/connect/github%20", "/connect/session")) {
            t.add(a(403, get(p)));
        }
        // 4 empty segments
        for (String p : List.of("//oauth/callback", "/oauth//callback", "/oauth/callback//", "//", "///",
                "//api/v1/meta", "/proxy//x", "//proxy/x", "/webhook//" + "slack")) {
            t.add(a(400, get(p)));
        }
        // 5-6, 8 dot segments in every spelling
        for (String p : List.of("/oauth/./callback", "/oauth/callback/.", "/oauth/callback/%2e", "/oauth/callback/%2E",
                "/./oauth/callback", "/oauth/callback/./", "/.", "/..", "/oauth/../api/v1/meta",
                "/oauth/callback/..", "/oauth/callback/../", "/api/v1/meta/../../../oauth/callback",
                "/proxy/../api/v1/meta", "/proxy/x/../../api/v1/meta")) {
            t.add(a(400, get(p)));
        }
        // 7, 9, 10 encoded dots and slashes
        for (String p : List.of("/oauth/%2e%2e/api/v1/meta", "/oauth/%2E%2E%2Fapi%2Fv1%2Fmeta", "/oauth/..%2fapi/v1/meta",
                "/oauth/..%2Fapi/v1/meta", "/oauth/.%2e/api/v1/meta", "/oauth/%2e./api/v1/meta",
                "/api/v1/meta/..%2f..%2f..%2foauth/callback", "/api/v1/meta/%2e%2e/%2e%2e/%2e%2e/oauth/callback",
                "/proxy/..%2foauth/callback", "/proxy/%2e%2e/oauth/callback", "/proxy/x%2f..%2f..%2fapi",
                "/oauth%2fcallback", "/oauth%2Fcallback", "/oauth/callback%2f", "/%2foauth/callback")) {
            t.add(a(400, get(p)));
        }
        // 12 needlessly encoded unreserved: the design allows 400 or decode-and-forward; the gateway picks 400
        for (String p : List.of("/%6fauth/callback", "/oauth/%63allback", "/oauth/callbac%6B", "/oauth/connect/git%68ub",
                "/%61pi/v1/meta")) {
            t.add(a(400, get(p)));
        }
        // 13-17 double encoding, overlong, fullwidth, NUL, invalid percent-encoding
        for (String p : List.of("/oauth/%252e%252e/api/v1/meta", "/oauth/callback%25", "/oauth/callback%2500",
                "/oauth/%c0%ae%c0%ae/api", "/oauth/%C0%AE%C0%AE/api", "/oauth/%ef%bc%8e%ef%bc%8e/api",
                "/oauth/callback%00", "/oauth/callback%0a", "/oauth/callback%0d%0aX-Injected:%201",
                "/oauth/callback%09", "/oauth/callback%7f", "/oauth/callback%", "/oauth/callback%2",
                "/oauth/callback%zz", "/oauth/callback%g0", "/oauth/connect/%E2%80%AE", "/oauth/connect/%ff",
                "/oauth/connect/%FF", "/oauth/connect/%80")) {
            t.add(a(400, get(p)));
        }
        // 16, 18 raw bytes >= 0x80 and raw controls in the target
        for (String p : List.of("/oauth/caf\u00c3\u00a9", "/oauth/callback\u00ff", "/oauth/callback\u0080",
                "/oauth/\u00c0\u00ae\u00c0\u00ae/api", "/oauth/\u00ef\u00bc\u008e\u00ef\u00bc\u008e/api",
                "/oauth/callback\0", "/oauth/callback\u007f", "/oauth/callback\u0001", "/oauth/callback\u001b",
                "/oauth/cal\u000blback", "/oauth/cal\flback", "/oauth/cal\tlback")) {
            t.add(a(400, get(p)));
        }
        // 19 ';' path parameters; 21 backslashes; 22-23, 25 fragments and encoded '?'
        for (String p : List.of("/oauth/callback;jsessionid=x", "/oauth;x/callback", "/oauth/callback/..;/..;/api/v1/meta",
                "/oauth/callback;", "/oauth/callback%3b", "/oauth/callback%3B/x", "/oauth\\..\\api\\v1\\meta",
                "/oauth/callback\\", "/oauth\\callback", "/oauth/callback%5c..%5capi", "/oauth/callback%5C",
                "/oauth/callback#/../../api/v1/meta", "/oauth/callback#", "/api/v1/meta#/oauth/callback",
                "/oauth/callback?x=1#frag", "/oauth/callback%3f/../../api/v1/meta", "/oauth/callback%3F",
                "/oauth/callback%23")) {
            t.add(a(400, get(p)));
        }
        // 26-29 method-aware allowlist
        t.add(na("POST", get("/oauth2/auth/x")));
        t.add(a(403, get("/oauth2/auth")));
        t.add(a(403, req("POST", "/oauth2/auth/x/y")));
        t.add(a(403, req("POST", "/connect/sessions")));
        t.add(a(403, req("POST", "/connect/sessions/reconnect")));
        t.add(a(403, req("POST", "/connect/session")));
        t.add(a("POST with a valid bearer", 405, "POST /connect/session HTTP/1.1\r\n" + HOST + "Authorization: "
                + BEARER + "\r\nContent-Length: 0\r\n\r\n"));
        t.add(a("bearer of the wrong shape", 403, "GET /connect/session HTTP/1.1\r\n" + HOST
                + "Authorization: Bearer nango_connect_session_abc\r\n\r\n"));
        t.add(a("bearer given twice", 403, "GET /connect/session HTTP/1.1\r\n" + HOST + "Authorization: " + BEARER
                + "\r\nAuthorization: " + BEARER + "\r\n\r\n"));
        t.add(a("secret key instead of session token", 403, "GET /connect/session HTTP/1.1\r\n" + HOST
                + "Authorization: Bearer 0123456789abcdef0123456789abcdef\r\n\r\n"));
        t.add(a(403, req("POST", "/webhook/a/b/c")));
        t.add(a(403, req("POST", "/webhook/a")));
        t.add(a(403, req("POST", "/webhook/a%20b/c")));
        t.add(a(403, req("POST", "/webhooks/a/b")));
        t.add(a(403, req("DELETE", "/connection/abc")));
        t.add(a(403, req("PATCH", "/connection/abc")));
        // 30-32 second-order traversal through route parameters
        for (String p : List.of("/oauth/connect/..%2f..%2fapi", "/oauth/connect/%2e%2e", "/oauth/connect/..",
                "/oauth/connect/.", "/oauth/connect/a%5cb")) {
            t.add(a(400, get(p)));
        }
        t.add(a(400, req("POST", "/webhook/a%2fb/c")));
        t.add(a(400, req("POST", "/webhook/%2e%2e/b")));
        t.add(a(400, req("POST", "/webhook/../b")));
        // 33-36 absolute-form, asterisk-form, authority-form, relative targets, extra words
        for (String p : List.of("http://evil/api/v1/meta", "http://x/oauth/callback", "a://b/api/v1/meta",
                "HTTP://x/API/v1/meta", "https://gw.example/oauth/callback", "http://127.0.0.1:3003/api/v1/meta",
                "*", "x/api/v1/meta", "oauth/callback", "gw.example:443", "127.0.0.1:3003", "?x=1", "@evil/x")) {
            t.add(a(400, get(p)));
        }
        t.add(a(400, "CONNECT 127.0.0.1:3003 HTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "CONNECT gw.example:443 HTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET /oauth/callback /api/v1/meta HTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET /oauth/callback?x HTTP/1.1 HTTP/1.1\r\n" + HOST + "\r\n"));
        // 37-38 separators other than one SP
        t.add(a(400, "GET\t/oauth/callback\tHTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET\t/oauth/callback HTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET /oauth/callback\tHTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET\u000b/oauth/callback\u000bHTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET\f/oauth/callback\fHTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET\r/oauth/callback HTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET  /oauth/callback  HTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET  /oauth/callback HTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET /oauth/callback  HTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET  / HTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, " GET /oauth/callback HTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "\tGET /oauth/callback HTTP/1.1\r\n" + HOST + "\r\n"));
        t.add(a(400, "GET /oauth/callback HTTP/1.1 \r\n" + HOST + "\r\n"));
        t.add(a(400, "GET /oauth/callback HTTP/1.1\t\r\n" + HOST + "\r\n"));
        // 39 method tokens: 405 where a route exists for another method, 403 elsewhere
        t.add(na("GET", req("get", "/oauth/callback")));
        t.add(na("GET", req("Get", "/oauth/callback")));
        t.add(na("GET", req("FOO", "/oauth/callback")));
        t.add(na("GET", req("HEAD", "/oauth/callback")));
        t.add(na("GET", req("OPTIONS", "/oauth/callback")));
        t.add(na("GET", req("TRACE", "/oauth/callback")));
        t.add(na("GET", req("POST", "/oauth/callback")));
        t.add(na("GET", req("DELETE", "/oauth/connect/github")));
        t.add(na("GET, HEAD", req("get", "/healthz")));
        t.add(na("GET, HEAD", req("POST", "/healthz")));
        t.add(na("POST", req("PUT", WEBHOOK)));
        t.add(na("POST", req("post", WEBHOOK)));
        t.add(na("POST", req("GET", WEBHOOK)));
        t.add(a(403, req("FOO", "/api/v1/meta")));
        t.add(a(403, req("TRACE", "/api/v1/meta")));
        t.add(a(403, req("get", "/api/v1/meta")));
        // 40 versions
        for (String v : List.of("HTTP/1.2", "HTTP/2.0", "HTTP/2", "http/1.1", "Http/1.1", "HTTP/1", "HTTP/0.9",
                "HTTP/1.10", "HTTP/01.1", "HTTP/1.1x", "HTTP/3", "HTTPS/1.1", "HTTP/1.1/")) {
            t.add(a(400, "GET /oauth/callback " + v + "\r\n" + HOST + "\r\n"));
        }
        t.add(a("missing version", 400, "GET /oauth/callback\r\n" + HOST + "\r\n"));
        t.add(a("missing version", 400, "GET /api/v1/meta\r\n\r\n"));
        t.add(a("h2 preface", 400, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        // 41 Host
        t.add(a("no Host", 400, "GET /oauth/callback HTTP/1.1\r\n\r\n"));
        t.add(a("no Host", 400, "GET /oauth/callback HTTP/1.0\r\n\r\n"));
        t.add(a("two Hosts", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + "Host: evil.example\r\n\r\n"));
        t.add(a("two Hosts, differing name case", 400, "GET /oauth/callback HTTP/1.1\r\nHost: gw.example\r\n"
                + "host: evil.example\r\n\r\n"));
        t.add(a("two identical Hosts", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + HOST + "\r\n"));
        for (String h : List.of("a/api/v1", "evil@gw.example", "gw.example/oauth", "gw example", "gw.example:",
                "gw.example:99999999", "gw.example:80x", "[::1", "::1", "a,b", "gw.example?x", "gw.example#x",
                "gw.example\\x", "\u00e9vil.example", "gw.example:80:80")) {
            t.add(a("malformed Host", 400, "GET /oauth/callback HTTP/1.1\r\nHost: " + h + "\r\n\r\n"));
        }
        t.add(a("empty Host", 400, "GET /oauth/callback HTTP/1.1\r\nHost:\r\n\r\n"));
        // 44-45 h2c on a denied path, CORS preflight on the API
        t.add(a("h2c upgrade on a denied path", 403, "GET /api/v1/meta HTTP/1.1\r\n" + HOST
                + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"));
        t.add(a("h2c upgrade on the websocket path", 403, "GET / HTTP/1.1\r\n" + HOST
                + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"));
        t.add(a("plain GET on the websocket path", 403, get("/")));
        t.add(a("websocket upgrade on a private path", 403, "GET /api/v1/meta HTTP/1.1\r\n" + HOST + WS_HEADERS + "\r\n"));
        t.add(a("websocket upgrade with a bad key", 403, "GET / HTTP/1.1\r\n" + HOST + "Connection: Upgrade\r\n"
                + "Upgrade: websocket\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        t.add(a(403, "OPTIONS /api/v1/meta HTTP/1.1\r\n" + HOST + "Origin: https://evil.example\r\n"
                + "Access-Control-Request-Method: GET\r\n\r\n"));
        t.add(a(403, req("OPTIONS", "/connection/abc")));
        t.add(a(403, req("OPTIONS", "/proxyx")));
        // 42 rewrite headers do not turn a denied request into an allowed one
        t.add(a("X-Original-URL on a denied path", 403, "GET /api/v1/meta HTTP/1.1\r\n" + HOST
                + "X-Original-URL: /oauth/callback\r\nX-Rewrite-URL: /oauth/callback\r\n\r\n"));
        return t.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targetBypasses")
    void targetBypassIsRefused(Attack attack) throws Exception {
        assertRefused(attack);
    }

    // ------------------------------------------------------------------ generated mutations

    /** Private targets the public listener must never hand to Nango (each canonical, each a real Nango route). */
    static final List<String> PRIVATE = List.of("/api/v1/account", "/api/v1/meta", "/proxy/x", "/connection/abc",
            "/config/k", "/environment-variables", "/connect/sessions");
    static final String ANCHOR = "/oauth/callback";

    /** Bypass spellings: each turns (allowed anchor, private target) into one non-canonical request target. */
    static final List<Spelling> SPELLINGS = List.of(
            new Spelling("dotdot", (a, p) -> a + "/../.." + p),
            new Spelling("dotdot-deep", (a, p) -> a + "/../../../../.." + p),
            new Spelling("dot", (a, p) -> a + "/." + p),
            new Spelling("%2e%2e", (a, p) -> a + "/%2e%2e/%2e%2e" + p),
            new Spelling("%2E%2E", (a, p) -> a + "/%2E%2E/%2E%2E" + p),
            new Spelling(".%2e", (a, p) -> a + "/.%2e/.%2e" + p),
            new Spelling("..%2f", (a, p) -> a + "/..%2f..%2f" + p.substring(1)),
            new Spelling("..%2F", (a, p) -> a + "/..%2F..%2F" + p.substring(1)),
            new Spelling("%2f-only", (a, p) -> a + p.replace("/", "%2f")),
            new Spelling("..;/", (a, p) -> a + "/..;/..;" + p),
            new Spelling(";", (a, p) -> a + ";" + p),
            new Spelling("backslash", (a, p) -> a.replace('/', '\\') + "\\..\\.." + p.replace('/', '\\')),
            new Spelling("%5c", (a, p) -> a + "%5c..%5c..%5c" + p.substring(1).replace("/", "%5c")),
            new Spelling("%5C", (a, p) -> a + "/..%5C..%5C" + p.substring(1)),
            new Spelling("#", (a, p) -> a + "#/../.." + p),
            new Spelling("%3f", (a, p) -> a + "%3f/../.." + p),
            new Spelling("%252e", (a, p) -> a + "/%252e%252e/%252e%252e" + p),
            new Spelling("%25-slash", (a, p) -> a + "/..%252f..%252f" + p.substring(1)),
            new Spelling("%00", (a, p) -> a + "%00/../.." + p),
            new Spelling("%c0%ae", (a, p) -> a + "/%c0%ae%c0%ae/%c0%ae%c0%ae" + p),
            new Spelling("%ef%bc%8e", (a, p) -> a + "/%ef%bc%8e%ef%bc%8e/%ef%bc%8e%ef%bc%8e" + p),
            new Spelling("%ff", (a, p) -> a + "/%ff/../.." + p),
            new Spelling("raw-0xc0ae", (a, p) -> a + "/\u00c0\u00ae\u00c0\u00ae/\u00c0\u00ae\u00c0\u00ae" + p),
            new Spelling("raw-0xff", (a, p) -> a + "\u00ff" + p),
            new Spelling("//", (a, p) -> "/" + p),
            new Spelling("private-then-dotdot", (a, p) -> p + "/../../../.." + a),
            new Spelling("private-then-%2e", (a, p) -> p + "/%2e%2e/%2e%2e/%2e%2e/%2e%2e" + a),
            new Spelling("private-then-..%2f", (a, p) -> p + "/..%2f..%2f..%2f..%2f" + a.substring(1)),
            new Spelling("private#anchor", (a, p) -> p + "#" + a),
            new Spelling("private;anchor", (a, p) -> p + ";" + a),
            new Spelling("absolute-form", (a, p) -> "http://gw.example" + p),
            new Spelling("absolute-form-anchor", (a, p) -> "http://gw.example" + a + "/../.." + p),
            new Spelling("trailing-dot-segment", (a, p) -> p + "/."));

    record Spelling(String name, java.util.function.BinaryOperator<String> build) {
    }

    static Stream<Attack> mutations() {
        List<Attack> t = new ArrayList<>();
        for (Spelling s : SPELLINGS) {
            for (String p : PRIVATE) {
                String target = s.build().apply(ANCHOR, p);
                t.add(new Attack(s.name() + " x " + p + ": 400 <- " + show(target), get(target), 400));
            }
        }
        // case changes of private targets stay canonical: 403 (the proxy prefix is case-sensitive too)
        for (String p : PRIVATE) {
            String upper = p.toUpperCase(Locale.ROOT);
            t.add(new Attack("uppercase x " + p + ": 403 <- " + upper, get(upper), 403));
        }
        return t.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mutations")
    void bypassMutationNeverReachesNango(Attack attack) throws Exception {
        assertRefused(attack);
    }

    // ------------------------------------------------------------------ section 3: framing and smuggling

    static String post(String target, String headers, String body) {
        return "POST " + target + " HTTP/1.1\r\n" + HOST + headers + "\r\n" + body;
    }

    static Stream<Attack> framing() {
        List<Attack> t = new ArrayList<>();
        String chunked = "5\r\nhello\r\n0\r\n\r\n";
        // CL + TE, in both orders, and on HTTP/1.0
        t.add(a("CL+TE", 400, post(WEBHOOK, "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", chunked)));
        t.add(a("TE+CL", 400, post(WEBHOOK, "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", chunked)));
        t.add(a("CL+TE denied path", 400, post("/api/v1/meta", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                chunked)));
        t.add(a("CL 0 + TE", 400, post(WEBHOOK, "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", chunked)));
        t.add(a("TE on HTTP/1.0", 400, "POST " + WEBHOOK + " HTTP/1.0\r\n" + HOST
                + "Transfer-Encoding: chunked\r\n\r\n" + chunked));
        t.add(a("TE+CL on HTTP/1.0", 400, "POST " + WEBHOOK + " HTTP/1.0\r\n" + HOST
                + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + chunked));
        // duplicate and malformed Content-Length
        for (String[] cl : new String[][] {{"5", "5"}, {"5", "6"}, {"6", "5"}, {"0", "5"}}) {
            t.add(a("two CL", 400, post(WEBHOOK, "Content-Length: " + cl[0] + "\r\nContent-Length: " + cl[1] + "\r\n",
                    "hello!")));
        }
        for (String cl : List.of("5, 5", "5,5", "5, 6", "+5", "-1", "0x5", "5 5", "5.0", "5e0", "05x",
                "99999999999999999999", "18446744073709551621", "9223372036854775808", "abc", "\"5\"", "5;",
                "\u00b55")) {
            t.add(a("CL " + show(cl), 400, post(WEBHOOK, "Content-Length: " + cl + "\r\n", "hello")));
        }
        t.add(a("empty CL", 400, post(WEBHOOK, "Content-Length:\r\n", "hello")));
        // Transfer-Encoding variants: only exactly one 'chunked' token
        for (String te : List.of("xchunked", "chunkedx", "chunked, identity", "chunked, chunked", "identity, chunked",
                "gzip, chunked", "chunked,", ",chunked", "identity", "gzip", "deflate", "\"chunked\"",
                "chunked;q=1", "chunked, ", "ch unked", "chunk", "chunked\u00a0", "\u00a0chunked", "chunked\u000b",
                "\u000bchunked", "\fchunked", "chunked\f", "chunked\u001f", "cHuNkEd, chunked")) {
            t.add(a("TE " + show(te), 400, post(WEBHOOK, "Transfer-Encoding: " + te + "\r\n", chunked)));
        }
        t.add(a("TE name upper-case, bad value", 400, post(WEBHOOK, "TRANSFER-ENCODING: xchunked\r\n", chunked)));
        t.add(a("two CL, differing name case", 400, post(WEBHOOK, "content-length: 5\r\nContent-Length: 6\r\n",
                "hello!")));
        t.add(a("two TE headers", 400, post(WEBHOOK, "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                chunked)));
        t.add(a("two TE headers gzip,chunked", 400, post(WEBHOOK,
                "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", chunked)));
        t.add(a("two TE headers chunked,identity", 400, post(WEBHOOK,
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", chunked)));
        t.add(a("space before colon", 400, post(WEBHOOK, "Transfer-Encoding : chunked\r\n", chunked)));
        t.add(a("tab before colon", 400, post(WEBHOOK, "Transfer-Encoding\t: chunked\r\n", chunked)));
        t.add(a("space before colon on CL", 400, post(WEBHOOK, "Content-Length : 5\r\n", "hello")));
        t.add(a("leading space in name", 400, "POST " + WEBHOOK + " HTTP/1.1\r\n Transfer-Encoding: chunked\r\n"
                + HOST + "\r\n" + chunked));
        // obs-fold
        t.add(a("obs-fold on TE", 400, post(WEBHOOK, "Transfer-Encoding:\r\n chunked\r\n", chunked)));
        t.add(a("obs-fold on TE (tab)", 400, post(WEBHOOK, "Transfer-Encoding:\r\n\tchunked\r\n", chunked)));
        t.add(a("obs-fold before TE", 400, post(WEBHOOK, "X-Foo: bar\r\n Transfer-Encoding: chunked\r\n", chunked)));
        t.add(a("obs-fold before TE (tab)", 400, post(WEBHOOK, "X-Foo: bar\r\n\tTransfer-Encoding: chunked\r\n",
                chunked)));
        t.add(a("obs-fold after Host", 400, "GET /oauth/callback HTTP/1.1\r\nHost: gw.example\r\n x\r\n\r\n"));
        t.add(a("obs-fold on Host", 400, "GET /oauth/callback HTTP/1.1\r\nHost:\r\n gw.example\r\n\r\n"));
        t.add(a("obs-fold on a denied path", 400, "GET /api/v1/meta HTTP/1.1\r\n" + HOST + "X-A: 1\r\n 2\r\n\r\n"));
        // '_' in header names
        t.add(a("Transfer_Encoding", 400, post(WEBHOOK, "Transfer_Encoding: chunked\r\nContent-Length: 5\r\n",
                "hello")));
        t.add(a("Content_Length", 400, post(WEBHOOK, "Content_Length: 5\r\n", "hello")));
        t.add(a("X_Forwarded_For", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + "X_Forwarded_For: 1.2.3.4\r\n\r\n"));
        // header syntax
        t.add(a("NUL in value", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + "X-A: a\0b\r\n\r\n"));
        t.add(a("CR in value", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + "X-A: a\rb\r\n\r\n"));
        t.add(a("CR in value hiding a header", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST
                + "X-A: a\rX-Original-URL: /api/v1/meta\r\n\r\n"));
        t.add(a("DEL in value", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + "X-A: a\u007fb\r\n\r\n"));
        t.add(a("no colon", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + "X-A b\r\n\r\n"));
        t.add(a("no colon TE", 400, post(WEBHOOK, "Transfer-Encoding chunked\r\n", chunked)));
        t.add(a("empty name", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + ": x\r\n\r\n"));
        t.add(a("space in name", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + "X A: b\r\n\r\n"));
        t.add(a("NUL in name", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + "X\0A: b\r\n\r\n"));
        t.add(a("non-ASCII in name", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + "Transfer-\u0130ncoding: b\r\n\r\n"));
        t.add(a("bare LF line endings", 400, "GET /oauth/callback HTTP/1.1\nHost: gw.example\n\n"));
        t.add(a("bare LF after a header", 400, "GET /oauth/callback HTTP/1.1\r\n" + "Host: gw.example\nX-A: 1\r\n\r\n"));
        t.add(a("bare CR line endings", 400, "GET /oauth/callback HTTP/1.1\rHost: gw.example\r\r\n\r\n"));
        // bytes before the request line: CRLF allowed (see control), anything else refused
        t.add(a("NUL before request line", 400, "\0" + get("/oauth/callback")));
        t.add(a("SOH before request line", 400, "\u0001" + get("/oauth/callback")));
        t.add(a("CRLF NUL before request line", 400, "\r\n\0" + get("/oauth/callback")));
        t.add(a("CRLF SP before request line", 400, "\r\n " + get("/oauth/callback")));
        // oversize
        t.add(a("request line > 8 KiB", 414, get("/oauth/callback?x=" + "a".repeat(9000))));
        t.add(a("request line > 8 KiB denied path", 414, get("/api/v1/meta/" + "a".repeat(9000))));
        t.add(a("header block > 16 KiB", 431, "GET /oauth/callback HTTP/1.1\r\n" + HOST + "X-Big: "
                + "a".repeat(17 * 1024) + "\r\n\r\n"));
        t.add(a("header block > 16 KiB in many fields", 431, "GET /oauth/callback HTTP/1.1\r\n" + HOST
                + ("X-Pad: " + "b".repeat(1000) + "\r\n").repeat(18) + "\r\n"));
        StringBuilder many = new StringBuilder("GET /oauth/callback HTTP/1.1\r\n" + HOST);
        for (int i = 0; i < 101; i++) {
            many.append("X-H").append(i).append(": v\r\n");
        }
        t.add(a("101 header fields", 431, many + "\r\n"));
        // Connection naming headers the gateway owns; unknown expectations
        t.add(a("Connection names Host", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST + "Connection: close, Host\r\n\r\n"));
        t.add(a("Connection names Content-Length", 400, post(WEBHOOK, "Content-Length: 5\r\n"
                + "Connection: Content-Length\r\n", "hello")));
        t.add(a("Connection names X-Forwarded-For", 400, "GET /oauth/callback HTTP/1.1\r\n" + HOST
                + "Connection: keep-alive, X-Forwarded-For\r\n\r\n"));
        t.add(a("Expect: 100-continue on a denied path", 403, post("/api/v1/meta", "Content-Length: 5\r\n"
                + "Expect: 100-continue\r\n", "")));
        t.add(new Attack("unknown expectation: 417", post(WEBHOOK, "Content-Length: 5\r\nExpect: 200-ok\r\n", ""),
                417, null));
        // a body on a denied path is not read; the answer closes the connection
        t.add(a("body on a denied path", 403, post("/api/v1/meta", "Content-Length: 44\r\n",
                "GET /oauth/callback HTTP/1.1\r\nHost: x\r\n\r\n")));
        return t.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("framing")
    void framingAttackIsRefused(Attack attack) throws Exception {
        assertRefused(attack);
    }

    /** Bad chunked framing after a valid head on a proxied route: 400 + close, and Nango never gets a whole request. */
    static Stream<Attack> bodyFraming() {
        List<Attack> t = new ArrayList<>();
        // bad chunk framing (head is admitted, the body is not)
        for (String size : List.of("0x5", " 5", "5 ", "-5", "+5", "ffffffffffffffffffff", "10000000000000005",
                "5\u000b", "", "g")) {
            t.add(a("chunk size " + show(size), 400, post(WEBHOOK, "Transfer-Encoding: chunked\r\n",
                    size + "\r\nhello\r\n0\r\n\r\n")));
        }
        t.add(a("bare LF after chunk size", 400, post(WEBHOOK, "Transfer-Encoding: chunked\r\n",
                "5\nhello\r\n0\r\n\r\n")));
        t.add(a("bare LF in chunk ext", 400, post(WEBHOOK, "Transfer-Encoding: chunked\r\n",
                "5;a\nb\r\nhello\r\n0\r\n\r\n")));
        t.add(a("bare LF after chunk data", 400, post(WEBHOOK, "Transfer-Encoding: chunked\r\n",
                "5\r\nhello\n0\r\n\r\n")));
        t.add(a("chunk data without CRLF", 400, post(WEBHOOK, "Transfer-Encoding: chunked\r\n",
                "5\r\nhelloXX0\r\n\r\n")));
        t.add(a("chunk data longer than size", 400, post(WEBHOOK, "Transfer-Encoding: chunked\r\n",
                "3\r\nhello\r\n0\r\n\r\n")));
        t.add(a("quoted CRLF in chunk ext", 400, post(WEBHOOK, "Transfer-Encoding: chunked\r\n",
                "5;a=\"\r\n0\r\n\r\nGET /api/v1/meta HTTP/1.1\r\nHost: x\r\n\r\n\"\r\nhello\r\n0\r\n\r\n")));
        t.add(a("bare LF last chunk", 400, post(WEBHOOK, "Transfer-Encoding: chunked\r\n", "0\n\n")));
        return t.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bodyFraming")
    void bodyFramingAttackIsRefused(Attack attack) throws Exception {
        try {
            refuse(attack, true);
        } catch (AssertionError | Exception e) {
            settle();
            throw new AssertionError("[" + attack.name() + "] " + e, e);
        }
    }

    // ------------------------------------------------------------------ whitespace a lenient parser would trim

    /**
     * Whitespace after a framing header's value: Netty's parser trims it (so would any lenient one); the
     * gateway's parser refuses it, as Node's does.
     */
    static Stream<Attack> framingWhitespace() {
        String chunked = "5\r\nhello\r\n0\r\n\r\n";
        return Stream.of(
                a("TE chunked + trailing HTAB", 400, post(WEBHOOK, "Transfer-Encoding: chunked\t\r\n", chunked)),
                a("TE chunked + trailing SP", 400, post(WEBHOOK, "Transfer-Encoding: chunked \r\n", chunked)),
                a("CL 5 + trailing SP", 400, post(WEBHOOK, "Content-Length: 5 \r\n", "hello")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("framingWhitespace")
    void whitespaceAfterFramingValues(Attack attack) throws Exception {
        assertRefused(attack);
    }

    // ------------------------------------------------------------------ controls: what must reach Nango

    @Test
    void oneTrailingSlashIsForwardedAsSent() throws Exception {
        RecordedRequest seen = forwarded(get("/oauth/callback/"), 200);
        assertEquals("GET /oauth/callback/ HTTP/1.1", seen.getRequestLine());
    }

    @Test
    void theQueryIsNeverJudgedAsPath() throws Exception {
        RecordedRequest seen = forwarded(get("/oauth/callback?x=/api/v1/meta"), 200);
        assertEquals("/oauth/callback?x=/api/v1/meta", seen.getTarget());
        RecordedRequest encoded = forwarded(get("/oauth/callback?code=a%2Fb+c&state=..%2f..%2fapi"), 200);
        assertEquals("GET /oauth/callback?code=a%2Fb+c&state=..%2f..%2fapi HTTP/1.1", encoded.getRequestLine());
    }

    @Test
    void crlfBeforeTheRequestLineIsAllowed() throws Exception {
        RecordedRequest seen = forwarded("\r\n" + get("/oauth/callback?crlf=1"), 200);
        assertEquals("GET /oauth/callback?crlf=1 HTTP/1.1", seen.getRequestLine());
        RecordedRequest twice = forwarded("\r\n\r\n" + get("/oauth/callback?crlf=2"), 200);
        assertEquals("GET /oauth/callback?crlf=2 HTTP/1.1", twice.getRequestLine());
    }

    @Test
    void canonicalAllowedRoutesAreForwardedByteForByte() throws Exception {
        assertEquals("GET /oauth/connect/github-app_1.x~y?connect_session_token=t HTTP/1.1",
                forwarded(get("/oauth/connect/github-app_1.x~y?connect_session_token=t"), 200).getRequestLine());
        assertEquals("POST /oauth2/auth/github HTTP/1.1",
                forwarded(req("POST", "/oauth2/auth/github"), 200).getRequestLine());
        assertEquals("GET /connect/session HTTP/1.1", forwarded("GET /connect/session HTTP/1.1\r\n" + HOST
                + "Authorization: " + BEARER + "\r\n\r\n", 200).getRequestLine());
        assertEquals("GET /proxy/x/y%20z?a=b HTTP/1.1", forwarded(get("/proxy/x/y%20z?a=b"), 200).getRequestLine());
        assertEquals("GET /oauth/callback HTTP/1.1", forwarded("GET /oauth/callback HTTP/1.0\r\n" + HOST + "\r\n", 200)
                .getRequestLine());
    }

    @Test
    void validHostSpellingsAreAccepted() throws Exception {
        for (String h : List.of("gw.example", "gw.example:443", "127.0.0.1:8080", "[::1]:8080", "[::1]", "GW.Example")) {
            RawHttp.Response r = RawHttp.exchange(port, "GET /healthz HTTP/1.1\r\nHost: " + h + "\r\n\r\n");
            assertEquals(200, r.status(), h);
        }
    }

    @Test
    void rewriteAndForwardingHeadersAreStripped() throws Exception {
        RecordedRequest seen = forwarded("GET /oauth/callback?rw=1 HTTP/1.1\r\n" + HOST
                + "X-Original-URL: /api/v1/account\r\nX-Rewrite-URL: /api/v1/account\r\n"
                + "X-Forwarded-Prefix: /api/v1\r\nX-Original-URI: /api/v1/account\r\n"
                + "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nForwarded: for=6.6.6.6\r\n"
                + "X-Real-IP: 6.6.6.6\r\nX-HTTP-Method-Override: DELETE\r\n\r\n", 200);
        assertEquals("GET /oauth/callback?rw=1 HTTP/1.1", seen.getRequestLine());
        for (String h : List.of("X-Original-URL", "X-Rewrite-URL", "X-Forwarded-Prefix", "X-Original-URI", "Forwarded",
                "X-Real-IP", "X-HTTP-Method-Override")) {
            assertNull(seen.getHeaders().get(h), h);
        }
        assertEquals(List.of("127.0.0.1"), seen.getHeaders().values("X-Forwarded-For"));
        assertEquals("gw.example", seen.getHeaders().get("X-Forwarded-Host"));
    }

    @Test
    void h2cUpgradeIsStrippedOnAnAllowedPath() throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.send("GET /oauth/callback?h2c=1 HTTP/1.1\r\n" + HOST + "Connection: Upgrade, HTTP2-Settings\r\n"
                    + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
            RawHttp.Response r = c.read();
            assertEquals(200, r.status());
            // still HTTP/1.1 on this connection: a private request is judged, not tunnelled
            c.send(get("/api/v1/meta"));
            RawHttp.Response next = c.read();
            assertNotNull(next);
            assertEquals(403, next.status());
        }
        List<RecordedRequest> seen = drain();
        assertEquals(1, seen.size());
        assertEquals("/oauth/callback?h2c=1", seen.get(0).getTarget());
        assertNull(seen.get(0).getHeaders().get("Upgrade"));
        assertNull(seen.get(0).getHeaders().get("HTTP2-Settings"));
    }

    @Test
    void websocketUpgradeWithoutA101IsNotATunnel() throws Exception {
        // Nango (the mock) answers 200 instead of 101: the connection must stay HTTP and keep being judged.
        try (RawHttp c = new RawHttp(port)) {
            c.send("GET / HTTP/1.1\r\n" + HOST + WS_HEADERS + "\r\n");
            RawHttp.Response r = c.read();
            assertNotNull(r);
            assertEquals(200, r.status());
            c.send(get("/api/v1/meta"));
            RawHttp.Response next = c.read();
            if (next != null) {
                assertEquals(403, next.status(), "a raw request after a non-101 answer is judged");
            }
        }
        List<RecordedRequest> seen = drain();
        assertEquals(1, seen.size(), "only the handshake may reach Nango");
        assertEquals("GET / HTTP/1.1", seen.get(0).getRequestLine());
    }

    @Test
    void upgradeHeadersOnAnAllowedNonWebsocketPathAreStripped() throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.send("GET /oauth/callback?ws=1 HTTP/1.1\r\n" + HOST + WS_HEADERS + "\r\n");
            assertEquals(200, c.read().status());
            c.send(get("/api/v1/meta"));
            RawHttp.Response next = c.read();
            if (next != null) {
                assertEquals(403, next.status());
            }
        }
        List<RecordedRequest> seen = drain();
        assertEquals(1, seen.size());
        assertNull(seen.get(0).getHeaders().get("Upgrade"));
        assertTrue(seen.get(0).getHeaders().values("Connection").stream()
                .noneMatch(v -> v.toLowerCase(Locale.ROOT).contains("upgrade")), "Connection: upgrade forwarded");
    }

    @Test
    void optionsAsteriskIsAnsweredLocally() throws Exception {
        int before = nango.getRequestCount();
        RawHttp.Response r = RawHttp.exchange(port, "OPTIONS * HTTP/1.1\r\n" + HOST + "\r\n");
        assertEquals(200, r.status());
        assertNangoSawNothingSince(before);
    }

    @Test
    void http10WithTrailingBytesClosesAfterTheResponse() throws Exception {
        int before = nango.getRequestCount();
        try (RawHttp c = new RawHttp(port)) {
            c.send("GET /healthz HTTP/1.0\r\n" + HOST + "\r\n" + get("/proxy/smuggled"));
            RawHttp.Response r = c.read();
            assertEquals(200, r.status());
            c.setTimeout(3000);
            assertTrue(c.isClosedByPeer(), "HTTP/1.0 without keep-alive: close after the response");
        }
        assertNangoSawNothingSince(before);

        drain();
        try (RawHttp c = new RawHttp(port)) {
            c.send("GET /oauth/callback?v10=1 HTTP/1.0\r\n" + HOST + "\r\n" + get("/proxy/smuggled"));
            RawHttp.Response r = c.read();
            assertEquals(200, r.status());
            c.setTimeout(3000);
            assertTrue(c.isClosedByPeer(), "HTTP/1.0 without keep-alive: close after the response");
        }
        RawHttp.exchange(port, get("/oauth/callback?after-v10=1"));
        List<String> targets = drain().stream().map(RecordedRequest::getTarget).toList();
        assertEquals(List.of("/oauth/callback?v10=1", "/oauth/callback?after-v10=1"), targets);
    }

    @Test
    void http10KeepAlivePipeliningJudgesEachRequest() throws Exception {
        drain();
        try (RawHttp c = new RawHttp(port)) {
            c.send("GET /oauth/callback?k=1 HTTP/1.0\r\n" + HOST + "Connection: keep-alive\r\n\r\n"
                    + "GET /api/v1/account HTTP/1.0\r\n" + HOST + "Connection: keep-alive\r\n\r\n");
            RawHttp.Response first = c.read();
            assertEquals(200, first.status());
            RawHttp.Response second = c.read();
            if (second != null) {
                assertEquals(403, second.status());
            }
        }
        List<String> targets = drain().stream().map(RecordedRequest::getTarget).toList();
        assertEquals(List.of("/oauth/callback?k=1"), targets);
    }

    @Test
    void pipelinedDeniedRequestIsJudgedOnItsOwn() throws Exception {
        drain();
        try (RawHttp c = new RawHttp(port)) {
            c.send(get("/oauth/callback?p=1") + get("/api/v1/account") + get("/oauth/callback/../../api/v1/meta"));
            assertEquals(200, c.read().status());
            assertEquals(403, c.read().status());
            RawHttp.Response bad = c.read();
            assertEquals(400, bad.status());
            assertEquals("close", bad.header("Connection"));
            c.setTimeout(3000);
            assertTrue(c.isClosedByPeer());
        }
        List<String> targets = drain().stream().map(RecordedRequest::getTarget).toList();
        assertEquals(List.of("/oauth/callback?p=1"), targets);
    }

    @Test
    void getWithABodyIsReframedNotSmuggled() throws Exception {
        // Re-framed or 400, never passed on as is. MockWebServer refuses GET bodies, so a raw socket plays Nango
        // here and records every byte: the body must arrive as this request's body, never as a second request.
        String smuggled = "GET /api/v1/meta HTTP/1.1\r\nHost: x\r\n\r\n";
        try (ServerSocket upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            upstream.setSoTimeout(3000);
            Gateway gw = Gateway.start(TestConfigs.gateway(upstream.getLocalPort()));
            try {
                CompletableFuture<String> wire = CompletableFuture.supplyAsync(() -> rawUpstreamOnce(upstream));
                RawHttp.Response r = RawHttp.exchange(gw.port("public"), "GET /oauth/callback?body=1 HTTP/1.1\r\n"
                        + HOST + "Content-Length: " + smuggled.length() + "\r\n\r\n" + smuggled);
                String got = wire.get(10, TimeUnit.SECONDS);
                if (r.status() == 400) {
                    assertEquals("", got, "refused, yet Nango saw bytes");
                    return;
                }
                assertEquals(200, r.status());
                int headEnd = got.indexOf("\r\n\r\n");
                assertTrue(headEnd > 0, got);
                String head = got.substring(0, headEnd + 4);
                assertTrue(head.startsWith("GET /oauth/callback?body=1 HTTP/1.1\r\n"), head);
                assertTrue(head.toLowerCase(Locale.ROOT).contains("\r\ncontent-length: " + smuggled.length() + "\r\n"),
                        head);
                assertTrue(!head.toLowerCase(Locale.ROOT).contains("transfer-encoding"), head);
                assertEquals(smuggled, got.substring(headEnd + 4), "exactly the body, framed by Content-Length");
            } finally {
                gw.close();
            }
        }
    }

    /** Accepts one connection, reads one Content-Length request, answers 200, then collects anything more. */
    private static String rawUpstreamOnce(ServerSocket server) {
        try (Socket s = server.accept()) {
            s.setSoTimeout(1000);
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            while (!all.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    return all.toString(StandardCharsets.ISO_8859_1);
                }
                all.write(b);
            }
            String head = all.toString(StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
            int i = head.indexOf("content-length:");
            if (i >= 0) {
                int len = Integer.parseInt(head.substring(i + 15, head.indexOf("\r\n", i)).trim());
                all.write(in.readNBytes(len));
            }
            s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                    .getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            try {
                int b;
                while ((b = in.read()) >= 0) {
                    all.write(b); // a second request hidden in the body would show up here
                }
            } catch (SocketTimeoutException idle) {
                // the gateway keeps the pooled connection idle: nothing more came
            }
            return all.toString(StandardCharsets.ISO_8859_1);
        } catch (SocketTimeoutException noConnection) {
            return "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void chunkedBodyIsReframedWithoutExtensionsOrTrailers() throws Exception {
        drain();
        RawHttp.Response r = RawHttp.exchange(port, post(WEBHOOK, "Transfer-Encoding: chunked\r\n",
                "5;ext=1\r\nhello\r\n0\r\nContent-Length: 500\r\nX-Trailer: 1\r\n\r\n"));
        assertEquals(200, r.status());
        List<RecordedRequest> seen = drain();
        assertEquals(1, seen.size());
        assertEquals("hello", seen.get(0).getBody().utf8());
        assertNull(seen.get(0).getHeaders().get("X-Trailer"));
        String cl = seen.get(0).getHeaders().get("Content-Length");
        assertTrue(cl == null || cl.equals("5"), "client trailer Content-Length leaked: " + cl);
    }

    @Test
    void limitsAreAtLeastAsGenerousAsNode() throws Exception {
        // just under the limits: not refused
        RawHttp.Response longLine = RawHttp.exchange(port, get("/healthz?x=" + "a".repeat(8000)));
        assertEquals(200, longLine.status());
        RawHttp.Response bigHeaders = RawHttp.exchange(port, "GET /healthz HTTP/1.1\r\n" + HOST + "X-Big: "
                + "a".repeat(15 * 1024) + "\r\n\r\n");
        assertEquals(200, bigHeaders.status());
        StringBuilder many = new StringBuilder("GET /healthz HTTP/1.1\r\n" + HOST);
        for (int i = 0; i < 98; i++) {
            many.append("X-H").append(i).append(": v\r\n");
        }
        assertEquals(200, RawHttp.exchange(port, many + "\r\n").status());
    }

    @Test
    void expectContinueOnAnAllowedPathGetsOneInterimResponse() throws Exception {
        drain();
        try (RawHttp c = new RawHttp(port)) {
            c.send(post(WEBHOOK, "Content-Length: 5\r\nExpect: 100-continue\r\n", ""));
            RawHttp.Response interim = c.read();
            assertEquals(100, interim.status());
            c.send("hello");
            assertEquals(200, c.read().status());
        }
        List<RecordedRequest> seen = drain();
        assertEquals(1, seen.size());
        assertEquals("hello", seen.get(0).getBody().utf8());
        assertNull(seen.get(0).getHeaders().get("Expect"));
    }

    @Test
    void theBatteryIsBigEnough() {
        long n = targetBypasses().count() + mutations().count() + framing().count() + bodyFraming().count()
                + framingWhitespace().count();
        assertTrue(n >= 150, "only " + n + " raw-socket attacks");
    }
}
