package nangogateway.config;

import java.time.Duration;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;

/**
 * One key of a config block, declared once: its name, how a present value is read (bounds included), and what it
 * stands for when left out. A {@link Block} lists its keys, so the names a mapping allows come from the same place.
 */
final class Key<T> {
    /**
     * Reads a present value. Returns null only after reporting what is wrong through {@code r}: a null from a
     * present key is how a block knows it failed.
     *
     * @param what  the block, e.g. {@code listener 'public'}, for messages that name the key's owner
     * @param label the block and the key, e.g. {@code listener 'public' hsts}
     */
    @FunctionalInterface
    interface Reader<T> {
        T read(NodeReader r, Node node, String what, String label);
    }

    final String name;
    final Reader<T> reader;
    /** The value when the key is left out; null when there is none. */
    final T absent;
    /** What to write when a required key is missing, e.g. {@code bind: 0.0.0.0:443}; null when optional. */
    final String example;

    private Key(String name, Reader<T> reader, T absent, String example) {
        this.name = name;
        this.reader = reader;
        this.absent = absent;
        this.example = example;
    }

    static <T> Key<T> of(String name, T absent, Reader<T> reader) {
        return new Key<>(name, reader, absent, null);
    }

    /** A key the block needs whenever it is read; a missing one is reported at the block with {@code example}. */
    static <T> Key<T> required(String name, String example, Reader<T> reader) {
        return new Key<>(name, reader, null, example);
    }

    /**
     * A nested mapping with every key of {@code block} read; the owner checks its rules and builds from it. Null
     * when left out.
     */
    static Key<Block.Values> block(String name, Block block) {
        return of(name, null, (r, node, what, label) -> {
            Block.Values values = block.read(r, node, label);
            return values == null ? null : values.readAll();
        });
    }

    /** A non-empty single value; null when left out. */
    static Key<String> string(String name) {
        return of(name, null, (r, node, what, label) -> r.string(node, label));
    }

    /** A single value that may be empty. */
    static Key<String> text(String name, String absent) {
        return of(name, absent, (r, node, what, label) -> r.text(node, label));
    }

    static Key<Boolean> bool(String name, boolean absent) {
        return of(name, absent, (r, node, what, label) -> r.bool(node, label));
    }

    static Key<Integer> integer(String name, Integer absent, long min, long max) {
        return of(name, absent, integer(min, max));
    }

    static Reader<Integer> integer(long min, long max) {
        return (r, node, what, label) -> r.integer(node, label, min, max);
    }

    /** A size in bytes from {@code min} to {@code max}. */
    static Key<Long> size(String name, long absent, long min, long max) {
        return of(name, absent, (r, node, what, label) -> r.size(node, label, min, max));
    }

    static Key<Duration> duration(String name, Duration absent) {
        return of(name, absent, (r, node, what, label) -> r.duration(node, label));
    }

    /** One of a few words, each standing for a value; {@code described} lists them for the error. */
    static <E> Key<E> enumOf(String name, E absent, Map<String, E> choices, String described) {
        return of(name, absent, oneOf(choices, described));
    }

    static <E> Reader<E> oneOf(Map<String, E> choices, String described) {
        return (r, node, what, label) -> {
            String s = r.string(node, label);
            if (s == null) {
                return null;
            }
            E value = choices.get(s);
            if (value == null) {
                r.error(node, label + " must be " + described + ", not '" + s + "'");
            }
            return value;
        };
    }

    @Override
    public String toString() {
        return name;
    }
}
