package nangogateway.observe;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import nangogateway.limits.BufferBudgets;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import nangogateway.exchange.Refusal;
import nangogateway.exchange.UpstreamFailure;

/**
 * The process' metrics, kept by the Prometheus client library in a registry of their own (a process may run more
 * than one gateway, tests do) and written in Prometheus' text format by a {@code metrics} route. Labels are few and
 * bounded (listener, route and upstream names from the config, status codes, fixed outcome kinds), so the number
 * of series cannot be driven up by clients. A counter series appears when it first counts; a listener's latency
 * histogram when the listener takes its first connection.
 */
public final class GatewayMetrics {
    /** Latency histogram bucket bounds, seconds (Prometheus {@code le}). */
    static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    private static final String[] CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
    private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter responses = counter("nango_gateway_responses_total",
            "Responses written, by listener and status code.", "listener", "code");
    /**
     * The latency histogram, one per listener: classic buckets kept as striped counters and read into the library's
     * snapshot at scrape. The library's own histogram counts every observation on shared atomics, which both event
     * loops contend for (about 120 ns an observation on two threads against 40 ns here), on every response.
     */
    private final Map<String, Latency> latencies = new ConcurrentHashMap<>();
    private final Counter requests = counter("nango_gateway_requests_total",
            "Responses by listener, route (or \"rejected\" when the request was refused before routing) and status"
                    + " class.", "listener", "route", "class");
    private final Counter rejected = counter("nango_gateway_rejected_requests_total",
            "Requests refused before routing (malformed, too large, too slow, a refused override), by listener.",
            "listener");
    private final Counter rateLimited = counter("nango_gateway_rate_limited_requests_total",
            "Requests answered 429 because the client's rate limit was spent, by listener.", "listener");
    private final Counter denied = counter("nango_gateway_denied_requests_total",
            "Requests the gateway answered itself instead of passing on, by listener and reason.",
            "listener", "reason");
    private final Counter upstreamErrors = counter("nango_gateway_upstream_errors_total",
            "Exchanges with an upstream that failed, by upstream and kind.", "upstream", "kind");
    private final Counter webhookRejected = counter("nango_gateway_webhook_rejected_total",
            "Webhook deliveries refused by their signature check, by listener, route and reason.",
            "listener", "route", "reason");
    private final Counter http2Connections = counter("nango_gateway_http2_connections_total",
            "Client connections that negotiated HTTP/2 (ALPN h2), by listener.", "listener");
    private final Counter http2GoAways = counter("nango_gateway_http2_goaway_sent_total",
            "GOAWAY frames sent to HTTP/2 clients, by listener and error code: NO_ERROR for a graceful close (idle,"
                    + " drain); PROTOCOL_ERROR, ENHANCE_YOUR_CALM (floods, rapid reset), FLOW_CONTROL_ERROR,"
                    + " COMPRESSION_ERROR, ... for a connection closed for what its client sent.", "listener", "code");
    private final Counter reloads = counter("nango_gateway_reloads_total",
            "Configuration reloads, by result (ok, or failed: the running configuration stayed).", "result");

    /** Values read when metrics are scraped, by listener. */
    private final Map<String, LongSupplier> openConnections = new ConcurrentHashMap<>();
    private final Map<String, LongSupplier> refusedConnections = new ConcurrentHashMap<>();
    private final Map<String, LongSupplier> refusedStreams = new ConcurrentHashMap<>();
    private final Map<String, LongSupplier> certificateExpiry = new ConcurrentHashMap<>();
    private volatile UpstreamConnections upstreamConnections;

    private final Map<String, Responses> listeners = new ConcurrentHashMap<>();

    /** The buffer budgets (memory and disk): bytes held now, and reservations refused since start. */
    private volatile BufferBudgets buffers;
    /** Log lines that found the async log queue full: waited for room, or dropped. */
    private volatile LongSupplier logWaits;
    private volatile LongSupplier logDrops;

    private record UpstreamConnections(Supplier<? extends Collection<String>> upstreams,
            ToLongFunction<String> open, ToLongFunction<String> idle) {
    }

    /** One listener's response times: a bucket add and a sum add per response, nothing shared between threads. */
    private static final class Latency {
        final LongAdder[] buckets = new LongAdder[BUCKETS.length + 1];
        final LongAdder micros = new LongAdder();

        Latency() {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }

        void observe(long nanos) {
            double seconds = nanos / 1e9;
            int i = 0;
            while (i < BUCKETS.length && seconds > BUCKETS[i]) {
                i++;
            }
            buckets[i].increment();
            micros.add(nanos / 1000);
        }
    }

    private static final double[] UPPER_BOUNDS = upperBounds();

    private static double[] upperBounds() {
        double[] b = java.util.Arrays.copyOf(BUCKETS, BUCKETS.length + 1);
        b[BUCKETS.length] = Double.POSITIVE_INFINITY;
        return b;
    }

    private MetricSnapshot latencySnapshot() {
        HistogramSnapshot.Builder b = HistogramSnapshot.builder().name("nango_gateway_response_seconds")
                .help("Time from a request's head to the end of its response, by listener.");
        latencies.forEach((listener, l) -> {
            long[] counts = new long[l.buckets.length];
            for (int i = 0; i < counts.length; i++) {
                counts[i] = l.buckets[i].sum();
            }
            b.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(UPPER_BOUNDS, counts))
                    .sum(l.micros.sum() / 1e6)
                    .labels(Labels.of("listener", listener))
                    .build());
        });
        return b.build();
    }

    public GatewayMetrics() {
        registry.register(new Collector() {
            @Override
            public MetricSnapshot collect() {
                return latencySnapshot();
            }

            @Override
            public String getPrometheusName() {
                return "nango_gateway_response_seconds";
            }
        });
        GaugeWithCallback.builder()
                .name("nango_gateway_open_connections")
                .help("Client connections open now, by listener.")
                .labelNames("listener")
                .callback(cb -> openConnections.forEach((l, v) -> cb.call(v.getAsLong(), l)))
                .register(registry);
        CounterWithCallback.builder()
                .name("nango_gateway_refused_connections_total")
                .help("Client connections closed on accept because a connection limit was reached, by listener.")
                .labelNames("listener")
                .callback(cb -> refusedConnections.forEach((l, v) -> cb.call(v.getAsLong(), l)))
                .register(registry);
        CounterWithCallback.builder()
                .name("nango_gateway_http2_streams_refused_total")
                .help("HTTP/2 streams answered 503 because their client (max_connections_per_client) or the"
                        + " listener (max_connections) was at its cap when they opened; each open stream counts as a"
                        + " connection.")
                .labelNames("listener")
                .callback(cb -> refusedStreams.forEach((l, v) -> cb.call(v.getAsLong(), l)))
                .register(registry);
        GaugeWithCallback.builder()
                .name("nango_gateway_certificate_expiry_timestamp_seconds")
                .help("When the listener's TLS certificate expires (its notAfter), seconds since the epoch.")
                .labelNames("listener")
                .callback(cb -> certificateExpiry.forEach((l, v) -> cb.call(v.getAsLong(), l)))
                .register(registry);
        GaugeWithCallback.builder()
                .name("nango_gateway_buffered_bytes")
                .help("Bytes of bodies the gateway holds now, by store: memory (request bodies buffered before they"
                        + " go upstream or held for a signature check, responses read ahead of a slow client;"
                        + " server.buffer_memory) and disk (the same beyond memory, in temporary files;"
                        + " server.buffer_disk).")
                .labelNames("store")
                .callback(cb -> {
                    BufferBudgets b = buffers;
                    if (b != null) {
                        cb.call(b.memory().used(), "memory");
                        cb.call(b.disk().used(), "disk");
                    }
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("nango_gateway_buffer_refusals_total")
                .help("Times a body wanted room its store's budget did not have, by store. Memory refused: the"
                        + " body went to disk. Disk refused: a request got 503 with Retry-After, a response was"
                        + " read only as fast as its client took it.")
                .labelNames("store")
                .callback(cb -> {
                    BufferBudgets b = buffers;
                    if (b != null) {
                        cb.call(b.memory().refusals(), "memory");
                        cb.call(b.disk().refusals(), "disk");
                    }
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("nango_gateway_log_queue_full_total")
                .help("Log lines (access and event lines alike) that found the async log queue full, by action:"
                        + " waited (the default: the line waited for room, nothing lost) or dropped (neverBlock"
                        + " true in logback.xml).")
                .labelNames("action")
                .callback(cb -> {
                    LongSupplier w = logWaits;
                    LongSupplier d = logDrops;
                    if (w != null && d != null) {
                        cb.call(w.getAsLong(), "waited");
                        cb.call(d.getAsLong(), "dropped");
                    }
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("nango_gateway_upstream_connections")
                .help("Pooled connections to an upstream now, by upstream and state (open: all of them, idle: the"
                        + " ones waiting for a request).")
                .labelNames("upstream", "state")
                .callback(cb -> {
                    UpstreamConnections u = upstreamConnections;
                    if (u != null) {
                        for (String name : u.upstreams().get()) {
                            cb.call(u.open().applyAsLong(name), name, "open");
                            cb.call(u.idle().applyAsLong(name), name, "idle");
                        }
                    }
                })
                .register(registry);
    }

    private Counter counter(String name, String help, String... labels) {
        return Counter.builder().name(name).help(help).labelNames(labels).withoutExemplars().register(registry);
    }

    /**
     * One listener's response counters, resolved to the library's data points on first use and kept: recording a
     * response is array reads and adds, with no label look-up and nothing allocated.
     */
    public final class Responses {
        private final String listener;
        private final Latency seconds;
        private final AtomicReferenceArray<CounterDataPoint> byStatus = new AtomicReferenceArray<>(600);
        private final AtomicReferenceArray<CounterDataPoint> byRefusal =
                new AtomicReferenceArray<>(Refusal.values().length);
        private final Map<String, RouteRequests> routes = new ConcurrentHashMap<>();
        private volatile CounterDataPoint rejectedRequests;
        private volatile CounterDataPoint rateLimitedRequests;

        private Responses(String listener) {
            this.listener = listener;
            this.seconds = latencies.computeIfAbsent(listener, k -> new Latency());
        }

        /** A response that ended: its status code and how long it took from the request's head. */
        public void record(int status, long nanos) {
            if (status >= 100 && status < 600) {
                CounterDataPoint c = byStatus.get(status);
                if (c == null) { // labelValues returns the same point to racing callers
                    c = responses.labelValues(listener, Integer.toString(status));
                    byStatus.set(status, c);
                }
                c.inc();
            }
            seconds.observe(nanos);
        }

        /** The counter of requests refused this way. */
        public CounterDataPoint denied(Refusal why) {
            CounterDataPoint c = byRefusal.get(why.ordinal());
            if (c == null) {
                c = denied.labelValues(listener, why.label());
                byRefusal.set(why.ordinal(), c);
            }
            return c;
        }

        /** The counter of requests refused before routing. */
        public CounterDataPoint rejected() {
            CounterDataPoint c = rejectedRequests;
            if (c == null) {
                c = rejected.labelValues(listener);
                rejectedRequests = c;
            }
            return c;
        }

        /** The counter of requests refused by a rate limit. */
        public CounterDataPoint rateLimited() {
            CounterDataPoint c = rateLimitedRequests;
            if (c == null) {
                c = rateLimited.labelValues(listener);
                rateLimitedRequests = c;
            }
            return c;
        }

        /** The request counters of one route (or {@code rejected}), by status class. */
        public RouteRequests route(String route) {
            RouteRequests r = routes.get(route);
            return r != null ? r : routes.computeIfAbsent(route, k -> new RouteRequests(listener, k));
        }
    }

    /** One route's responses by status class; a class's series appears when it first counts. */
    public final class RouteRequests {
        private final String listener;
        private final String route;
        private final AtomicReferenceArray<CounterDataPoint> byClass = new AtomicReferenceArray<>(CLASSES.length);

        private RouteRequests(String listener, String route) {
            this.listener = listener;
            this.route = route;
        }

        public void count(int status) {
            int i = statusClass(status);
            CounterDataPoint c = byClass.get(i);
            if (c == null) {
                c = requests.labelValues(listener, route, CLASSES[i]);
                byClass.set(i, c);
            }
            c.inc();
        }
    }

    static int statusClass(int status) {
        return status >= 100 && status < 600 ? status / 100 - 1 : CLASSES.length - 1;
    }

    /** The listener's response counters: for a caller that keeps them at hand. */
    public Responses responses(String listener) {
        Responses r = listeners.get(listener);
        return r != null ? r : listeners.computeIfAbsent(listener, Responses::new);
    }

    /** The counters of one route's responses by status class: for a caller that keeps them at hand. */
    public RouteRequests requestCounters(String listener, String route) {
        return responses(listener).route(route);
    }

    /** The counter of requests the listener refused this way: for a caller that keeps it at hand. */
    public CounterDataPoint deniedCounter(String listener, Refusal why) {
        return responses(listener).denied(why);
    }

    /** A request refused before routing (malformed, too large, too slow, ...). */
    public void rejected(String listener) {
        responses(listener).rejected().inc();
    }

    /** A request answered 429 by a rate limit. */
    public void rateLimited(String listener) {
        responses(listener).rateLimited().inc();
    }

    /** An exchange with the upstream that failed this way. */
    public void upstreamError(String upstream, UpstreamFailure failure) {
        upstreamErrors.labelValues(upstream, failure.label()).inc();
    }

    /** A webhook delivery refused by its signature check ({@code missing}, {@code stale}, ...). */
    public void webhookRejected(String listener, String route, String reason) {
        webhookRejected.labelValues(listener, route, reason).inc();
    }

    /** A client connection that negotiated HTTP/2. */
    public void http2Connection(String listener) {
        http2Connections.labelValues(listener).inc();
    }

    /** A GOAWAY sent to an HTTP/2 client, with its error code's name. */
    public void http2GoAway(String listener, String code) {
        http2GoAways.labelValues(listener, code).inc();
    }

    /** A configuration reload that took effect ({@code ok}) or did not ({@code failed}). */
    public void reload(boolean ok) {
        reloads.labelValues(ok ? "ok" : "failed").inc();
    }

    /** The listener's open client connections, read at each scrape. */
    public void openConnections(String listener, LongSupplier open) {
        openConnections.put(listener, open);
    }

    /** The listener's connections refused on accept since start, read at each scrape (it only grows). */
    public void refusedConnections(String listener, LongSupplier refused) {
        refusedConnections.put(listener, refused);
    }

    /** The listener's HTTP/2 streams refused at a connection cap since start, read at each scrape. */
    public void refusedStreams(String listener, LongSupplier refused) {
        refusedStreams.put(listener, refused);
    }

    /** The log queue's full-queue counts, read at each scrape (the logging backend lives in the command line). */
    public void logQueue(LongSupplier waits, LongSupplier drops) {
        logWaits = waits;
        logDrops = drops;
    }

    /** The buffer budgets, read at each scrape. */
    public void bufferBudgets(BufferBudgets budgets) {
        buffers = budgets;
    }

    /** The listener's certificate notAfter, seconds since the epoch, read at each scrape. */
    public void certificateExpiry(String listener, LongSupplier notAfterSeconds) {
        certificateExpiry.put(listener, notAfterSeconds);
    }

    /** Pooled upstream connections, read at each scrape: the upstreams that have a pool, and their counts. */
    public void upstreamConnections(Supplier<? extends Collection<String>> upstreams, ToLongFunction<String> open,
            ToLongFunction<String> idle) {
        upstreamConnections = new UpstreamConnections(upstreams, open, idle);
    }

    /** The Prometheus text exposition (format 0.0.4), with HELP and TYPE lines and escaped label values. */
    public String render() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            TEXT.write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
