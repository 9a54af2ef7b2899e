package nangogateway.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import nangogateway.config.TlsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A change is reported once it has settled, and once only; listeners no longer served are forgotten. */
class CertificateWatcherTest {
    @TempDir
    Path dir;

    private TlsConfig files(String name) throws Exception {
        Path sub = Files.createDirectory(dir.resolve(name));
        Files.writeString(sub.resolve("fullchain.pem"), "cert of " + name);
        Files.writeString(sub.resolve("privkey.pem"), "key of " + name);
        return new TlsConfig(sub.resolve("fullchain.pem"), sub.resolve("privkey.pem"));
    }

    private static CertificateWatcher watching(String name, TlsConfig tls) {
        CertificateWatcher w = new CertificateWatcher();
        w.remember(name, tls, CertificateWatcher.fingerprint(tls));
        return w;
    }

    @Test
    void aChangeIsReportedOnceItHasSettledAndThenNoMore() throws Exception {
        TlsConfig a = files("a");
        CertificateWatcher w = watching("a", a);
        assertEquals(Set.of(), w.settledChanges());
        Files.writeString(a.cert(), "renewed cert");
        assertEquals(Set.of(), w.settledChanges(), "a change is first left to settle");
        Files.writeString(a.key(), "renewed key");
        assertEquals(Set.of(), w.settledChanges(), "still being written");
        assertEquals(Set.of("a"), w.settledChanges());
        // Whether or not the new pair loaded, the same files are not reported again.
        assertEquals(Set.of(), w.settledChanges());
        assertEquals(Set.of(), w.settledChanges());
        Files.writeString(a.key(), "fixed key");
        w.settledChanges();
        assertEquals(Set.of("a"), w.settledChanges());
    }

    @Test
    void aListenerNoLongerServedIsForgotten() throws Exception {
        TlsConfig a = files("a");
        TlsConfig b = files("b");
        CertificateWatcher w = watching("a", a);
        w.remember("b", b, CertificateWatcher.fingerprint(b));
        w.retainOnly(List.of("b"));
        Files.delete(a.cert());
        Files.delete(a.key());
        Files.writeString(b.cert(), "renewed");
        assertEquals(Set.of(), w.settledChanges());
        assertEquals(Set.of("b"), w.settledChanges());
        assertEquals(Set.of(), w.settledChanges());
    }
}
