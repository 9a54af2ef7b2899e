package nangogateway.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The core's packages form layers and every dependency points down: a package names (imports or spells out) only
 * packages of lower layers. So no package cycle can come back, and a reader learns a package by reading what is
 * below it only. Read from the sources, comments included: a comment that cites a class of a higher layer is as
 * misleading as an import of it.
 */
class PackageLayersTest {
    /** Lowest first; a package may depend on any package of an earlier layer. */
    private static final List<Set<String>> LAYERS = List.of(
            Set.of("http", "target", "net", "lifecycle", "probe"),
            Set.of("config"),
            Set.of("routing", "tls", "limits"),
            Set.of("upstream"),
            Set.of("exchange"),
            Set.of("observe"),
            Set.of("proxy"),
            Set.of("server"));

    private static final Path SOURCES = Path.of("src/main/java/nangogateway");
    private static final Pattern REFERENCE = Pattern.compile("\\bnangogateway\\.([a-z]+)\\.[A-Z]");

    private static int layer(String pkg) {
        for (int i = 0; i < LAYERS.size(); i++) {
            if (LAYERS.get(i).contains(pkg)) {
                return i;
            }
        }
        return -1;
    }

    /** Package -> the packages its sources name, each with one file that names it. */
    private static Map<String, Map<String, String>> dependencies() throws IOException {
        Map<String, Map<String, String>> deps = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = SOURCES.relativize(f).getName(0).toString();
                Map<String, String> named = deps.computeIfAbsent(pkg, k -> new TreeMap<>());
                Matcher m = REFERENCE.matcher(Files.readString(f));
                while (m.find()) {
                    if (!m.group(1).equals(pkg)) {
                        named.putIfAbsent(m.group(1), f.getFileName().toString());
                    }
                }
            }
        }
        return deps;
    }

    @Test
    void everyPackageHasALayer() throws IOException {
        Set<String> unplaced = new TreeSet<>();
        dependencies().forEach((pkg, named) -> {
            if (layer(pkg) < 0) {
                unplaced.add(pkg);
            }
        });
        assertEquals(Set.of(), unplaced, "put each new package in LAYERS");
    }

    @Test
    void dependenciesPointDown() throws IOException {
        List<String> upward = new ArrayList<>();
        dependencies().forEach((pkg, named) -> named.forEach((target, file) -> {
            if (layer(target) >= layer(pkg)) {
                upward.add(pkg + " -> " + target + " (" + file + ")");
            }
        }));
        assertEquals(List.of(), upward);
    }

    @Test
    void theSourcesAreWhereTheTestLooks() throws IOException {
        assertTrue(dependencies().getOrDefault("proxy", Map.of()).containsKey("upstream"),
                "the proxy uses the upstream pools; if this fails the test reads no sources");
    }
}
