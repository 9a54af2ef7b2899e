package nangogateway.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A listener's optional behaviour beyond routing: HSTS, the plain-HTTP redirect with ACME webroot, which peers'
 * {@code X-Forwarded-For} to believe, rate and connection limits, and the access-log format.
 *
 * @param hsts                    {@code Strict-Transport-Security} value added to every response, or null
 * @param redirectToHttps         answer everything with 301 to https, except ACME challenges
 * @param acmeWebroot             where {@code /.well-known/acme-challenge/} files are served from, or null
 * @param trustedProxies          peers whose {@code X-Forwarded-For} is believed (nginx real_ip_recursive)
 * @param rateLimit               per-client-address token bucket for every route without its own, or null
 * @param maxConnections          open connections on this listener; 0 = no limit
 * @param maxConnectionsPerClient open connections from one client address; 0 = no limit
 * @param accessLogFormat         combined (nginx) or json
 * @param redactParams            query parameter names redacted in logs besides the built-in ones
 * @param admin                   the listener serves /healthz, /readyz and /metrics and nothing else
 */
public record ListenerOptions(
        String hsts,
        boolean redirectToHttps,
        Path acmeWebroot,
        List<Cidr> trustedProxies,
        RateLimit rateLimit,
        int maxConnections,
        int maxConnectionsPerClient,
        AccessLogFormat accessLogFormat,
        Set<String> redactParams,
        boolean admin) {

    public static final ListenerOptions DEFAULTS = new ListenerOptions(null, false, null, List.of(), null, 0, 0,
            AccessLogFormat.COMBINED, Set.of(), false);

    /** A listener that is not an admin listener. */
    public ListenerOptions(String hsts, boolean redirectToHttps, Path acmeWebroot, List<Cidr> trustedProxies,
            RateLimit rateLimit, int maxConnections, int maxConnectionsPerClient, AccessLogFormat accessLogFormat,
            Set<String> redactParams) {
        this(hsts, redirectToHttps, acmeWebroot, trustedProxies, rateLimit, maxConnections, maxConnectionsPerClient,
                accessLogFormat, redactParams, false);
    }

    public ListenerOptions {
        trustedProxies = List.copyOf(trustedProxies);
        Objects.requireNonNull(accessLogFormat, "accessLogFormat");
        redactParams = Set.copyOf(redactParams);
    }
}
