package nangogateway.cli;

import ch.qos.logback.classic.LoggerContext;
import java.util.List;
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
        description = "Allowlisting reverse proxy in front of a self-hosted Nango server.")
public final class Main implements Callable<Integer> {
    /** The commands, in the order help lists them; {@code help} and {@code generate-completion} need them all. */
    private static final List<Class<?>> COMMANDS = List.of(RunCommand.class, CheckCommand.class,
            RoutesCommand.class, ExplainCommand.class, ProbeCommand.class, CommandLine.HelpCommand.class,
            AutoComplete.GenerateCompletion.class);

    /** The longest a command waits for the logging configuration before it runs (lines then reach it late). */
    private static final long LOGGING_WAIT_MILLIS = 10_000;

    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        tuneNetty();
        Thread logging = startLogging();
        CommandLine cli = commandLine(args);
        CommandLine.IExecutionStrategy run = cli.getExecutionStrategy();
        cli.setExecutionStrategy(parsed -> {
            await(logging);
            return run.execute(parsed);
        });
        int code = cli.execute(args);
        stopLogging();
        System.exit(code);
    }

    /**
     * The command line for these arguments. Reading a command's annotations is most of the command line's start-up
     * cost (picocli's classes are too old for the JVM's class-data archive), so when the first argument names a
     * command, only that command is built; anything else ({@code --help}, {@code help run}, a typo) gets them all.
     */
    public static CommandLine commandLine(String... args) {
        CommandLine cli = new CommandLine(new Main());
        String first = args.length > 0 ? args[0] : "";
        Class<?> named = COMMANDS.stream()
                .filter(c -> !c.getName().startsWith("picocli."))
                .filter(c -> first.equals(c.getAnnotation(Command.class).name()))
                .findFirst().orElse(null);
        for (Class<?> command : named != null ? List.of(named) : COMMANDS) {
            cli.addSubcommand(command);
        }
        return cli;
    }

    /**
     * Netty settings read once, when its classes load, so they are set before anything touches Netty. Pinned-memory
     * tracking adds to a shared counter on every pooled buffer's allocation and release, for an allocator metric
     * the gateway does not read. A value given with {@code -D} wins (the JFR events: {@code -Dio.netty.jfr.enabled=true}).
     */
    static void tuneNetty() {
        setUnlessGiven("io.netty.trackPinnedMemory", "false");
        // Netty's allocator declares JFR events; registering them with the JVM's flight recorder costs about a fifth
        // of a second of start-up, for events nobody records unless they ask.
        setUnlessGiven("io.netty.jfr.enabled", "false");
        // The pooled allocator's chunks: 1 MiB (8 KiB pages, order 7) instead of Netty's 4 MiB. Each event loop's
        // arena keeps a chunk resident once it has used it, so 4 MiB ones held 3 MiB more per loop than the
        // gateway's buffers need: reads and temporary-file pieces of at most 64 KiB. A buffer over 1 MiB (a held
        // body merged into one piece) is allocated unpooled, within the same direct-memory limit.
        setUnlessGiven("io.netty.allocator.maxOrder", "7");
    }

    private static void setUnlessGiven(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** Without a command there is nothing to do: say which ones exist, as a usage error. */
    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "a command is required: run, check, routes, explain or probe");
    }

    /**
     * Starts reading the logging configuration on a second core while this one reads the command line: about a sixth
     * of a second of start-up. Commands run only after it is done ({@link #commandLine}), so every line they log goes
     * straight to the configured appenders.
     */
    static Thread startLogging() {
        Thread thread = new Thread(LoggerFactory::getILoggerFactory, "logging-init");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** Waits for the logging configuration, at most {@link #LOGGING_WAIT_MILLIS}: a stuck one never holds a start. */
    private static void await(Thread thread) {
        try {
            thread.join(LOGGING_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The async appender holds the last lines (drain, stop) until its worker writes them: flush before exit. */
    private static void stopLogging() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }
}
