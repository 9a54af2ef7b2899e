package nangogateway.observe;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
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

    /** Per-listener response counters by status code: recording one costs an array index and an add. */
    public static final class Responses {
        private final LongAdder[] byStatus = new LongAdder[600];
        private final LongAdder micros = new LongAdder();

        Responses() {
            for (int i = 100; i < byStatus.length; i++) {
                byStatus[i] = new LongAdder();
            }
        }

        public void record(int status, long nanos) {
            if (status >= 100 && status < 600) {
                byStatus[status].increment();
            }
            micros.add(nanos / 1000);
        }
    }

    public Responses responses(String listener) {
        return responses.computeIfAbsent(listener, k -> new Responses());
    }

    /** Something refused or failed, by kind ({@code bad_request}, {@code rate_limited}, {@code upstream_502}, ...). */
    public void event(String name, String listener) {
        count("nango_gateway_" + name + "_total{listener=\"" + listener + "\"}");
    }

    public void count(String series) {
        counters.computeIfAbsent(series, k -> new LongAdder()).increment();
    }

    /** A value read when metrics are scraped (open connections, idle pooled connections). */
    public void gauge(String series, LongSupplier value) {
        gauges.put(series, value);
    }

    public long value(String series) {
        LongAdder a = counters.get(series);
        return a == null ? 0 : a.sum();
    }

    /** The Prometheus text exposition. */
    public String render() {
        StringBuilder b = new StringBuilder(4096);
        Map<String, Long> sorted = new TreeMap<>();
        counters.forEach((k, v) -> sorted.put(k, v.sum()));
        responses.forEach((listener, r) -> {
            for (int code = 100; code < 600; code++) {
                long n = r.byStatus[code].sum();
                if (n > 0) {
                    sorted.put("nango_gateway_responses_total{listener=\"" + listener + "\",code=\"" + code + "\"}", n);
                }
            }
            sorted.put("nango_gateway_response_seconds_sum{listener=\"" + listener + "\"}", r.micros.sum() / 1_000_000L);
        });
        String family = null;
        for (var e : sorted.entrySet()) {
            String name = e.getKey().contains("{") ? e.getKey().substring(0, e.getKey().indexOf('{')) : e.getKey();
            if (!name.equals(family)) {
                b.append("# TYPE ").append(name).append(" counter\n");
                family = name;
            }
            b.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
        }
        Map<String, Long> g = new TreeMap<>();
        gauges.forEach((k, v) -> g.put(k, v.getAsLong()));
        family = null;
        for (var e : g.entrySet()) {
            String name = e.getKey().contains("{") ? e.getKey().substring(0, e.getKey().indexOf('{')) : e.getKey();
            if (!name.equals(family)) {
                b.append("# TYPE ").append(name).append(" gauge\n");
                family = name;
            }
            b.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
        }
        return b.toString();
    }
}
