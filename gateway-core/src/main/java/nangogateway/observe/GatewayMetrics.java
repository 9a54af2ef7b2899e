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
    private final LongAdder durationMicros = new LongAdder();

    /** One response sent: by listener and status. */
    public void response(String listener, int status, long nanos) {
        count("nango_gateway_responses_total{listener=\"" + listener + "\",code=\"" + status + "\"}");
        durationMicros.add(nanos / 1000);
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
        String family = null;
        for (var e : sorted.entrySet()) {
            String name = e.getKey().contains("{") ? e.getKey().substring(0, e.getKey().indexOf('{')) : e.getKey();
            if (!name.equals(family)) {
                b.append("# TYPE ").append(name).append(" counter\n");
                family = name;
            }
            b.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
        }
        b.append("# TYPE nango_gateway_response_seconds_sum counter\n");
        b.append("nango_gateway_response_seconds_sum ").append(durationMicros.sum() / 1e6).append('\n');
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
