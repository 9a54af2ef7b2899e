package nangogateway.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import nangogateway.config.TlsConfig;

/**
 * Notices certificate renewals on disk. certbot swaps the targets of {@code live/} symlinks and writes files in
 * several steps, so the watcher fingerprints the content behind the links and reports a change only once it
 * has stayed the same for one more check (a partial write is never loaded).
 */
public final class CertificateWatcher {
    private final Map<String, TlsConfig> watched = new HashMap<>();
    private final Map<String, String> loaded = new HashMap<>();
    private final Map<String, String> pending = new HashMap<>();

    /** Records the files of a listener as they are now (just loaded). */
    public synchronized void remember(String listener, TlsConfig tls) {
        watched.put(listener, tls);
        loaded.put(listener, fingerprint(tls));
        pending.remove(listener);
    }

    /** True when some listener's files changed since loading and did not change again since the last check. */
    public synchronized boolean changedAndSettled() {
        boolean ready = false;
        for (var e : watched.entrySet()) {
            String now = fingerprint(e.getValue());
            if (now.equals(loaded.get(e.getKey()))) {
                pending.remove(e.getKey());
                continue;
            }
            if (now.equals(pending.get(e.getKey()))) {
                ready = true;
            } else {
                pending.put(e.getKey(), now);
            }
        }
        return ready;
    }

    static String fingerprint(TlsConfig tls) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (Path p : new Path[] {tls.cert(), tls.key()}) {
                try {
                    d.update(Files.readAllBytes(p.toRealPath()));
                } catch (IOException e) {
                    d.update(("missing:" + p).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
