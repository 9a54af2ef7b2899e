package nangogateway.routing;

import nangogateway.target.RequestTarget;
import nangogateway.target.PathPattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import nangogateway.config.CallbackAction;
import nangogateway.config.HeaderCondition;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ProxyAction;
import nangogateway.config.RespondAction;
import nangogateway.config.RouteAction;
import nangogateway.config.RouteConfig;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RouteTableTest {

    static final String WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="; // RFC 6455 section 1.3
    static final String SESSION_TOKEN = "nango_connect_session_" + "0123456789abcdef".repeat(4);

    static final RouteAction PROXY = new ProxyAction("nango", ProxyAction.DEFAULT_MAX_REQUEST_BODY,
            ProxyAction.BaseUrlOverrideMode.STRIP, null);
    static final RouteAction ENFORCE = new ProxyAction("nango", ProxyAction.DEFAULT_MAX_REQUEST_BODY,
            ProxyAction.BaseUrlOverrideMode.ENFORCE, null);

    static RespondAction respond(int status) {
        return new RespondAction(status, "", Map.of());
    }

    static RouteConfig route(String name, String path, String... methods) {
        return new RouteConfig(name, List.of(PathPattern.compile(path)), null, Set.of(methods), List.of(), false,
                PROXY, 1);
    }

    static RouteConfig route(String name, List<String> paths, RouteAction action, String... methods) {
        return new RouteConfig(name, paths.stream().map(PathPattern::compile).toList(), null, Set.of(methods),
                List.of(), false, action, 1);
    }

    static RouteConfig prefixRoute(String name, String prefix, String... methods) {
        return new RouteConfig(name, List.of(), prefix, Set.of(methods), List.of(), false, ENFORCE, 1);
    }

    static RouteConfig headerRoute(String name, String path, Map<String, String> conditions, String... methods) {
        List<HeaderCondition> hc = conditions.entrySet().stream()
                .map(e -> new HeaderCondition(e.getKey(), Pattern.compile(e.getValue()))).toList();
        return new RouteConfig(name, List.of(PathPattern.compile(path)), null, Set.of(methods), hc, false, PROXY, 1);
    }

    static RouteConfig wsRoute(String name, String path, String... methods) {
        return new RouteConfig(name, List.of(PathPattern.compile(path)), null, Set.of(methods), List.of(), true,
                PROXY, 1);
    }

    static RouteTable table(RouteConfig... routes) {
        return table(403, routes);
    }

    static RouteTable table(int otherwise, RouteConfig... routes) {
        return new RouteTable(new ListenerConfig("public", "127.0.0.1", 0, null, Arrays.asList(routes), otherwise,
                ListenerLimits.DEFAULTS));
    }

    static RequestTarget target(String uri) {
        RequestTarget.Verdict v = RequestTarget.parse(uri);
        assertTrue(v.accepted(), () -> uri + ": " + v.rejection());
        return v.target();
    }

    static HttpHeaders headers(String... nameValues) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
    }

    /** Headers without Netty's value validation, for values the decoder would have trimmed. */
    static HttpHeaders rawHeaders(String... nameValues) {
        HttpHeaders h = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
    }

    static HttpHeaders wsHeaders() {
        return headers("Host", "gw", "Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Key", WS_KEY,
                "Sec-WebSocket-Version", "13");
    }

    static RouteDecision decide(RouteTable t, String method, String uri) {
        return t.decide(method, target(uri), new DefaultHttpHeaders());
    }

    static RouteConfig matched(RouteDecision d) {
        return assertInstanceOf(RouteDecision.Matched.class, d).route();
    }

    static Map<String, String> params(RouteDecision d) {
        return assertInstanceOf(RouteDecision.Matched.class, d).params();
    }

    static Set<String> allow(RouteDecision d) {
        return assertInstanceOf(RouteDecision.MethodNotAllowed.class, d).allow();
    }

    static int otherwise(RouteDecision d) {
        return assertInstanceOf(RouteDecision.Otherwise.class, d).status();
    }

    /** The public listener of conf/gateway.yaml, abridged, plus the Nango routes the bypass cases probe. */
    static RouteTable nangoPublic() {
        return table(
                new RouteConfig("oauth-callback-replay", List.of(PathPattern.compile("/integrations/oauth-callback")),
                        null, Set.of("GET"), List.of(), false,
                        new CallbackAction("nango", "/oauth/callback", 1024 * 1024, List.of()), 10),
                route("oauth-callback", "/oauth/callback", "GET"),
                route("oauth-connect", "/oauth/connect/{key}", "GET"),
                headerRoute("connect-ui-session", "/connect/session",
                        Map.of("Authorization", "^Bearer nango_connect_session_[a-f0-9]{64}$"), "GET"),
                wsRoute("sdk-websocket", "/", "GET"),
                route("webhooks", "/webhook/{env}/{key}", "POST"));
    }

    @Nested
    class Basics {

        @Test
        void accessors() {
            RouteConfig a = route("a", "/a");
            RouteTable t = table(a);
            assertEquals(List.of(a), t.routes());
            assertEquals("public", t.listener().name());
            assertEquals(403, t.listener().otherwiseStatus());
        }

        @Test
        void emptyTableAnswersOtherwise() {
            assertEquals(403, otherwise(decide(table(), "GET", "/")));
            assertEquals(404, otherwise(decide(table(404), "GET", "/oauth/callback")));
        }

        @Test
        void matchedCarriesRouteAndParams() {
            RouteConfig r = route("connect", "/oauth/connect/{key}", "GET");
            RouteDecision d = decide(table(r), "GET", "/oauth/connect/github?connection_id=1");
            assertSame(r, matched(d));
            assertEquals(Map.of("key", "github"), params(d));
            assertEquals(new RouteDecision.Matched(r, Map.of("key", "github")), d);
        }

        @Test
        void queryNeverTakesPartInMatching() {
            RouteTable t = table(route("cb", "/oauth/callback", "GET"), route("api", "/api/v1/meta", "GET"));
            assertEquals("cb", matched(decide(t, "GET", "/oauth/callback?x=/api/v1/meta")).name());
            assertEquals("api", matched(decide(t, "GET", "/api/v1/meta?x=/oauth/callback")).name());
        }

        @Test
        void firstMatchInFileOrderWins() {
            RouteConfig specific = route("specific", "/oauth/connect/github", "GET");
            RouteConfig general = route("general", "/oauth/connect/{key}", "GET");
            assertEquals("specific", matched(decide(table(specific, general), "GET", "/oauth/connect/github")).name());
            assertEquals("general", matched(decide(table(general, specific), "GET", "/oauth/connect/github")).name());
            assertEquals("general", matched(decide(table(specific, general), "GET", "/oauth/connect/gitlab")).name());
        }

        @Test
        void firstMatchWinsEvenAgainstALaterPrefix() {
            RouteTable t = table(route("exact", "/proxy/x", "GET"), prefixRoute("all", "/proxy/"));
            assertEquals("exact", matched(decide(t, "GET", "/proxy/x")).name());
            assertEquals("all", matched(decide(t, "POST", "/proxy/x")).name());
            assertEquals("all", matched(decide(t, "GET", "/proxy/y")).name());
        }

        @Test
        void routeWithSeveralPaths() {
            RouteConfig r = route("multi", List.of("/a/{x}", "/b/{y}", "/c"), respond(204), "GET");
            RouteTable t = table(r);
            assertEquals(Map.of("x", "1"), params(decide(t, "GET", "/a/1")));
            assertEquals(Map.of("y", "2"), params(decide(t, "GET", "/b/2")));
            assertEquals(Map.of(), params(decide(t, "GET", "/c/")));
            assertEquals(403, otherwise(decide(t, "GET", "/d")));
            assertEquals(Set.of("GET"), allow(decide(t, "PUT", "/c")));
        }

        @Test
        void firstMatchingPathOfARouteGivesTheParams() {
            RouteConfig r = route("multi", List.of("/v/{first}", "/v/{second}"), PROXY, "GET");
            assertEquals(Map.of("first", "z"), params(decide(table(r), "GET", "/v/z")));
        }

        @Test
        void actionIsCarriedThrough() {
            RouteConfig r = route("options", List.of("/oauth/callback"), respond(204), "OPTIONS");
            RouteConfig m = matched(decide(table(r), "OPTIONS", "/oauth/callback"));
            assertEquals(respond(204), m.action());
        }
    }

    @Nested
    class Prefixes {

        final RouteTable t = table(prefixRoute("nango-proxy-api", "/proxy/"));

        @ParameterizedTest
        @ValueSource(strings = {"/proxy/", "/proxy/x", "/proxy/x/y", "/proxy/2/files/download", "/proxy/x/",
            "/proxy/x?y=1", "/proxy/?q"})
        void matchesTheSubtree(String uri) {
            RouteDecision d = decide(t, "GET", uri);
            assertEquals("nango-proxy-api", matched(d).name());
            assertEquals(Map.of(), params(d));
        }

        @ParameterizedTest
        @ValueSource(strings = {"/proxy", "/proxyx", "/proxyx/y", "/", "/Proxy/x", "/PROXY/", "/x/proxy/",
            "/prox", "/proxy?x=/proxy/"})
        void neverOutsideTheSubtree(String uri) {
            assertEquals(403, otherwise(decide(t, "GET", uri)));
        }

        @Test
        void prefixWithoutMethodsTakesEveryMethod() {
            for (String m : new String[] {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get", "FOO"}) {
                assertEquals("nango-proxy-api", matched(decide(t, m, "/proxy/x")).name(), m);
            }
        }

        @Test
        void segmentBoundaryForOauthPrefix() {
            RouteTable o = table(prefixRoute("oauth", "/oauth/", "GET"));
            assertEquals("oauth", matched(decide(o, "GET", "/oauth/callback")).name());
            assertEquals("oauth", matched(decide(o, "GET", "/oauth/")).name());
            assertEquals(403, otherwise(decide(o, "GET", "/oauth")));
            assertEquals(403, otherwise(decide(o, "GET", "/oauthx")));
            assertEquals(403, otherwise(decide(o, "GET", "/oauth2/auth/x")));
            assertEquals(Set.of("GET"), allow(decide(o, "POST", "/oauth/callback")));
        }

        @Test
        void prefixWrittenWithoutTrailingSlashStillEndsAtASegment() {
            RouteTable p = table(prefixRoute("p", "/proxy"));
            assertEquals("p", matched(decide(p, "GET", "/proxy/x")).name());
            assertEquals("p", matched(decide(p, "GET", "/proxy/")).name());
            assertEquals(403, otherwise(decide(p, "GET", "/proxyx")));
            assertEquals(403, otherwise(decide(p, "GET", "/proxyx/y")));
            assertEquals(403, otherwise(decide(p, "GET", "/proxy")));
        }

        @Test
        void rootPrefixTakesEverything() {
            RouteTable r = table(prefixRoute("all", "/"));
            assertEquals("all", matched(decide(r, "GET", "/")).name());
            assertEquals("all", matched(decide(r, "GET", "/a/b/c")).name());
        }
    }

    @Nested
    class Methods {

        @Test
        void methodOutsideTheListGivesMethodNotAllowed() {
            RouteTable t = table(route("cb", "/oauth/callback", "GET"));
            assertEquals(Set.of("GET"), allow(decide(t, "POST", "/oauth/callback")));
            assertEquals(Set.of("GET"), allow(decide(t, "POST", "/oauth/callback/")));
            assertEquals(new RouteDecision.MethodNotAllowed(Set.of("GET")), decide(t, "DELETE", "/oauth/callback"));
        }

        @Test
        void headIsNotImpliedByGetAndOptionsNeedsItsOwnEntry() {
            RouteTable t = table(route("cb", "/oauth/callback", "GET"));
            assertEquals(Set.of("GET"), allow(decide(t, "HEAD", "/oauth/callback")));
            assertEquals(Set.of("GET"), allow(decide(t, "OPTIONS", "/oauth/callback")));
        }

        @Test
        void methodsAreCaseSensitive() {
            RouteTable t = table(route("cb", "/oauth/callback", "GET"));
            assertEquals(Set.of("GET"), allow(decide(t, "get", "/oauth/callback")));
            assertEquals(Set.of("GET"), allow(decide(t, "Get", "/oauth/callback")));
            assertEquals(Set.of("GET"), allow(decide(t, "FOO", "/oauth/callback")));
        }

        @Test
        void allowIsTheSortedUnionOfEveryRouteWhosePathHolds() {
            RouteTable t = table(
                    route("get", "/connect/session", "GET"),
                    route("other", "/elsewhere", "PATCH"),
                    route("delete", "/connect/session", "DELETE", "OPTIONS"),
                    route("param", "/connect/{x}", "PUT"),
                    route("get-again", "/connect/session", "GET"));
            Set<String> allow = allow(decide(t, "POST", "/connect/session"));
            assertEquals(List.of("DELETE", "GET", "OPTIONS", "PUT"), new ArrayList<>(allow));
        }

        @Test
        void laterRouteWithTheMethodStillMatches() {
            RouteTable t = table(route("get", "/x", "GET"), route("post", "/x", "POST"));
            assertEquals("post", matched(decide(t, "POST", "/x")).name());
            assertEquals("get", matched(decide(t, "GET", "/x")).name());
            assertEquals(Set.of("GET", "POST"), allow(decide(t, "PUT", "/x")));
        }

        @Test
        void routeWithoutMethodsMatchesAny() {
            RouteTable t = table(route("any", "/health"));
            for (String m : new String[] {"GET", "HEAD", "POST", "OPTIONS", "DELETE", "get", "BREW"}) {
                assertEquals("any", matched(decide(t, m, "/health")).name(), m);
            }
        }

        @Test
        void routeWithoutMethodsAfterARestrictedOneTakesTheRest() {
            RouteTable t = table(route("get", "/x", "GET"), route("rest", "/x"));
            assertEquals("get", matched(decide(t, "GET", "/x")).name());
            assertEquals("rest", matched(decide(t, "POST", "/x")).name());
        }

        @Test
        void wrongMethodOnAnotherPathIsOtherwise() {
            RouteTable t = table(route("cb", "/oauth/callback", "GET"));
            assertEquals(403, otherwise(decide(t, "POST", "/oauth/other")));
        }

        @Test
        void publicNangoTable() {
            RouteTable t = nangoPublic();
            assertEquals("oauth-callback", matched(decide(t, "GET", "/oauth/callback?code=x&state=y")).name());
            assertEquals("oauth-callback", matched(decide(t, "GET", "/oauth/callback/")).name());
            assertEquals(Map.of("key", "github"), params(decide(t, "GET", "/oauth/connect/github")));
            assertEquals("oauth-callback-replay", matched(decide(t, "GET", "/integrations/oauth-callback?code=1"))
                    .name());
            assertEquals(Set.of("GET"), allow(decide(t, "POST", "/integrations/oauth-callback")));
            assertEquals(Map.of("env", "prod", "key", "github-app"),
                    params(decide(t, "POST", "/webhook/prod/github-app")));
            assertEquals(Set.of("POST"), allow(decide(t, "GET", "/webhook/prod/github-app")));
            for (String uri : new String[] {"/OAUTH/CALLBACK", "/OAuth/Connect/github", "/API/V1/META",
                "/api/v1/meta", "/api/v1/meta/", "/oauthx", "/oauth2/auth/x", "/connection/abc", "/webhooks",
                "/webhook/a/b/c", "/oauth/callback.", "/oauth/callback%20", "/oauth/connect/a/b",
                "/oauth/connect/...x/y", "/oauth"}) {
                assertEquals(403, otherwise(decide(t, "GET", uri)), uri);
            }
            assertEquals(403, otherwise(decide(t, "POST", "/webhook/a/b/c")));
            assertEquals(403, otherwise(decide(t, "POST", "/connect/sessions")));
            assertEquals(403, otherwise(decide(t, "POST", "/oauth2/auth/github")));
            assertEquals(403, otherwise(decide(t, "OPTIONS", "/api/v1/meta")));
        }
    }

    @Nested
    class HeaderConditions {

        final RouteTable t = table(
                headerRoute("connect-ui-session", "/connect/session",
                        Map.of("Authorization", "^Bearer nango_connect_session_[a-f0-9]{64}$"), "GET"));

        RouteDecision get(HttpHeaders h) {
            return t.decide("GET", target("/connect/session"), h);
        }

        @Test
        void matchingHeaderMatches() {
            assertEquals("connect-ui-session", matched(get(headers("Authorization", "Bearer " + SESSION_TOKEN)))
                    .name());
        }

        @Test
        void headerNameIsCaseInsensitive() {
            assertEquals("connect-ui-session", matched(get(headers("authorization", "Bearer " + SESSION_TOKEN)))
                    .name());
            assertEquals("connect-ui-session", matched(get(headers("AUTHORIZATION", "Bearer " + SESSION_TOKEN)))
                    .name());
        }

        @ParameterizedTest
        @ValueSource(strings = {"Bearer nango_connect_session_abc", "Bearer " + "nango_connect_session_"
            + "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "bearer x", "",
            "Bearer nango_secret_key", " Bearer nango_connect_session_0123456789abcdef0123456789abcdef"
            + "0123456789abcdef0123456789abcdef", "Bearer nango_connect_session_0123456789abcdef0123456789abcdef"
            + "0123456789abcdef0123456789abcdef "})
        void nonMatchingValueFallsThroughToOtherwise(String value) {
            assertEquals(403, otherwise(get(rawHeaders("Authorization", value))));
        }

        @Test
        void regexMustMatchTheWholeValue() {
            RouteTable w = table(headerRoute("r", "/x", Map.of("X-Token", "abc"), "GET"));
            HttpHeaders exact = headers("X-Token", "abc");
            assertEquals("r", matched(w.decide("GET", target("/x"), exact)).name());
            for (String v : new String[] {"abcd", "xabc", "abc ", "ab", "ABC", "abc\n"}) {
                assertEquals(403, otherwise(w.decide("GET", target("/x"), rawHeaders("X-Token", v))), v);
            }
        }

        @Test
        void absentHeaderFallsThrough() {
            assertEquals(403, otherwise(get(new DefaultHttpHeaders())));
            assertEquals(403, otherwise(get(EmptyHttpHeaders.INSTANCE)));
        }

        @Test
        void repeatedHeaderNeverSatisfies() {
            HttpHeaders twice = headers("Authorization", "Bearer " + SESSION_TOKEN,
                    "Authorization", "Bearer " + SESSION_TOKEN);
            assertEquals(403, otherwise(get(twice)));
            HttpHeaders mixedCase = headers("Authorization", "Bearer " + SESSION_TOKEN,
                    "authorization", "Bearer " + SESSION_TOKEN);
            assertEquals(403, otherwise(get(mixedCase)));
        }

        @Test
        void failingConditionIsNotAMethodMismatch() {
            // the path holds but the condition does not: no 405, whatever the method
            assertEquals(403, otherwise(t.decide("POST", target("/connect/session"), new DefaultHttpHeaders())));
            // with the condition satisfied, a wrong method is a 405
            assertEquals(Set.of("GET"), allow(t.decide("POST", target("/connect/session"),
                    headers("Authorization", "Bearer " + SESSION_TOKEN))));
        }

        @Test
        void failingConditionFallsThroughToLaterRoutes() {
            RouteTable f = table(
                    headerRoute("secret", "/connect/session", Map.of("Authorization", "^Bearer ok$"), "GET"),
                    route("public", "/connect/session", "GET"),
                    route("post", "/connect/session", "POST"));
            assertEquals("secret", matched(f.decide("GET", target("/connect/session"),
                    headers("Authorization", "Bearer ok"))).name());
            assertEquals("public", matched(f.decide("GET", target("/connect/session"),
                    headers("Authorization", "Bearer no"))).name());
            assertEquals("public", matched(f.decide("GET", target("/connect/session"), new DefaultHttpHeaders()))
                    .name());
            assertEquals("public", matched(f.decide("GET", target("/connect/session"),
                    headers("Authorization", "Bearer ok", "Authorization", "Bearer ok"))).name());
            assertEquals(Set.of("GET", "POST"), allow(f.decide("PUT", target("/connect/session"),
                    new DefaultHttpHeaders())));
        }

        @Test
        void methodsOfRoutesWithFailingConditionsAreNotInAllow() {
            RouteTable f = table(
                    headerRoute("guarded", "/x", Map.of("X-Key", "k"), "DELETE"),
                    route("open", "/x", "GET"));
            assertEquals(Set.of("GET"), allow(f.decide("POST", target("/x"), new DefaultHttpHeaders())));
            assertEquals(Set.of("DELETE", "GET"), allow(f.decide("POST", target("/x"), headers("X-Key", "k"))));
        }

        @Test
        void everyConditionMustHold() {
            Map<String, String> both = new java.util.LinkedHashMap<>();
            both.put("X-A", "a+");
            both.put("X-B", "[0-9]+");
            RouteTable f = table(headerRoute("both", "/x", both));
            assertEquals("both", matched(f.decide("GET", target("/x"), headers("X-A", "aaa", "X-B", "42"))).name());
            assertEquals(403, otherwise(f.decide("GET", target("/x"), headers("X-A", "aaa"))));
            assertEquals(403, otherwise(f.decide("GET", target("/x"), headers("X-B", "42"))));
            assertEquals(403, otherwise(f.decide("GET", target("/x"), headers("X-A", "b", "X-B", "42"))));
        }

        @Test
        void emptyValueCanSatisfyAnExplicitEmptyRegex() {
            RouteTable f = table(headerRoute("r", "/x", Map.of("X-Empty", "^$")));
            assertEquals("r", matched(f.decide("GET", target("/x"), headers("X-Empty", ""))).name());
            assertEquals(403, otherwise(f.decide("GET", target("/x"), new DefaultHttpHeaders())));
        }
    }

    @Nested
    class WebSocket {

        final RouteTable t = table(wsRoute("sdk-websocket", "/", "GET"), route("root-get", "/", "GET"));

        @Test
        void validUpgradeMatches() {
            assertEquals("sdk-websocket", matched(t.decide("GET", target("/"), wsHeaders())).name());
            assertTrue(RouteTable.isWebSocketUpgrade("GET", wsHeaders()));
        }

        @Test
        void plainGetFallsThroughToTheNextRoute() {
            assertEquals("root-get", matched(t.decide("GET", target("/"), headers("Host", "gw"))).name());
            assertFalse(RouteTable.isWebSocketUpgrade("GET", headers("Host", "gw")));
        }

        @Test
        void upgradeOnlyOnTheWebSocketRoutePath() {
            assertEquals(403, otherwise(t.decide("GET", target("/oauth/callback"), wsHeaders())));
        }

        @Test
        void tolerantButValidVariants() {
            HttpHeaders h = wsHeaders();
            h.set("Connection", "keep-alive, Upgrade");
            assertTrue(RouteTable.isWebSocketUpgrade("GET", h));
            h.set("Connection", "upgrade");
            h.set("Upgrade", "WebSocket");
            assertTrue(RouteTable.isWebSocketUpgrade("GET", h));
            HttpHeaders spaced = rawHeaders("Connection", " Upgrade ", "Upgrade", " websocket ",
                    "Sec-WebSocket-Key", " " + WS_KEY + " ", "Sec-WebSocket-Version", " 13 ");
            assertTrue(RouteTable.isWebSocketUpgrade("GET", spaced));
            HttpHeaders two = wsHeaders();
            two.remove("Connection");
            two.add("Connection", "keep-alive");
            two.add("Connection", "Upgrade");
            assertTrue(RouteTable.isWebSocketUpgrade("GET", two));
            assertEquals("sdk-websocket", matched(t.decide("GET", target("/?session=1"), two)).name());
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "Sec-WebSocket-Key|",
            "Sec-WebSocket-Key|dGhlIHNhbXBsZSBub25jZQ",
            "Sec-WebSocket-Key|dGhlIHNhbXBsZSBub25jZQ=",
            "Sec-WebSocket-Key|dGhlIHNhbXBsZSBub25jZQ===",
            "Sec-WebSocket-Key|AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "Sec-WebSocket-Key|dGhlIHNhbXBsZSBub25jZ!==",
            "Sec-WebSocket-Key|dGhlIHNhbXBsZSBub25jZQ==dGhl",
            "Sec-WebSocket-Key|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "Sec-WebSocket-Version|12",
            "Sec-WebSocket-Version|8",
            "Sec-WebSocket-Version|13, 8",
            "Sec-WebSocket-Version|",
            "Upgrade|websocket, h2c",
            "Upgrade|h2c",
            "Upgrade|web socket",
            "Upgrade|",
            "Connection|keep-alive",
            "Connection|close",
            "Connection|upgraded",
            "Connection|",
        })
        void invalidHandshakeFallsThrough(String header, String value) {
            HttpHeaders h = wsHeaders();
            if (value == null) {
                h.remove(header);
            } else {
                h.set(header, value);
            }
            assertFalse(RouteTable.isWebSocketUpgrade("GET", h), header + ": " + value);
            assertEquals("root-get", matched(t.decide("GET", target("/"), h)).name(), header + ": " + value);
        }

        @ParameterizedTest
        @ValueSource(strings = {"Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"})
        void missingHeader(String name) {
            HttpHeaders h = wsHeaders();
            h.remove(name);
            assertFalse(RouteTable.isWebSocketUpgrade("GET", h));
            assertEquals("root-get", matched(t.decide("GET", target("/"), h)).name());
        }

        @ParameterizedTest
        @ValueSource(strings = {"Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version"})
        void repeatedHeader(String name) {
            HttpHeaders h = wsHeaders();
            h.add(name, h.get(name));
            assertEquals(2, h.getAll(name).size());
            assertFalse(RouteTable.isWebSocketUpgrade("GET", h), name);
        }

        @Test
        void twoUpgradeHeaders() {
            HttpHeaders h = wsHeaders();
            h.add("Upgrade", "h2c");
            assertFalse(RouteTable.isWebSocketUpgrade("GET", h));
            assertEquals("root-get", matched(t.decide("GET", target("/"), h)).name());
        }

        @ParameterizedTest
        @ValueSource(strings = {"POST", "HEAD", "PUT", "CONNECT", "get", "OPTIONS"})
        void onlyGetUpgrades(String method) {
            assertFalse(RouteTable.isWebSocketUpgrade(method, wsHeaders()));
            // the websocket condition fails, so only the plain GET route's method counts
            assertEquals(Set.of("GET"), allow(t.decide(method, target("/"), wsHeaders())));
        }

        @Test
        void postUpgradeWithOnlyTheWebSocketRouteIsOtherwise() {
            RouteTable only = table(wsRoute("ws", "/", "GET"));
            assertEquals(403, otherwise(only.decide("POST", target("/"), wsHeaders())));
            assertEquals(403, otherwise(only.decide("GET", target("/"), headers("Host", "gw"))));
            assertEquals("ws", matched(only.decide("GET", target("/"), wsHeaders())).name());
        }

        @Test
        void webSocketRouteWithoutMethodsStillNeedsGet() {
            RouteTable any = table(wsRoute("ws", "/socket"));
            assertEquals("ws", matched(any.decide("GET", target("/socket"), wsHeaders())).name());
            assertEquals(403, otherwise(any.decide("POST", target("/socket"), wsHeaders())));
        }

        @Test
        void connectionHasToken() {
            assertTrue(RouteTable.connectionHasToken(headers("Connection", "Upgrade"), "upgrade"));
            assertTrue(RouteTable.connectionHasToken(headers("Connection", "keep-alive,upgrade"), "upgrade"));
            assertTrue(RouteTable.connectionHasToken(rawHeaders("Connection", " close , UPGRADE "), "upgrade"));
            assertTrue(RouteTable.connectionHasToken(headers("Connection", "a", "connection", "upgrade"),
                    "upgrade"));
            assertFalse(RouteTable.connectionHasToken(headers("Connection", "upgrades"), "upgrade"));
            assertFalse(RouteTable.connectionHasToken(headers("Connection", "keep-alive"), "upgrade"));
            assertFalse(RouteTable.connectionHasToken(headers("Upgrade", "websocket"), "upgrade"));
            assertFalse(RouteTable.connectionHasToken(new DefaultHttpHeaders(), "upgrade"));
        }
    }

    @Nested
    class Trace {

        @Test
        void oneLinePerRouteTriedUntilTheMatch() {
            RouteTable t = nangoPublic();
            List<String> trace = new ArrayList<>();
            RouteDecision d = t.decide("GET", target("/oauth/connect/github"), new DefaultHttpHeaders(), trace);
            assertEquals("oauth-connect", matched(d).name());
            assertEquals(List.of(
                    "oauth-callback-replay: path does not match /integrations/oauth-callback",
                    "oauth-callback: path does not match /oauth/callback",
                    "oauth-connect: MATCH {key=github}"), trace);
        }

        @Test
        void everyReasonIsNamed() {
            RouteTable t = table(
                    prefixRoute("api", "/proxy/"),
                    route("multi", List.of("/a", "/b"), PROXY, "GET"),
                    headerRoute("absent", "/connect/session", Map.of("Authorization", "^Bearer x$"), "GET"),
                    headerRoute("nomatch", "/connect/session", Map.of("X-Env", "^prod$"), "GET"),
                    headerRoute("twice", "/connect/session", Map.of("X-Twice", ".*"), "GET"),
                    wsRoute("ws", "/connect/session", "GET"),
                    route("wrong-method", "/connect/session", "DELETE", "PUT"),
                    route("plain", "/connect/session", "POST"));
            List<String> trace = new ArrayList<>();
            RouteDecision d = t.decide("POST", target("/connect/session"),
                    headers("X-Env", "dev", "X-Twice", "1", "X-Twice", "2"), trace);
            assertEquals("plain", matched(d).name());
            assertEquals(List.of(
                    "api: path does not match prefix /proxy/",
                    "multi: path does not match [/a, /b]",
                    "absent: header Authorization absent",
                    "nomatch: header X-Env does not match ^prod$",
                    "twice: header X-Twice given 2 times",
                    "ws: not a valid WebSocket upgrade",
                    "wrong-method: method POST not in [DELETE, PUT]",
                    "plain: MATCH"), trace);
        }

        @Test
        void traceOfAMethodNotAllowed() {
            RouteTable t = table(route("get", "/x", "GET"), route("other", "/y", "POST"));
            List<String> trace = new ArrayList<>();
            assertEquals(Set.of("GET"), allow(t.decide("POST", target("/x"), new DefaultHttpHeaders(), trace)));
            assertEquals(List.of("get: method POST not in [GET]", "other: path does not match /y"), trace);
        }

        @Test
        void traceOfOtherwise() {
            RouteTable t = table(route("get", "/x", "GET"));
            List<String> trace = new ArrayList<>();
            assertEquals(403, otherwise(t.decide("GET", target("/z"), new DefaultHttpHeaders(), trace)));
            assertEquals(List.of("get: path does not match /x"), trace);
        }

        @Test
        void traceIsAppendedNotReplaced() {
            RouteTable t = table(route("get", "/x", "GET"));
            List<String> trace = new ArrayList<>(List.of("earlier"));
            t.decide("GET", target("/x"), new DefaultHttpHeaders(), trace);
            assertEquals(List.of("earlier", "get: MATCH"), trace);
        }

        @Test
        void decisionIsTheSameWithAndWithoutTrace() {
            RouteTable t = nangoPublic();
            for (String[] c : new String[][] {{"GET", "/oauth/callback"}, {"POST", "/oauth/callback"},
                {"GET", "/api/v1/meta"}, {"POST", "/webhook/a/b"}, {"GET", "/"}}) {
                RouteDecision without = t.decide(c[0], target(c[1]), wsHeaders());
                RouteDecision with = t.decide(c[0], target(c[1]), wsHeaders(), new ArrayList<>());
                assertEquals(without, with, c[0] + " " + c[1]);
            }
        }
    }
}
