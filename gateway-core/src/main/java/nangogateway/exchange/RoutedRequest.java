package nangogateway.exchange;

import java.util.Map;
import nangogateway.config.RouteConfig;

/** A request the router gave to a route whose action talks to an upstream. */
public record RoutedRequest(AdmittedRequest admitted, RouteConfig route, Map<String, String> params,
        GatewaySnapshot snapshot) {
}
