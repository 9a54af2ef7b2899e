package nangogateway.config;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import nangogateway.target.PathPattern;

/**
 * One route of a listener. Exactly one of {@code paths} (non-empty) or {@code prefix} (non-null) is set.
 *
 * @param methods   allowed methods, exact and case-sensitive; empty means every method
 * @param headers   every condition must hold for the route to match
 * @param websocket the route matches only a valid WebSocket upgrade
 * @param line      line of the route in the file, for messages
 * @param rateLimit this route's own per-client rate limit, or null for the listener's
 */
public record RouteConfig(
        String name,
        List<PathPattern> paths,
        String prefix,
        Set<String> methods,
        List<HeaderCondition> headers,
        boolean websocket,
        RouteAction action,
        int line,
        RateLimit rateLimit) {

    /** A route without a rate limit of its own (the listener's applies). */
    public RouteConfig(String name, List<PathPattern> paths, String prefix, Set<String> methods,
            List<HeaderCondition> headers, boolean websocket, RouteAction action, int line) {
        this(name, paths, prefix, methods, headers, websocket, action, line, null);
    }

    public RouteConfig {
        Objects.requireNonNull(name, "name");
        paths = List.copyOf(paths);
        methods = Set.copyOf(methods);
        headers = List.copyOf(headers);
        Objects.requireNonNull(action, "action");
        if (paths.isEmpty() == (prefix == null)) {
            throw new IllegalArgumentException("route " + name + ": exactly one of paths or prefix");
        }
    }

    public boolean allowsMethod(String method) {
        return methods.isEmpty() || methods.contains(method);
    }

    /** How the route's path is written in the file, for tables and explanations. */
    public String pathText() {
        if (prefix != null) {
            return "prefix " + prefix;
        }
        return paths.size() == 1 ? paths.get(0).text()
                : paths.stream().map(PathPattern::text).toList().toString();
    }
}
