package nangogateway.target;

/**
 * A request target the gateway accepted: origin-form, printable ASCII, with a canonical path that Express
 * can read only one way. The gateway routes on {@link #path()} and forwards exactly {@link #raw()}.
 *
 * @param raw   the target as received and forwarded
 * @param path  the part before the first '?'
 * @param query the part after the first '?', byte for byte, or null when there is none
 */
public record RequestTarget(String raw, String path, String query) {

    /** The outcome of reading a target: either {@code target} or a {@code rejection} reason. */
    public record Verdict(RequestTarget target, String rejection) {
        public boolean accepted() {
            return target != null;
        }
    }

    /**
     * Reads a request target. Anything that could be read two ways is refused with the reason.
     */
    public static Verdict parse(String uri) {
        if (uri == null || uri.isEmpty()) {
            return reject("empty request target");
        }
        if (uri.charAt(0) != '/') {
            if (uri.equals("*")) {
                return reject("asterisk-form target");
            }
            return reject(uri.indexOf("://") > 0 ? "absolute-form target" : "target does not start with '/'");
        }
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String problem = pathProblem(path);
        if (problem != null) {
            return reject(problem);
        }
        String query = null;
        if (q >= 0) {
            query = uri.substring(q + 1);
            for (int i = 0; i < query.length(); i++) {
                char c = query.charAt(i);
                if (c <= 0x20 || c >= 0x7f) {
                    return reject("query holds a byte that is not printable ASCII");
                }
                if (c == '#') {
                    return reject("fragment ('#') in request target");
                }
            }
        }
        return new Verdict(new RequestTarget(uri, path, query), null);
    }

    private static Verdict reject(String reason) {
        return new Verdict(null, reason);
    }

    /** Why a path is not canonical, or null when it is. */
    static String pathProblem(String path) {
        if (path.length() > 1 && path.charAt(1) == '/') {
            return "empty path segment ('//')";
        }
        int segStart = 1;
        int n = path.length();
        for (int i = 1; i <= n; i++) {
            if (i == n || path.charAt(i) == '/') {
                int len = i - segStart;
                if (len == 0 && i < n) {
                    return "empty path segment ('//')";
                }
                if (len == 0 && i == n && n > 1 && path.charAt(n - 2) == '/') {
                    return "empty path segment ('//')";
                }
                if ((len == 1 && path.charAt(segStart) == '.')
                        || (len == 2 && path.charAt(segStart) == '.' && path.charAt(segStart + 1) == '.')) {
                    return "dot segment in path";
                }
                segStart = i + 1;
                continue;
            }
            String p = charProblem(path, i);
            if (p != null) {
                return p;
            }
            if (path.charAt(i) == '%') {
                i += 2;
            }
        }
        return null;
    }

    /** Why a literal segment of a route pattern or prefix cannot match a canonical path, or null. */
    static String literalSegmentProblem(String segment) {
        if (segment.equals(".") || segment.equals("..")) {
            return "is a dot segment";
        }
        for (int i = 0; i < segment.length(); i++) {
            if (segment.charAt(i) == '%') {
                return "holds '%': patterns are matched on the raw path; write the characters themselves";
            }
            if (segment.charAt(i) == '?') {
                return "holds '?', which starts the query string: a path never holds it";
            }
            String p = charProblem(segment, i);
            if (p != null) {
                return "holds a character no accepted request can carry (" + p + ")";
            }
        }
        return null;
    }

    /** Checks the path character at {@code i} (and its escape, if it is '%'). */
    private static String charProblem(String s, int i) {
        char c = s.charAt(i);
        if (c <= 0x20 || c >= 0x7f) {
            return "path holds a byte that is not printable ASCII";
        }
        switch (c) {
            case '\\':
                return "backslash in path";
            case ';':
                return "';' in path";
            case '#':
                return "fragment ('#') in request target";
            case '%':
                return escapeProblem(s, i);
            default:
                return null;
        }
    }

    /**
     * The value of an ASCII hex digit, or -1. Not {@link Character#digit}: that also accepts non-ASCII digits
     * and fullwidth letters, which would let non-ASCII characters hide behind a '%' (the two characters of an
     * escape are not checked again).
     */
    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static String escapeProblem(String s, int i) {
        if (i + 2 >= s.length()) {
            return "invalid percent-encoding";
        }
        int hi = hexValue(s.charAt(i + 1));
        int lo = hexValue(s.charAt(i + 2));
        if (hi < 0 || lo < 0) {
            return "invalid percent-encoding";
        }
        int b = hi * 16 + lo;
        if (b < 0x20 || b == 0x7f) {
            return "encoded control character in path";
        }
        if (b >= 0x80) {
            return "encoded non-ASCII byte in path";
        }
        switch (b) {
            case '/':
                return "encoded '/' in path";
            case '\\':
                return "encoded '\\' in path";
            case '.':
                return "encoded '.' in path";
            case '%':
                return "encoded '%' (double encoding) in path";
            case ';':
                return "encoded ';' in path";
            case '?':
                return "encoded '?' in path";
            case '#':
                return "encoded '#' in path";
            default:
                break;
        }
        boolean unreserved = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
                || b == '-' || b == '_' || b == '~';
        if (unreserved) {
            return "needlessly encoded unreserved character in path";
        }
        return null;
    }
}
