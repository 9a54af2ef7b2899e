package nangogateway.probe;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Sends probe cases to a live deployment over raw sockets, so that exactly the case's bytes go on the wire (no
 * HTTP client would send most of them). One connection per case and never two at once, paced by
 * {@link RequestPacer}; each case has one deadline covering connect, handshake and answer.
 */
public final class ProbeRunner {
    /**
     * @param insecure accept any server certificate; only on explicit request, since a probe that trusts anyone
     *                 may be auditing someone else's server
     */
    public record Settings(Duration timeout, double requestsPerSecond, boolean insecure) {
    }

    private final ProbeTarget target;
    private final Settings settings;
    private final SSLSocketFactory tls;
    private final RequestPacer pacer;

    public ProbeRunner(ProbeTarget target, Settings settings) {
        this.target = target;
        this.settings = settings;
        this.tls = target.tls() ? tlsFactory(settings.insecure()) : null;
        this.pacer = new RequestPacer(settings.requestsPerSecond());
    }

    /**
     * Runs every case in order; {@code each} sees each result as it arrives. When the very first case cannot
     * connect, the rest are not tried (each would wait out its timeout) and only that one result is returned.
     */
    public List<ProbeResult> run(List<ProbeCase> cases, Consumer<ProbeResult> each) throws InterruptedException {
        List<ProbeResult> results = new ArrayList<>(cases.size());
        for (ProbeCase c : cases) {
            pacer.await();
            Exchange seen = exchange(c);
            ProbeResult r = new ProbeResult(c, seen, c.judge(seen));
            results.add(r);
            each.accept(r);
            if (results.size() == 1 && r.unreachable()) {
                break;
            }
        }
        return results;
    }

    Exchange exchange(ProbeCase c) {
        long deadline = System.nanoTime() + settings.timeout().toNanos();
        int timeoutMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, settings.timeout().toMillis()));
        Socket plain = new Socket();
        Socket socket = plain;
        try {
            try {
                plain.connect(new InetSocketAddress(target.host(), target.port()), timeoutMillis);
                plain.setSoTimeout(timeoutMillis);
            } catch (IOException e) {
                return new Exchange.Unreachable("could not connect: " + ResponseReader.describe(e));
            }
            if (tls != null) {
                try {
                    socket = handshake(plain);
                } catch (IOException e) {
                    return new Exchange.Unreachable("TLS handshake failed: " + ResponseReader.describe(e));
                }
            }
            send(socket, c.bytes(target.authority()));
            return new ResponseReader(socket, new BufferedInputStream(socket.getInputStream()), deadline,
                    timeoutText()).read(c.framingAttack());
        } catch (IOException e) {
            // Only getInputStream() gets here, on a socket this side has broken: no verdict.
            return new Exchange.Unreachable(ResponseReader.describe(e));
        } finally {
            // Closed here rather than by try-with-resources: a failing close must not replace the verdict.
            closeQuietly(socket);
            closeQuietly(plain);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // the exchange is over; nothing depends on a clean close
        }
    }

    /**
     * Writes the whole request. A server that refuses early may close while the rest is still being written; the
     * write error is ignored because its answer, if any, is already on the way back.
     */
    private static void send(Socket socket, byte[] request) {
        try {
            OutputStream out = socket.getOutputStream();
            out.write(request);
            out.flush();
        } catch (IOException e) {
            // read() reports what the server did
        }
    }

    private SSLSocket handshake(Socket plain) throws IOException {
        SSLSocket ssl = (SSLSocket) tls.createSocket(plain, target.host(), target.port(), true);
        if (!settings.insecure()) {
            SSLParameters params = ssl.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
            ssl.setSSLParameters(params);
        }
        try {
            ssl.startHandshake();
        } catch (IOException e) {
            closeQuietly(ssl);
            throw e;
        }
        return ssl;
    }

    private String timeoutText() {
        Duration t = settings.timeout();
        return t.toMillis() % 1000 == 0 ? t.toSeconds() + "s" : t.toMillis() + "ms";
    }

    private static SSLSocketFactory tlsFactory(boolean insecure) {
        if (!insecure) {
            return (SSLSocketFactory) SSLSocketFactory.getDefault(); // the JDK trust store
        }
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new TrustAnyone()}, new SecureRandom());
            return context.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS implementation: " + e.getMessage(), e);
        }
    }

    /** For {@code --insecure} only: self-signed or internal certificates on the operator's own host. */
    private static final class TrustAnyone implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
