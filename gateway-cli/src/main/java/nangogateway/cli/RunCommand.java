package nangogateway.cli;

import io.netty.util.ResourceLeakDetector;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import nangogateway.lifecycle.EventLoopWatchdog;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import nangogateway.config.ConfigError;
import nangogateway.config.ConfigException;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.UpstreamConfig;
import nangogateway.server.Gateway;
import nangogateway.server.GatewayException;
import nangogateway.tls.TlsMaterial;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code run}: serve in the foreground. SIGHUP re-reads the route file and swaps it in when it is good (a bad
 * file leaves the running config in place and logs why); SIGTERM or SIGINT drain in-flight requests until
 * {@code server.shutdown_timeout} and exit 0. Signals only queue a request: reloads and the drain run one after
 * another on the command's own thread, so a reload never races a stop.
 */
@Command(name = "run",
        description = "Serve in the foreground; SIGHUP reloads the file, SIGTERM drains and exits.")
final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);
    /** How long a shutdown hook waits beyond the drain deadline for the drain to finish. */
    private static final Duration HOOK_MARGIN = Duration.ofSeconds(5);

    private enum Request { RELOAD, STOP }

    @Mixin
    private ConfigOption config;

    @Option(names = "--reload-status", paramLabel = "FILE",
            description = "After start and after every reload, write its outcome to FILE: a first line"
                    + " '<number> ok' or '<number> failed', then the reasons. The unit's reload helper"
                    + " (/usr/share/nango-gateway/reload) waits for it, so `systemctl reload` returns once the"
                    + " file is in effect and fails with the errors when it is refused.")
    Path reloadStatus;
    /** Reload attempts so far; the status file's first word. */
    private long reloadNumber;

    @Spec
    private CommandSpec spec;

    /** Read from the environment; a field so a test can point it at its own socket. */
    String notifySocket = System.getenv("NOTIFY_SOCKET");
    /** systemd's {@code WatchdogSec=} in microseconds, and the process it is meant for; fields for tests. */
    String watchdogUsec = System.getenv("WATCHDOG_USEC");
    String watchdogPid = System.getenv("WATCHDOG_PID");

    /** Completes with the running gateway once every listener is bound (or fails if it never starts). */
    final CompletableFuture<Gateway> ready = new CompletableFuture<>();
    /** One entry per reload attempt: true when the new file was swapped in. */
    final BlockingQueue<Boolean> reloads = new LinkedBlockingQueue<>();

    private final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);

    /**
     * Netty's default leak detector samples buffers and, while enabled, tags every message at every pipeline hop:
     * about a fifth of the proxy's own CPU per request on the benchmark. The test suite runs at paranoid and fails
     * on any leak, so the server turns it off unless {@code -Dio.netty.leakDetection.level} asks for a level.
     */
    static void leakDetectionOffUnlessAsked() {
        if (System.getProperty("io.netty.leakDetection.level") == null
                && System.getProperty("io.netty.leakDetectionLevel") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }

    /** Same as SIGHUP. */
    void requestReload() {
        requests.add(Request.RELOAD);
    }

    /** Same as SIGTERM. */
    void requestStop() {
        stopRequested.set(true);
        requests.add(Request.STOP);
    }

    @Override
    public Integer call() {
        leakDetectionOffUnlessAsked();
        ConfigSource source = config.source();
        GatewayConfig initial;
        try {
            initial = source.load();
        } catch (ConfigException e) {
            PrintWriter err = spec.commandLine().getErr();
            ConfigSource.printErrors(e, err);
            err.println("nango-gateway: configuration " + source.name() + " has errors; not started");
            err.flush();
            ready.completeExceptionally(e);
            return 1;
        }
        if (initial.listeners().stream().anyMatch(l -> l.tls() != null)
                || initial.upstreams().values().stream().anyMatch(UpstreamConfig::tls)) {
            TlsMaterial.prepareInBackground(); // overlaps the rest of start-up; a plain-HTTP file never loads TLS
        }
        // Signals are routed here before anything is bound, so a HUP or TERM arriving during start-up
        // is queued rather than killing the process with the JVM's default action.
        try (SystemdNotifier notifier = SystemdNotifier.open(notifySocket);
                ProcessSignals signals = ProcessSignals.install(this::onSignal)) {
            if (!signals.handles("HUP")) {
                log.warn("SIGHUP cannot be handled in this JVM: apply route file changes by restarting");
            }
            Gateway gateway;
            try {
                gateway = Gateway.start(initial);
            } catch (GatewayException e) {
                PrintWriter err = spec.commandLine().getErr();
                err.println("nango-gateway: cannot start: " + e.getMessage());
                err.flush();
                ready.completeExceptionally(e);
                return 1;
            }
            Thread hook = drainOnExit(gateway);
            String where = describeListeners(gateway, initial);
            String tls = initial.listeners().stream().anyMatch(l -> l.tls() != null)
                    ? ", TLS " + TlsMaterial.implementation() : "";
            log.info("ready: {} ({} transport{}, configuration {})", where, gateway.transportName(), tls,
                    source.name());
            writeReloadStatus(true, List.of("started with " + source.name()));
            notifier.ready("serving " + where);
            ready.complete(gateway);
            ScheduledExecutorService watchdog = feedWatchdog(gateway, notifier);
            gateway.metrics().logQueue(LogQueueCounters::waits, LogQueueCounters::drops);
            ScheduledExecutorService logWatch = warnOnDroppedLines();
            try {
                serve(gateway, source, notifier);
            } finally {
                logWatch.shutdownNow();
                notifier.stopping();
                Duration deadline = gateway.config().server().shutdownTimeout();
                log.info("stopping: draining in-flight requests for up to {} ms", deadline.toMillis());
                gateway.shutdown(deadline);
                if (watchdog != null) {
                    watchdog.shutdownNow(); // fed through the drain, while the loops still serve
                }
                log.info("stopped");
                stopped.countDown();
                removeHook(hook);
            }
            return 0;
        }
    }

    /** Once a minute, a warning when log lines were dropped since the last look (only with neverBlock true). */
    private static ScheduledExecutorService warnOnDroppedLines() {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "log-watch");
            t.setDaemon(true);
            return t;
        });
        long[] seen = {LogQueueCounters.drops()};
        timer.scheduleAtFixedRate(() -> {
            long now = LogQueueCounters.drops();
            if (now > seen[0]) {
                log.warn("{} log line(s) dropped in the last minute: the log queue was full (neverBlock is true"
                        + " in logback.xml); nango_gateway_log_queue_full_total counts them", now - seen[0]);
                seen[0] = now;
            }
        }, 1, 1, TimeUnit.MINUTES);
        return timer;
    }

    /**
     * With {@code WatchdogSec=}, sends {@code WATCHDOG=1} at half the interval, but only while every event loop
     * runs a task within it: a blocked or dead loop stops the keep-alives and systemd restarts the service.
     * Null when systemd asked for no watchdog (or asked it of another process).
     */
    ScheduledExecutorService feedWatchdog(Gateway gateway, SystemdNotifier notifier) {
        long usec;
        try {
            usec = watchdogUsec == null ? 0 : Long.parseLong(watchdogUsec.trim());
        } catch (NumberFormatException e) {
            log.warn("WATCHDOG_USEC={} is not a number of microseconds; no watchdog", watchdogUsec);
            return null;
        }
        if (usec <= 0 || !notifier.enabled()) {
            return null;
        }
        if (watchdogPid != null && !watchdogPid.trim().equals(Long.toString(ProcessHandle.current().pid()))) {
            return null;
        }
        EventLoopWatchdog loops = gateway.watchdog();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "systemd-watchdog");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(1, usec / 2);
        timer.scheduleAtFixedRate(() -> {
            if (loops.check()) {
                notifier.watchdog();
            } else {
                log.error("{} event loop(s) did not run a task within {} ms; not telling systemd's watchdog we"
                        + " are alive", loops.missing(), every / 1000);
            }
        }, 0, every, TimeUnit.MICROSECONDS);
        log.info("feeding systemd's watchdog every {} ms while every event loop answers", every / 1000);
        return timer;
    }

    /** Runs requests one at a time until asked to stop. */
    private void serve(Gateway gateway, ConfigSource source, SystemdNotifier notifier) {
        while (true) {
            Request next;
            try {
                next = requests.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (next == Request.STOP) {
                return;
            }
            notifier.reloading();
            try {
                List<String> reasons = new ArrayList<>();
                boolean ok = reload(gateway, source, reasons);
                writeReloadStatus(ok, reasons);
                reloads.add(ok);
            } finally {
                notifier.ready("serving " + describeListeners(gateway, gateway.config()));
            }
        }
    }

    /**
     * Loads the file afresh and swaps it in; on any error the running config keeps serving, and {@code reasons}
     * gets one line per error.
     */
    private static boolean reload(Gateway gateway, ConfigSource source, List<String> reasons) {
        GatewayConfig next;
        try {
            next = source.load();
        } catch (RuntimeException e) {
            log.error("reload: cannot read {}; still serving the previous configuration", source.name(), e);
            gateway.recordFailedReload();
            reasons.add("cannot read " + source.name() + ": " + e);
            return false;
        } catch (ConfigException e) {
            gateway.recordFailedReload();
            log.error("reload: configuration {} has {} error(s); still serving the previous configuration",
                    source.name(), e.errors().size());
            for (ConfigError error : e.errors()) {
                log.error("{}", error);
                reasons.add(error.toString());
            }
            return false;
        }
        try {
            gateway.reload(next);
        } catch (GatewayException e) {
            log.error("reload: cannot apply {}: {}; still serving the previous configuration", source.name(),
                    e.getMessage());
            reasons.add("cannot apply " + source.name() + ": " + e.getMessage());
            return false;
        } catch (RuntimeException e) {
            // A fault in reloading must never take down a gateway that is serving.
            log.error("reload: failed unexpectedly; still serving the previous configuration", e);
            reasons.add("failed unexpectedly: " + e);
            return false;
        }
        int routes = next.listeners().stream().mapToInt(l -> l.routes().size()).sum();
        log.info("reload: {} in effect ({} listeners, {} routes): {}", source.name(), next.listeners().size(),
                routes, describeListeners(gateway, next));
        return true;
    }

    /**
     * The outcome of the start or of the reload just made, for whoever waits on {@code --reload-status}: written
     * whole to a temporary file and moved over the old one, so a reader never sees half of it.
     */
    private void writeReloadStatus(boolean ok, List<String> reasons) {
        if (reloadStatus == null) {
            return;
        }
        StringBuilder text = new StringBuilder().append(reloadNumber++).append(ok ? " ok\n" : " failed\n");
        reasons.forEach(r -> text.append(r).append('\n'));
        Path tmp = reloadStatus.resolveSibling(reloadStatus.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text);
            Files.move(tmp, reloadStatus, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            log.warn("cannot write the reload status to {}: {}", reloadStatus, e.toString());
        }
    }

    private void onSignal(String name) {
        if (name.equals("HUP")) {
            log.info("SIGHUP: reloading");
            requests.add(Request.RELOAD);
            return;
        }
        if (stopRequested.getAndSet(true)) {
            // A second TERM/INT during the drain: the operator does not want to wait any longer.
            log.warn("SIG{} again while draining: exiting now", name);
            Runtime.getRuntime().halt(1);
        }
        log.info("SIG{}: stopping", name);
        requests.add(Request.STOP);
    }

    /**
     * If the JVM exits by another path (a TERM the VM kept for itself, {@code System.exit} elsewhere), the
     * hook still asks for the drain and waits for it, so connections are not cut without notice.
     */
    private Thread drainOnExit(Gateway gateway) {
        Duration wait = gateway.config().server().shutdownTimeout().plus(HOOK_MARGIN);
        Thread hook = new Thread(() -> {
            requestStop();
            try {
                stopped.await(wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "nango-gateway-drain");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyExiting) {
            // The hook is what is stopping us; it is already running.
        }
    }

    /** {@code public http://127.0.0.1:8080, internal http://127.0.0.1:3004}, with the ports actually bound. */
    static String describeListeners(Gateway gateway, GatewayConfig config) {
        List<ListenerConfig> listeners = config.listeners();
        return listeners.stream()
                .map(l -> l.name() + " " + l.scheme() + "://" + l.withPort(gateway.port(l.name())).bindText())
                .collect(Collectors.joining(", "));
    }
}
