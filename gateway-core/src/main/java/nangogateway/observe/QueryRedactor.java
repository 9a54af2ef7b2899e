package nangogateway.observe;

import java.util.Locale;
import java.util.Set;

/** Replaces the values of credential-bearing query parameters with {@code [redacted]}. */
public final class QueryRedactor {
    private QueryRedactor() {
    }

    static final Set<String> SECRET_PARAMS = Set.of(
            "code", "state", "token", "access_token", "refresh_token", "id_token", "oauth_token", "oauth_verifier",
            "connect_session_token", "public_key", "client_secret", "secret", "password", "api_key", "apikey",
            "key", "signature", "sig", "session_token", "assertion", "client_assertion");

    /** The target (or URL) with secret query values redacted; the path is kept as is. */
    public static String redact(String target) {
        int q = target.indexOf('?');
        if (q < 0) {
            return target;
        }
        StringBuilder out = new StringBuilder(target.length()).append(target, 0, q + 1);
        String query = target.substring(q + 1);
        int start = 0;
        while (start <= query.length()) {
            int amp = query.indexOf('&', start);
            int end = amp < 0 ? query.length() : amp;
            String pair = query.substring(start, end);
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            if (eq >= 0 && SECRET_PARAMS.contains(name.toLowerCase(Locale.ROOT))) {
                out.append(name).append("=[redacted]");
            } else {
                out.append(pair);
            }
            if (amp < 0) {
                break;
            }
            out.append('&');
            start = amp + 1;
        }
        return out.toString();
    }
}
