package nangogateway.config;

import java.util.List;
import java.util.Objects;

/**
 * Per-provider policy, keyed by Nango provider-config key.
 *
 * @param allow   override origins a caller may send ({@code https://content.dropboxapi.com}); empty = none
 * @param set     path rules on which the gateway sets the override itself
 * @param aliases catalog ids rewritten to {@code key}
 */
public record ProviderConfig(String key, List<OverrideOrigin> allow, List<OverrideRule> set, List<String> aliases) {
    public ProviderConfig {
        Objects.requireNonNull(key, "key");
        allow = List.copyOf(allow);
        set = List.copyOf(set);
        aliases = List.copyOf(aliases);
    }

    /** A parsed override origin: scheme, lower-case host without trailing dot, explicit or default port. */
    public record OverrideOrigin(String scheme, String host, int port) {
        public String text() {
            boolean defaultPort = (scheme.equals("https") && port == 443) || (scheme.equals("http") && port == 80);
            return scheme + "://" + host + (defaultPort ? "" : ":" + port);
        }
    }

    /** {@code prefix} is matched on whole segments of the path after {@code /proxy}. */
    public record OverrideRule(String prefix, OverrideOrigin to) {
    }
}
