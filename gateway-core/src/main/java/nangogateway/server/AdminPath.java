package nangogateway.server;

import java.util.List;

/**
 * What the admin listener answers, named once for {@link AdminHandler} and for {@code explain} and {@code routes},
 * so the description cannot drift from the handler. Any other path is 404; any other method 405.
 */
public enum AdminPath {
    HEALTHZ("/healthz", "200 ok (the process answers)"),
    READYZ("/readyz", "200 when every upstream accepts a TCP connection within its connect timeout, else 503"),
    METRICS("/metrics", "200, the metrics in Prometheus text format");

    /** The methods the admin listener answers, and the {@code Allow} of its 405. */
    public static final List<String> METHODS = List.of("GET", "HEAD");
    public static final String ALLOW = String.join(", ", METHODS);

    private final String path;
    private final String answer;

    AdminPath(String path, String answer) {
        this.path = path;
        this.answer = answer;
    }

    public String path() {
        return path;
    }

    /** What a GET of this path gets, in words. */
    public String answer() {
        return answer;
    }

    /** The admin path {@code path} names, or null (a 404). */
    public static AdminPath of(String path) {
        for (AdminPath p : values()) {
            if (p.path.equals(path)) {
                return p;
            }
        }
        return null;
    }
}
