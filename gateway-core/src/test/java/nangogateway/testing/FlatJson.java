package nangogateway.testing;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Parses one flat JSON object (string, number, true/false/null values) strictly: enough for access-log lines. */
public final class FlatJson {
    private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?");
    private final String s;
    private int i;

    private FlatJson(String s) {
        this.s = s;
    }

    public static Map<String, Object> parse(String text) {
        FlatJson p = new FlatJson(text);
        Map<String, Object> m = p.object();
        if (p.i != text.length()) {
            throw new AssertionError("trailing text at " + p.i + ": " + text);
        }
        return m;
    }

    private Map<String, Object> object() {
        expect('{');
        Map<String, Object> m = new LinkedHashMap<>();
        if (s.charAt(i) == '}') {
            i++;
            return m;
        }
        while (true) {
            String key = string();
            expect(':');
            if (m.containsKey(key)) {
                throw new AssertionError("duplicate key " + key + ": " + s);
            }
            m.put(key, value());
            char c = s.charAt(i++);
            if (c == '}') {
                return m;
            }
            if (c != ',') {
                throw new AssertionError("expected , or } at " + (i - 1) + ": " + s);
            }
        }
    }

    private Object value() {
        if (s.charAt(i) == '"') {
            return string();
        }
        for (String word : List.of("true", "false", "null")) {
            if (s.startsWith(word, i)) {
                i += word.length();
                return word.equals("null") ? null : Boolean.valueOf(word);
            }
        }
        var m = NUMBER.matcher(s).region(i, s.length());
        if (!m.lookingAt()) {
            throw new AssertionError("bad value at " + i + ": " + s);
        }
        i = m.end();
        return Double.parseDouble(m.group());
    }

    private String string() {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            char c = s.charAt(i++);
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20) {
                throw new AssertionError("raw control character in a string: " + s);
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    String hex = s.substring(i, i + 4);
                    if (!hex.matches("[0-9a-fA-F]{4}")) {
                        throw new AssertionError("bad \\u escape: " + s);
                    }
                    b.append((char) Integer.parseInt(hex, 16));
                    i += 4;
                }
                default -> throw new AssertionError("bad escape \\" + e + ": " + s);
            }
        }
    }

    private void expect(char c) {
        if (i >= s.length() || s.charAt(i) != c) {
            throw new AssertionError("expected " + c + " at " + i + ": " + s);
        }
        i++;
    }
}
