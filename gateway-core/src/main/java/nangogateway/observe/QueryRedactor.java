package nangogateway.observe;

import java.util.Locale;
import java.util.Set;

/** Replaces the values of credential-bearing query parameters with {@code [redacted]}. */
public final class QueryRedactor {
    private QueryRedactor() {
    }

    /** Parameter names whose values are secrets in OAuth, Connect and webhook traffic. */
    public static final Set<String> SECRET_PARAMS = Set.of(
            "code", "state", "token", "access_token", "refresh_token", "id_token", "oauth_token", "oauth_verifier",
            "connect_session_token", "public_key", "client_secret", "secret", "password", "api_key", "apikey",
            "signature", "sig", "session_token", "assertion", "client_assertion");

    public static String redact(String target) {
        return redact(target, Set.of());
    }

    /**
     * The target (or URL) with secret query values redacted; the path and the other parameters are kept as they
     * are. Names are compared case-insensitively after percent-decoding, so {@code c%6Fde} is redacted too.
     */
    public static String redact(String target, Set<String> extra) {
        int q = target.indexOf('?');
        if (q < 0) {
            return target;
        }
        StringBuilder out = new StringBuilder(target.length()).append(target, 0, q + 1);
        String query = target.substring(q + 1);
        int start = 0;
        while (true) {
            int amp = query.indexOf('&', start);
            int end = amp < 0 ? query.length() : amp;
            String pair = query.substring(start, end);
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String key = decode(name).toLowerCase(Locale.ROOT);
            if (eq >= 0 && (SECRET_PARAMS.contains(key) || extra.contains(key))) {
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

    private static String decode(String name) {
        if (name.indexOf('%') < 0 && name.indexOf('+') < 0) {
            return name;
        }
        StringBuilder b = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '%' && i + 2 < name.length()
                    && Character.digit(name.charAt(i + 1), 16) >= 0 && Character.digit(name.charAt(i + 2), 16) >= 0) {
                b.append((char) Integer.parseInt(name.substring(i + 1, i + 3), 16));
                i += 2;
            } else if (c == '+') {
                b.append(' ');
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
