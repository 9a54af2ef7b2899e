package nangogateway.config;

import java.time.Duration;
import java.util.Objects;

/**
 * An upstream server (Nango). {@code url} in the file is split into scheme, host and port; it has no path.
 *
 * @param idleTimeout     how long a pooled keep-alive connection may sit unused; below Node's 5 s keepAliveTimeout
 * @param maxRequestHead  the upstream's header limit, counted as Node counts it (the target, every header name and
 *                        value, the gateway's own included): Node refuses a head that reaches it, so the gateway
 *                        refuses such a request itself with 431 rather than have Node reset it after it was sent
 */
public record UpstreamConfig(
        String name,
        String scheme,
        String host,
        int port,
        Duration connectTimeout,
        Duration responseTimeout,
        Duration idleTimeout,
        int maxConnections,
        int maxRequestHead) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(4);
    public static final int DEFAULT_MAX_CONNECTIONS = 256;
    /** Node's default {@code --max-http-header-size}, which Nango runs with. */
    public static final int DEFAULT_MAX_REQUEST_HEAD = 16 * 1024;

    public UpstreamConfig(String name, String scheme, String host, int port, Duration connectTimeout,
            Duration responseTimeout, Duration idleTimeout, int maxConnections) {
        this(name, scheme, host, port, connectTimeout, responseTimeout, idleTimeout, maxConnections,
                DEFAULT_MAX_REQUEST_HEAD);
    }

    public UpstreamConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(responseTimeout, "responseTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
    }

    public boolean tls() {
        return scheme.equals("https");
    }

    /** The {@code Host} header value the gateway sends to this upstream. */
    public String authority() {
        boolean defaultPort = (tls() && port == 443) || (!tls() && port == 80);
        String h = host.contains(":") ? "[" + host + "]" : host;
        return defaultPort ? h : h + ":" + port;
    }

    public String url() {
        return scheme + "://" + authority();
    }
}
