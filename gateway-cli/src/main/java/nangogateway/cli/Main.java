package nangogateway.cli;

import ch.qos.logback.classic.LoggerContext;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code nango-gateway} command: {@code run}, {@code check}, {@code routes}, {@code explain}, {@code probe};
 * {@code generate-completion} (hidden) prints the bash completion script the Debian package installs.
 */
// INHERIT gives every command --help and --version.
@Command(name = "nango-gateway",
        scope = CommandLine.ScopeType.INHERIT,
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Allowlisting reverse proxy in front of a self-hosted Nango server.",
        subcommands = {RunCommand.class, CheckCommand.class, RoutesCommand.class, ExplainCommand.class,
                ProbeCommand.class, CommandLine.HelpCommand.class, AutoComplete.GenerateCompletion.class})
public final class Main implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        tuneNetty();
        int code = new CommandLine(new Main()).execute(args);
        stopLogging();
        System.exit(code);
    }

    /**
     * Netty settings read once, when its classes load, so they are set before anything touches Netty. Pinned-memory
     * tracking adds to a shared counter on every pooled buffer's allocation and release, for an allocator metric
     * the gateway does not read. A value given with {@code -D} wins.
     */
    static void tuneNetty() {
        if (System.getProperty("io.netty.trackPinnedMemory") == null) {
            System.setProperty("io.netty.trackPinnedMemory", "false");
        }
    }

    /** Without a command there is nothing to do: say which ones exist, as a usage error. */
    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "a command is required: run, check, routes, explain or probe");
    }

    /** The async appender holds the last lines (drain, stop) until its worker writes them: flush before exit. */
    private static void stopLogging() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }
}
