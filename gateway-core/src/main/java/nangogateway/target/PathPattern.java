package nangogateway.target;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A route path pattern such as {@code /oauth/connect/{key}}: literal segments matched case-sensitively and
 * {@code {name}} parameters matching exactly one segment of {@code [A-Za-z0-9._~-]}, never {@code .} or
 * {@code ..}. One trailing slash on the request is tolerated, as Express routes it to the same handler.
 * Patterns are matched against canonical paths only (see {@link RequestTarget}).
 */
public final class PathPattern {
    private final String text;
    /** Per segment: the literal, or null for a parameter. */
    private final String[] literals;
    private final String[] paramNames;

    private PathPattern(String text, String[] literals, String[] paramNames) {
        this.text = text;
        this.literals = literals;
        this.paramNames = paramNames;
    }

    /**
     * Compiles a pattern.
     *
     * @throws IllegalArgumentException with a message that says what to write instead
     */
    public static PathPattern compile(String text) {
        if (text == null || !text.startsWith("/")) {
            throw new IllegalArgumentException("a path pattern starts with '/', e.g. /oauth/connect/{key}");
        }
        if (text.equals("/")) {
            return new PathPattern(text, new String[0], new String[0]);
        }
        if (text.contains("//")) {
            throw new IllegalArgumentException("empty segment ('//') in '" + text + "'");
        }
        if (text.endsWith("/")) {
            throw new IllegalArgumentException("write '" + text.substring(0, text.length() - 1)
                    + "' without the trailing '/': one trailing slash is always tolerated; use 'prefix:' for a subtree");
        }
        String[] parts = text.substring(1).split("/", -1);
        String[] literals = new String[parts.length];
        String[] params = new String[parts.length];
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (part.isEmpty()) {
                throw new IllegalArgumentException("empty segment ('//') in '" + text + "'");
            }
            if (part.startsWith("{")) {
                if (!part.endsWith("}") || part.length() < 3 || !isParamName(part.substring(1, part.length() - 1))) {
                    throw new IllegalArgumentException("'" + part + "' is not a parameter: write '{name}' as a whole"
                            + " segment, name of letters, digits and '_'");
                }
                String name = part.substring(1, part.length() - 1);
                if (!seen.add(name)) {
                    throw new IllegalArgumentException("parameter '{" + name + "}' appears twice in '" + text + "'");
                }
                params[i] = name;
            } else {
                if (part.indexOf('{') >= 0 || part.indexOf('}') >= 0) {
                    throw new IllegalArgumentException("'" + part + "' is not a parameter: write '{name}' as a whole"
                            + " segment, name of letters, digits and '_'");
                }
                String problem = RequestTarget.literalSegmentProblem(part);
                if (problem != null) {
                    throw new IllegalArgumentException("segment '" + part + "' " + problem);
                }
                literals[i] = part;
            }
        }
        return new PathPattern(text, literals, params);
    }

    private static boolean isParamName(String s) {
        if (s.isEmpty() || Character.isDigit(s.charAt(0))) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
                return false;
            }
        }
        return true;
    }

    public String text() {
        return text;
    }

    public List<String> paramNames() {
        List<String> names = new ArrayList<>();
        for (String p : paramNames) {
            if (p != null) {
                names.add(p);
            }
        }
        return names;
    }

    /**
     * Matches a canonical path (no query).
     *
     * @return the parameters by name (empty map when there are none), or null when the path does not match
     */
    public Map<String, String> match(String path) {
        if (literals.length == 0) {
            return path.equals("/") ? Map.of() : null;
        }
        int end = path.length();
        if (end > 1 && path.charAt(end - 1) == '/') {
            end--; // the one tolerated trailing slash
        }
        int pos = 1;
        Map<String, String> params = null;
        for (int i = 0; i < literals.length; i++) {
            if (pos > end) {
                return null;
            }
            int slash = path.indexOf('/', pos);
            int segEnd = (slash < 0 || slash > end) ? end : slash;
            if (literals[i] != null) {
                if (segEnd - pos != literals[i].length() || !path.startsWith(literals[i], pos)) {
                    return null;
                }
            } else {
                String value = path.substring(pos, segEnd);
                if (!isParamValue(value)) {
                    return null;
                }
                if (params == null) {
                    params = new LinkedHashMap<>();
                }
                params.put(paramNames[i], value);
            }
            pos = segEnd + 1;
        }
        if (pos <= end) {
            return null; // more segments than the pattern has
        }
        return params == null ? Map.of() : params;
    }

    static boolean isParamValue(String v) {
        if (v.isEmpty() || v.equals(".") || v.equals("..")) {
            return false;
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '~' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return text;
    }
}
