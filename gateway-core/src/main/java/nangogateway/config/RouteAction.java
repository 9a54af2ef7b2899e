package nangogateway.config;

/** What a route does with the requests it takes: exactly one per route. */
public sealed interface RouteAction permits ProxyAction, CallbackAction, RespondAction, MetricsAction {
    /** The key it is written under in the route file. */
    String kind();
}
