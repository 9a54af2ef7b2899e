package nangogateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import nangogateway.target.RequestTarget;
import nangogateway.routing.RouteDecision;
import nangogateway.routing.RouteTable;
import org.junit.jupiter.api.Test;

/** The shipped route files load and keep Nango's private surface closed. */
class ConfFilesTest {
    private static final String SESSION_TOKEN = "Bearer nango_connect_session_" + "0123456789abcdef".repeat(4);

    private static GatewayConfig load(String name) throws ConfigException {
        return ConfigLoader.load(Path.of("..", "conf", name));
    }

    private static RouteDecision decide(ListenerConfig listener, String method, String target, String... headers) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < headers.length; i += 2) {
            h.add(headers[i], headers[i + 1]);
        }
        RequestTarget.Verdict v = RequestTarget.parse(target);
        assertTrue(v.accepted(), target + ": " + v.rejection());
        return new RouteTable(listener).decide(method, v.target(), h);
    }

    private static String matched(ListenerConfig listener, String method, String target, String... headers) {
        RouteDecision d = decide(listener, method, target, headers);
        return assertInstanceOf(RouteDecision.Matched.class, d, method + " " + target).route().name();
    }

    private static void denied(ListenerConfig listener, String method, String target, String... headers) {
        assertEquals(new RouteDecision.Otherwise(403), decide(listener, method, target, headers), method + " " + target);
    }

    @Test
    void productionTemplateShape() throws ConfigException {
        GatewayConfig c = load("gateway.yaml");
        UpstreamConfig nango = c.upstreams().get("nango");
        assertEquals("http://127.0.0.1:3003", nango.url());
        assertEquals(Duration.ofSeconds(4), nango.idleTimeout());

        ListenerConfig pub = c.listener("public").orElseThrow();
        assertEquals("0.0.0.0:443", pub.bindText());
        assertEquals(Path.of("/etc/nango-gateway/tls/fullchain.pem"), pub.tls().cert());
        assertEquals(Path.of("/etc/nango-gateway/tls/privkey.pem"), pub.tls().key());
        assertEquals(403, pub.otherwiseStatus());

        ListenerConfig internal = c.listener("internal").orElseThrow();
        assertEquals("127.0.0.1:3004", internal.bindText());
        assertNull(internal.tls());
        ProxyAction api = (ProxyAction) internal.routes().get(0).action();
        ListenerConfig admin = c.listener("admin").orElseThrow();
        assertTrue(admin.options().admin());
        assertEquals("127.0.0.1:9090", admin.bindText());
        assertEquals(ProxyAction.BaseUrlOverrideMode.ENFORCE, api.baseUrlOverride());
        assertEquals(150L * 1024 * 1024, api.maxRequestBody());

        ProviderConfig dropbox = c.providers().get("dropbox");
        assertEquals(List.of(new ProviderConfig.OverrideOrigin("https", "content.dropboxapi.com", 443)),
                dropbox.allow());
        assertTrue(dropbox.set().stream().anyMatch(r -> r.prefix().equals("/2/files/download")));
        assertTrue(dropbox.set().stream().anyMatch(r -> r.prefix().equals("/2/files/upload")));
        assertEquals("google-mail", c.providerByKeyOrAlias("gmail").orElseThrow().key());
        assertEquals("one-drive", c.providerByKeyOrAlias("onedrive").orElseThrow().key(), "Nango's real key");
        assertEquals("outlook", c.providerByKeyOrAlias("outlook_calendar").orElseThrow().key(), "Nango's real key");
        assertEquals(List.of(new ProviderConfig.OverrideOrigin("https", "uploads.github.com", 443)),
                c.providers().get("github").allow());

        assertEquals("max-age=63072000; includeSubDomains", pub.options().hsts());
        assertEquals(new RateLimit(20, 60), pub.options().rateLimit());
        ListenerConfig redirect = c.listener("http-redirect").orElseThrow();
        assertTrue(redirect.options().redirectToHttps());
        assertEquals(Path.of("/var/lib/nango-gateway/acme"), redirect.options().acmeWebroot());
    }

    @Test
    void productionPublicListenerAllowsOnlyNangosPublicRoutes() throws ConfigException {
        ListenerConfig pub = load("gateway.yaml").listener("public").orElseThrow();
        publicRoutesHold(pub);

        RouteConfig replay = pub.routes().get(0);
        assertEquals(new CallbackAction("nango", "/oauth/callback", 1024 * 1024, List.of("Referer")), replay.action());
        ProxyAction webhook = (ProxyAction) ((RouteDecision.Matched) decide(pub, "POST",
                "/webhook/3f2a/github")).route().action();
        assertEquals(75L * 1024 * 1024, webhook.maxRequestBody());
    }

    @Test
    void devFileServesTheSameRoutesOnLoopback() throws ConfigException {
        GatewayConfig c = load("dev.yaml");
        ListenerConfig pub = c.listener("public").orElseThrow();
        assertEquals("127.0.0.1:8080", pub.bindText());
        assertNull(pub.tls());
        assertEquals("127.0.0.1:8081", c.listener("internal").orElseThrow().bindText());
        assertEquals("http://127.0.0.1:3003", c.upstreams().get("nango").url());
        publicRoutesHold(pub);

        GatewayConfig prod = load("gateway.yaml");
        assertEquals(summary(prod.listener("public").orElseThrow()), summary(pub),
                "dev.yaml has the production public routes");
        assertEquals(prod.providers(), c.providers());
    }

    @Test
    void internalListenerTakesOnlyTheProxySubtree() throws ConfigException {
        for (String file : List.of("gateway.yaml", "dev.yaml")) {
            ListenerConfig internal = load(file).listener("internal").orElseThrow();
            assertEquals("nango-proxy-api", matched(internal, "GET", "/proxy/2/files/list_folder"));
            assertEquals("nango-proxy-api", matched(internal, "POST", "/proxy/"));
            denied(internal, "GET", "/proxy");
            denied(internal, "GET", "/proxyx/a");
            denied(internal, "GET", "/connection/abc");
        }
    }

    /** A route as text: patterns and regexes have no value equality of their own. */
    private static List<String> summary(ListenerConfig listener) {
        return listener.routes().stream().map(r -> r.name() + " " + r.pathText() + " " + r.methods() + " "
                + r.headers().stream().map(h -> h.name() + "~" + h.regex().pattern()).toList() + " " + r.websocket()
                + " " + r.action()).toList();
    }

    private static void publicRoutesHold(ListenerConfig pub) {
        // Nango's public routes (class a and b) pass with their exact methods.
        assertEquals("oauth-callback-replay", matched(pub, "GET", "/integrations/oauth-callback?code=a%2Fb&state=s"));
        assertEquals("oauth-callback", matched(pub, "GET", "/oauth/callback?code=x"));
        assertEquals("oauth-connect", matched(pub, "GET", "/oauth/connect/github?connect_session_token=t"));
        assertEquals("oauth2-auth", matched(pub, "POST", "/oauth2/auth/github"));
        assertEquals("oauth-outbound", matched(pub, "POST", "/auth/oauth-outbound/github"));
        assertEquals("api-auth", matched(pub, "POST", "/api-auth/api-key/openai"));
        assertEquals("api-auth", matched(pub, "POST", "/api-auth/basic/jira"));
        for (String kind : List.of("tba", "two-step", "jwt", "bill", "aws-sigv4", "signature", "unauthenticated")) {
            assertEquals("auth-other", matched(pub, "POST", "/auth/" + kind + "/p"));
        }
        assertEquals("github-app-setup", matched(pub, "GET", "/app-auth/connect?installation_id=1"));
        assertEquals("mcp-client-metadata", matched(pub, "GET", "/oauth/client-metadata/env-1/linear"));
        assertEquals("connect-session", matched(pub, "GET", "/connect/session", "Authorization", SESSION_TOKEN));
        assertEquals("connect-integrations", matched(pub, "GET", "/integrations", "Authorization", SESSION_TOKEN));
        assertEquals("connect-providers", matched(pub, "GET", "/providers", "Authorization", SESSION_TOKEN));
        assertEquals("connect-providers", matched(pub, "GET", "/providers/slack", "Authorization", SESSION_TOKEN));
        assertEquals("connect-telemetry", matched(pub, "POST", "/connect/telemetry"));
        assertEquals("cors-preflight", matched(pub, "OPTIONS", "/connect/session"));
        assertEquals("cors-preflight", matched(pub, "OPTIONS", "/providers/slack"));
        assertEquals("cors-preflight", matched(pub, "OPTIONS", "/api-auth/api-key/openai"));
        assertEquals("sdk-websocket", matched(pub, "GET", "/", "Connection", "Upgrade", "Upgrade", "websocket",
                "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13"));
        assertEquals("webhooks", matched(pub, "POST", "/webhook/3f2a/github"));

        // The OAuth connect route maps catalog ids through providers: aliases.
        RouteConfig connect = pub.routes().stream().filter(r -> r.name().equals("oauth-connect")).findFirst()
                .orElseThrow();
        assertEquals("key", ((ProxyAction) connect.action()).providerKeyParam());

        // Everything else: the dashboard and its API, the secret-key API, Nango's own service paths.
        denied(pub, "GET", "/api/v1/account");
        denied(pub, "POST", "/api/v1/account/signup");
        denied(pub, "GET", "/");
        denied(pub, "GET", "/connection/abc");
        denied(pub, "GET", "/connections");
        denied(pub, "GET", "/proxy/anything");
        denied(pub, "GET", "/config/github");
        denied(pub, "POST", "/connect/sessions");
        denied(pub, "POST", "/connect/sessions/reconnect");
        denied(pub, "GET", "/health");
        denied(pub, "GET", "/env.js");
        denied(pub, "GET", "/providers.json");
        denied(pub, "GET", "/providers/slack/templates");
        denied(pub, "GET", "/integrations/github");
        denied(pub, "GET", "/OAUTH/CALLBACK");
        denied(pub, "GET", "/internal/users");

        // The Connect UI routes need a connect-session token; the secret key or nothing at all is refused
        // (the 405 comes from the preflight route on the same path).
        Set<String> preflightOnly = Set.of("OPTIONS");
        assertEquals(new RouteDecision.MethodNotAllowed(preflightOnly), decide(pub, "GET", "/integrations",
                "Authorization", "Bearer 3b1f0c1e-secret-key"));
        assertEquals(new RouteDecision.MethodNotAllowed(preflightOnly), decide(pub, "GET", "/connect/session"));
        assertEquals(new RouteDecision.MethodNotAllowed(preflightOnly), decide(pub, "GET", "/providers",
                "Authorization", SESSION_TOKEN, "Authorization", SESSION_TOKEN));

        // Exact methods: HEAD is not GET, DELETE /connect/session is not used by the Connect UI.
        RouteDecision head = decide(pub, "HEAD", "/oauth/callback");
        assertEquals(new RouteDecision.MethodNotAllowed(Set.of("GET")), head);
        RouteDecision delete = decide(pub, "DELETE", "/connect/session", "Authorization", SESSION_TOKEN);
        assertEquals(new RouteDecision.MethodNotAllowed(Set.of("GET", "OPTIONS")), delete);
        assertEquals(new RouteDecision.MethodNotAllowed(Set.of("POST")), decide(pub, "GET", "/webhook/3f2a/github"));
    }
}
