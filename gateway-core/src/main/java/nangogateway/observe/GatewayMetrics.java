package nangogateway.observe;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Counters for the whole process, written in Prometheus' text format by a {@code metrics} route. Labels are few
 * and bounded (listener and route names from the config, status codes, fixed reason kinds), so the number of
 * series cannot be driven up by clients.
 */
public final class GatewayMetrics {
    private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();
    private final Map<String, LongSupplier> gauges = new ConcurrentHashMap<>();
    private final Map<String, Responses> responses = new ConcurrentHashMap<>();
    /** Requests by listener, then route, then status class (index into CLASSES; the last one is "other"). */
    private final Map<String, Map<String, LongAdder[]>> requests = new ConcurrentHashMap<>();
    /** {@code nango_gateway_<name>_total{listener}}: name, then listener. */
    private final Map<String, Map<String, LongAdder>> events = new ConcurrentHashMap<>();
    /** {@code nango_gateway_denied_requests_total{listener,reason}}: listener, then reason. */
    private final Map<String, Map<String, LongAdder>> denied = new ConcurrentHashMap<>();

    /** Latency histogram bucket bounds, seconds (Prometheus {@code le}). */
    static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    /** Per-listener response counters by status code and a latency histogram: an array index and an add each. */
    public static final class Responses {
        private final LongAdder[] byStatus = new LongAdder[600];
        private final LongAdder micros = new LongAdder();
        private final LongAdder[] buckets = new LongAdder[BUCKETS.length + 1];

        Responses() {
            for (int i = 100; i < byStatus.length; i++) {
                byStatus[i] = new LongAdder();
            }
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }

        public void record(int status, long nanos) {
            if (status >= 100 && status < 600) {
                byStatus[status].increment();
            }
            micros.add(nanos / 1000);
            double seconds = nanos / 1e9;
            int i = 0;
            while (i < BUCKETS.length && seconds > BUCKETS[i]) {
                i++;
            }
            buckets[i].increment();
        }
    }

    public Responses responses(String listener) {
        return responses.computeIfAbsent(listener, k -> new Responses());
    }

    /** Something refused or failed, by kind ({@code rejected_requests}, {@code rate_limited_requests}, ...). */
    public void event(String name, String listener) {
        labeled(events, name, listener, k -> new LongAdder()).increment();
    }

    /**
     * {@code outer -> inner -> counter(s)}, created on first use: once both exist, two plain look-ups and no
     * string is built (label values are the config's own strings, their hashes cached).
     */
    private static <V> V labeled(Map<String, Map<String, V>> m, String outer, String inner,
            Function<String, V> create) {
        Map<String, V> byInner = m.get(outer);
        if (byInner == null) {
            byInner = m.computeIfAbsent(outer, k -> new ConcurrentHashMap<>());
        }
        V v = byInner.get(inner);
        return v != null ? v : byInner.computeIfAbsent(inner, create);
    }

    public void count(String series) {
        counters.computeIfAbsent(series, k -> new LongAdder()).increment();
    }

    /** A value read when metrics are scraped (open connections, idle pooled connections). */
    public void gauge(String series, LongSupplier value) {
        gauges.put(series, value);
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    private static final String[] CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    /** One response, by listener, route (or how it was refused) and status class. */
    public void request(String listener, String route, int status) {
        requestCounters(listener, route)[statusClass(status)].increment();
    }

    /** The counters {@link #request} adds to, by {@link #statusClass}: for a caller that keeps them at hand. */
    public LongAdder[] requestCounters(String listener, String route) {
        return labeled(requests, listener, route, k -> newAdders(CLASSES.length + 1));
    }

    public static int statusClass(int status) {
        return status >= 100 && status < 600 ? status / 100 - 1 : CLASSES.length;
    }

    private static LongAdder[] newAdders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    /** A refused request, by kind: not_allowlisted, method, bad_target, framing, too_large, timeout, ... */
    public void denied(String listener, String reason) {
        deniedCounter(listener, reason).increment();
    }

    /** The counter {@link #denied} adds to: for a caller that keeps it at hand. */
    public LongAdder deniedCounter(String listener, String reason) {
        return labeled(denied, listener, reason, k -> new LongAdder());
    }

    /** One counter series' value, as {@link #render} would print it; 0 when it never counted. */
    public long value(String series) {
        return counterSeries().getOrDefault(series, 0L);
    }

    /** Every counter series with its current value, sorted by name. */
    private Map<String, Long> counterSeries() {
        Map<String, Long> sorted = new TreeMap<>();
        counters.forEach((k, v) -> sorted.put(k, v.sum()));
        events.forEach((name, byListener) -> byListener.forEach((listener, n) ->
                sorted.put("nango_gateway_" + name + "_total{listener=\"" + listener + "\"}", n.sum())));
        denied.forEach((listener, byReason) -> byReason.forEach((reason, n) ->
                sorted.put("nango_gateway_denied_requests_total{listener=\"" + listener + "\",reason=\"" + reason
                        + "\"}", n.sum())));
        requests.forEach((listener, routes) -> routes.forEach((route, byClass) -> {
            for (int i = 0; i < byClass.length; i++) {
                long n = byClass[i].sum();
                if (n > 0) {
                    sorted.put("nango_gateway_requests_total{listener=\"" + listener + "\",route=\"" + route
                            + "\",class=\"" + (i < CLASSES.length ? CLASSES[i] : "other") + "\"}", n);
                }
            }
        }));
        responses.forEach((listener, r) -> {
            for (int code = 100; code < 600; code++) {
                long n = r.byStatus[code].sum();
                if (n > 0) {
                    sorted.put("nango_gateway_responses_total{listener=\"" + listener + "\",code=\"" + code + "\"}", n);
                }
            }
        });
        return sorted;
    }

    /** The Prometheus text exposition. */
    public String render() {
        StringBuilder b = new StringBuilder(4096);
        appendFamilies(b, counterSeries(), "counter");
        b.append("# TYPE nango_gateway_response_seconds histogram\n");
        new TreeMap<>(responses).forEach((listener, r) -> {
            long cumulative = 0;
            for (int i = 0; i <= BUCKETS.length; i++) {
                cumulative += r.buckets[i].sum();
                String le = i < BUCKETS.length ? trim(BUCKETS[i]) : "+Inf";
                b.append("nango_gateway_response_seconds_bucket{listener=\"").append(listener).append("\",le=\"")
                        .append(le).append("\"} ").append(cumulative).append('\n');
            }
            b.append("nango_gateway_response_seconds_sum{listener=\"").append(listener).append("\"} ")
                    .append(r.micros.sum() / 1e6).append('\n');
            b.append("nango_gateway_response_seconds_count{listener=\"").append(listener).append("\"} ")
                    .append(cumulative).append('\n');
        });
        Map<String, Long> g = new TreeMap<>();
        gauges.forEach((k, v) -> g.put(k, v.getAsLong()));
        appendFamilies(b, g, "gauge");
        return b.toString();
    }

    /** Series sorted by name, each family under one {@code # TYPE} line. */
    private static void appendFamilies(StringBuilder b, Map<String, Long> sorted, String type) {
        String family = null;
        for (var e : sorted.entrySet()) {
            String name = e.getKey().contains("{") ? e.getKey().substring(0, e.getKey().indexOf('{')) : e.getKey();
            if (!name.equals(family)) {
                b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
                family = name;
            }
            b.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
        }
    }
}
