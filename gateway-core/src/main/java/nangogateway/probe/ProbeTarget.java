package nangogateway.probe;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * The deployment to probe: {@code http://host[:port]} or {@code https://host[:port]}, nothing else.
 *
 * @param host      the host as written, IPv6 literals without brackets
 * @param authority the {@code Host} header value: {@code host[:port]}, the port only when it is not the default
 */
public record ProbeTarget(String scheme, String host, int port, String authority) {
    public static ProbeTarget parse(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + url + "' is not a URL: write e.g. https://nango.example.com");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("'" + url + "': write an http:// or https:// URL");
        }
        if (uri.getHost() == null || uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("'" + url + "': write scheme://host[:port], e.g. https://nango.example.com");
        }
        String path = uri.getRawPath();
        if ((path != null && !path.isEmpty() && !path.equals("/")) || uri.getRawQuery() != null
                || uri.getRawFragment() != null) {
            // Every case names its own path: a base path would silently change what is probed.
            throw new IllegalArgumentException("'" + url + "': give the listener only (scheme://host[:port]), "
                    + "without a path or query");
        }
        int defaultPort = scheme.equals("https") ? 443 : 80;
        int port = uri.getPort() == -1 ? defaultPort : uri.getPort();
        String bracketed = uri.getHost();
        String host = bracketed.startsWith("[") ? bracketed.substring(1, bracketed.length() - 1) : bracketed;
        String authority = port == defaultPort ? bracketed : bracketed + ":" + port;
        return new ProbeTarget(scheme, host, port, authority);
    }

    public boolean tls() {
        return scheme.equals("https");
    }

    @Override
    public String toString() {
        return scheme + "://" + authority;
    }
}
