package nangogateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemdNotifierTest {
    @TempDir
    Path dir;

    @Test
    void sendsReadyReloadingAndStoppingToAPathSocket() throws Exception {
        assumeTrue(Epoll.isAvailable(), "NOTIFY_SOCKET needs the epoll transport (Linux)");
        String socket = dir.resolve("notify.sock").toString();
        try (NotifyReceiver systemd = new NotifyReceiver(socket);
                SystemdNotifier notifier = SystemdNotifier.open(socket)) {
            assertTrue(notifier.enabled());
            notifier.ready("serving public http://127.0.0.1:8080");
            assertEquals("READY=1\nSTATUS=serving public http://127.0.0.1:8080", systemd.next());
            notifier.reloading();
            String reloading = systemd.next();
            assertTrue(reloading.matches("RELOADING=1\nMONOTONIC_USEC=\\d+"), reloading);
            notifier.stopping();
            assertEquals("STOPPING=1", systemd.next());
        }
    }

    @Test
    void reachesAnAbstractSocket() throws Exception {
        assumeTrue(Epoll.isAvailable(), "NOTIFY_SOCKET needs the epoll transport (Linux)");
        String socket = "@nango-gateway-test-" + UUID.randomUUID();
        try (NotifyReceiver systemd = new NotifyReceiver(socket);
                SystemdNotifier notifier = SystemdNotifier.open(socket)) {
            assertTrue(notifier.send("READY=1"));
            assertEquals("READY=1", systemd.next());
        }
    }

    @Test
    void withoutAUsableSocketNothingIsSent() {
        try (SystemdNotifier unset = SystemdNotifier.open(null);
                SystemdNotifier relative = SystemdNotifier.open("run/notify")) {
            assertFalse(unset.enabled());
            assertFalse(unset.send("READY=1"));
            assertFalse(relative.enabled());
        }
    }

    @Test
    void aSocketNobodyListensOnIsReportedNotFatal() {
        assumeTrue(Epoll.isAvailable(), "NOTIFY_SOCKET needs the epoll transport (Linux)");
        try (SystemdNotifier notifier = SystemdNotifier.open(dir.resolve("gone.sock").toString())) {
            assertTrue(notifier.enabled());
            assertFalse(notifier.send("READY=1"));
        }
    }
}
