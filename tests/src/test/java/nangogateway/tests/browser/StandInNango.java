package nangogateway.tests.browser;

import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.HttpUrl;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;

/**
 * A stand-in Nango server on loopback that behaves like Nango on the routes
 * the frontend SDK's OAuth flow touches:
 * <ul>
 * <li>the WebSocket at {@code /}: answers {@code connection_ack} with a {@code ws_client_id}, and later publishes
 *     the flow's {@code success} or {@code error} to that client (Nango's publisher.client.ts);</li>
 * <li>{@code GET /oauth/connect/{key}}: checks {@code connect_session_token} and the integration key, sets the
 *     {@code oauth2-<session>=1} state cookie (HttpOnly, Path=/, 1 h, SameSite=Lax because the gateway says
 *     {@code X-Forwarded-Proto: http}) and answers 302 to the provider's authorize URL with {@code redirect_uri}
 *     = the gateway's public callback URL;</li>
 * <li>{@code GET /oauth/callback}: checks {@code state}, {@code code} (redeemed at the stand-in provider) and the
 *     cookie, answers Nango's HTML page (posts {@code nango_oauth_callback_success} to {@code window.opener},
 *     closes itself after 500 ms; 400 and the reflected provider error otherwise) and publishes on the
 *     WebSocket. Without {@code state} but with {@code installation_id} and {@code setup_action} (a GitHub App
 *     installed from GitHub's own pages) it answers, as Nango does, 302 to the request's {@code Referer} (or
 *     https://github.com), with Express's little HTML body; the stand-in adds a Set-Cookie, which Nango does not,
 *     so the test can see that a 3xx's cookie reaches the browser too;</li>
 * <li>{@code GET /connect/session} with the connect-session Bearer token: the Connect UI shape;</li>
 * <li>any other GET: the dashboard's HTML with 200, as Nango's SPA fallback does (the test asserts that none
 *     reaches it).</li>
 * </ul>
 */
final class StandInNango implements AutoCloseable {
    static final String TOKEN = "nango_connect_session_" + "0123456789abcdef".repeat(4);
    /** The cookie the stand-in sets on its GitHub App redirect. */
    static final String INSTALL_COOKIE = "nango-github-app-install";

    /** One request as Nango saw it. */
    record Seen(String method, String target, String cookie, String userAgent, String referer, String forwardedProto,
            boolean upgrade) {
    }

    private record Session(String id, String providerConfigKey, String wsClientId) {
    }

    private final MockWebServer server = new MockWebServer();
    private final Set<String> integrations;
    private final Map<String, WebSocket> clients = new ConcurrentHashMap<>();
    private final List<WebSocket> sockets = new CopyOnWriteArrayList<>();
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    final List<Seen> seen = new CopyOnWriteArrayList<>();
    final List<String> published = new CopyOnWriteArrayList<>();
    final List<String> cookiesSet = new CopyOnWriteArrayList<>();
    /** State-cookie checks at the callback: "present" or "missing" (Nango only measures a missing one). */
    final List<String> cookieChecks = new CopyOnWriteArrayList<>();
    private volatile StandInProvider provider;
    private volatile String callbackUrl;
    private volatile boolean closed;

    StandInNango(Set<String> integrations) {
        this.integrations = Set.copyOf(integrations);
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest r) {
                return handle(r);
            }
        });
    }

    void start() throws IOException {
        server.start(InetAddress.getByName("127.0.0.1"), 0);
    }

    /** Nango's provider config (authorize URL) and environment callback URL (the gateway's public one). */
    void wire(StandInProvider provider, String gatewayCallbackUrl) {
        this.provider = provider;
        this.callbackUrl = gatewayCallbackUrl;
    }

    /** SDK WebSockets open and not yet given their result. */
    int openSockets() {
        return clients.size();
    }

    int port() {
        return server.getPort();
    }

    /** Nango goes away: the listening socket and every open connection, the SDK's WebSocket included. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            // MockWebServer's close waits for open WebSockets: close them first (1001 Going Away).
            sockets.forEach(ws -> ws.close(1001, "going away"));
            server.close();
        }
    }

    private MockResponse handle(RecordedRequest r) {
        HttpUrl url = r.getUrl();
        String path = url.encodedPath();
        boolean upgrade = "websocket".equalsIgnoreCase(r.getHeaders().get("Upgrade"));
        seen.add(new Seen(r.getMethod(), r.getTarget(), r.getHeaders().get("Cookie"), r.getHeaders().get("User-Agent"),
                r.getHeaders().get("Referer"), r.getHeaders().get("X-Forwarded-Proto"), upgrade));
        if ("GET".equals(r.getMethod()) && "/".equals(path) && upgrade) {
            return new MockResponse.Builder().webSocketUpgrade(new WebSocketListener() {
                @Override
                public void onOpen(WebSocket ws, Response response) {
                    String id = UUID.randomUUID().toString();
                    clients.put(id, ws);
                    sockets.add(ws);
                    ws.send("{\"message_type\":\"connection_ack\",\"ws_client_id\":\"" + id + "\"}");
                }
            }).build();
        }
        if ("GET".equals(r.getMethod()) && path.startsWith("/oauth/connect/")) {
            return connect(r, path.substring("/oauth/connect/".length()));
        }
        if ("GET".equals(r.getMethod()) && "/oauth/callback".equals(path)) {
            return callback(r);
        }
        if ("GET".equals(r.getMethod()) && "/connect/session".equals(path)) {
            if (!("Bearer " + TOKEN).equals(r.getHeaders().get("Authorization"))) {
                return json(401, "{\"error\":{\"code\":\"unknown_connect_session_token\"}}");
            }
            return json(200, "{\"data\":{\"allowed_integrations\":[\"google-mail\"],\"connectUISettings\":{},"
                    + "\"endUser\":{\"id\":\"user-1\",\"email\":\"user@example.com\"},\"isReconnecting\":false,"
                    + "\"websocketsPath\":\"/\"}}");
        }
        return new MockResponse.Builder().code(200).setHeader("Content-Type", "text/html; charset=utf-8")
                .body("<!doctype html><title>Nango dashboard</title><h1>Nango dashboard</h1>").build();
    }

    private MockResponse connect(RecordedRequest r, String key) {
        HttpUrl url = r.getUrl();
        String ws = url.queryParameter("ws_client_id");
        if (!TOKEN.equals(url.queryParameter("connect_session_token"))) {
            return error(ws, key, "invalid_connect_session_token", "The connect session token is invalid", null);
        }
        if (!integrations.contains(key)) {
            return error(ws, key, "unknown_config_key",
                    "Provider config \"" + key + "\" is unknown. Please check the integration unique key.", null);
        }
        String session = UUID.randomUUID().toString();
        sessions.put(session, new Session(session, key, ws));
        String cookie = "oauth2-" + session + "=1; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax";
        cookiesSet.add(cookie);
        String authorize = provider.authorizeUrl() + "?response_type=code&client_id=" + StandInProvider.CLIENT_ID
                + "&redirect_uri=" + java.net.URLEncoder.encode(callbackUrl, java.nio.charset.StandardCharsets.UTF_8)
                + "&scope=email&state=" + session;
        return new MockResponse.Builder().code(302).setHeader("Location", authorize).addHeader("Set-Cookie", cookie)
                .setHeader("Content-Length", "0").build();
    }

    private MockResponse callback(RecordedRequest r) {
        HttpUrl url = r.getUrl();
        String state = url.queryParameter("state");
        if (state == null && url.queryParameter("installation_id") != null && url.queryParameter("setup_action") != null) {
            return backToReferer(r);
        }
        Session s = state == null ? null : sessions.remove(state);
        if (s == null) {
            return error(null, null, "invalid_state", "Invalid state parameter passed in the callback", null);
        }
        String cookies = r.getHeaders().get("Cookie");
        boolean hasCookie = cookies != null && List.of(cookies.split(";\\s*")).contains("oauth2-" + s.id() + "=1");
        cookieChecks.add(hasCookie ? "present" : "missing");
        String providerError = url.queryParameter("error");
        if (providerError != null) {
            String desc = url.queryParameter("error_description");
            return error(s.wsClientId(), s.providerConfigKey(), "callback_err",
                    "Error in the authorization callback: " + providerError + (desc == null ? "" : " - " + desc),
                    providerError + (desc == null ? "" : ": " + desc));
        }
        String code = url.queryParameter("code");
        if (code == null || !provider.redeem(code)) {
            return error(s.wsClientId(), s.providerConfigKey(), "token_err", "Error storing/retrieving token", null);
        }
        String connectionId = "conn-" + s.id().substring(0, 8);
        publish(s.wsClientId(), "{\"message_type\":\"success\",\"provider_config_key\":\"" + s.providerConfigKey()
                + "\",\"connection_id\":\"" + connectionId + "\",\"is_pending\":false}");
        return html(200, "Authorization successful", "You are now connected. This window will close.",
                "nango_oauth_callback_success", true);
    }

    /** Nango's GitHub App callback without state: {@code res.redirect(Referer || 'https://github.com')}. */
    private MockResponse backToReferer(RecordedRequest r) {
        String referer = r.getHeaders().get("Referer");
        String location = referer == null ? "https://github.com" : referer;
        String cookie = INSTALL_COOKIE + "=" + r.getUrl().queryParameter("installation_id")
                + "; Max-Age=600; Path=/; HttpOnly; SameSite=Lax";
        cookiesSet.add(cookie);
        return new MockResponse.Builder().code(302).setHeader("Location", location).addHeader("Set-Cookie", cookie)
                .setHeader("Content-Type", "text/html; charset=utf-8")
                .body("<p>Found. Redirecting to <a href=\"" + esc(location) + "\">" + esc(location) + "</a></p>")
                .build();
    }

    /** Nango's publisher.notifyErr: the error on the WebSocket, and a 400 page the user sees in the popup. */
    private MockResponse error(String wsClientId, String key, String type, String desc, String shown) {
        if (wsClientId != null) {
            publish(wsClientId, "{\"message_type\":\"error\",\"provider_config_key\":" + quote(key)
                    + ",\"connection_id\":null,\"error_type\":\"" + type + "\",\"error_desc\":" + quote(desc) + "}");
        }
        return html(400, "Authorization failed", shown == null ? desc : shown, "nango_oauth_callback_error", false);
    }

    private void publish(String wsClientId, String message) {
        WebSocket ws = wsClientId == null ? null : clients.remove(wsClientId);
        if (ws != null) {
            published.add(message);
            ws.send(message);
        }
    }

    /** The shape of Nango's authHtml(): a message to the opener and on the BroadcastChannel; closes on success. */
    private static MockResponse html(int status, String title, String text, String type, boolean close) {
        String body = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + esc(title) + "</title></head>"
                + "<body style=\"font-family:sans-serif;margin:2rem\"><h1>" + esc(title) + "</h1><p id=\"msg\">"
                + esc(text) + "</p><script>(function(){var m={type:'" + type + "'};"
                + "if(window.opener){try{window.opener.postMessage(m,'*')}catch(e){}}"
                + "try{new BroadcastChannel('nango-oauth-callback').postMessage(m)}catch(e){}"
                + (close ? "setTimeout(function(){window.close()},500);" : "") + "})();</script></body></html>";
        return new MockResponse.Builder().code(status).setHeader("Content-Type", "text/html; charset=utf-8").body(body)
                .build();
    }

    private static MockResponse json(int status, String body) {
        return new MockResponse.Builder().code(status).setHeader("Content-Type", "application/json").body(body).build();
    }

    private static String quote(String s) {
        return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
