package nangogateway.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import nangogateway.config.ConfigException;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.tls.TlsException;
import nangogateway.tls.TlsMaterial;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code check}: what {@code nginx -t} does for nginx. The file must load, and every TLS listener's certificate
 * and key must load and belong together, so that {@code ExecStartPre}/{@code ExecReload} catch what would
 * otherwise fail only at start.
 */
@Command(name = "check",
        description = "Validate the route file (like nginx -t); exit 0 when it is good.")
final class CheckCommand implements Callable<Integer> {
    @Mixin
    private ConfigOption config;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ConfigSource source = config.source();
        GatewayConfig loaded;
        try {
            loaded = source.load();
        } catch (ConfigException e) {
            ConfigSource.printErrors(e, err);
            return failed(source, err);
        }
        List<String> tlsProblems = tlsProblems(source, loaded);
        if (!tlsProblems.isEmpty()) {
            tlsProblems.forEach(err::println);
            return failed(source, err);
        }
        int routes = loaded.listeners().stream().mapToInt(l -> l.routes().size()).sum();
        out.printf("nango-gateway: configuration %s is ok (%d listeners, %d routes, %d upstreams)%n",
                source.name(), loaded.listeners().size(), routes, loaded.upstreams().size());
        out.flush();
        return 0;
    }

    private static int failed(ConfigSource source, PrintWriter err) {
        err.println("nango-gateway: configuration " + source.name() + " test failed");
        err.flush();
        return 1;
    }

    /** Loads each listener's certificate and key the way the server will, without binding anything. */
    static List<String> tlsProblems(ConfigSource source, GatewayConfig config) {
        List<String> problems = new ArrayList<>();
        for (ListenerConfig l : config.listeners()) {
            if (l.tls() == null) {
                continue;
            }
            try {
                TlsMaterial.load(l.tls());
            } catch (TlsException e) {
                problems.add(source.name() + ": listener " + l.name() + ": " + e.getMessage());
            }
        }
        return problems;
    }
}
