package nangogateway.proxy;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import nangogateway.config.GatewayConfig;
import nangogateway.config.OverrideOrigins;
import nangogateway.config.ProviderConfig;
import nangogateway.config.ProviderConfig.OverrideOrigin;
import nangogateway.config.ProviderConfig.OverrideRule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nango attaches a connection's credentials to whatever host {@code Base-Url-Override} names, for every
 * provider. On routes with {@code base_url_override: enforce} the gateway allows only the provider's listed
 * origins, sets the header itself from path rules, and maps catalog ids to Nango keys.
 */
public final class BaseUrlOverridePolicy {
    private static final Logger log = LoggerFactory.getLogger(BaseUrlOverridePolicy.class);
    public static final String HEADER = "Base-Url-Override";
    public static final String PROVIDER_HEADER = "Provider-Config-Key";

    private static final Set<String> WARNED_ALIASES = ConcurrentHashMap.newKeySet();

    private BaseUrlOverridePolicy() {
    }

    /** What to do with one request. */
    public sealed interface Decision {
        /** Forward with {@code providerKey} and {@code override} (null: no override header at all). */
        record Forward(String providerKey, String override, String how) implements Decision {
        }

        /** Refuse with {@code status}; {@code reason} goes into the JSON body. */
        record Deny(int status, String code, String reason) implements Decision {
        }
    }

    /**
     * @param pathAfterProxy the request path as Nango's proxy sees it (after {@code /proxy})
     */
    public static Decision decide(GatewayConfig config, HttpHeaders headers, String pathAfterProxy) {
        List<String> keys = headers.getAll(PROVIDER_HEADER);
        if (keys.size() != 1 || keys.get(0).isBlank()) {
            return new Decision.Deny(400, "provider_config_key_required",
                    "send exactly one Provider-Config-Key header");
        }
        String sentKey = keys.get(0).trim();
        ProviderConfig provider = config.providerByKeyOrAlias(sentKey).orElse(null);
        String key = provider == null ? sentKey : provider.key();
        if (provider != null && !key.equals(sentKey) && WARNED_ALIASES.add(sentKey)) {
            log.warn("Provider-Config-Key '{}' is a catalog id, not a Nango key: rewritten to '{}' (fix the caller)",
                    sentKey, key);
        }
        List<String> sent = headers.getAll(HEADER).stream().filter(v -> !v.isBlank()).toList();
        if (sent.size() > 1) {
            return new Decision.Deny(403, "base_url_override_not_allowed", "Base-Url-Override given more than once");
        }
        if (sent.size() == 1) {
            String value = sent.get(0).trim();
            if (provider == null || provider.allow().isEmpty()) {
                return new Decision.Deny(403, "base_url_override_not_allowed",
                        "provider '" + key + "' allows no Base-Url-Override");
            }
            OverrideOrigin origin;
            try {
                origin = OverrideOrigins.parse(value);
            } catch (IllegalArgumentException e) {
                return new Decision.Deny(403, "base_url_override_not_allowed",
                        "Base-Url-Override must be a bare origin such as https://host");
            }
            if (!provider.allow().contains(origin)) {
                return new Decision.Deny(403, "base_url_override_not_allowed",
                        origin.text() + " is not in the allow list of provider '" + key + "'");
            }
            return new Decision.Forward(key, origin.text(), "allowed");
        }
        if (provider != null) {
            for (OverrideRule rule : provider.set()) {
                if (underPrefix(pathAfterProxy, rule.prefix())) {
                    return new Decision.Forward(key, rule.to().text(), "set by rule " + rule.prefix());
                }
            }
        }
        return new Decision.Forward(key, null, "none");
    }

    /** The path as Nango's proxy sees it: after the route's prefix ({@code /proxy/x} → {@code /x}), else the path. */
    public static String pathAfterPrefix(nangogateway.config.RouteConfig route, String path) {
        String prefix = route.prefix();
        return prefix != null && prefix.endsWith("/") ? path.substring(prefix.length() - 1) : path;
    }

    /** Whole-segment prefix match: {@code /2/files/download} covers itself and what is below, not {@code ..._v2}. */
    static boolean underPrefix(String path, String prefix) {
        String p = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
        return path.equals(p) || path.startsWith(p + "/") || (path.startsWith(p) && path.charAt(p.length()) == '?');
    }
}
