package nangogateway.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import nangogateway.config.ConfigException;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.RouteConfig;
import nangogateway.target.PathPattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code routes}: each listener's effective route table, in the order routes are tried. */
@Command(name = "routes",
        description = "Print each listener's effective route table, in match order.")
final class RoutesCommand implements Callable<Integer> {
    private static final String[] HEADINGS = {"ROUTE", "METHODS", "PATH", "CONDITIONS", "ACTION"};

    @Mixin
    private ConfigOption config;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        GatewayConfig loaded;
        try {
            loaded = config.source().load();
        } catch (ConfigException e) {
            ConfigSource.printErrors(e, spec.commandLine().getErr());
            return 1;
        }
        boolean first = true;
        for (ListenerConfig l : loaded.listeners()) {
            if (!first) {
                out.println();
            }
            first = false;
            out.println(RouteText.listenerHeader(l));
            List<String[]> rows = new ArrayList<>();
            rows.add(HEADINGS);
            if (l.options().redirectToHttps()) {
                // Such a listener answers before routing; say so rather than print a table that never applies.
                out.println("  redirects every request to https (301, 308 for other than GET and HEAD)"
                        + (l.options().acmeWebroot() == null ? ""
                                : "; ACME challenges served from " + l.options().acmeWebroot()));
            }
            for (RouteConfig r : l.routes()) {
                List<String> paths = pathLines(r);
                rows.add(new String[] {r.name(), RouteText.methods(r), paths.get(0), RouteText.conditions(r),
                        RouteText.action(r.action())});
                for (String more : paths.subList(1, paths.size())) {
                    rows.add(new String[] {"", "", more, "", ""});
                }
            }
            if (rows.size() > 1) {
                printTable(out, rows);
            }
            if (l.options().admin()) {
                // The admin handler answers every request; its paths are the listener's whole surface.
                for (String line : RouteText.adminAnswers()) {
                    out.println("  " + line);
                }
                continue;
            }
            out.println("  otherwise " + l.otherwiseStatus());
        }
        out.flush();
        return 0;
    }

    /** One line per path pattern, so a route with many keeps the table narrow. */
    private static List<String> pathLines(RouteConfig r) {
        if (r.prefix() != null) {
            return List.of("prefix " + r.prefix());
        }
        return r.paths().stream().map(PathPattern::text).toList();
    }

    /** Left-aligned columns, two spaces apart; the last column is not padded. */
    private static void printTable(PrintWriter out, List<String[]> rows) {
        int columns = HEADINGS.length;
        int[] width = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < columns; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder("  ");
            for (int i = 0; i < columns; i++) {
                line.append(row[i]);
                if (i < columns - 1) {
                    line.append(" ".repeat(width[i] - row[i].length() + 2));
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
