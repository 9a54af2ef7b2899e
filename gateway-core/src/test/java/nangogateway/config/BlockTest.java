package nangogateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import nangogateway.config.Block.Values;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.Node;

/** A block's keys are declared once: the allowed names, the readers and the defaults all come from them. */
class BlockTest {
    private static final Key<Long> SIZE = Key.size("max_body", 1024, 1, 4096);
    private static final Key<Duration> TIMEOUT = Key.duration("timeout", Duration.ofSeconds(5));
    private static final Key<Boolean> ON = Key.bool("on", false);
    private static final Key<String> MODE = Key.enumOf("mode", "s", Map.of("strip", "s", "enforce", "e"),
            "strip or enforce");
    private static final Key<Integer> NEEDED = Key.required("needed", "needed: 3", Key.integer(1, 9));
    private static final Block BLOCK = new Block(SIZE, TIMEOUT, ON, MODE, NEEDED);

    private static Node yaml(String text) {
        return new Yaml(new LoaderOptions()).compose(new StringReader(text));
    }

    private static List<String> messages(NodeReader r) {
        return r.errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void theAllowedNamesAreTheDeclaredKeysInOrder() {
        assertEquals(List.of("max_body", "timeout", "on", "mode", "needed"), BLOCK.names());
        NodeReader r = new NodeReader("t.yaml");
        BLOCK.read(r, yaml("{needed: 1, timout: 3s}"), "a thing");
        assertEquals(List.of("t.yaml:1:13: unknown key 'timout' in a thing; did you mean 'timeout'? allowed: max_body,"
                + " timeout, on, mode, needed"), messages(r));
    }

    @Test
    void leftOutKeysStandForTheirDeclaredValue() {
        NodeReader r = new NodeReader("t.yaml");
        Values v = BLOCK.read(r, yaml("{needed: 2}"), "a thing").readAll();
        assertTrue(v.ok());
        assertEquals(1024L, v.get(SIZE));
        assertEquals(Duration.ofSeconds(5), v.get(TIMEOUT));
        assertEquals(false, v.get(ON));
        assertEquals("s", v.get(MODE));
        assertEquals(2, v.get(NEEDED));
        assertEquals(List.of(), r.errors());
    }

    @Test
    void everyBadValueIsReportedWithTheBlockAndKeyAndFailsTheBlock() {
        NodeReader r = new NodeReader("t.yaml");
        Values v = BLOCK.read(r, yaml("{max_body: 8KiB, timeout: 4, on: yes, mode: drop, needed: 2}"), "a thing")
                .readAll();
        assertFalse(v.ok());
        assertNull(v.get(SIZE));
        assertEquals(List.of(
                "t.yaml:1:12: a thing max_body must be from 1 to 4096 bytes, not 8KiB",
                "t.yaml:1:27: a thing timeout: bad duration '4': a duration needs a unit: write 4s or 4ms",
                "t.yaml:1:34: a thing on must be true or false, not 'yes'",
                "t.yaml:1:45: a thing mode must be strip or enforce, not 'drop'"), messages(r));
    }

    @Test
    void aMissingRequiredKeyIsReportedAtTheMappingWithAnExample() {
        NodeReader r = new NodeReader("t.yaml");
        Values v = BLOCK.read(r, yaml("\n  {on: true}"), "a thing").readAll();
        assertFalse(v.ok());
        assertNull(v.get(NEEDED));
        assertEquals(List.of("t.yaml:2:3: a thing needs 'needed', e.g. needed: 3"), messages(r));
    }

    @Test
    void aKeyIsReadOnceAndOnlyWhenAsked() {
        AtomicInteger reads = new AtomicInteger();
        Key<String> counted = Key.of("x", "none", (r, node, what, label) -> {
            reads.incrementAndGet();
            return r.string(node, label);
        });
        Key<String> later = Key.required("later", "later: 1", (r, node, what, label) -> r.string(node, label));
        NodeReader r = new NodeReader("t.yaml");
        Values v = new Block(counted, later).read(r, yaml("{x: a}"), "a thing");
        assertEquals("a", v.get(counted));
        assertEquals("a", v.get(counted));
        assertEquals(1, reads.get());
        // A required key nobody asks for is not reported: the webhook check's hmac settings rely on it.
        assertTrue(v.ok());
        assertEquals(List.of(), r.errors());
    }

    @Test
    void aRuleOverReadValuesFailsTheBlockAtTheKey() {
        NodeReader r = new NodeReader("t.yaml");
        Values v = BLOCK.read(r, yaml("{needed: 2, on: true}"), "a thing");
        v.error(ON, v.what() + " on needs a reason");
        assertFalse(v.ok());
        assertEquals(List.of("t.yaml:1:17: a thing on needs a reason"), messages(r));
    }

    @Test
    void aKeyIsDeclaredOnceAndReadOnlyFromItsBlock() {
        assertThrows(IllegalArgumentException.class, () -> new Block(ON, Key.bool("on", true)));
        Values v = BLOCK.read(new NodeReader("t.yaml"), yaml("{}"), "a thing");
        assertThrows(IllegalArgumentException.class, () -> v.get(Key.bool("on", true)));
    }
}
