package nangogateway.tests.browser;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.HttpUrl;

/**
 * A stand-in OAuth provider: {@code GET /authorize} answers 302 back to {@code redirect_uri} with {@code code} and
 * {@code state} (or, when told to, with {@code error=access_denied}). It listens on 127.0.0.2, a different site
 * from the gateway (127.0.0.1), as a real provider is: the browser's redirect back to the gateway is then a
 * cross-site top-level navigation, and the SameSite=Lax state cookie must still come along.
 *
 * <p>It also plays GitHub for an App installed from GitHub's own pages: {@link #installUrl} is the install page,
 * whose Install link sends the browser to the App's callback URL with {@code installation_id} and
 * {@code setup_action} but no {@code state}, under GitHub's Referrer-Policy (so the Referer is this origin), and
 * {@code GET /} is the home page Nango sends the browser back to.
 */
final class StandInProvider implements AutoCloseable {
    static final String CLIENT_ID = "stand-in-client";

    enum Mode { GRANT, DENY }

    /** One /authorize request as the provider saw it. */
    record Seen(String target, String userAgent, String redirectUri, String state) {
    }

    /** One request for the home page. */
    record Visit(String target, String userAgent, String cookie) {
    }

    static final String INSTALL_PATH = "/apps/stand-in/installations/new";
    static final String INSTALLATION_ID = "4711";

    private final MockWebServer server = new MockWebServer();
    private final Set<String> codes = ConcurrentHashMap.newKeySet();
    final List<Seen> seen = new CopyOnWriteArrayList<>();
    final List<String> problems = new CopyOnWriteArrayList<>();
    final List<Visit> homeVisits = new CopyOnWriteArrayList<>();
    private final String expectedRedirectUri;
    private volatile Mode mode = Mode.GRANT;
    /** Runs while the provider holds the browser, i.e. mid-flow with the SDK's WebSocket open. */
    private volatile Runnable onAuthorize = () -> { };

    StandInProvider(String expectedRedirectUri) {
        this.expectedRedirectUri = expectedRedirectUri;
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest r) {
                return handle(r);
            }
        });
    }

    void start() throws IOException {
        server.start(InetAddress.getByName("127.0.0.2"), 0);
    }

    String authorizeUrl() {
        return "http://127.0.0.2:" + server.getPort() + "/authorize";
    }

    /**
     * GitHub's page for installing an App whose callback URL is {@code callbackUrl}, where an installation that
     * Nango did not start begins.
     */
    String installUrl(String callbackUrl) {
        return origin() + INSTALL_PATH + "?callback=" + URLEncoder.encode(callbackUrl, StandardCharsets.UTF_8);
    }

    /** The home page: the Referer the install page's link sends, and so where Nango redirects back to. */
    String homeUrl() {
        return origin() + "/";
    }

    private String origin() {
        return "http://127.0.0.2:" + server.getPort();
    }

    void mode(Mode m) {
        mode = m;
    }

    void onAuthorize(Runnable r) {
        onAuthorize = r;
    }

    /** The token exchange, in-process: a code is good once. */
    boolean redeem(String code) {
        return codes.remove(code);
    }

    @Override
    public void close() {
        server.close();
    }

    private MockResponse handle(RecordedRequest r) {
        HttpUrl url = r.getUrl();
        if ("GET".equals(r.getMethod()) && INSTALL_PATH.equals(url.encodedPath())) {
            return installPage(url.queryParameter("callback"));
        }
        if ("GET".equals(r.getMethod()) && "/".equals(url.encodedPath())) {
            homeVisits.add(new Visit(r.getTarget(), r.getHeaders().get("User-Agent"), r.getHeaders().get("Cookie")));
            return page("Stand-in provider", "<h1>Stand-in provider</h1><p id=\"installed\">The App is installed.</p>");
        }
        if (!"GET".equals(r.getMethod()) || !"/authorize".equals(url.encodedPath())) {
            return new MockResponse.Builder().code(404).build();
        }
        String redirectUri = url.queryParameter("redirect_uri");
        String state = url.queryParameter("state");
        seen.add(new Seen(r.getTarget(), r.getHeaders().get("User-Agent"), redirectUri, state));
        if (!CLIENT_ID.equals(url.queryParameter("client_id"))) {
            problems.add("client_id " + url.queryParameter("client_id"));
        }
        if (!expectedRedirectUri.equals(redirectUri)) {
            problems.add("redirect_uri " + redirectUri + " is not the registered " + expectedRedirectUri);
            return new MockResponse.Builder().code(400).body("redirect_uri mismatch").build();
        }
        onAuthorize.run();
        String back;
        if (mode == Mode.DENY) {
            back = redirectUri + "?error=access_denied&error_description="
                    + URLEncoder.encode("The user denied access", StandardCharsets.UTF_8) + "&state=" + state;
        } else {
            // Real codes carry '/' and '+' percent-encoded: the gateway must pass them through byte for byte.
            String code = "4/0A" + UUID.randomUUID().toString().replace("-", "") + "+x";
            codes.add(code);
            back = redirectUri + "?code=" + URLEncoder.encode(code, StandardCharsets.UTF_8) + "&state=" + state
                    + "&scope=email";
        }
        return new MockResponse.Builder().code(302).setHeader("Location", back).setHeader("Content-Length", "0").build();
    }

    /** GitHub's install page: Install goes to the App's callback URL without state, as after a direct install. */
    private MockResponse installPage(String callbackUrl) {
        String back = callbackUrl + "?code=" + UUID.randomUUID().toString().replace("-", "").substring(0, 20)
                + "&installation_id=" + INSTALLATION_ID + "&setup_action=install";
        return page("Install stand-in App", "<h1>Install stand-in App</h1><a id=\"install\" href=\""
                + back.replace("&", "&amp;") + "\">Install</a>");
    }

    private static MockResponse page(String title, String body) {
        // GitHub's policy: a cross-origin navigation sends only this origin as Referer.
        return new MockResponse.Builder().code(200).setHeader("Content-Type", "text/html; charset=utf-8")
                .setHeader("Referrer-Policy", "origin-when-cross-origin, strict-origin-when-cross-origin")
                .body("<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title
                        + "</title></head><body style=\"font-family:sans-serif;margin:2rem\">" + body + "</body></html>")
                .build();
    }
}
