package nangogateway.config;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One complete, validated snapshot of the route file. Built once by {@link ConfigLoader}, never mutated;
 * a reload builds a new one and swaps it in.
 *
 * @param source where it was read from (a path, or {@code embedded:dev.yaml})
 */
public record GatewayConfig(
        String source,
        Map<String, UpstreamConfig> upstreams,
        List<ListenerConfig> listeners,
        Map<String, ProviderConfig> providers,
        ServerSettings server) {

    public GatewayConfig {
        Objects.requireNonNull(source, "source");
        upstreams = Map.copyOf(upstreams);
        listeners = List.copyOf(listeners);
        providers = Map.copyOf(providers);
        Objects.requireNonNull(server, "server");
    }

    public Optional<ListenerConfig> listener(String name) {
        return listeners.stream().filter(l -> l.name().equals(name)).findFirst();
    }

    /** The provider a {@code Provider-Config-Key} names, directly or through one of its aliases. */
    public Optional<ProviderConfig> providerByKeyOrAlias(String keyOrAlias) {
        ProviderConfig direct = providers.get(keyOrAlias);
        if (direct != null) {
            return Optional.of(direct);
        }
        return providers.values().stream().filter(p -> p.aliases().contains(keyOrAlias)).findFirst();
    }
}
