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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
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
 *
 * <p>Before the cases, a plain request for each allowed route the traversals climb to: its answer is what "the
 * front end resolved the traversal to that route" looks like, and its time (the second request, once a cold server
 * has warmed up) raises the timeout on a slow machine. A case that still gets no answer in time is sent once more
 * with twice the timeout before it is left without a verdict.
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
    /** What the plain requests before the cases found; set by {@link #run}. */
    private Calibration calibration;

    /**
     * @param timeout    the timeout each case gets: the one asked for, or more when the target answered slowly
     * @param plainTime  how long the plain request took once warm, or null when it was not answered
     * @param plainRequest the request timed, e.g. {@code GET /oauth/callback}
     */
    public record Calibration(Duration timeout, Duration plainTime, String plainRequest,
            Map<String, Exchange.Answered> anchors) {
    }

    /** A warm answer this many times slower than usual is still an answer, not a hang. */
    static final int TIMEOUT_OVER_PLAIN = 8;

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
        calibration = calibrate(cases);
        Duration timeout = calibration.timeout();
        List<ProbeResult> results = new ArrayList<>(cases.size());
        for (ProbeCase c : cases) {
            pacer.await();
            Exchange seen = exchange(c, timeout);
            if (seen instanceof Exchange.Silent first) {
                // A loaded machine, not a hang, is the likelier cause of one slow answer: once more, with longer.
                pacer.await();
                Exchange again = exchange(c, timeout.multipliedBy(2));
                seen = again instanceof Exchange.Silent second
                        ? new Exchange.Silent(first.how() + ", nor " + second.how().replaceFirst("^no answer ", "")
                                + " on a second try")
                        : again;
            }
            Exchange.Answered baseline = c.aim() == null ? null
                    : calibration.anchors().get(anchorKey(c.aim()));
            ProbeResult r = new ProbeResult(c, seen, c.judge(seen, baseline, target.authority()));
            results.add(r);
            each.accept(r);
            if (results.size() == 1 && r.unreachable()) {
                break;
            }
        }
        return results;
    }

    /** What the plain requests before the last {@link #run} found. */
    public Calibration calibration() {
        return calibration;
    }

    private static String anchorKey(ProbeCase.Aim aim) {
        return aim.anchorMethod() + " " + aim.anchorPath();
    }

    /**
     * Sends the plain request for each allowed route the cases climb to (or {@code GET /oauth/callback} when none
     * does); the first one twice, timing the second. A generous timeout here: a server that just started answers
     * its first requests slowly.
     */
    private Calibration calibrate(List<ProbeCase> cases) throws InterruptedException {
        Map<String, Function<String, String>> plain = new LinkedHashMap<>();
        for (ProbeCase c : cases) {
            if (c.aim() != null) {
                plain.putIfAbsent(anchorKey(c.aim()), c.aim().baseline());
            }
        }
        if (plain.isEmpty()) {
            plain.put("GET " + ProbeCatalog.ANCHOR, ProbeCatalog.get(ProbeCatalog.ANCHOR));
        }
        Duration generous = settings.timeout().multipliedBy(3);
        Map<String, Exchange.Answered> anchors = new LinkedHashMap<>();
        Duration plainTime = null;
        String timed = plain.keySet().iterator().next();
        for (Map.Entry<String, Function<String, String>> e : plain.entrySet()) {
            ProbeCase request = new ProbeCase(ProbeKind.PRIVATE, "plain " + e.getKey(), e.getValue(),
                    ProbeCase.Rule.REFUSE);
            pacer.await();
            Exchange first = exchange(request, generous);
            if (first instanceof Exchange.Unreachable) {
                break; // the first case will say so
            }
            if (e.getKey().equals(timed)) {
                pacer.await();
                long start = System.nanoTime();
                Exchange second = exchange(request, generous);
                if (second instanceof Exchange.Answered) {
                    plainTime = Duration.ofNanos(System.nanoTime() - start);
                    first = second;
                }
            }
            if (first instanceof Exchange.Answered a) {
                anchors.put(e.getKey(), a);
            }
        }
        Duration timeout = settings.timeout();
        if (plainTime != null && plainTime.multipliedBy(TIMEOUT_OVER_PLAIN).compareTo(timeout) > 0) {
            timeout = plainTime.multipliedBy(TIMEOUT_OVER_PLAIN);
        }
        return new Calibration(timeout, plainTime, timed, Map.copyOf(anchors));
    }

    Exchange exchange(ProbeCase c, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int timeoutMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
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
            byte[] request = c.bytes(target.authority());
            send(socket, request);
            return new ResponseReader(socket, new BufferedInputStream(socket.getInputStream()), deadline,
                    timeoutText(timeout)).read(c.framingAttack(), c.raw(target.authority()).startsWith("HEAD "));
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

    static String timeoutText(Duration t) {
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
