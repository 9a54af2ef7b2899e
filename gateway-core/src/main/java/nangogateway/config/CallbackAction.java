package nangogateway.config;

import java.util.List;
import java.util.Objects;

/**
 * Replay an OAuth provider's browser redirect to Nango's own callback; never follow a redirect.
 *
 * @param path            the upstream path the query string is appended to ({@code /oauth/callback})
 * @param maxResponseBody Nango's response body is buffered up to this; beyond it the browser gets 502
 * @param forwardHeaders  client headers forwarded besides {@code Cookie} and {@code User-Agent}
 */
public record CallbackAction(String upstream, String path, long maxResponseBody, List<String> forwardHeaders)
        implements RouteAction {

    public static final String DEFAULT_PATH = "/oauth/callback";
    public static final long DEFAULT_MAX_RESPONSE_BODY = 1024 * 1024;

    public CallbackAction {
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(path, "path");
        forwardHeaders = List.copyOf(forwardHeaders);
    }

    @Override
    public String kind() {
        return "callback";
    }
}
