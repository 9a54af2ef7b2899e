package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import nangogateway.config.ConfigLoader;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerOptions;
import nangogateway.config.UpstreamConfig;
import nangogateway.server.Gateway;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * conf/gateway.yaml as shipped, on loopback in front of a mock Nango: every route reached with the shapes Nango's
 * frontend SDK, the Connect UI, providers and the tenant server really send.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConfRoutesTest {
    private static final String TOKEN = "nango_connect_session_" + "0123456789abcdef".repeat(4);
    private static final String ENV = "0e9d1a52-3a44-4f0a-9a4c-3b6c5b8d2f10";
    private MockWebServer nango;
    private Gateway gateway;
    private int pub;
    private int internal;

    @BeforeAll
    void start() throws Exception {
        nango = new MockWebServer();
        nango.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                if ("websocket".equalsIgnoreCase(request.getHeaders().get("Upgrade"))) {
                    return new MockResponse.Builder().webSocketUpgrade(new WebSocketListener() {
                        @Override
                        public void onOpen(WebSocket ws, okhttp3.Response response) {
                            ws.send("{\"message_type\":\"connection_ack\",\"ws_client_id\":\"c1\"}");
                        }

                        @Override
                        public void onClosing(WebSocket ws, int code, String reason) {
                            ws.close(code, null);
                        }
                    }).build();
                }
                return new MockResponse.Builder().body("ok").build();
            }
        });
        nango.start();
        GatewayConfig shipped = ConfigLoader.load(Path.of(System.getProperty("gateway.conf.dir", "../conf"),
                "gateway.yaml"));
        // Same routes and providers; loopback ports, no TLS, no rate limit (this test sends many requests).
        List<ListenerConfig> listeners = new ArrayList<>();
        for (ListenerConfig l : shipped.listeners()) {
            ListenerOptions o = l.options();
            ListenerOptions local = new ListenerOptions(null, o.redirectToHttps(), o.acmeWebroot(), o.trustedProxies(),
                    null, 0, 0, o.accessLogFormat(), o.redactParams(), o.admin());
            listeners.add(new ListenerConfig(l.name(), "127.0.0.1", 0, null, l.routes(), l.otherwiseStatus(),
                    l.limits(), local));
        }
        Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
        shipped.upstreams().forEach((k, u) -> upstreams.put(k, new UpstreamConfig(u.name(), "http", "127.0.0.1",
                nango.getPort(), u.connectTimeout(), u.responseTimeout(), u.idleTimeout(), u.maxConnections())));
        gateway = Gateway.start(new GatewayConfig("conf/gateway.yaml (loopback)", upstreams, listeners,
                shipped.providers(), shipped.server()));
        pub = gateway.port("public");
        internal = gateway.port("internal");
    }

    @AfterAll
    void stop() {
        gateway.close();
        nango.close();
    }

    @BeforeEach
    void drainRecorded() throws InterruptedException {
        while (nango.takeRequest(10, TimeUnit.MILLISECONDS) != null) {
            // forget what earlier tests left
        }
    }

    private RecordedRequest passes(int port, String raw) throws Exception {
        RawHttp.Response r = RawHttp.exchange(port, raw);
        assertEquals(200, r.status(), raw);
        RecordedRequest seen = nango.takeRequest(5, TimeUnit.SECONDS);
        assertTrue(seen != null, "Nango saw nothing for " + raw);
        return seen;
    }

    private int refused(int port, String raw) throws Exception {
        long before = nango.getRequestCount();
        int status = RawHttp.exchange(port, raw).status();
        assertEquals(before, nango.getRequestCount(), "Nango must not see " + raw);
        return status;
    }

    private static String get(String target, String... headers) {
        return "GET " + target + " HTTP/1.1\r\nHost: ai.example\r\n" + String.join("", headers) + "\r\n";
    }

    private static String post(String target, String body, String... headers) {
        return "POST " + target + " HTTP/1.1\r\nHost: ai.example\r\nContent-Type: application/json\r\n"
                + String.join("", headers) + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    }

    @Test
    void oauthFlowRoutes() throws Exception {
        RecordedRequest replay = passes(pub, get("/integrations/oauth-callback?code=4%2F0AY0e&state=abc",
                "Cookie: oauth2-s1=1\r\n", "User-Agent: Mozilla/5.0\r\n", "Referer: https://github.com/\r\n"));
        assertEquals("/oauth/callback?code=4%2F0AY0e&state=abc", replay.getTarget());
        assertEquals("https://github.com/", replay.getHeaders().get("Referer"));
        assertEquals("/oauth/connect/google-mail?connect_session_token=" + TOKEN,
                passes(pub, get("/oauth/connect/google-mail?connect_session_token=" + TOKEN)).getTarget());
        assertEquals("/oauth/connect/google-mail?connect_session_token=" + TOKEN,
                passes(pub, get("/oauth/connect/gmail?connect_session_token=" + TOKEN)).getTarget(),
                "the catalog id is rewritten to Nango's key");
        passes(pub, get("/oauth/callback?code=c&state=s"));
        passes(pub, post("/oauth2/auth/github?connect_session_token=" + TOKEN, "{\"client_id\":\"x\"}"));
        passes(pub, post("/api-auth/api-key/openai?connect_session_token=" + TOKEN, "{\"apiKey\":\"sk\"}"));
        passes(pub, post("/api-auth/basic/jira?connect_session_token=" + TOKEN, "{\"username\":\"u\"}"));
        passes(pub, post("/auth/tba/netsuite?connect_session_token=" + TOKEN, "{}"));
        passes(pub, post("/auth/unauthenticated/x?connect_session_token=" + TOKEN, "{}"));
        passes(pub, get("/app-auth/connect?installation_id=1&setup_action=install&state=s"));
        passes(pub, get("/oauth/client-metadata/" + ENV + "/github"));
    }

    @Test
    void connectUiRoutesNeedTheSessionToken() throws Exception {
        String bearer = "Authorization: Bearer " + TOKEN + "\r\n";
        passes(pub, get("/connect/session", bearer));
        passes(pub, get("/integrations", bearer));
        passes(pub, get("/providers", bearer));
        passes(pub, get("/providers/google-mail", bearer));
        passes(pub, post("/connect/telemetry", "{\"event\":\"open\",\"token\":\"" + TOKEN + "\"}"));
        passes(pub, "OPTIONS /connect/session HTTP/1.1\r\nHost: ai.example\r\nOrigin: https://connect.example\r\n"
                + "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\n\r\n");
        // The secret-key API shares these paths: without a connect-session token nothing passes.
        assertEquals(405, refused(pub, get("/integrations", "Authorization: Bearer sk-secret-key\r\n")));
        assertEquals(405, refused(pub, get("/connect/session")));
        assertEquals(405, refused(pub, "DELETE /connect/session HTTP/1.1\r\nHost: x\r\n" + "Authorization: Bearer "
                + TOKEN + "\r\n\r\n"));
        assertEquals(403, refused(pub, post("/connect/sessions", "{}", "Authorization: Bearer sk\r\n")));
    }

    @Test
    void webhooksPassWithBodyAndHeadersUntouched() throws Exception {
        String body = "{\"type\":\"event_callback\",\"event\":{\"type\":\"message\"}}";
        RecordedRequest hook = passes(pub, post("/webhook/" + ENV + "/slack", body,
                "X-Slack-Signature: v0=abc\r\n", "X-Slack-Request-Timestamp: 1700000000\r\n",
                "Authorization: Bearer pubsub-jwt\r\n", "X-Goog-Resource-State: exists\r\n"));
        assertEquals(body, hook.getBody().utf8());
        assertEquals("v0=abc", hook.getHeaders().get("X-Slack-Signature"));
        assertEquals("Bearer pubsub-jwt", hook.getHeaders().get("Authorization"));
        assertEquals("exists", hook.getHeaders().get("X-Goog-Resource-State"));
    }

    @Test
    void sdkWebSocketTunnels() throws Exception {
        okhttp3.OkHttpClient client = new okhttp3.OkHttpClient();
        java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
        WebSocket ws = client.newWebSocket(new okhttp3.Request.Builder().url("ws://127.0.0.1:" + pub + "/").build(),
                new WebSocketListener() {
                    @Override
                    public void onMessage(WebSocket webSocket, String text) {
                        got.add(text);
                    }
                });
        try {
            assertEquals("{\"message_type\":\"connection_ack\",\"ws_client_id\":\"c1\"}", got.poll(10, TimeUnit.SECONDS));
        } finally {
            ws.close(1000, null);
            client.dispatcher().executorService().shutdown();
        }
        assertEquals(403, refused(pub, get("/")), "a plain GET / (the dashboard) is not an upgrade");
    }

    @Test
    void privateNangoStaysPrivate() throws Exception {
        for (String target : List.of("/api/v1/account", "/api/v1/meta", "/connection/abc", "/connections",
                "/proxy/x", "/config/github", "/environment-variables", "/health", "/env.js", "/assets/index.js",
                "/integrations/quickstart", "/records", "/sync/trigger", "/v1/x")) {
            assertEquals(403, refused(pub, get(target)), target);
        }
    }

    @Test
    void internalProxyApiAppliesTheProviderPolicy() throws Exception {
        RecordedRequest download = passes(internal, "POST /proxy/2/files/download HTTP/1.1\r\nHost: localhost\r\n"
                + "Provider-Config-Key: dropbox\r\nConnection-Id: c1\r\nDropbox-API-Arg: {\"path\":\"/a\"}\r\n"
                + "Content-Length: 0\r\n\r\n");
        assertEquals("https://content.dropboxapi.com", download.getHeaders().get("Base-Url-Override"));
        assertEquals("/proxy/2/files/download", download.getTarget());
        RecordedRequest list = passes(internal, "POST /proxy/2/files/list_folder HTTP/1.1\r\nHost: localhost\r\n"
                + "Provider-Config-Key: dropbox\r\nConnection-Id: c1\r\nContent-Length: 2\r\n\r\n{}");
        assertNull(list.getHeaders().get("Base-Url-Override"));
        assertEquals(403, refused(internal, "GET /proxy/users/me HTTP/1.1\r\nHost: l\r\nProvider-Config-Key: "
                + "github\r\nBase-Url-Override: https://evil.example\r\n\r\n"));
        RawHttp.Response metrics = RawHttp.exchange(gateway.port("admin"), get("/metrics"));
        assertEquals(200, metrics.status());
        assertTrue(metrics.bodyText().lines().anyMatch(l -> l.startsWith("nango_gateway_responses_total{")
                && l.contains("listener=\"internal\"")), metrics.bodyText());
    }
}
