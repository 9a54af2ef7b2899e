package nangogateway.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * One TLS handshake between a listener's context and an in-memory client, run once at start on a thread of its own.
 * The JDK loads and first runs several hundred classes of its TLS stack on the first handshake (a quarter of a
 * second on a cold JVM); done while the listeners are being bound, the first real client does not wait for it. No
 * socket is opened and nothing of it outlives the handshake.
 */
public final class TlsWarmUp {
    private static final int ROUNDS = 50;

    private TlsWarmUp() {
    }

    public static void inBackground(TlsMaterial.Loaded loaded) {
        Thread thread = new Thread(() -> {
            try {
                handshake(loaded.context(), loaded.leaf());
            } catch (GeneralSecurityException | java.io.IOException | RuntimeException e) {
                // nothing lost: the first client pays the cold start instead
            }
        }, "tls-warm-up");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Runs a client that trusts exactly {@code leaf} against the server context's engine; the subject the client was
     * served.
     */
    static String handshake(SslContext server, X509Certificate leaf) throws GeneralSecurityException,
            java.io.IOException {
        KeyStore trusted = KeyStore.getInstance("JKS");
        trusted.load(null, null);
        trusted.setCertificateEntry("leaf", leaf);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext clientContext = SSLContext.getInstance("TLS");
        clientContext.init(null, tmf.getTrustManagers(), null);
        SSLEngine c = clientContext.createSSLEngine();
        c.setUseClientMode(true);
        SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
        ByteBuffer none = ByteBuffer.allocate(0);
        int size = Math.max(c.getSession().getPacketBufferSize(), s.getSession().getPacketBufferSize());
        ByteBuffer toServer = ByteBuffer.allocate(size);
        ByteBuffer toClient = ByteBuffer.allocate(size);
        ByteBuffer app = ByteBuffer.allocate(Math.max(size, c.getSession().getApplicationBufferSize()));
        c.beginHandshake();
        s.beginHandshake();
        for (int i = 0; i < ROUNDS && !(idle(c) && idle(s)); i++) {
            c.wrap(none, toServer);
            toServer.flip();
            s.unwrap(toServer, app);
            toServer.compact();
            runTasks(s);
            s.wrap(none, toClient);
            toClient.flip();
            c.unwrap(toClient, app);
            toClient.compact();
            runTasks(c);
        }
        if (!(idle(c) && idle(s))) {
            throw new SSLException("handshake did not finish: " + c.getHandshakeStatus() + "/"
                    + s.getHandshakeStatus());
        }
        return ((X509Certificate) c.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }

    private static boolean idle(SSLEngine e) {
        return e.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING;
    }

    private static void runTasks(SSLEngine e) {
        for (Runnable t = e.getDelegatedTask(); t != null; t = e.getDelegatedTask()) {
            t.run();
        }
    }
}
