package nangogateway.config;

import io.netty.util.NetUtil;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Strict parsing of the addresses written in the route file: listener binds ({@code host:port}) and HTTP origins
 * (upstream urls, override origins). Every failure is an {@link IllegalArgumentException} saying what to write.
 */
final class Addresses {
    /** An octet written with a leading zero: some tools read {@code 010} as octal 8, the JDK as 10. */
    private static final Pattern LEADING_ZERO = Pattern.compile("(^|\\.)0[0-9]");
    private static final Pattern HOST_NAME = Pattern.compile(
            "([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

    private Addresses() {
    }

    /** A listener's socket address; {@code host} as written, without brackets. */
    record Bind(String host, int port) {
    }

    /** An http(s) origin: lower-case scheme and host (no brackets, no trailing dot), explicit or default port. */
    record Origin(String scheme, String host, int port) {
    }

    static Bind parseBind(String text) {
        String example = "write host:port, e.g. 0.0.0.0:443, 127.0.0.1:8080 or [::]:443";
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException(example);
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
            if (!isIpv6Literal(host)) {
                throw new IllegalArgumentException("'" + host + "' is not an IPv6 address: " + example);
            }
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("no port: " + example);
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
            if (host.contains(":")) {
                throw new IllegalArgumentException("write an IPv6 address in brackets, e.g. [::]:443");
            }
            if (!isIpv4Literal(host) && !host.equals("localhost")) {
                throw new IllegalArgumentException("host '" + host + "' must be an IP address or localhost"
                        + " (names are not resolved at bind time): " + example);
            }
        }
        return new Bind(host, port(port, 0, example));
    }

    static Origin parseOrigin(String text, String example) {
        int sep = text.indexOf("://");
        if (sep < 0) {
            throw new IllegalArgumentException("write scheme://host[:port], e.g. " + example);
        }
        String scheme = text.substring(0, sep).toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("scheme '" + scheme + "' is not supported: write http:// or https://");
        }
        String rest = text.substring(sep + 3);
        if (rest.contains("#")) {
            throw new IllegalArgumentException("remove the fragment ('#...'): write e.g. " + example);
        }
        if (rest.contains("?")) {
            throw new IllegalArgumentException("remove the query ('?...'): write e.g. " + example);
        }
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash);
        if (authority.contains("@")) {
            throw new IllegalArgumentException("remove the user info ('...@'): credentials do not belong in the URL;"
                    + " write e.g. " + example);
        }
        if (!path.isEmpty() && !path.equals("/")) {
            throw new IllegalArgumentException("remove the path '" + path + "': write " + scheme + "://" + authority);
        }
        String host;
        String port = null;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("unclosed '[': write e.g. http://[::1]:3003");
            }
            host = authority.substring(1, close);
            String after = authority.substring(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(":")) {
                    throw new IllegalArgumentException("write e.g. http://[::1]:3003");
                }
                port = after.substring(1);
            }
            if (!isIpv6Literal(host)) {
                throw new IllegalArgumentException("'" + host + "' is not an IPv6 address");
            }
            host = host.toLowerCase(Locale.ROOT);
        } else {
            int colon = authority.indexOf(':');
            host = colon < 0 ? authority : authority.substring(0, colon);
            if (colon >= 0) {
                port = authority.substring(colon + 1);
                if (port.contains(":")) {
                    throw new IllegalArgumentException("write an IPv6 address in brackets, e.g. http://[::1]:3003");
                }
            }
            host = host.toLowerCase(Locale.ROOT);
            if (host.endsWith(".")) {
                host = host.substring(0, host.length() - 1); // the root label names the same host
            }
            if (host.isEmpty()) {
                throw new IllegalArgumentException("no host: write e.g. " + example);
            }
            if (!isIpv4Literal(host) && !HOST_NAME.matcher(host).matches()) {
                throw new IllegalArgumentException("'" + host + "' is not a host name or IP address: write e.g. "
                        + example);
            }
        }
        int defaultPort = scheme.equals("https") ? 443 : 80;
        int p = port == null ? defaultPort : port(port, 1, "write a port from 1 to 65535, e.g. " + example);
        return new Origin(scheme, host, p);
    }

    private static int port(String text, int min, String example) {
        if (!PORT.matcher(text).matches() || Integer.parseInt(text) < min || Integer.parseInt(text) > 65535) {
            throw new IllegalArgumentException("port '" + text + "' must be a number from " + min + " to 65535: "
                    + example);
        }
        return Integer.parseInt(text);
    }

    private static boolean isIpv4Literal(String s) {
        return NetUtil.isValidIpV4Address(s) && !LEADING_ZERO.matcher(s).find();
    }

    private static boolean isIpv6Literal(String s) {
        return s.indexOf(':') >= 0 && Cidr.literal(s) != null;
    }
}
