package nangogateway.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import nangogateway.config.TlsConfig;

/**
 * Notices certificate renewals on disk. certbot swaps the targets of {@code live/} symlinks and writes files in
 * several steps, so the watcher fingerprints the content behind the links and reports a change only once it
 * has stayed the same for one more check (a partial write is never loaded). A change is reported once: files
 * that fail to load are not read again until they change again.
 */
public final class CertificateWatcher {
    private final Map<String, TlsConfig> watched = new HashMap<>();
    private final Map<String, String> seen = new HashMap<>();
    private final Map<String, String> pending = new HashMap<>();

    /** Records a listener's files as they were when they were loaded ({@link #fingerprint} taken before). */
    public synchronized void remember(String listener, TlsConfig tls, String fingerprint) {
        watched.put(listener, tls);
        seen.put(listener, fingerprint);
        pending.remove(listener);
    }

    /** Stops watching every listener not named (a reload removed it or turned its TLS off). */
    public synchronized void retainOnly(Collection<String> listeners) {
        watched.keySet().retainAll(listeners);
        seen.keySet().retainAll(listeners);
        pending.keySet().retainAll(listeners);
    }

    /** Listeners whose files changed since last seen and did not change again since the previous check. */
    public synchronized Set<String> settledChanges() {
        Set<String> ready = new LinkedHashSet<>();
        for (var e : watched.entrySet()) {
            String name = e.getKey();
            String now = fingerprint(e.getValue());
            if (now.equals(seen.get(name))) {
                pending.remove(name);
            } else if (now.equals(pending.get(name))) {
                ready.add(name);
                seen.put(name, now);
                pending.remove(name);
            } else {
                pending.put(name, now);
            }
        }
        return ready;
    }

    /** A digest of the certificate and key content behind any symlinks; a missing file counts as content. */
    public static String fingerprint(TlsConfig tls) {
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
