package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The package's launcher (/usr/bin/nango-gateway) run on a stand-in java that prints what it was given: the options
 * it adds to JAVA_OPTS for the JVM it finds.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of(System.getProperty("gateway.conf.dir", "../conf"), "..",
            "packaging", "src", "deb", "bin", "nango-gateway").normalize();

    @TempDir
    Path dir;

    @Test
    void nativeHeapTrimmingIsAddedOnlyForJvmsThatHaveItAsAProductOption() throws Exception {
        for (String version : new String[] {"17.0.12", "17.0.15", "21.0.4", "22.0.2", "23", "25.0.3"}) {
            assertEquals("MALLOC_ARENA_MAX=2 -Xmx1m -XX:TrimNativeHeapInterval=1000 -jar x.jar run --config c",
                    launch(version, "-Xmx1m"), version);
        }
        // Earlier updates had the option as an experimental one or not at all, and would refuse to start with it;
        // an unreadable version gets nothing either.
        for (String version : new String[] {"17.0.11", "17.0.8", "17", "21.0.3", "22.0.1", "22", "18.0.2", "", "x"}) {
            assertEquals("MALLOC_ARENA_MAX=2 -Xmx1m -jar x.jar run --config c", launch(version, "-Xmx1m"),
                    "'" + version + "'");
        }
    }

    @Test
    void anOptionGivenInJavaOptsWins() throws Exception {
        assertEquals("MALLOC_ARENA_MAX=2 -XX:TrimNativeHeapInterval=0 -jar x.jar run --config c",
                launch("17.0.15", "-XX:TrimNativeHeapInterval=0"));
    }

    @Test
    void withoutAReleaseFileNothingIsAdded() throws Exception {
        assertEquals("MALLOC_ARENA_MAX=2 -Xmx1m -jar x.jar run --config c", launch(null, "-Xmx1m"));
    }

    /** The launcher's java command line (MALLOC_ARENA_MAX, then the arguments) on a JVM of that release. */
    private String launch(String version, String javaOpts) throws IOException, InterruptedException {
        Path sh = Path.of("/bin/sh");
        Assumptions.assumeTrue(Files.isExecutable(sh) && Files.isRegularFile(LAUNCHER), "no /bin/sh or launcher");
        Path home = Files.createTempDirectory(dir, "jdk");
        Path java = Files.createDirectories(home.resolve("bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\necho \"MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX $*\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (version != null) {
            Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"" + version + "\"\n");
        }
        ProcessBuilder pb = new ProcessBuilder(sh.toString(), LAUNCHER.toString(), "run", "--config", "c")
                .redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.remove("MALLOC_ARENA_MAX");
        env.put("JAVA_OPTS", javaOpts);
        env.put("NANGO_GATEWAY_JAVA", java.toString());
        env.put("NANGO_GATEWAY_JAR", "x.jar");
        env.put("NANGO_GATEWAY_CDS", "off");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
