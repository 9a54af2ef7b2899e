package nangogateway.config;

import java.util.List;
import java.util.Objects;

/**
 * One listening socket with its own route table.
 *
 * @param host bind address as written ({@code 0.0.0.0}, {@code 127.0.0.1}, {@code ::})
 * @param tls  null for plain HTTP
 * @param otherwiseStatus status for every request no route takes (403 by default)
 * @param options  HSTS, redirect, trusted proxies, rate and connection limits, access-log format
 */
public record ListenerConfig(
        String name,
        String host,
        int port,
        TlsConfig tls,
        List<RouteConfig> routes,
        int otherwiseStatus,
        ListenerLimits limits,
        ListenerOptions options) {

    public ListenerConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
        routes = List.copyOf(routes);
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(options, "options");
    }

    /** A listener with default options. */
    public ListenerConfig(String name, String host, int port, TlsConfig tls, List<RouteConfig> routes,
            int otherwiseStatus, ListenerLimits limits) {
        this(name, host, port, tls, routes, otherwiseStatus, limits, ListenerOptions.DEFAULTS);
    }

    public String scheme() {
        return tls == null ? "http" : "https";
    }

    public String bindText() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** The same listener bound elsewhere (tests bind port 0). */
    public ListenerConfig withPort(int newPort) {
        return new ListenerConfig(name, host, newPort, tls, routes, otherwiseStatus, limits, options);
    }
}
