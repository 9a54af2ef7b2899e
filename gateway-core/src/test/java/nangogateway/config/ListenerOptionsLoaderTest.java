package nangogateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Listener options, route rate limits, the metrics action and webhook verify blocks, read from YAML. */
class ListenerOptionsLoaderTest {

    private static List<ConfigError> errors(String yaml) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "t.yaml")).errors();
    }

    private static void assertSingle(String yaml, int line, int column, String fragment) {
        List<ConfigError> errors = errors(yaml);
        assertEquals(1, errors.size(), errors.toString());
        ConfigError e = errors.get(0);
        assertEquals(line + ":" + column, e.line() + ":" + e.column(), e.toString());
        assertTrue(e.message().contains(fragment), e.message());
    }

    private static final String UPSTREAMS = "upstreams:\n  nango: {url: http://127.0.0.1:3003}\nlisteners:\n";

    @Test
    void readsEveryOption() throws Exception {
        GatewayConfig c = ConfigLoader.parse(UPSTREAMS + """
                  - name: public
                    bind: 127.0.0.1:8443
                    tls: {cert: /x/cert.pem, key: /x/key.pem}
                    hsts: max-age=63072000; includeSubDomains
                    trusted_proxies: [10.0.0.0/8, "::1"]
                    rate_limit: {rate: 0.5, burst: 3}
                    max_connections: 1000
                    max_connections_per_client: 16
                    access_log: {format: json, redact: [Session]}
                    routes:
                      - name: hook
                        path: /hook
                        rate_limit: {rate: 5}
                        proxy: {upstream: nango}
                  - name: redirect
                    bind: 127.0.0.1:8080
                    redirect_to_https: true
                    acme_webroot: /var/lib/acme
                  - name: internal
                    bind: 127.0.0.1:8081
                    routes:
                      - {name: metrics, path: /metrics, metrics: {}}
                """, "t.yaml");
        ListenerOptions o = c.listener("public").orElseThrow().options();
        assertEquals("max-age=63072000; includeSubDomains", o.hsts());
        assertEquals(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("::1")), o.trustedProxies());
        assertEquals(new RateLimit(0.5, 3), o.rateLimit());
        assertEquals(1000, o.maxConnections());
        assertEquals(16, o.maxConnectionsPerClient());
        assertEquals(AccessLogFormat.JSON, o.accessLogFormat());
        assertEquals(Set.of("session"), o.redactParams());
        assertEquals(new RateLimit(5, 5), c.listener("public").orElseThrow().routes().get(0).rateLimit());
        ListenerOptions r = c.listener("redirect").orElseThrow().options();
        assertTrue(r.redirectToHttps());
        assertEquals(Path.of("/var/lib/acme"), r.acmeWebroot());
        assertTrue(c.listener("internal").orElseThrow().routes().get(0).action() instanceof MetricsAction);
        ListenerOptions d = c.listener("internal").orElseThrow().options();
        assertNull(d.hsts());
        assertFalse(d.redirectToHttps());
        assertEquals(AccessLogFormat.COMBINED, d.accessLogFormat());
    }

    @Test
    void hstsNeedsTls() {
        assertSingle(UPSTREAMS + "  - name: p\n    bind: 127.0.0.1:80\n    hsts: max-age=1\n", 6, 11,
                "only meaningful over TLS");
    }

    @Test
    void redirectListenerHasNoRoutesAndAcmeNeedsRedirect() {
        assertSingle(UPSTREAMS + "  - name: p\n    bind: 127.0.0.1:80\n    redirect_to_https: true\n"
                + "    routes:\n      - {name: r, path: /a, respond: {status: 204}}\n", 6, 24, "remove 'routes'");
        assertSingle(UPSTREAMS + "  - name: p\n    bind: 127.0.0.1:80\n    acme_webroot: /a\n", 6, 19,
                "add redirect_to_https: true");
    }

    @Test
    void badCidrRateAndFormatAreReported() {
        List<ConfigError> e = errors(UPSTREAMS + """
                  - name: p
                    bind: 127.0.0.1:80
                    trusted_proxies: [10.0.0.0/33, example.com]
                    rate_limit: {rate: fast}
                    access_log: {format: xml}
                """);
        assertEquals(4, e.size(), e.toString());
        assertTrue(e.get(0).message().contains("prefix length"), e.get(0).toString());
        assertTrue(e.get(1).message().contains("not an address block"), e.get(1).toString());
        assertEquals(7, e.get(2).line());
        assertTrue(e.get(2).message().contains("requests per second"), e.get(2).toString());
        assertTrue(e.get(3).message().contains("combined (nginx's) or json"), e.get(3).toString());
    }

    @Test
    void metricsTakesNoSettings() {
        assertSingle(UPSTREAMS + "  - name: p\n    bind: 127.0.0.1:80\n    routes:\n"
                + "      - {name: m, path: /metrics, metrics: {open: true}}\n", 7, 45, "takes no settings");
    }

    @Test
    void verifyReadsTheSecretFile(@TempDir Path dir) throws Exception {
        Path secret = dir.resolve("slack");
        Files.writeString(secret, "s3cret\n");
        GatewayConfig c = ConfigLoader.parse(UPSTREAMS + "  - name: p\n    bind: 127.0.0.1:80\n    routes:\n"
                + "      - name: hook\n        path: /webhook/{env}/slack\n        proxy:\n"
                + "          upstream: nango\n          verify: {provider: slack, secret_file: " + secret + "}\n",
                "t.yaml");
        ProxyAction p = (ProxyAction) c.listeners().get(0).routes().get(0).action();
        assertEquals(WebhookVerify.Kind.SLACK, p.verify().kind());
        assertEquals("s3cret", new String(p.verify().secret(), StandardCharsets.UTF_8));
        assertEquals(Duration.ofMinutes(5), p.verify().tolerance());
        assertFalse(p.verify().toString().contains("s3cret"), "the secret never reaches a log line");
    }

    @Test
    void hmacSettingsAreOnlyReadForProviderHmac(@TempDir Path dir) throws Exception {
        Path secret = dir.resolve("slack");
        Files.writeString(secret, "s3cret\n");
        // Under slack the algorithm is fixed: that is the one thing to say, not also that md5 is no algorithm.
        assertSingle(UPSTREAMS + "  - name: p\n    bind: 127.0.0.1:80\n    routes:\n"
                + "      - name: hook\n        path: /hook\n        proxy:\n          upstream: nango\n"
                + "          verify: {provider: slack, secret_file: " + secret + ", algorithm: md5}\n", 11, 52
                + secret.toString().length(), "'algorithm' is fixed for provider slack: remove it, or use provider: hmac");
    }

    @Test
    void verifyErrorsNameTheProblem(@TempDir Path dir) {
        String missing = dir.resolve("nope").toString();
        assertSingle(UPSTREAMS + "  - name: p\n    bind: 127.0.0.1:80\n    routes:\n"
                + "      - name: hook\n        path: /hook\n        proxy:\n          upstream: nango\n"
                + "          verify: {provider: slack, secret_file: " + missing + "}\n", 11, 50, "cannot be read");
        List<ConfigError> both = errors(UPSTREAMS + "  - name: p\n    bind: 127.0.0.1:80\n    routes:\n"
                + "      - name: hook\n        path: /hook\n        proxy:\n          upstream: nango\n"
                + "          verify: {provider: stripe, secret_file: /nonexistent/x}\n");
        assertEquals(2, both.size(), both.toString());
        assertEquals("11:30", both.get(0).line() + ":" + both.get(0).column());
        assertTrue(both.get(0).message().contains("slack, github or hmac"), both.get(0).message());
        assertTrue(both.get(1).message().contains("cannot be read"), both.get(1).message());
    }
}
