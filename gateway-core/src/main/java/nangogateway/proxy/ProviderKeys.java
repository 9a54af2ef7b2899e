package nangogateway.proxy;

import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;
import nangogateway.config.ProviderConfig;
import nangogateway.target.PathPattern;
import nangogateway.exchange.RoutedRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Rewrites a catalog id in a provider-key path parameter ({@code /oauth/connect/gmail}) to Nango's key. */
final class ProviderKeys {
    private static final Logger log = LoggerFactory.getLogger(ProviderKeys.class);
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private ProviderKeys() {
    }

    /** The target with the parameter's segment replaced when it is an alias; otherwise the target unchanged. */
    static String rewriteParam(RoutedRequest routed, String param, String target) {
        String value = routed.params().get(param);
        if (value == null) {
            return target;
        }
        ProviderConfig provider = routed.snapshot().config().providerByKeyOrAlias(value).orElse(null);
        if (provider == null || provider.key().equals(value)) {
            return target;
        }
        String path = routed.admitted().target().path();
        for (PathPattern p : routed.route().paths()) {
            if (p.match(path) == null) {
                continue;
            }
            String[] patternSegments = p.text().substring(1).split("/");
            String[] segments = path.substring(1).split("/", -1);
            for (int i = 0; i < patternSegments.length; i++) {
                if (patternSegments[i].equals("{" + param + "}")) {
                    segments[i] = provider.key();
                }
            }
            if (WARNED.add(value)) {
                log.warn("provider key '{}' in {} is a catalog id, not a Nango key: rewritten to '{}'", value,
                        routed.route().name(), provider.key());
            }
            String query = routed.admitted().target().query();
            return "/" + String.join("/", segments) + (query == null ? "" : "?" + query);
        }
        return target;
    }
}
