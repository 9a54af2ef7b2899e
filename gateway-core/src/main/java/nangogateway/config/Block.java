package nangogateway.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nangogateway.config.NodeReader.Fields;
import org.yaml.snakeyaml.nodes.Node;

/**
 * The keys one config mapping allows, in the order the "allowed: ..." hint lists them. Reading a mapping gives
 * {@link Values}: each key is read on first use, so a key that only matters in some cases (the HMAC settings of
 * a webhook check) is only read, and only reported, in those cases.
 */
final class Block {
    private final List<Key<?>> keys;
    private final List<String> names;

    Block(Key<?>... keys) {
        this.keys = List.of(keys);
        Set<String> seen = new HashSet<>();
        List<String> names = new ArrayList<>();
        for (Key<?> k : keys) {
            if (!seen.add(k.name)) {
                throw new IllegalArgumentException("key '" + k.name + "' is declared twice");
            }
            names.add(k.name);
        }
        this.names = List.copyOf(names);
    }

    List<String> names() {
        return names;
    }

    /**
     * The mapping at {@code node}, its unknown and duplicate keys reported.
     *
     * @param what the block in messages, e.g. {@code listener 'public' limits}
     * @return null when the node is not a mapping (reported)
     */
    Values read(NodeReader r, Node node, String what) {
        Fields fields = r.fields(node, what, names);
        return fields == null ? null : new Values(this, r, fields, what);
    }

    /** A read mapping: each key's value once read, and whether anything in the block was reported. */
    static final class Values {
        private final Block block;
        private final NodeReader r;
        private final Fields fields;
        private final Map<Key<?>, Object> read = new HashMap<>();
        private String what;
        private boolean failed;

        private Values(Block block, NodeReader r, Fields fields, String what) {
            this.block = block;
            this.r = r;
            this.fields = fields;
            this.what = what;
        }

        /** Names the block in the messages of later reads: a listener is "a listener" until its name is read. */
        Values about(String what) {
            this.what = what;
            return this;
        }

        String what() {
            return what;
        }

        /**
         * The key's value, read on first use: its reader's result when present (null when reported), its
         * {@code absent} value when left out, null after reporting a required key missing.
         */
        @SuppressWarnings("unchecked")
        <T> T get(Key<T> key) {
            if (!block.keys.contains(key)) {
                throw new IllegalArgumentException("key '" + key.name + "' is not declared in this block");
            }
            if (read.containsKey(key)) {
                return (T) read.get(key);
            }
            Node node = fields.value(key.name);
            T value;
            if (node != null) {
                value = key.reader.read(r, node, what, what + " " + key.name);
                failed |= value == null;
            } else if (key.example != null) {
                error(what + " needs '" + key.name + "', e.g. " + key.example);
                value = null;
            } else {
                value = key.absent;
            }
            read.put(key, value);
            return value;
        }

        /** Reads every key, for a block whose keys all apply whatever the others say. */
        Values readAll() {
            for (Key<?> k : block.keys) {
                get(k);
            }
            return this;
        }

        boolean has(Key<?> key) {
            return fields.has(key.name);
        }

        /** Those of {@code keys} the mapping holds, in the given order. */
        List<Key<?>> present(List<Key<?>> keys) {
            return keys.stream().filter(this::has).toList();
        }

        /** The value's node; null when the key is left out. */
        Node node(Key<?> key) {
            return fields.value(key.name);
        }

        /** The mapping itself, where a missing key is reported. */
        Node node() {
            return fields.node;
        }

        /** Reports at the key's value and fails the block. */
        void error(Key<?> at, String message) {
            report(fields.value(at.name), message);
        }

        /** Reports at the key's name, for a key that should not be there at all, and fails the block. */
        void errorAtKey(Key<?> at, String message) {
            report(fields.keyNode(at.name), message);
        }

        /** Reports at the mapping and fails the block. */
        void error(String message) {
            report(fields.node, message);
        }

        private void report(Node at, String message) {
            r.error(at, message);
            failed = true;
        }

        /** Nothing read from the block, and no rule over it, was reported. */
        boolean ok() {
            return !failed;
        }
    }
}
