package nangogateway.routing;

import java.util.Map;
import java.util.Set;
import nangogateway.config.RouteConfig;

/** What the route table decided for one request. */
public sealed interface RouteDecision {

    /** A route takes the request. */
    record Matched(RouteConfig route, Map<String, String> params) implements RouteDecision {
    }

    /** Routes exist for this path and its conditions, but not for this method: 405 with {@code Allow}. */
    record MethodNotAllowed(Set<String> allow) implements RouteDecision {
    }

    /** No route: the listener's {@code otherwise} answers. */
    record Otherwise(int status) implements RouteDecision {
    }
}
