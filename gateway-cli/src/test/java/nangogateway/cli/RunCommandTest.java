package nangogateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import nangogateway.server.Gateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class RunCommandTest {
    private static final String BASE = """
            upstreams:
              nango:
                url: http://127.0.0.1:3003
            listeners:
              - name: public
                bind: 127.0.0.1:0
                routes:
                  - name: health
                    path: /healthz
                    methods: [GET]
                    respond: { status: 204 }
            %s
                otherwise:
                  status: 403
            """;
    private static final String EXTRA_ROUTE = """
                  - name: added
                    path: /added
                    respond: { status: 202 }
            """;

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * The server turns Netty's leak detector off for speed, but never over an explicit level: this JVM runs at
     * paranoid (set by the build) and must stay there, or the suite's leak checks would go blind.
     */
    @Test
    void anExplicitLeakDetectionLevelIsKept() {
        assertEquals("paranoid", System.getProperty("io.netty.leakDetection.level"));
        RunCommand.leakDetectionOffUnlessAsked();
        assertEquals(io.netty.util.ResourceLeakDetector.Level.PARANOID, io.netty.util.ResourceLeakDetector.getLevel());
    }

    @Test
    void aBadFileIsNotStartedAndEveryErrorIsLocated() {
        Path file = Cli.write(dir, "bad.yaml", BASE.formatted("      - name: broken\n        path: /x\n"));
        Cli.Result r = Cli.run("run", "--config", file.toString());
        assertEquals(1, r.code(), r.toString());
        CheckCommandTest.assertLocated(file, r.err().lines().findFirst().orElseThrow());
        assertTrue(r.err().endsWith("nango-gateway: configuration " + file + " has errors; not started\n"), r.err());
    }

    @Test
    void servesReloadsOnSighupKeepsTheOldConfigOnABadFileAndDrainsOnStop() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "sends SIGHUP through the shell's kill");
        Path file = Cli.write(dir, "gateway.yaml", BASE.formatted(""));
        boolean notify = Epoll.isAvailable();
        String socket = dir.resolve("notify.sock").toString();
        try (NotifyReceiver systemd = notify ? new NotifyReceiver(socket) : null) {
            CommandLine cli = Main.commandLine("run");
            RunCommand run = cli.getSubcommands().get("run").getCommand();
            run.notifySocket = notify ? socket : null;
            Path status = dir.resolve("reload-status");
            CompletableFuture<Cli.Result> exited = CompletableFuture.supplyAsync(() -> Cli.run(cli, "run", "--config",
                    file.toString(), "--reload-status", status.toString()));
            try {
                Gateway gateway = run.ready.get(30, TimeUnit.SECONDS);
                int port = gateway.port("public");
                assertEquals("0 ok\nstarted with " + file + "\n", Files.readString(status));
                if (notify) {
                    assertEquals("READY=1\nSTATUS=serving public http://127.0.0.1:" + port, systemd.next());
                }
                assertEquals(204, status(port, "/healthz"));
                assertEquals(403, status(port, "/added"));

                Files.writeString(file, BASE.formatted(EXTRA_ROUTE));
                sighup();
                assertEquals(Boolean.TRUE, run.reloads.poll(30, TimeUnit.SECONDS), "the good file was swapped in");
                assertEquals("1 ok\n", Files.readString(status), "the reload helper's answer");
                assertEquals(202, status(port, "/added"));
                assertEquals(204, status(port, "/healthz"));
                if (notify) {
                    assertTrue(systemd.next().startsWith("RELOADING=1\nMONOTONIC_USEC="));
                    assertEquals("READY=1\nSTATUS=serving public http://127.0.0.1:" + port, systemd.next());
                }

                Files.writeString(file, "listeners: [ {name: public\n");
                sighup();
                assertEquals(Boolean.FALSE, run.reloads.poll(30, TimeUnit.SECONDS), "the broken file was refused");
                List<String> lines = Files.readString(status).lines().toList();
                assertEquals("2 failed", lines.get(0));
                CheckCommandTest.assertLocated(file, lines.get(1));
                assertEquals(202, status(port, "/added"), "the previous config keeps serving");

                run.requestStop();
                Cli.Result result = exited.get(60, TimeUnit.SECONDS);
                assertEquals(0, result.code(), result.toString());
                assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
                if (notify) {
                    assertTrue(systemd.next().startsWith("RELOADING=1"));
                    assertTrue(systemd.next().startsWith("READY=1"));
                    assertEquals("STOPPING=1", systemd.next());
                    assertTrue(systemd.isEmpty());
                }
            } finally {
                // Whatever failed above, leave no gateway (nor its exit hook) behind in this JVM.
                run.requestStop();
                exited.get(60, TimeUnit.SECONDS);
            }
        }
    }

    /** Under {@code WatchdogSec=}, keep-alives follow READY=1 while the event loops run. */
    @Test
    void feedsSystemdsWatchdogWhileTheLoopsRun() throws Exception {
        List<String> seen = runWithWatchdog(Long.toString(ProcessHandle.current().pid()), 3);
        assertTrue(seen.get(0).startsWith("READY=1"), seen.toString());
        assertEquals(List.of("WATCHDOG=1", "WATCHDOG=1"), seen.subList(1, 3), "again at half the interval");
    }

    /** A watchdog meant for another process (WATCHDOG_PID) is not fed by this one. */
    @Test
    void aWatchdogForAnotherProcessIsLeftAlone() throws Exception {
        List<String> seen = runWithWatchdog("1", 1);
        assertTrue(seen.get(0).startsWith("READY=1"), seen.toString());
        assertEquals(List.of("STOPPING=1"), seen.subList(1, seen.size()), "no WATCHDOG=1 in between");
    }

    /**
     * Runs the gateway under a 200 ms watchdog meant for {@code pid}, stops it once {@code before} notifications
     * came, and returns every notification up to STOPPING=1.
     */
    private List<String> runWithWatchdog(String pid, int before) throws Exception {
        assumeTrue(Epoll.isAvailable(), "the notify socket needs epoll");
        Path file = Cli.write(dir, "gateway.yaml", BASE.formatted(""));
        String socket = dir.resolve("watchdog-" + pid + ".sock").toString();
        try (NotifyReceiver systemd = new NotifyReceiver(socket)) {
            CommandLine cli = Main.commandLine("run");
            RunCommand run = cli.getSubcommands().get("run").getCommand();
            run.notifySocket = socket;
            run.watchdogUsec = "200000";
            run.watchdogPid = pid;
            CompletableFuture<Cli.Result> exited =
                    CompletableFuture.supplyAsync(() -> Cli.run(cli, "run", "--config", file.toString()));
            List<String> seen = new java.util.ArrayList<>();
            try {
                run.ready.get(30, TimeUnit.SECONDS);
                while (seen.size() < before) {
                    seen.add(systemd.next());
                }
            } finally {
                run.requestStop();
                assertEquals(0, exited.get(60, TimeUnit.SECONDS).code());
            }
            String next;
            while ((next = systemd.next()) != null) {
                seen.add(next);
                if (next.equals("STOPPING=1")) {
                    break;
                }
            }
            return seen;
        }
    }

    private int status(int port, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** A real SIGHUP to this JVM, as {@code systemctl reload} sends it. */
    private static void sighup() throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("/bin/sh", "-c", "kill -HUP " + ProcessHandle.current().pid())
                .inheritIO().start();
        assertEquals(0, kill.waitFor());
    }
}
