package nangogateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nangogateway.config.ProviderConfig.OverrideOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files that load, and the records they load into: every default and every key. */
class ConfigLoaderTest {

    private static final String MINIMAL = """
            upstreams:
              nango:
                url: http://127.0.0.1:3003
            listeners:
              - name: public
                bind: 127.0.0.1:8080
                routes:
                  - name: connect
                    path: /oauth/connect/{key}
                    proxy: { upstream: nango }
            """;

    @Test
    void minimalFileGetsEveryDefault() throws ConfigException {
        GatewayConfig c = ConfigLoader.parse(MINIMAL, "min.yaml");
        assertEquals("min.yaml", c.source());
        assertEquals(ServerSettings.DEFAULTS, c.server());
        assertEquals(Map.of(), c.providers());

        UpstreamConfig u = c.upstreams().get("nango");
        assertEquals(new UpstreamConfig("nango", "http", "127.0.0.1", 3003, Duration.ofSeconds(2),
                Duration.ofSeconds(60), Duration.ofSeconds(4), 256), u);

        ListenerConfig l = c.listeners().get(0);
        assertEquals("public", l.name());
        assertEquals("127.0.0.1", l.host());
        assertEquals(8080, l.port());
        assertNull(l.tls());
        assertEquals(403, l.otherwiseStatus());
        assertEquals(ListenerLimits.DEFAULTS, l.limits());
        assertEquals(ListenerOptions.DEFAULTS, l.options());

        RouteConfig r = l.routes().get(0);
        assertEquals("connect", r.name());
        assertEquals("/oauth/connect/{key}", r.paths().get(0).text());
        assertNull(r.prefix());
        assertEquals(Set.of(), r.methods());
        assertEquals(List.of(), r.headers());
        assertFalse(r.websocket());
        assertEquals(8, r.line());
        assertEquals(new ProxyAction("nango", 1024 * 1024, ProxyAction.BaseUrlOverrideMode.STRIP, null), r.action());
    }

    @Test
    void everyKeyIsRead() throws ConfigException {
        String yaml = """
                server:
                  shutdown_timeout: 45s
                upstreams:
                  nango:
                    url: https://Nango.Internal:8443/
                    connect_timeout: 500ms
                    response_timeout: 2m
                    idle_timeout: 3s
                    max_connections: 16
                    max_request_head: 32KiB
                listeners:
                  - name: public
                    bind: '[::]:443'
                    tls: { cert: /tls/fullchain.pem, key: /tls/privkey.pem }
                    limits:
                      max_request_line: 4KiB
                      max_header_block: 32768
                      max_headers: 50
                      header_timeout: 5s
                      keepalive_timeout: 1m
                      body_timeout: 20s
                      min_body_rate: 1KiB
                      send_timeout: 45s
                      min_send_rate: 2KiB
                    otherwise: { status: 404 }
                    routes:
                      - name: replay
                        path: /integrations/oauth-callback
                        callback:
                          upstream: nango
                          path: /oauth/callback
                          max_response_body: 512KiB
                          forward_headers: [Referer, Accept-Language]
                      - name: session
                        path: ['/connect/session', '/connect/session/{id}']
                        methods: [GET, HEAD]
                        headers:
                          Authorization: '^Bearer nango_connect_session_[a-f0-9]{64}$'
                        proxy: { upstream: nango, max_request_body: 0 }
                      - name: ws
                        path: /
                        websocket: true
                        proxy: { upstream: nango }
                      - name: health
                        path: /healthz
                        methods: [GET]
                        respond: { status: 200, body: "ok\\n", headers: { Cache-Control: no-store } }
                      - name: connect
                        path: /oauth/connect/{key}
                        proxy: { upstream: nango, provider_key_param: key }
                  - name: internal
                    bind: localhost:0
                    routes:
                      - name: proxy-api
                        prefix: /proxy/
                        proxy: { upstream: nango, base_url_override: enforce, max_request_body: 150MiB }
                providers:
                  dropbox:
                    base_url_override:
                      allow: [https://Content.DropboxAPI.com, 'http://files.example:8080/']
                      set:
                        - { prefix: /2/files/download, to: https://content.dropboxapi.com }
                  google-mail:
                    aliases: [gmail]
                """;
        GatewayConfig c = ConfigLoader.parse(yaml, "all.yaml");
        assertEquals(new ServerSettings(Duration.ofSeconds(45)), c.server());
        assertEquals(new UpstreamConfig("nango", "https", "nango.internal", 8443, Duration.ofMillis(500),
                Duration.ofMinutes(2), Duration.ofSeconds(3), 16, 32 * 1024), c.upstreams().get("nango"));

        ListenerConfig pub = c.listener("public").orElseThrow();
        assertEquals("::", pub.host());
        assertEquals(443, pub.port());
        assertEquals(new TlsConfig(Path.of("/tls/fullchain.pem"), Path.of("/tls/privkey.pem")), pub.tls());
        assertEquals(new ListenerLimits(4096, 32768, 50, Duration.ofSeconds(5), Duration.ofMinutes(1),
                Duration.ofSeconds(20), 1024, Duration.ofSeconds(45), 2048), pub.limits());
        assertEquals(404, pub.otherwiseStatus());
        assertEquals(List.of("replay", "session", "ws", "health", "connect"),
                pub.routes().stream().map(RouteConfig::name).toList());

        RouteConfig replay = pub.routes().get(0);
        assertEquals(Set.of("GET"), replay.methods(), "a callback route defaults to GET");
        assertEquals(new CallbackAction("nango", "/oauth/callback", 512 * 1024, List.of("Referer", "Accept-Language")),
                replay.action());

        RouteConfig session = pub.routes().get(1);
        assertEquals(List.of("/connect/session", "/connect/session/{id}"),
                session.paths().stream().map(p -> p.text()).toList());
        assertEquals(Set.of("GET", "HEAD"), session.methods());
        assertEquals("Authorization", session.headers().get(0).name());
        assertTrue(session.headers().get(0).matchesValue("Bearer nango_connect_session_" + "ab".repeat(32)));
        assertFalse(session.headers().get(0).matchesValue("Bearer nango_secret"));
        assertEquals(0, ((ProxyAction) session.action()).maxRequestBody());

        RouteConfig ws = pub.routes().get(2);
        assertTrue(ws.websocket());
        assertEquals(Set.of("GET"), ws.methods(), "a websocket route defaults to GET");

        assertEquals(new RespondAction(200, "ok\n", Map.of("Cache-Control", "no-store")), pub.routes().get(3).action());
        assertEquals("key", ((ProxyAction) pub.routes().get(4).action()).providerKeyParam());

        ListenerConfig internal = c.listener("internal").orElseThrow();
        assertEquals("localhost", internal.host());
        assertEquals(0, internal.port());
        RouteConfig proxyApi = internal.routes().get(0);
        assertEquals("/proxy/", proxyApi.prefix());
        assertEquals(List.of(), proxyApi.paths());
        assertEquals(new ProxyAction("nango", 150L * 1024 * 1024, ProxyAction.BaseUrlOverrideMode.ENFORCE, null),
                proxyApi.action());

        ProviderConfig dropbox = c.providers().get("dropbox");
        OverrideOrigin content = new OverrideOrigin("https", "content.dropboxapi.com", 443);
        assertEquals(List.of(content, new OverrideOrigin("http", "files.example", 8080)), dropbox.allow());
        assertEquals(List.of(new ProviderConfig.OverrideRule("/2/files/download", content)), dropbox.set());
        assertEquals("google-mail", c.providerByKeyOrAlias("gmail").orElseThrow().key());
    }

    @Test
    void sizeMayBeAYamlIntegerAndQuotedNumbersAreRead() throws ConfigException {
        String yaml = MINIMAL.replace("proxy: { upstream: nango }", "proxy: { upstream: nango, max_request_body: 2048 }")
                + "    otherwise: { status: '404' }\n";
        GatewayConfig c = ConfigLoader.parse(yaml, "t.yaml");
        assertEquals(2048, ((ProxyAction) c.listeners().get(0).routes().get(0).action()).maxRequestBody());
        assertEquals(404, c.listeners().get(0).otherwiseStatus());
    }

    @Test
    void listenersOnPortZeroMayShareIt() throws ConfigException {
        String yaml = """
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners:
                  - { name: a, bind: 127.0.0.1:0 }
                  - { name: b, bind: 127.0.0.1:0 }
                """;
        assertEquals(2, ConfigLoader.parse(yaml, "t.yaml").listeners().size());
    }

    @Test
    void loadReadsAFileAndNamesItAsTheSource(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gateway.yaml");
        Files.writeString(file, MINIMAL);
        assertEquals(file.toString(), ConfigLoader.load(file).source());
    }

    @Test
    void anUnreadableFileIsOneErrorAtTheStart(@TempDir Path dir) {
        Path missing = dir.resolve("nope.yaml");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(missing));
        assertEquals(1, e.errors().size());
        ConfigError err = e.errors().get(0);
        assertEquals(missing.toString(), err.file());
        assertEquals(1, err.line());
        assertEquals(1, err.column());
        assertTrue(err.message().startsWith("no such file"), err.message());

        ConfigException dirError = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir));
        assertEquals(1, dirError.errors().get(0).line());
        assertTrue(dirError.errors().get(0).message().startsWith("cannot read the file"),
                dirError.errors().get(0).message());
    }

    @Test
    void notUtf8IsOneErrorAtTheStart(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("latin1.yaml");
        Files.write(file, new byte[] {'#', ' ', (byte) 0xE9, '\n'});
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(file + ":1:1: the file is not UTF-8 text: save it as UTF-8", e.getMessage());
    }
}
