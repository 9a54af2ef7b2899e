package nangogateway.routing;

import nangogateway.target.RequestTarget;
import nangogateway.target.PathPattern;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import nangogateway.config.HeaderCondition;
import nangogateway.config.ListenerConfig;
import nangogateway.config.RouteConfig;

/**
 * A listener's immutable route table: the one matcher used by the server, {@code routes} and {@code explain}.
 * Routes are tried in file order; the first whose path, methods, header and websocket conditions all hold
 * takes the request.
 */
public final class RouteTable {
    private final ListenerConfig listener;

    public RouteTable(ListenerConfig listener) {
        this.listener = listener;
    }

    public ListenerConfig listener() {
        return listener;
    }

    public List<RouteConfig> routes() {
        return listener.routes();
    }

    public RouteDecision decide(String method, RequestTarget target, HttpHeaders headers) {
        return decide(method, target, headers, null);
    }

    /**
     * Decides, and when {@code trace} is not null appends one line per route saying why it did or did not match.
     */
    public RouteDecision decide(String method, RequestTarget target, HttpHeaders headers, List<String> trace) {
        TreeSet<String> otherMethods = null;
        for (RouteConfig route : listener.routes()) {
            Map<String, String> params = matchPath(route, target.path());
            if (params == null) {
                note(trace, route, "path does not match " + route.pathText());
                continue;
            }
            String failed = failedCondition(route, headers, method);
            if (failed != null) {
                note(trace, route, failed);
                continue;
            }
            if (!route.allowsMethod(method)) {
                note(trace, route, "method " + method + " not in " + new TreeSet<>(route.methods()));
                if (otherMethods == null) {
                    otherMethods = new TreeSet<>();
                }
                otherMethods.addAll(route.methods());
                continue;
            }
            note(trace, route, "MATCH" + (params.isEmpty() ? "" : " " + params));
            return new RouteDecision.Matched(route, params);
        }
        if (otherMethods != null) {
            return new RouteDecision.MethodNotAllowed(otherMethods);
        }
        return new RouteDecision.Otherwise(listener.otherwiseStatus());
    }

    private static void note(List<String> trace, RouteConfig route, String why) {
        if (trace != null) {
            trace.add(route.name() + ": " + why);
        }
    }

    static Map<String, String> matchPath(RouteConfig route, String path) {
        if (route.prefix() != null) {
            // A whole-segment prefix: '/proxy/' and below, never '/proxy' or '/proxyx'. A prefix written
            // without its trailing '/' keeps that meaning rather than matching '/proxyx'.
            String prefix = route.prefix();
            boolean under = prefix.endsWith("/") ? path.startsWith(prefix)
                    : path.startsWith(prefix) && path.length() > prefix.length() && path.charAt(prefix.length()) == '/';
            return under ? Map.of() : null;
        }
        for (PathPattern p : route.paths()) {
            Map<String, String> params = p.match(path);
            if (params != null) {
                return params;
            }
        }
        return null;
    }

    /** The first header or websocket condition that fails, or null when all hold. */
    private static String failedCondition(RouteConfig route, HttpHeaders headers, String method) {
        for (HeaderCondition c : route.headers()) {
            List<String> values = headers.getAll(c.name());
            if (values.isEmpty()) {
                return "header " + c.name() + " absent";
            }
            if (values.size() > 1) {
                return "header " + c.name() + " given " + values.size() + " times";
            }
            if (!c.matchesValue(values.get(0))) {
                return "header " + c.name() + " does not match " + c.regex().pattern();
            }
        }
        if (route.websocket() && !isWebSocketUpgrade(method, headers)) {
            return "not a valid WebSocket upgrade";
        }
        return null;
    }

    /**
     * A WebSocket opening handshake as RFC 6455 section 4.1 requires: GET, {@code Connection} naming
     * {@code upgrade}, exactly one {@code Upgrade: websocket}, one 16-byte base64 {@code Sec-WebSocket-Key},
     * {@code Sec-WebSocket-Version: 13}.
     */
    public static boolean isWebSocketUpgrade(String method, HttpHeaders headers) {
        if (!"GET".equals(method)) {
            return false;
        }
        if (!connectionHasToken(headers, "upgrade")) {
            return false;
        }
        List<String> upgrade = headers.getAll(HttpHeaderNames.UPGRADE);
        if (upgrade.size() != 1 || !upgrade.get(0).trim().equalsIgnoreCase("websocket")) {
            return false;
        }
        List<String> key = headers.getAll(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        if (key.size() != 1 || !isWebSocketKey(key.get(0).trim())) {
            return false;
        }
        List<String> version = headers.getAll(HttpHeaderNames.SEC_WEBSOCKET_VERSION);
        return version.size() == 1 && version.get(0).trim().equals("13");
    }

    public static boolean connectionHasToken(HttpHeaders headers, String token) {
        for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String t : value.split(",")) {
                if (t.trim().equalsIgnoreCase(token)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isWebSocketKey(String key) {
        if (key.length() != 24 || !key.endsWith("==")) {
            return false;
        }
        try {
            return java.util.Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
