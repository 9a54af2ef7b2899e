package nangogateway.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import nangogateway.exchange.Refusal;
import nangogateway.exchange.UpstreamFailure;
import org.junit.jupiter.api.Test;

class GatewayMetricsTest {

    /** Every family the gateway exposes, with a series in each. */
    private static GatewayMetrics everyFamily() {
        GatewayMetrics m = new GatewayMetrics();
        GatewayMetrics.Responses r = m.responses("public");
        r.record(200, 3_000_000L);
        r.route("oauth-callback").count(200);
        r.denied(Refusal.NOT_ALLOWLISTED).inc();
        m.rejected("public");
        m.rateLimited("public");
        m.upstreamError("nango", UpstreamFailure.CONNECT);
        m.webhookRejected("public", "slack-webhook", "stale");
        m.reload(true);
        m.openConnections("public", () -> 2);
        m.refusedConnections("public", () -> 1);
        m.certificateExpiry("public", () -> 1_900_000_000L);
        m.upstreamConnections(() -> List.of("nango"), u -> 3, u -> 1);
        return m;
    }

    @Test
    void everyFamilyIsTypedAndHasHelp() {
        String text = everyFamily().render();
        Map<String, String> types = new TreeMap<>();
        List<String> helped = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] f = line.split(" ");
                types.put(f[2], f[3]);
            } else if (line.startsWith("# HELP ")) {
                String[] f = line.split(" ", 4);
                assertTrue(f.length == 4 && !f[3].isBlank(), line);
                helped.add(f[2]);
            }
        }
        Map<String, String> expected = new TreeMap<>(Map.ofEntries(
                Map.entry("nango_gateway_responses_total", "counter"),
                Map.entry("nango_gateway_response_seconds", "histogram"),
                Map.entry("nango_gateway_requests_total", "counter"),
                Map.entry("nango_gateway_denied_requests_total", "counter"),
                Map.entry("nango_gateway_rejected_requests_total", "counter"),
                Map.entry("nango_gateway_rate_limited_requests_total", "counter"),
                Map.entry("nango_gateway_upstream_errors_total", "counter"),
                Map.entry("nango_gateway_webhook_rejected_total", "counter"),
                Map.entry("nango_gateway_reloads_total", "counter"),
                Map.entry("nango_gateway_open_connections", "gauge"),
                Map.entry("nango_gateway_refused_connections_total", "counter"),
                Map.entry("nango_gateway_certificate_expiry_timestamp_seconds", "gauge"),
                Map.entry("nango_gateway_upstream_connections", "gauge")));
        assertEquals(expected, types, text);
        assertEquals(new ArrayList<>(expected.keySet()), helped.stream().sorted().toList(), "one HELP per family");
    }

    @Test
    void seriesCarryTheirLabelsAndValues() {
        String text = everyFamily().render();
        for (String line : List.of(
                "nango_gateway_responses_total{code=\"200\",listener=\"public\"} 1.0",
                "nango_gateway_requests_total{class=\"2xx\",listener=\"public\",route=\"oauth-callback\"} 1.0",
                "nango_gateway_denied_requests_total{listener=\"public\",reason=\"not_allowlisted\"} 1.0",
                "nango_gateway_rejected_requests_total{listener=\"public\"} 1.0",
                "nango_gateway_rate_limited_requests_total{listener=\"public\"} 1.0",
                "nango_gateway_upstream_errors_total{kind=\"connect\",upstream=\"nango\"} 1.0",
                "nango_gateway_webhook_rejected_total{listener=\"public\",reason=\"stale\",route=\"slack-webhook\"} 1.0",
                "nango_gateway_reloads_total{result=\"ok\"} 1.0",
                "nango_gateway_open_connections{listener=\"public\"} 2.0",
                "nango_gateway_refused_connections_total{listener=\"public\"} 1.0",
                "nango_gateway_certificate_expiry_timestamp_seconds{listener=\"public\"} 1.9E9",
                "nango_gateway_upstream_connections{state=\"idle\",upstream=\"nango\"} 1.0",
                "nango_gateway_upstream_connections{state=\"open\",upstream=\"nango\"} 3.0")) {
            assertTrue(text.contains("\n" + line + "\n"), line + "\n" + text);
        }
    }

    /** Label values are the config's names today, but whatever a caller passes must not break the exposition. */
    @Test
    void labelValuesAreEscaped() {
        GatewayMetrics m = new GatewayMetrics();
        m.webhookRejected("pub\"lic", "back\\slash", "new\nline");
        String text = m.render();
        assertTrue(text.contains("nango_gateway_webhook_rejected_total{listener=\"pub\\\"lic\",reason=\"new\\nline\","
                + "route=\"back\\\\slash\"} 1.0\n"), text);
        assertFalse(text.contains("new\nline"), "a raw newline would end the sample line: " + text);
    }

    @Test
    void latencyGoesIntoTheClassicBuckets() {
        GatewayMetrics m = new GatewayMetrics();
        GatewayMetrics.Responses r = m.responses("public");
        r.record(200, 3_000_000L); // 3 ms
        r.record(200, 70_000_000L); // 70 ms
        r.record(504, 70_000_000_000L); // 70 s: past the last bound
        String text = m.render();
        for (String line : List.of(
                "nango_gateway_response_seconds_bucket{listener=\"public\",le=\"0.005\"} 1",
                "nango_gateway_response_seconds_bucket{listener=\"public\",le=\"0.05\"} 1",
                "nango_gateway_response_seconds_bucket{listener=\"public\",le=\"0.1\"} 2",
                "nango_gateway_response_seconds_bucket{listener=\"public\",le=\"60.0\"} 2",
                "nango_gateway_response_seconds_bucket{listener=\"public\",le=\"+Inf\"} 3",
                "nango_gateway_response_seconds_count{listener=\"public\"} 3")) {
            assertTrue(text.contains(line + "\n"), line + "\n" + text);
        }
        assertEquals(BUCKETS_AND_INF, text.lines().filter(l -> l.startsWith("nango_gateway_response_seconds_bucket"))
                .count(), "classic buckets only, the gateway's bounds");
        assertEquals(70.073, MetricsText.value(text, "nango_gateway_response_seconds_sum{listener=\"public\"}"), 1e-9);
    }

    private static final long BUCKETS_AND_INF = GatewayMetrics.BUCKETS.length + 1;

    /** A series appears when it first counts: no zero lines for every status code or class. */
    @Test
    void seriesAppearWhenTheyFirstCount() {
        GatewayMetrics m = new GatewayMetrics();
        GatewayMetrics.Responses r = m.responses("public");
        r.record(404, 1_000_000L);
        r.record(404, 1_000_000L);
        r.route("otherwise").count(404);
        String text = m.render();
        assertEquals(1, text.lines().filter(l -> l.startsWith("nango_gateway_responses_total{")).count(), text);
        assertEquals(2, MetricsText.value(text, "nango_gateway_responses_total{code=\"404\",listener=\"public\"}"));
        assertEquals(1, text.lines().filter(l -> l.startsWith("nango_gateway_requests_total{")).count(), text);
        assertFalse(text.contains("nango_gateway_denied_requests_total"), text);
        assertFalse(text.contains("nango_gateway_upstream_connections"), "no pools, no family: " + text);
    }

    /** Each gateway keeps its own registry: two in one process neither collide nor see each other's counts. */
    @Test
    void instancesDoNotShareCounts() {
        GatewayMetrics a = new GatewayMetrics();
        GatewayMetrics b = new GatewayMetrics();
        a.reload(false);
        assertEquals(1, MetricsText.value(a, "nango_gateway_reloads_total{result=\"failed\"}"));
        assertFalse(b.render().contains("nango_gateway_reloads_total{"), b.render());
    }
}
