package nangogateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {
    @Test
    void nettyPinnedMemoryTrackingIsOffUnlessAskedFor() {
        assertTunedUnlessGiven("io.netty.trackPinnedMemory");
    }

    @Test
    void nettyFlightRecorderEventsAreOffUnlessAskedFor() {
        assertTunedUnlessGiven("io.netty.jfr.enabled");
    }

    @Test
    void nettyPooledChunksAreOneMebibyteUnlessAskedFor() {
        assertTunedUnlessGiven("io.netty.allocator.maxOrder", "7", "9");
    }

    private static void assertTunedUnlessGiven(String key) {
        assertTunedUnlessGiven(key, "false", "true");
    }

    /** {@link Main#tuneNetty} sets {@code key} to {@code tuned}, and keeps a value given with {@code -D}. */
    private static void assertTunedUnlessGiven(String key, String tuned, String given) {
        String before = System.getProperty(key);
        try {
            System.clearProperty(key);
            Main.tuneNetty();
            assertEquals(tuned, System.getProperty(key));

            System.setProperty(key, given);
            Main.tuneNetty();
            assertEquals(given, System.getProperty(key), "a value given with -D is kept");
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }

    @Test
    void aNamedCommandIsBuiltAloneAndEverythingElseGetsThemAll() {
        assertEquals(List.of("run"), List.copyOf(Main.commandLine("run", "--config", "x").getSubcommands().keySet()));
        assertEquals(List.of("probe"), List.copyOf(Main.commandLine("probe").getSubcommands().keySet()));
        List<String> all = List.of("run", "check", "routes", "explain", "probe", "help", "generate-completion");
        assertEquals(all, List.copyOf(Main.commandLine("--help").getSubcommands().keySet()));
        assertEquals(all, List.copyOf(Main.commandLine("help", "run").getSubcommands().keySet()));
        assertEquals(all, List.copyOf(Main.commandLine().getSubcommands().keySet()));
        assertEquals(all, List.copyOf(Main.commandLine("rnu").getSubcommands().keySet()));

        Cli.Result help = Cli.run("help", "check");
        assertEquals(0, help.code(), help.toString());
        assertTrue(help.out().startsWith("Usage: nango-gateway check "), help.out());
    }

    @Test
    void versionNamesTheProgramAndTheBuiltVersion() {
        Cli.Result r = Cli.run("--version");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().matches("nango-gateway \\d+\\.\\d+\\.\\d+[-.\\w]*\n"), r.out());
    }

    @Test
    void helpListsEveryCommand() {
        Cli.Result r = Cli.run("--help");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().startsWith("Usage: nango-gateway "), r.out());
        for (String command : new String[] {"run", "check", "routes", "explain", "probe"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith(command + " ")), command + " in\n" + r.out());
        }
    }

    @Test
    void everyCommandHasHelpAndVersion() {
        Cli.Result help = Cli.run("explain", "--help");
        assertEquals(0, help.code(), help.toString());
        assertTrue(help.out().startsWith("Usage: nango-gateway explain "), help.out());
        assertTrue(help.out().contains("--header="), help.out());

        Cli.Result version = Cli.run("check", "--version");
        assertEquals(0, version.code(), version.toString());
        assertTrue(version.out().startsWith("nango-gateway "), version.out());
    }

    @Test
    void withoutACommandItIsAUsageError() {
        Cli.Result r = Cli.run();
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().startsWith("a command is required: run, check, routes, explain or probe\n"), r.err());
    }

    @Test
    void anUnknownCommandIsAUsageError() {
        Cli.Result r = Cli.run("reload");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("reload"), r.err());
    }
}
