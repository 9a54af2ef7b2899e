package nangogateway.config;

/** Answer with the gateway's metrics in Prometheus' text format (put it on an internal listener). */
public record MetricsAction() implements RouteAction {
    @Override
    public String kind() {
        return "metrics";
    }
}
