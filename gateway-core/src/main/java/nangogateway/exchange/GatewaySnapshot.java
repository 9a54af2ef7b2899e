package nangogateway.exchange;

import io.netty.handler.ssl.SslContext;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.routing.RouteTable;

/**
 * The config a request is served with: built completely (route tables, TLS contexts) before it is published,
 * swapped atomically on reload. A request keeps the snapshot it started with.
 */
public final class GatewaySnapshot {
    private final GatewayConfig config;
    private final Map<String, RouteTable> tables;
    private final Map<String, SslContext> tls;

    public GatewaySnapshot(GatewayConfig config) {
        this(config, Map.of());
    }

    public GatewaySnapshot(GatewayConfig config, Map<String, SslContext> tls) {
        this.config = config;
        Map<String, RouteTable> t = new LinkedHashMap<>();
        for (ListenerConfig l : config.listeners()) {
            t.put(l.name(), new RouteTable(l));
        }
        this.tables = Map.copyOf(t);
        this.tls = Map.copyOf(new HashMap<>(tls));
    }

    public GatewayConfig config() {
        return config;
    }

    /** The listener's table, or null when a reload removed the listener. */
    public RouteTable table(String listener) {
        return tables.get(listener);
    }

    /** The listener's TLS context, or null for plain HTTP. */
    public SslContext tls(String listener) {
        return tls.get(listener);
    }

    /** The same snapshot with one listener's TLS context replaced (certificate reload). */
    public GatewaySnapshot withTls(String listener, SslContext context) {
        Map<String, SslContext> next = new HashMap<>(tls);
        next.put(listener, context);
        return new GatewaySnapshot(config, next);
    }
}
