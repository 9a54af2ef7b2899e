package nangogateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** The man page the package installs (nango-gateway(8)) names every command and option of the command line. */
class ManPageTest {
    private static final Path PAGE = Path.of("..", "packaging", "src", "deb", "man", "nango-gateway.8");

    /** The page as man renders its words: troff's escaped hyphens and font changes taken out. */
    private static String text() throws IOException {
        return Files.readString(PAGE, StandardCharsets.UTF_8)
                .replace("\\-", "-")
                .replaceAll("\\\\f[BIRP]", "");
    }

    @Test
    void namesEveryCommandAndOption() throws IOException {
        String page = text();
        List<String> missing = new ArrayList<>();
        CommandLine root = Main.commandLine("--help");
        check(root.getCommandSpec(), page, missing);
        root.getSubcommands().forEach((name, sub) -> {
            if (!page.contains("\n.B " + name) && !page.contains("\n.B nango-gateway " + name)) {
                missing.add("command " + name);
            }
            check(sub.getCommandSpec(), page, missing);
        });
        assertEquals(List.of(), missing, PAGE + " does not describe these; add them");
    }

    private static void check(CommandSpec spec, String page, List<String> missing) {
        for (OptionSpec option : spec.options()) {
            for (String name : option.names()) {
                if (!page.contains(name)) {
                    missing.add(spec.qualifiedName() + " " + name);
                }
            }
        }
    }

    @Test
    void hasTheSectionsOfASystemCommandsPage() throws IOException {
        String page = text();
        assertTrue(page.startsWith(".\\\"") || page.startsWith(".TH"), "a troff page");
        assertTrue(page.contains("\n.TH NANGO-GATEWAY 8 "), "section 8, as the package installs it");
        for (String section : List.of("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "SIGNALS", "FILES",
                "EXIT STATUS", "SEE ALSO")) {
            assertTrue(page.contains("\n.SH " + section + "\n"), "section " + section);
        }
    }
}
