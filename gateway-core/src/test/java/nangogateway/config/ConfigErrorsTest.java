package nangogateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Every kind of mistake is reported at its line and column, with what to write instead. */
class ConfigErrorsTest {

    /** Lines 1-5 of most files below; the routes start on line 6. */
    private static final String HEAD = """
            upstreams:
              nango:
                url: http://127.0.0.1:3003
            listeners:
              - name: public
                bind: 127.0.0.1:8080
                routes:
            """;

    private static List<ConfigError> errors(String yaml) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "t.yaml")).errors();
    }

    private static ConfigError single(String yaml) {
        List<ConfigError> errors = errors(yaml);
        assertEquals(1, errors.size(), errors.toString());
        return errors.get(0);
    }

    private static void assertError(ConfigError e, int line, int column, String... fragments) {
        assertEquals("t.yaml", e.file());
        assertEquals(line + ":" + column, e.line() + ":" + e.column(), e.toString());
        for (String f : fragments) {
            assertTrue(e.message().contains(f), "'" + e.message() + "' should contain '" + f + "'");
        }
    }

    // --- keys and node types ---

    @Test
    void unknownTopLevelKeySuggestsTheRightOne() {
        ConfigError e = single(HEAD + "      - { name: r, path: /a, proxy: { upstream: nango } }\nupstream: {}\n");
        assertError(e, 9, 1, "unknown key 'upstream' in the top level; did you mean 'upstreams'?",
                "allowed: upstreams, listeners, providers, server");
    }

    @Test
    void unknownRouteKeyListsTheAllowedOnes() {
        ConfigError e = single(HEAD + """
                      - name: r
                        path: /a
                        method: [GET]
                        proxy: { upstream: nango }
                """);
        assertEquals("t.yaml:10:9: unknown key 'method' in a route; did you mean 'methods'? allowed: name, path,"
                + " prefix, methods, headers, websocket, rate_limit, proxy, callback, respond, metrics", e.toString());
    }

    @Test
    void unknownKeysAreFoundAtEveryLevel() {
        List<ConfigError> errors = errors("""
                upstreams:
                  nango:
                    url: http://127.0.0.1:3003
                    timeout: 2s
                listeners:
                  - name: public
                    bind: 127.0.0.1:8080
                    limit: {}
                    tls: { cert: /c.pem, key: /k.pem, ca: /ca.pem }
                    otherwise: { code: 403 }
                    routes:
                      - name: r
                        path: /a
                        proxy: { upstream: nango, max_body: 1MiB }
                server: { shutdown: 5s }
                providers:
                  dropbox: { base_url_override: { allowed: [] } }
                """);
        assertEquals(7, errors.size(), errors.toString());
        assertError(errors.get(0), 4, 5, "unknown key 'timeout' in upstream 'nango'",
                "allowed: url, connect_timeout, response_timeout, idle_timeout, max_connections");
        assertError(errors.get(1), 8, 5, "unknown key 'limit' in a listener; did you mean 'limits'?");
        assertError(errors.get(2), 9, 39, "unknown key 'ca' in listener 'public' tls", "allowed: cert, key");
        assertError(errors.get(3), 10, 18, "unknown key 'code' in listener 'public' otherwise", "allowed: status");
        assertError(errors.get(4), 14, 35, "unknown key 'max_body' in route 'r' proxy",
                "allowed: upstream, max_request_body, base_url_override, provider_key_param");
        assertError(errors.get(5), 15, 11, "unknown key 'shutdown' in server", "allowed: shutdown_timeout");
        assertError(errors.get(6), 17, 35, "unknown key 'allowed' in provider 'dropbox' base_url_override;"
                + " did you mean 'allow'?");
    }

    @Test
    void duplicateKeyNamesTheFirst() {
        ConfigError e = single(HEAD + """
                      - name: r
                        path: /a
                        proxy: { upstream: nango }
                        path: /b
                """);
        assertError(e, 11, 9, "duplicate key 'path' in a route (first at line 9): write each key once");
    }

    @Test
    void duplicateUpstreamNamesAreDuplicateKeys() {
        ConfigError e = single("""
                upstreams:
                  nango: { url: http://127.0.0.1:3003 }
                  nango: { url: http://127.0.0.1:3004 }
                listeners: [{ name: a, bind: 127.0.0.1:1 }]
                """);
        assertError(e, 3, 3, "duplicate key 'nango' in upstreams (first at line 2)");
    }

    @Test
    void wrongNodeTypesSayWhatIsExpected() {
        List<ConfigError> errors = errors("""
                upstreams: [nango]
                listeners:
                  name: public
                """);
        assertEquals(2, errors.size(), errors.toString());
        assertError(errors.get(0), 1, 12, "upstreams must be a mapping", "found a list");
        assertError(errors.get(1), 3, 3, "listeners must be a list ('- item' lines or [a, b]), found a mapping");

        assertError(single(HEAD + "      - name: r\n        path: /a\n        methods: GET\n"
                + "        proxy: { upstream: nango }\n"), 10, 18, "route 'r' methods must be a list", "found the value 'GET'");
        assertError(single(HEAD + "      - just-a-name\n"), 8, 9, "a route must be a mapping",
                "found the value 'just-a-name'");
        assertError(single(HEAD + "      - name: [r]\n        path: /a\n        proxy: { upstream: nango }\n"),
                8, 15, "route name must be a single value, found a list");
    }

    @Test
    void missingRequiredKeysAreReportedAtTheMapping() {
        List<ConfigError> errors = errors("""
                upstreams:
                  nango: { connect_timeout: 2s }
                listeners:
                  - bind: 127.0.0.1:8080
                """);
        assertEquals(2, errors.size(), errors.toString());
        assertError(errors.get(0), 2, 10, "upstream 'nango' needs 'url', e.g. url: http://127.0.0.1:3003");
        assertError(errors.get(1), 4, 5, "a listener needs 'name', e.g. name: public");

        ConfigError top = single("upstreams: {}\n");
        assertError(top, 1, 1, "the file needs 'listeners'");
        ConfigError empty = single("listeners: []\nupstreams: {}\n");
        assertError(empty, 1, 12, "listeners must list at least one listener");
    }

    @Test
    void anEmptyFileSaysWhatItNeeds() {
        assertError(single("# nothing yet\n"), 1, 1, "the file is empty: it needs 'upstreams:' and 'listeners:'");
    }

    // --- routes ---

    @Test
    void routeWithBothPathAndPrefix() {
        ConfigError e = single(HEAD + """
                      - name: r
                        path: /a
                        prefix: /a/
                        proxy: { upstream: nango }
                """);
        assertError(e, 10, 9, "route 'r' has both 'path' and 'prefix': keep one");
    }

    @Test
    void pathAndPrefixTogetherAreReportedOnceNotWithTheirContents() {
        ConfigError e = single(HEAD + """
                      - name: r
                        path: /a/
                        prefix: a
                        proxy: { upstream: nango }
                """);
        assertError(e, 10, 9, "route 'r' has both 'path' and 'prefix': keep one");
    }

    @Test
    void anUnknownKeyInARouteStillLetsTheListenerRulesSeeTheRoute() {
        List<ConfigError> errors = errors("""
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners:
                  - name: admin
                    bind: 127.0.0.1:9090
                    admin: true
                    routes:
                      - { name: r, path: /a, proxy: { upstream: nango }, bogus: 1 }
                """);
        assertEquals(2, errors.size(), errors.toString());
        assertError(errors.get(0), 5, 12, "listener 'admin' is an admin listener: it serves /healthz, /readyz and"
                + " /metrics only, so it takes no routes");
        assertError(errors.get(1), 7, 58, "unknown key 'bogus' in a route");
    }

    @Test
    void routeWithNeitherPathNorPrefix() {
        ConfigError e = single(HEAD + """
                      - name: r
                        methods: [GET]
                        proxy: { upstream: nango }
                """);
        assertError(e, 8, 9, "route 'r' needs 'path' (a pattern such as /oauth/connect/{key}, or a list of them)"
                + " or 'prefix' (a subtree such as /proxy/)");
    }

    @Test
    void routeWithoutAnAction() {
        ConfigError e = single(HEAD + "      - name: r\n        path: /a\n");
        assertError(e, 8, 9, "route 'r' needs exactly one action: proxy: {upstream: nango}, callback:"
                + " {upstream: nango}, respond: {status: 204} or metrics: {}");
    }

    @Test
    void routeWithTwoActions() {
        ConfigError e = single(HEAD + """
                      - name: r
                        path: /a
                        proxy: { upstream: nango }
                        respond: { status: 204 }
                """);
        assertError(e, 11, 9, "route 'r' has both 'proxy' and 'respond': a route has exactly one action");
    }

    @Test
    void unknownUpstreamSuggestsADefinedOne() {
        ConfigError e = single(HEAD + "      - { name: r, path: /a, proxy: { upstream: nang0 } }\n");
        assertError(e, 8, 49, "unknown upstream 'nang0' in route 'r' proxy; did you mean 'nango'?",
                "defined upstreams: nango");
    }

    @Test
    void badPathPatternIsReportedAtThePattern() {
        ConfigError e = single(HEAD + """
                      - name: r
                        path:
                          - /ok/{key}
                          - /providers/
                        proxy: { upstream: nango }
                """);
        assertError(e, 11, 13, "bad path pattern '/providers/' in route 'r': write '/providers' without the"
                + " trailing '/'");

        ConfigError flow = single(HEAD + "      - { name: r, path: ['/a', 'b/{x}'], proxy: { upstream: nango } }\n");
        assertError(flow, 8, 33, "bad path pattern 'b/{x}'", "a path pattern starts with '/'");
    }

    @Test
    void unquotedBraceInAFlowListIsASyntaxErrorWithAHint() {
        ConfigError e = single(HEAD + "      - { name: r, path: [/providers/{provider}], proxy: { upstream: nango } }\n");
        assertEquals(8, e.line());
        assertTrue(e.message().startsWith("YAML syntax error: "), e.message());
        assertTrue(e.message().contains("e.g. path: ['/providers/{provider}']"), e.message());
    }

    @Test
    void prefixMustStartAndEndWithSlash() {
        ConfigError e = single(HEAD + "      - { name: r, prefix: /proxy, proxy: { upstream: nango } }\n");
        assertError(e, 8, 28, "route 'r' prefix '/proxy' must start and end with '/'", "write /proxy/");
        ConfigError bare = single(HEAD + "      - { name: r, prefix: proxy, proxy: { upstream: nango } }\n");
        assertError(bare, 8, 28, "write /proxy/");
        ConfigError dots = single(HEAD + "      - { name: r, prefix: /a/../, proxy: { upstream: nango } }\n");
        assertError(dots, 8, 28, "can never match an accepted request (dot segment in path)");
    }

    @Test
    void methodsMustBeUpperCaseTokens() {
        List<ConfigError> errors = errors(HEAD + """
                      - name: r
                        path: /a
                        methods: [get, POST, 'GET /', POST]
                        proxy: { upstream: nango }
                """);
        assertEquals(3, errors.size(), errors.toString());
        assertError(errors.get(0), 10, 19, "method 'get' in route 'r' must be an upper-case HTTP method: write GET");
        assertError(errors.get(1), 10, 30, "method 'GET /' in route 'r'", "write e.g. GET");
        assertError(errors.get(2), 10, 39, "method POST is listed twice in route 'r': list it once");
        assertError(single(HEAD + "      - { name: r, path: /a, methods: [], proxy: { upstream: nango } }\n"),
                8, 39, "methods is empty, so nothing would match");
    }

    @Test
    void websocketRoutesAreGetOnly() {
        ConfigError e = single(HEAD + """
                      - name: ws
                        path: /
                        methods: [GET, POST]
                        websocket: true
                        proxy: { upstream: nango }
                """);
        assertError(e, 10, 18, "route 'ws' is a websocket route: a WebSocket handshake is a GET; write methods: [GET]");
        ConfigError respond = single(HEAD + "      - { name: ws, path: /, websocket: true, respond: { status: 204 } }\n");
        assertError(respond, 8, 41, "websocket: true needs a proxy action");
        ConfigError notBool = single(HEAD + "      - { name: ws, path: /, websocket: yes please, proxy: { upstream: nango } }\n");
        assertError(notBool, 8, 41, "route 'ws' websocket must be true or false, not 'yes please'");
    }

    @Test
    void callbackRoutesAreGetOnly() {
        ConfigError e = single(HEAD + """
                      - name: cb
                        path: /integrations/oauth-callback
                        methods: [GET, POST]
                        callback: { upstream: nango }
                """);
        assertError(e, 10, 18, "route 'cb' is a callback: it replays GET only",
                "write methods: [GET] or leave methods out");
    }

    @Test
    void callbackPathMustBeCanonical() {
        List<ConfigError> errors = errors(HEAD + """
                      - { name: a, path: /a, callback: { upstream: nango, path: oauth/callback } }
                      - { name: b, path: /b, callback: { upstream: nango, path: '/oauth/callback?x=1' } }
                      - { name: c, path: /c, callback: { upstream: nango, path: /oauth//callback } }
                """);
        assertEquals(3, errors.size(), errors.toString());
        assertError(errors.get(0), 8, 65, "route 'a' callback path 'oauth/callback' must be a canonical absolute"
                + " path (it does not start with '/'): write e.g. /oauth/callback");
        assertError(errors.get(1), 9, 65, "(it holds '?': the browser's query is appended)");
        assertError(errors.get(2), 10, 65, "(empty path segment ('//'))");
    }

    @Test
    void callbackRefusesHopByHopAndFramingHeaders() {
        List<ConfigError> errors = errors(HEAD + """
                      - name: cb
                        path: /cb
                        callback:
                          upstream: nango
                          forward_headers: [Referer, Host, Connection, Transfer-Encoding, X_Custom, referer]
                """);
        assertEquals(5, errors.size(), errors.toString());
        assertError(errors.get(0), 12, 38, "header 'Host' cannot be forwarded by a callback: it frames or addresses"
                + " the request, and the gateway sets it itself; list end-to-end request headers such as Referer");
        assertError(errors.get(1), 12, 44, "header 'Connection' cannot be forwarded by a callback: it is hop-by-hop");
        assertError(errors.get(2), 12, 56, "header 'Transfer-Encoding' cannot be forwarded");
        assertError(errors.get(3), 12, 75, "'X_Custom'", "write letters, digits and '-', e.g. X-Custom");
        assertError(errors.get(4), 12, 85, "header 'referer' appears twice");
    }

    @Test
    void invalidHeaderRegexIsReportedAtTheRegex() {
        ConfigError e = single(HEAD + """
                      - name: r
                        path: /a
                        headers:
                          Authorization: '^Bearer ([a-f0-9]{64}$'
                        proxy: { upstream: nango }
                """);
        assertError(e, 11, 26, "invalid regex for header 'Authorization' in route 'r': Unclosed group",
                "write a Java regular expression for the whole value");
    }

    @Test
    void headerConditionNamesMustBeTokens() {
        ConfigError e = single(HEAD + """
                      - name: r
                        path: /a
                        headers: { 'Bad Header': x }
                        proxy: { upstream: nango }
                """);
        assertError(e, 10, 20, "'Bad Header' in route 'r' is not a header name");
    }

    @Test
    void duplicateRouteNamesWithinAListener() {
        ConfigError e = single(HEAD + """
                      - { name: r, path: /a, proxy: { upstream: nango } }
                      - { name: r, path: /b, proxy: { upstream: nango } }
                """);
        assertError(e, 9, 17, "route name 'r' is already used at line 8 in listener 'public'");
    }

    @Test
    void sameRouteNameInTwoListenersIsFine() throws ConfigException {
        GatewayConfig c = ConfigLoader.parse("""
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners:
                  - { name: a, bind: 127.0.0.1:1, routes: [{ name: r, path: /a, proxy: { upstream: nango } }] }
                  - { name: b, bind: 127.0.0.1:2, routes: [{ name: r, path: /a, proxy: { upstream: nango } }] }
                """, "t.yaml");
        assertEquals(2, c.listeners().size());
    }

    @Test
    void providerKeyParamMustBeInEveryPath() {
        ConfigError e = single(HEAD + """
                      - name: r
                        path: ['/a/{key}', '/b/{env}']
                        proxy: { upstream: nango, provider_key_param: key }
                """);
        assertError(e, 10, 55, "provider_key_param 'key' is not a parameter of path '/b/{env}'", "(here: env)");
        ConfigError prefix = single(HEAD + "      - { name: r, prefix: /p/, proxy: { upstream: nango, provider_key_param: key } }\n");
        assertError(prefix, 8, 79, "a prefix route has no parameters");
    }

    @Test
    void respondStatusAndBody() {
        List<ConfigError> errors = errors(HEAD + """
                      - { name: a, path: /a, respond: { status: 101 } }
                      - { name: b, path: /b, respond: { status: 204, body: hello } }
                      - { name: c, path: /c, respond: { status: 200, headers: { Content-Length: '5' } } }
                      - { name: d, path: /d, respond: { body: x } }
                """);
        assertEquals(4, errors.size(), errors.toString());
        assertError(errors.get(0), 8, 49, "route 'a' respond status must be a whole number from 200 to 599, not '101'");
        assertError(errors.get(1), 9, 60, "a 204 response carries no body");
        assertError(errors.get(2), 10, 65, "header 'Content-Length'", "frames the response itself");
        assertError(errors.get(3), 11, 39, "route 'd' respond needs 'status', e.g. status: 204");
    }

    @Test
    void badBaseUrlOverrideMode() {
        ConfigError e = single(HEAD + "      - { name: r, prefix: /p/, proxy: { upstream: nango, base_url_override: allow } }\n");
        assertError(e, 8, 78, "base_url_override must be enforce (apply providers:) or strip (remove the header),"
                + " not 'allow'");
    }

    // --- values ---

    @Test
    void badDurationAndBareNumberDuration() {
        List<ConfigError> errors = errors("""
                upstreams:
                  nango:
                    url: http://127.0.0.1:3003
                    connect_timeout: 2
                    response_timeout: 1 minute
                listeners: [{ name: a, bind: 127.0.0.1:1 }]
                server: { shutdown_timeout: 0s }
                """);
        assertEquals(3, errors.size(), errors.toString());
        assertError(errors.get(0), 4, 22, "upstream 'nango' connect_timeout: bad duration '2': a duration needs a unit:"
                + " write 2s or 2ms");
        assertError(errors.get(1), 5, 23, "bad duration '1 minute': write 1m");
        assertError(errors.get(2), 7, 29, "server shutdown_timeout: duration '0s' must be positive");
    }

    @Test
    void badSizeSuggestsTheBinaryUnit() {
        List<ConfigError> errors = errors("""
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners:
                  - name: a
                    bind: 127.0.0.1:1
                    limits:
                      max_header_block: 16KB
                      max_request_line: 0
                      max_headers: -1
                    routes:
                      - { name: r, path: /a, proxy: { upstream: nango, max_request_body: 1.5MiB } }
                """);
        assertEquals(4, errors.size(), errors.toString());
        assertError(errors.get(0), 6, 25, "listener 'a' limits max_header_block: bad size '16KB': write 16KiB");
        assertError(errors.get(1), 7, 25, "listener 'a' limits max_request_line must be from 1 to 67108864 bytes, not 0");
        assertError(errors.get(2), 8, 20, "max_headers must be a whole number from 1 to 10000, not '-1'");
        assertError(errors.get(3), 10, 74, "bad size '1.5MiB': write 1536KiB");
    }

    @Test
    void badBindAddresses() {
        List<ConfigError> errors = errors("""
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners:
                  - { name: a, bind: 127.0.0.1 }
                  - { name: b, bind: example.com:80 }
                  - { name: c, bind: '127.0.0.1:70000' }
                  - { name: d, bind: ':::443' }
                  - { name: e, bind: '[::]:8443' }
                  - { name: f, bind: '[nope]:1' }
                  - { name: g, bind: 256.1.1.1:1 }
                """);
        assertEquals(6, errors.size(), errors.toString());
        assertError(errors.get(0), 3, 22, "bad bind address '127.0.0.1' for listener 'a': no port: write host:port,"
                + " e.g. 0.0.0.0:443, 127.0.0.1:8080 or [::]:443");
        assertError(errors.get(1), 4, 22, "host 'example.com' must be an IP address or localhost");
        assertError(errors.get(2), 5, 22, "port '70000' must be a number from 0 to 65535");
        assertError(errors.get(3), 6, 22, "write an IPv6 address in brackets, e.g. [::]:443");
        assertError(errors.get(4), 8, 22, "'nope' is not an IPv6 address");
        assertError(errors.get(5), 9, 22, "host '256.1.1.1' must be an IP address or localhost");
    }

    @Test
    void twoListenersOnOnePort() {
        ConfigError e = single("""
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners:
                  - { name: a, bind: 0.0.0.0:8080 }
                  - { name: b, bind: 127.0.0.1:8080 }
                """);
        assertError(e, 4, 22, "listener 'b' binds port 8080, already bound at line 3: give each listener its own port");
    }

    @Test
    void duplicateListenerNames() {
        ConfigError e = single("""
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners:
                  - { name: a, bind: 127.0.0.1:1 }
                  - { name: a, bind: 127.0.0.1:2 }
                """);
        assertError(e, 4, 13, "listener name 'a' is already used at line 3: give each listener its own name");
    }

    @Test
    void upstreamUrlIsAnOriginOnly() {
        List<ConfigError> errors = errors("""
                upstreams:
                  a: { url: http://127.0.0.1:3003/api }
                  b: { url: 'http://user:pw@127.0.0.1:3003' }
                  c: { url: 'http://127.0.0.1:3003?x=1' }
                  d: { url: 'http://127.0.0.1:3003#top' }
                  e: { url: ftp://127.0.0.1 }
                  f: { url: 127.0.0.1:3003 }
                  g: { url: 'http://127.0.0.1:0' }
                  h: { url: 'http://[::1]:3003', max_connections: 0 }
                listeners: [{ name: x, bind: 127.0.0.1:1 }]
                """);
        assertEquals(8, errors.size(), errors.toString());
        assertError(errors.get(0), 2, 13, "bad url 'http://127.0.0.1:3003/api' for upstream 'a': remove the path"
                + " '/api': write http://127.0.0.1:3003");
        assertError(errors.get(1), 3, 13, "remove the user info");
        assertError(errors.get(2), 4, 13, "remove the query");
        assertError(errors.get(3), 5, 13, "remove the fragment");
        assertError(errors.get(4), 6, 13, "scheme 'ftp' is not supported: write http:// or https://");
        assertError(errors.get(5), 7, 13, "write scheme://host[:port], e.g. http://127.0.0.1:3003");
        assertError(errors.get(6), 8, 13, "port '0' must be a number from 1 to 65535");
        assertError(errors.get(7), 9, 51, "upstream 'h' max_connections must be a whole number from 1 to 1000000,"
                + " not '0'");
    }

    @Test
    void otherwiseStatusMustBeAnError() {
        ConfigError e = single("""
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners:
                  - { name: a, bind: 127.0.0.1:1, otherwise: { status: 200 } }
                """);
        assertError(e, 3, 56, "listener 'a' otherwise status must be a whole number from 400 to 599, not '200'");
    }

    // --- providers ---

    @Test
    void overrideOriginsAreStrict() {
        List<ConfigError> errors = errors("""
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners: [{ name: x, bind: 127.0.0.1:1 }]
                providers:
                  dropbox:
                    base_url_override:
                      allow:
                        - https://content.dropboxapi.com/2
                        - https://me@content.dropboxapi.com
                        - ws://content.dropboxapi.com
                """);
        assertEquals(3, errors.size(), errors.toString());
        assertError(errors.get(0), 7, 11, "bad origin 'https://content.dropboxapi.com/2' in provider 'dropbox'"
                + " base_url_override allow entry: remove the path '/2'");
        assertError(errors.get(1), 8, 11, "remove the user info");
        assertError(errors.get(2), 9, 11, "scheme 'ws' is not supported");
    }

    @Test
    void setRuleMustPointIntoTheAllowList() {
        List<ConfigError> errors = errors("""
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners: [{ name: x, bind: 127.0.0.1:1 }]
                providers:
                  dropbox:
                    base_url_override:
                      allow: [https://content.dropboxapi.com]
                      set:
                        - { prefix: /2/files/download, to: https://CONTENT.dropboxapi.com:443 }
                        - { prefix: /2/files/upload, to: https://api.dropboxapi.com }
                        - { prefix: 2/files, to: https://content.dropboxapi.com }
                """);
        assertEquals(2, errors.size(), errors.toString());
        assertError(errors.get(0), 9, 42, "'https://api.dropboxapi.com' is not in the allow list of provider"
                + " 'dropbox' base_url_override: add it to 'allow:'");
        assertError(errors.get(1), 10, 21, "rule prefix '2/files' must be a canonical path after /proxy, starting"
                + " with '/'");
    }

    @Test
    void aliasesBelongToOneProviderAndNeverShadowAKey() {
        List<ConfigError> errors = errors("""
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners: [{ name: x, bind: 127.0.0.1:1 }]
                providers:
                  google-mail: { aliases: [gmail] }
                  gmail-legacy: { aliases: [gmail, google-mail] }
                  slack: { aliases: ['bad/alias'] }
                """);
        assertEquals(3, errors.size(), errors.toString());
        assertError(errors.get(0), 5, 29, "alias 'gmail' is already claimed by provider 'google-mail' (line 4):"
                + " an alias maps to one key");
        assertError(errors.get(1), 5, 36, "alias 'google-mail' of provider 'gmail-legacy' is itself a provider key");
        assertError(errors.get(2), 6, 22, "alias 'bad/alias' must be a catalog id");
    }

    // --- the file as a whole ---

    @Test
    void yamlSyntaxErrorIsReportedAtItsMark() {
        ConfigError e = single("upstreams:\n  nango:\n    url: http://127.0.0.1:3003\n\tlisteners: []\n");
        assertError(e, 4, 1, "YAML syntax error", "indent with spaces, not tabs");
    }

    @Test
    void everyErrorIsReportedInFileOrder() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                listeners:
                  - name: a
                    bind: 127.0.0.1:1
                    routes:
                      - { name: r, path: /a/, proxy: { upstream: nango } }
                upstreams:
                  nango: { url: http://127.0.0.1:3003, idle_timeout: 4 }
                """, "t.yaml"));
        assertEquals("t.yaml:5:26: bad path pattern '/a/' in route 'r': write '/a' without the trailing '/': one"
                + " trailing slash is always tolerated; use 'prefix:' for a subtree\n"
                + "t.yaml:7:54: upstream 'nango' idle_timeout: bad duration '4': a duration needs a unit: write 4s"
                + " or 4ms", e.getMessage());
    }
}
