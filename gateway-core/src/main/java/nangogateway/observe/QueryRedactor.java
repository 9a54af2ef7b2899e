package nangogateway.observe;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Replaces the values of credential-bearing parameters with {@code [redacted]}, in a request target or in a URL such
 * as a Referer. What follows the first {@code ?} or {@code #} is read as parameters separated by any of
 * {@code & ; ? #}: more separators than Nango's query parser knows, so a secret is hidden in every spelling a client,
 * a provider or a browser may use ({@code ;} pairs, {@code &amp;}, a fragment with an implicit-flow token, a query
 * inside a fragment). A name is secret by itself or by any part of it ({@code code[]}, {@code state[0]},
 * {@code a[access_token]}), and a value is redacted whole when, once percent-decoded, it carries a secret parameter
 * of its own ({@code next=/cb%3Fcode%3D...}). Redacting too much costs a log reader a value; too little leaks it.
 */
public final class QueryRedactor {
    private QueryRedactor() {
    }

    /** Parameter names whose values are secrets in OAuth, Connect and webhook traffic. */
    public static final Set<String> SECRET_PARAMS = Set.of(
            "code", "state", "token", "access_token", "refresh_token", "id_token", "oauth_token", "oauth_verifier",
            "connect_session_token", "public_key", "client_secret", "secret", "password", "api_key", "apikey",
            "signature", "sig", "session_token", "assertion", "client_assertion");

    /** Parts of names that mark a secret wherever they appear ({@code x_auth_token}, {@code db_password}). */
    private static final List<String> SECRET_PARTS = List.of("token", "secret", "password", "passwd", "credential",
            "signature", "api_key", "apikey");

    private static final String REDACTED = "[redacted]";
    /** Rounds of percent-decoding looked through for a secret inside a value (double encoding is common). */
    private static final int DECODE_ROUNDS = 3;

    public static String redact(String target) {
        return redact(target, Set.of());
    }

    /**
     * The target (or URL) with secret values redacted; the path, the separators and the other parameters are kept as
     * they are. Names are compared case-insensitively after percent-decoding, so {@code c%6Fde} is redacted too.
     */
    public static String redact(String target, Set<String> extra) {
        int start = firstOf(target, 0, "?#");
        if (start < 0) {
            return target;
        }
        StringBuilder out = new StringBuilder(target.length() + 16).append(target, 0, start + 1);
        int at = start + 1;
        while (true) {
            int sep = firstOf(target, at, "&;?#");
            int end = sep < 0 ? target.length() : sep;
            int eq = target.indexOf('=', at);
            if (eq >= 0 && eq < end) {
                String name = target.substring(at, eq);
                String value = target.substring(eq + 1, end);
                out.append(name).append('=');
                out.append(secretName(name, extra) || carriesSecret(value, extra) ? REDACTED : value);
            } else {
                out.append(target, at, end);
            }
            if (sep < 0) {
                return out.toString();
            }
            out.append(target.charAt(sep));
            at = sep + 1;
        }
    }

    private static int firstOf(String s, int from, String chars) {
        for (int i = from; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    /** A name, or any bracketed or dotted part of it, that names a secret. */
    private static boolean secretName(String raw, Set<String> extra) {
        String name = decode(raw).toLowerCase(Locale.ROOT).strip();
        if (secret(name, extra)) {
            return true;
        }
        if (name.indexOf('[') < 0 && name.indexOf('.') < 0) {
            return false;
        }
        for (String part : name.split("[\\[\\].]+")) {
            if (secret(part.strip(), extra)) {
                return true;
            }
        }
        return false;
    }

    private static boolean secret(String name, Set<String> extra) {
        if (SECRET_PARAMS.contains(name) || extra.contains(name)) {
            return true;
        }
        for (String s : SECRET_PARTS) {
            if (name.contains(s)) {
                return true;
            }
        }
        return false;
    }

    /** A value that, percent-decoded up to a few times, holds a parameter with a secret name of its own. */
    private static boolean carriesSecret(String value, Set<String> extra) {
        String v = value;
        for (int round = 0; round <= DECODE_ROUNDS; round++) {
            if (v.indexOf('=') >= 0 && nestedSecret(v, extra)) {
                return true;
            }
            if (v.indexOf('%') < 0) {
                return false;
            }
            v = decode(v);
        }
        return false;
    }

    private static boolean nestedSecret(String v, Set<String> extra) {
        int at = 0;
        while (at <= v.length()) {
            int sep = firstOf(v, at, "&;?#");
            int end = sep < 0 ? v.length() : sep;
            int eq = v.indexOf('=', at);
            if (eq >= 0 && eq < end && secretName(v.substring(at, eq), extra)) {
                return true;
            }
            if (sep < 0) {
                return false;
            }
            at = sep + 1;
        }
        return false;
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
