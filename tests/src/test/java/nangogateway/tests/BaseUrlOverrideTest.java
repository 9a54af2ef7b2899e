package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ProviderConfig;
import nangogateway.config.ProviderConfig.OverrideOrigin;
import nangogateway.config.ProviderConfig.OverrideRule;
import nangogateway.config.ProxyAction;
import nangogateway.config.RouteConfig;
import nangogateway.config.ServerSettings;
import nangogateway.target.PathPattern;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Base-Url-Override policing on the internal /proxy/ listener, and stripping everywhere else. */
class BaseUrlOverrideTest {
    private static final OverrideOrigin CONTENT = new OverrideOrigin("https", "content.dropboxapi.com", 443);
    private MockWebServer nango;
    private Gateway gateway;
    private int internal;
    private int pub;

    @BeforeEach
    void start() throws Exception {
        nango = new MockWebServer();
        nango.start();
        ProxyAction enforce = new ProxyAction("nango", 1 << 20, ProxyAction.BaseUrlOverrideMode.ENFORCE, null);
        ListenerConfig internalListener = new ListenerConfig("internal", "127.0.0.1", 0, null,
                List.of(new RouteConfig("nango-proxy-api", List.of(), "/proxy/", Set.of(), List.of(), false, enforce,
                        1)), 403, ListenerLimits.DEFAULTS);
        ProxyAction connect = new ProxyAction("nango", 1 << 20, ProxyAction.BaseUrlOverrideMode.STRIP, "key");
        ListenerConfig publicListener = new ListenerConfig("public", "127.0.0.1", 0, null, List.of(
                new RouteConfig("oauth-connect", List.of(PathPattern.compile("/oauth/connect/{key}")), null,
                        Set.of("GET"), List.of(), false, connect, 1)), 403, ListenerLimits.DEFAULTS);
        Map<String, ProviderConfig> providers = Map.of(
                "dropbox", new ProviderConfig("dropbox", List.of(CONTENT),
                        List.of(new OverrideRule("/2/files/download", CONTENT),
                                new OverrideRule("/2/files/upload", CONTENT)), List.of()),
                "google-mail", new ProviderConfig("google-mail", List.of(), List.of(), List.of("gmail")));
        GatewayConfig config = new GatewayConfig("test", Map.of("nango", TestConfigs.nango(nango.getPort(),
                Duration.ofSeconds(5))), List.of(publicListener, internalListener), providers, ServerSettings.DEFAULTS);
        gateway = Gateway.start(config);
        internal = gateway.port("internal");
        pub = gateway.port("public");
    }

    @AfterEach
    void stop() {
        gateway.close();
        nango.close();
    }

    private RawHttp.Response proxy(String path, String provider, String override) throws Exception {
        return RawHttp.exchange(internal, "POST /proxy" + path + " HTTP/1.1\r\nHost: localhost\r\n"
                + (provider == null ? "" : "Provider-Config-Key: " + provider + "\r\n")
                + "Connection-Id: c1\r\n"
                + (override == null ? "" : "Base-Url-Override: " + override + "\r\n")
                + "Content-Length: 0\r\n\r\n");
    }

    private RecordedRequest taken() throws InterruptedException {
        return nango.takeRequest(5, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://content.dropboxapi.com", "https://content.dropboxapi.com/",
        "HTTPS://Content.DropboxAPI.com", "https://content.dropboxapi.com:443"})
    void forwardsAnAllowedOverrideInCanonicalForm(String override) throws Exception {
        nango.enqueue(new MockResponse.Builder().body("ok").build());
        assertEquals(200, proxy("/2/files/get_metadata", "dropbox", override).status());
        assertEquals("https://content.dropboxapi.com", taken().getHeaders().get("Base-Url-Override"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://evil.example", "https://content.dropboxapi.com.evil.example",
        "http://content.dropboxapi.com", "https://content.dropboxapi.com:8443",
        "https://content.dropboxapi.com@evil.example", "https://user@content.dropboxapi.com",
        "https://content.dropboxapi.com.", "https://content.dropboxapi.com/2/files",
        "https://content.dropboxapi.com?x=1", "https://content.dropboxapi.com#x",
        "https://xn--cntent-dropboxapi-2nb.com", "https://contеnt.dropboxapi.com", "//content.dropboxapi.com",
        "ftp://content.dropboxapi.com", "https://127.0.0.1", "https://[::1]"})
    void refusesEveryOtherOverride(String override) throws Exception {
        RawHttp.Response r = proxy("/2/files/download", "dropbox", override);
        assertEquals(403, r.status());
        assertTrue(r.bodyText().contains("base_url_override_not_allowed"), r.bodyText());
        assertEquals("application/json", r.header("Content-Type"));
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void aProviderWithoutAllowListAcceptsNoOverride() throws Exception {
        assertEquals(403, proxy("/gmail/v1/users/me", "google-mail", "https://gmail.googleapis.com").status());
        assertEquals(403, proxy("/x", "unknown-provider", "https://api.example").status());
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void requiresExactlyOneProviderConfigKey() throws Exception {
        assertEquals(400, proxy("/2/files/download", null, null).status());
        RawHttp.Response twice = RawHttp.exchange(internal, "GET /proxy/x HTTP/1.1\r\nHost: l\r\n"
                + "Provider-Config-Key: dropbox\r\nProvider-Config-Key: slack\r\n\r\n");
        assertEquals(400, twice.status());
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void setsTheOverrideFromPathRulesOnWholeSegments() throws Exception {
        nango.enqueue(new MockResponse.Builder().body("a").build());
        nango.enqueue(new MockResponse.Builder().body("b").build());
        nango.enqueue(new MockResponse.Builder().body("c").build());
        proxy("/2/files/download", "dropbox", null);
        proxy("/2/files/download_zip", "dropbox", null);
        proxy("/2/files/list_folder", "dropbox", "");
        assertEquals("https://content.dropboxapi.com", taken().getHeaders().get("Base-Url-Override"));
        assertNull(taken().getHeaders().get("Base-Url-Override"), "download_zip is not under /2/files/download");
        assertNull(taken().getHeaders().get("Base-Url-Override"), "an empty header counts as absent");
    }

    @Test
    void rewritesCatalogIdsToNangoKeys() throws Exception {
        nango.enqueue(new MockResponse.Builder().body("a").build());
        nango.enqueue(new MockResponse.Builder().code(302).addHeader("Location", "https://accounts.google.com/")
                .body("").build());
        proxy("/gmail/v1/users/me/messages", "gmail", null);
        assertEquals("google-mail", taken().getHeaders().get("Provider-Config-Key"));
        RawHttp.Response r = RawHttp.exchange(pub, "GET /oauth/connect/gmail?connect_session_token=t HTTP/1.1\r\n"
                + "Host: x\r\n\r\n");
        assertEquals(302, r.status());
        assertEquals("/oauth/connect/google-mail?connect_session_token=t", taken().getTarget());
    }

    @Test
    void stripsTheHeaderOnEveryOtherRoute() throws Exception {
        nango.enqueue(new MockResponse.Builder().body("a").build());
        RawHttp.exchange(pub, "GET /oauth/connect/dropbox HTTP/1.1\r\nHost: x\r\n"
                + "Base-Url-Override: https://content.dropboxapi.com\r\n\r\n");
        assertNull(taken().getHeaders().get("Base-Url-Override"));
    }
}
