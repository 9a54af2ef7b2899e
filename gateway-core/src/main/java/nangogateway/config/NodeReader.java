package nangogateway.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Typed reading of a composed YAML node tree that never stops at the first problem: every read that fails
 * records a {@link ConfigError} at the node's position and returns null, so the caller carries on validating.
 */
final class NodeReader {
    private final String source;
    private final List<ConfigError> errors = new ArrayList<>();

    NodeReader(String source) {
        this.source = source;
    }

    void error(Node at, String message) {
        error(at.getStartMark(), message);
    }

    void error(Mark mark, String message) {
        if (mark == null) {
            errorAt(1, 1, message);
        } else {
            errorAt(mark.getLine() + 1, mark.getColumn() + 1, message);
        }
    }

    void errorAt(int line, int column, String message) {
        errors.add(new ConfigError(source, line, column, message));
    }

    boolean hasErrors() {
        return !errors.isEmpty();
    }

    /** How many errors were reported so far: a reader of a list compares it before and after its items. */
    int errorCount() {
        return errors.size();
    }

    /** Every error once, in file order. */
    List<ConfigError> errors() {
        return errors.stream().distinct()
                .sorted(Comparator.comparingInt(ConfigError::line).thenComparingInt(ConfigError::column))
                .toList();
    }

    static int line(Node node) {
        return node.getStartMark().getLine() + 1;
    }

    /** A mapping's entries, by key. */
    static final class Fields {
        final Node node;
        final Map<String, NodeTuple> entries;

        Fields(Node node, Map<String, NodeTuple> entries) {
            this.node = node;
            this.entries = entries;
        }

        Node value(String key) {
            NodeTuple t = entries.get(key);
            return t == null ? null : t.getValueNode();
        }

        Node keyNode(String key) {
            NodeTuple t = entries.get(key);
            return t == null ? null : t.getKeyNode();
        }

        boolean has(String key) {
            return entries.containsKey(key);
        }
    }

    /**
     * Reads a mapping whose keys must be among {@code allowed}, reporting unknown and duplicate keys. An empty
     * value ({@code key:} with nothing after it) reads as an empty mapping.
     *
     * @param allowed the keys this mapping may hold, or null when any key is allowed (names of things)
     * @return null when the node is not a mapping (reported)
     */
    Fields fields(Node node, String what, List<String> allowed) {
        if (isNull(node)) {
            return new Fields(node, Map.of());
        }
        if (!(node instanceof MappingNode mapping)) {
            error(node, what + " must be a mapping (indented 'key: value' lines or {key: value}), found "
                    + kindOf(node));
            return null;
        }
        Map<String, NodeTuple> entries = new LinkedHashMap<>();
        for (NodeTuple tuple : mapping.getValue()) {
            Node keyNode = tuple.getKeyNode();
            if (!(keyNode instanceof ScalarNode scalarKey)) {
                error(keyNode, "a key in " + what + " must be a plain name, found " + kindOf(keyNode));
                continue;
            }
            String key = scalarKey.getValue();
            if (allowed != null && !allowed.contains(key)) {
                String guess = didYouMean(key, allowed);
                error(keyNode, "unknown key '" + key + "' in " + what
                        + (guess == null ? "" : "; did you mean '" + guess + "'?")
                        + " allowed: " + String.join(", ", allowed));
                continue;
            }
            NodeTuple first = entries.get(key);
            if (first != null) {
                error(keyNode, "duplicate key '" + key + "' in " + what + " (first at line "
                        + line(first.getKeyNode()) + "): write each key once");
                continue;
            }
            entries.put(key, tuple);
        }
        return new Fields(node, entries);
    }

    /** A list; an empty value reads as an empty list. Null when the node is something else (reported). */
    List<Node> list(Node node, String what) {
        if (isNull(node)) {
            return List.of();
        }
        if (node instanceof SequenceNode seq) {
            return seq.getValue();
        }
        error(node, what + " must be a list ('- item' lines or [a, b]), found " + kindOf(node));
        return null;
    }

    /** A non-empty single value (numbers are read as their text). */
    String string(Node node, String what) {
        if (!(node instanceof ScalarNode scalar)) {
            error(node, what + " must be a single value, found " + kindOf(node));
            return null;
        }
        if (isNull(node) || scalar.getValue().isEmpty()) {
            error(node, what + " is empty: write a value");
            return null;
        }
        return scalar.getValue();
    }

    /** A value that may be empty ({@code ""}). */
    String text(Node node, String what) {
        if (!(node instanceof ScalarNode scalar)) {
            error(node, what + " must be a single value, found " + kindOf(node));
            return null;
        }
        return isNull(node) ? "" : scalar.getValue();
    }

    Integer integer(Node node, String what, long min, long max) {
        String s = string(node, what);
        if (s == null) {
            return null;
        }
        if (!s.matches("-?[0-9]{1,10}") || Long.parseLong(s) < min || Long.parseLong(s) > max) {
            error(node, what + " must be a whole number from " + min + " to " + max + ", not '" + s + "'");
            return null;
        }
        return (int) Long.parseLong(s);
    }

    Boolean bool(Node node, String what) {
        String s = string(node, what);
        if (s == null) {
            return null;
        }
        if (s.equals("true") || s.equals("false")) {
            return Boolean.valueOf(s);
        }
        error(node, what + " must be true or false, not '" + s + "'");
        return null;
    }

    Duration duration(Node node, String what) {
        String s = string(node, what);
        if (s == null) {
            return null;
        }
        try {
            return Durations.parse(s);
        } catch (IllegalArgumentException e) {
            error(node, what + ": " + e.getMessage());
            return null;
        }
    }

    /** A size from {@code min} bytes up to {@code max}. */
    Long size(Node node, String what, long min, long max) {
        String s = string(node, what);
        if (s == null) {
            return null;
        }
        long bytes;
        try {
            bytes = Sizes.parse(s);
        } catch (IllegalArgumentException e) {
            error(node, what + ": " + e.getMessage());
            return null;
        }
        if (bytes < min || bytes > max) {
            error(node, what + " must be from " + min + " to " + max + " bytes, not " + s);
            return null;
        }
        return bytes;
    }

    static boolean isNull(Node node) {
        return node instanceof ScalarNode && node.getTag().equals(Tag.NULL);
    }

    static String kindOf(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        if (isNull(node)) {
            return "an empty value";
        }
        return "the value '" + ((ScalarNode) node).getValue() + "'";
    }

    /** The closest candidate within a couple of edits, or null. */
    static String didYouMean(String given, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(given.toLowerCase(java.util.Locale.ROOT), c.toLowerCase(java.util.Locale.ROOT));
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        int tolerance = Math.max(2, given.length() / 3);
        return bestDistance <= tolerance ? best : null;
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
