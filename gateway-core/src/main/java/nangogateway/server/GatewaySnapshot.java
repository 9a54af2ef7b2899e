package nangogateway.server;

import java.util.LinkedHashMap;
import java.util.Map;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.routing.RouteTable;

/**
 * The config a request is served with: built completely before it is published, swapped atomically on reload.
 * A request keeps the snapshot it started with.
 */
public final class GatewaySnapshot {
    private final GatewayConfig config;
    private final Map<String, RouteTable> tables;

    public GatewaySnapshot(GatewayConfig config) {
        this.config = config;
        Map<String, RouteTable> t = new LinkedHashMap<>();
        for (ListenerConfig l : config.listeners()) {
            t.put(l.name(), new RouteTable(l));
        }
        this.tables = Map.copyOf(t);
    }

    public GatewayConfig config() {
        return config;
    }

    /** The listener's table, or null when a reload removed the listener. */
    public RouteTable table(String listener) {
        return tables.get(listener);
    }
}
