package nangogateway.tests.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import nangogateway.server.Gateway;
import nangogateway.tests.fuzz.LlhttpRecorder.Field;
import nangogateway.tests.fuzz.LlhttpRecorder.Message;
import nangogateway.tests.fuzz.LlhttpRecorder.Reading;

/**
 * The response side of the differential fuzz: an upstream on a raw socket writes each case's bytes as Nango's
 * answer, the gateway relays it (or answers 502), and llhttp reads the same bytes as Node's http client reads a
 * response. See {@link ResponseFuzzTest}.
 */
final class ResponseFuzz {
    /** A case: the request's method, the upstream's bytes, where (if anywhere) they are written in two pieces. */
    record Case(String label, String method, byte[] bytes, int split) {
    }

    record Discrepancy(Case c, String what, String detail) {
        @Override
        public String toString() {
            return c.label() + ": " + what + "\n  " + c.method() + " answered with: " + Escapes.escape(c.bytes())
                    + (c.split() > 0 ? " (written in two pieces, at " + c.split() + ")" : "") + "\n" + detail;
        }
    }

    /** What the client got from the gateway: one response (1xx left out), and any bytes after it. */
    record Got(int status, String reason, List<Field> headers, byte[] body, boolean complete, byte[] after) {
        String header(String name) {
            for (Field f : headers) {
                if (f.name().equalsIgnoreCase(name)) {
                    return f.value();
                }
            }
            return null;
        }

        /**
         * One of the gateway's own status pages (LocalResponses.text), not a relayed response: its fixed lines, and
         * its text as the body (none for a HEAD).
         */
        boolean gatewaysOwn(boolean head) {
            String text = status + " " + reason + "\n";
            return status >= 500 && "no-store".equals(header("Cache-Control"))
                    && "nosniff".equals(header("X-Content-Type-Options"))
                    && Integer.toString(text.length()).equals(header("Content-Length"))
                    && new String(body, StandardCharsets.ISO_8859_1).equals(head ? "" : text);
        }

        String describe() {
            return status + " " + Escapes.escape(reason) + " headers=" + headers + " body=" + Escapes.escape(body)
                    + (complete ? "" : " (cut)") + (after.length > 0 ? " then " + Escapes.escape(after) : "");
        }
    }

    static final class Stats {
        int cases;
        int llhttpWhole;
        int relayedWhole;
        int relayedCut;
        int refused;
        int stricter;
        int closedUnanswered;
        final Map<String, Integer> lenient = new TreeMap<>();
        final Map<String, Integer> llhttpEnds = new TreeMap<>();
        final List<Discrepancy> discrepancies = new ArrayList<>();

        void add(Stats o) {
            cases += o.cases;
            llhttpWhole += o.llhttpWhole;
            relayedWhole += o.relayedWhole;
            relayedCut += o.relayedCut;
            refused += o.refused;
            stricter += o.stricter;
            closedUnanswered += o.closedUnanswered;
            o.lenient.forEach((k, v) -> lenient.merge(k, v, Integer::sum));
            o.llhttpEnds.forEach((k, v) -> llhttpEnds.merge(k, v, Integer::sum));
            discrepancies.addAll(o.discrepancies);
        }

        @Override
        public String toString() {
            return cases + " responses: llhttp read " + llhttpWhole + " whole; the gateway relayed " + relayedWhole
                    + " whole and " + relayedCut + " cut off (the client connection closed inside the body), answered "
                    + refused + " with its own 5xx and closed " + closedUnanswered
                    + " client connections without a byte (" + stricter + " of them responses llhttp read whole);"
                    + " relayed "
                    + lenient + " that llhttp reads only past whitespace in a chunk extension (bws) or a framing "
                    + "trailer (trailer), which the gateway drops; llhttp's readings ended " + llhttpEnds + "; "
                    + discrepancies.size() + " discrepancies";
        }
    }

    private final LlhttpRecorder recorder;
    private final int connections;

    ResponseFuzz(LlhttpRecorder recorder, int connections) {
        this.recorder = recorder;
        this.connections = connections;
    }

    /** Plays Nango: reads a request head, answers with its case's bytes, closes. */
    private static final class RawUpstream implements AutoCloseable {
        private final ServerSocket server;
        private final ExecutorService pool = Executors.newCachedThreadPool();
        private final Map<String, Case> cases = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> served = new ConcurrentHashMap<>();
        private final Thread acceptor;

        RawUpstream() throws IOException {
            server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
            acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        pool.submit(() -> serve(s));
                    } catch (IOException e) {
                        return; // closed
                    }
                }
            }, "raw-upstream");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        void add(String id, Case c) {
            cases.put(id, c);
        }

        private void serve(Socket s) {
            try (s) {
                s.setSoTimeout(10_000);
                InputStream in = s.getInputStream();
                ByteArrayOutputStream head = new ByteArrayOutputStream();
                while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                    int b = in.read();
                    if (b < 0) {
                        return; // a pooled connection closed unused
                    }
                    head.write(b);
                }
                String line = head.toString(StandardCharsets.ISO_8859_1);
                String target = line.substring(line.indexOf(' ') + 1, line.indexOf(" HTTP/"));
                String id = target.substring(target.lastIndexOf('/') + 1);
                Case c = cases.get(id);
                served.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                OutputStream out = s.getOutputStream();
                if (c.split() > 0 && c.split() < c.bytes().length) {
                    out.write(c.bytes(), 0, c.split());
                    out.flush();
                    Thread.sleep(3); // so the gateway may read the two pieces apart (not relied on)
                    out.write(c.bytes(), c.split(), c.bytes().length - c.split());
                } else {
                    out.write(c.bytes());
                }
                out.flush();
                s.shutdownOutput();
                // Read to the gateway's close, so the socket ends without a reset that could cut what was sent.
                byte[] buf = new byte[4096];
                while (in.read(buf) >= 0) {
                    // whatever the gateway sends next on a connection it thinks reusable is not answered
                }
            } catch (SocketTimeoutException | SocketException e) {
                // the gateway kept the connection, or reset it: done either way
            } catch (IOException | InterruptedException e) {
                // done
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            pool.shutdownNow();
        }
    }

    Stats run(List<Case> cases) throws Exception {
        Stats stats = new Stats();
        try (RawUpstream upstream = new RawUpstream()) {
            for (int i = 0; i < cases.size(); i++) {
                upstream.add(Integer.toString(i), cases.get(i));
            }
            Gateway gateway = Gateway.start(RequestFuzz.config(upstream.port()));
            List<Future<Outcome>> futures = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(connections);
            try {
                int port = gateway.port("public");
                for (int i = 0; i < cases.size(); i++) {
                    Case c = cases.get(i);
                    int id = i;
                    futures.add(pool.submit(() -> exchange(port, c, id)));
                }
                for (Future<Outcome> f : futures) {
                    check(f.get(), stats);
                }
            } finally {
                pool.shutdownNow();
                gateway.close();
            }
        }
        return stats;
    }

    private record Outcome(Case c, byte[] received, String problem, Reading llhttp) {
    }

    private Outcome exchange(int port, Case c, int id) throws Exception {
        // Half the cases on the route that reads a response ahead of the client, half on the one that streams it.
        String target = (id % 2 == 0 ? "/proxy/r/" : "/stream/r/") + id;
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        String problem = null;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(30_000); // a hang guard: the upstream closes after each answer
            s.getOutputStream().write((c.method() + " " + target + " HTTP/1.1\r\nHost: gw.example\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    received.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                problem = "the gateway neither answered nor closed within 30 s";
            } catch (IOException e) {
                // reset: what came before it counts
            }
        }
        return new Outcome(c, received.toByteArray(), problem, recorder.readResponses(c.bytes(), c.method()));
    }

    /** Reads the one response of a client connection that asked to close; null when no whole head came. */
    static Got read(byte[] b, boolean head) {
        int pos = 0;
        while (true) {
            int end = ClientAnswers.indexOf(b, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), pos);
            if (end < 0) {
                return null;
            }
            String[] lines = new String(b, pos, end - pos, StandardCharsets.ISO_8859_1).split("\r\n", -1);
            pos = end + 4;
            String[] sl = lines[0].split(" ", 3);
            int status = Integer.parseInt(sl[1]);
            if (status >= 100 && status < 200 && status != 101) {
                continue;
            }
            List<Field> headers = new ArrayList<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.add(new Field(lines[i].substring(0, colon), lines[i].substring(colon + 1).trim()));
            }
            Got g = new Got(status, sl.length > 2 ? sl[2] : "", headers, new byte[0], true, new byte[0]);
            String te = g.header("Transfer-Encoding");
            String cl = g.header("Content-Length");
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            boolean complete = true;
            if (head || status == 204 || status == 304 || status == 101) {
                // no body
            } else if (te != null) {
                complete = false;
                while (true) {
                    int lf = ClientAnswers.indexOf(b, new byte[] {'\r', '\n'}, pos);
                    if (lf < 0) {
                        break;
                    }
                    int size = Integer.parseInt(new String(b, pos, lf - pos, StandardCharsets.ISO_8859_1).trim(), 16);
                    pos = lf + 2;
                    if (size == 0) {
                        complete = pos + 2 <= b.length && b[pos] == '\r' && b[pos + 1] == '\n';
                        pos = Math.min(b.length, pos + 2);
                        break;
                    }
                    int take = Math.min(size, b.length - pos);
                    body.write(b, pos, take);
                    pos += take;
                    if (take < size || pos + 2 > b.length) {
                        pos = b.length;
                        break;
                    }
                    pos += 2;
                }
            } else if (cl != null) {
                long n = Long.parseLong(cl);
                int take = (int) Math.min(n, b.length - pos);
                body.write(b, pos, take);
                pos += take;
                complete = take == n;
            } else {
                body.write(b, pos, b.length - pos);
                pos = b.length;
            }
            return new Got(status, g.reason(), headers, body.toByteArray(), complete,
                    Arrays.copyOfRange(b, pos, b.length));
        }
    }

    private void check(Outcome o, Stats stats) {
        stats.cases++;
        Reading l = o.llhttp();
        stats.llhttpEnds.merge(l.end(), 1, Integer::sum);
        Message f = null;
        for (Message m : l.messages()) {
            if (m.status() >= 200 || m.status() == 101) {
                f = m;
                break;
            }
        }
        if (f != null && f.complete()) {
            stats.llhttpWhole++;
        }
        boolean head = o.c().method().equals("HEAD");
        Got g;
        try {
            g = read(o.received(), head);
        } catch (RuntimeException e) {
            g = null;
        }
        String detail = "  the client got: " + (g == null ? Escapes.escape(o.received()) : g.describe())
                + "\n  llhttp reading:\n" + l.describe();
        if (o.problem() != null) {
            stats.discrepancies.add(new Discrepancy(o.c(), o.problem(), detail));
            return;
        }
        if (g == null && o.received().length == 0) {
            // The gateway closed the client connection without a byte. It once did when the upstream's head and a
            // first good chunk came in one read with a chunk refused after them (the head was written, not yet
            // flushed, and the close dropped it); the head and the pieces of its read are now held together, so
            // such a response gets the gateway's 502.
            stats.closedUnanswered++;
            if (f != null && f.complete()) {
                stats.stricter++;
            }
            stats.discrepancies.add(new Discrepancy(o.c(), "the client connection closed without a byte (a 502 was"
                    + " due)", detail));
            return;
        }
        if (g == null) {
            stats.discrepancies.add(new Discrepancy(o.c(), "no whole response head reached the client", detail));
            return;
        }
        if (g.after().length > 0) {
            stats.discrepancies.add(new Discrepancy(o.c(), "bytes after the response on the client connection",
                    detail));
        }
        if (g.gatewaysOwn(head)) {
            stats.refused++;
            if (f != null && f.complete()) {
                stats.stricter++;
            }
            return;
        }
        if (f == null) {
            stats.discrepancies.add(new Discrepancy(o.c(), "the gateway relayed a response where llhttp reads none",
                    detail));
            return;
        }
        if (g.complete()) {
            stats.relayedWhole++;
        } else {
            stats.relayedCut++;
        }
        for (String why : f.lenient()) {
            stats.lenient.merge(why, 1, Integer::sum);
        }
        String diff = difference(f, g, head);
        if (diff != null) {
            stats.discrepancies.add(new Discrepancy(o.c(), diff, detail));
        }
    }

    /** Response headers never relayed (UpstreamResponseDecoder.HOP_BY_HOP, restated). */
    static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "trailer", "upgrade", "proxy-authenticate");

    /**
     * Why the client's response is not llhttp's final response {@code f} as the gateway relays it, or null: the
     * same status and reason phrase, the same body (whole, or a start of it when the gateway cut the connection),
     * and the upstream's header lines in order, byte for byte, minus hop-by-hop ones, those a {@code Connection}
     * header names (never {@code Content-Length}), a length on a 1xx or 204, and {@code X-Request-Id}; plus the
     * gateway's own, exactly once each: {@code X-Request-Id}, {@code Connection: close} (the client asked), and
     * {@code Transfer-Encoding: chunked} when the upstream gave no length for a response with a body. A 205 goes
     * with {@code Content-Length: 0} and no body, whatever the upstream sent.
     */
    static String difference(Message f, Got g, boolean head) {
        if (f.status() == 101) {
            return "the gateway relayed a 101 on a route that is not a WebSocket's";
        }
        if (g.status() != f.status() || !g.reason().equals(f.reason())) {
            return "status: the client got " + g.status() + " " + Escapes.escape(g.reason()) + ", llhttp read "
                    + f.status() + " " + Escapes.escape(f.reason());
        }
        if (g.complete() && !f.complete() && f.status() != 205) {
            // (a 205 goes to the client without content, so a body the upstream left unfinished is not relayed)
            return "the gateway relayed a whole response; llhttp reads it unfinished";
        }
        if (!g.complete() && f.complete() && f.status() != 205) {
            // The gateway cuts a response it began to relay only when its body turns out broken: llhttp reads
            // this one whole, so the client lost the end of a good response.
            return "the gateway cut off a response llhttp reads whole";
        }
        boolean bodyOk = f.status() == 205 ? g.body().length == 0
                : g.complete() ? Arrays.equals(g.body(), f.body())
                : g.body().length <= f.body().length && Arrays.equals(g.body(), 0, g.body().length, f.body(), 0,
                        g.body().length);
        if (!bodyOk) {
            return "body: the client got " + Escapes.escape(g.body()) + (g.complete() ? "" : " (cut)")
                    + ", llhttp read "
                    + Escapes.escape(f.body());
        }
        boolean lengthKnown = false;
        Set<String> named = new HashSet<>();
        for (Field h : f.headers()) {
            String n = h.name().toLowerCase(Locale.ROOT);
            if (n.equals("content-length")) {
                lengthKnown = true;
            } else if (n.equals("connection")) {
                for (String t : h.value().split(",", -1)) {
                    String token = trimOws(t).toLowerCase(Locale.ROOT);
                    if (!token.equals("keep-alive") && !token.equals("close") && !token.equals("content-length")) {
                        named.add(token);
                    }
                }
            }
        }
        int code = f.status();
        boolean noBody = head || code == 204 || code == 304;
        Map<String, String> own = new LinkedHashMap<>();
        own.put("x-request-id", "[0-9a-f]{32}");
        own.put("connection", "close");
        if (code == 205) {
            // Reset Content has no content (RFC 9110 section 15.3.6): the client connection's encoder (Netty's)
            // sends Content-Length: 0 in place of the upstream's framing, and no body
            own.put("content-length", "0");
        } else if (!noBody && !lengthKnown) {
            own.put("transfer-encoding", "chunked");
        }
        List<Field> kept = new ArrayList<>();
        for (Field h : f.headers()) {
            String n = h.name().toLowerCase(Locale.ROOT);
            boolean drop = HOP_BY_HOP.contains(n) || named.contains(n) || own.containsKey(n)
                    || (n.equals("content-length") && (code < 200 || code == 204));
            if (!drop) {
                kept.add(h);
            }
        }
        List<Field> rest = new ArrayList<>();
        Map<String, List<String>> seen = new LinkedHashMap<>();
        for (Field h : g.headers()) {
            String n = h.name().toLowerCase(Locale.ROOT);
            if (own.containsKey(n)) {
                seen.computeIfAbsent(n, k -> new ArrayList<>()).add(h.value());
            } else {
                rest.add(h);
            }
        }
        if (!rest.equals(kept)) {
            return "headers: the client got " + rest + ", the gateway should relay " + kept + " of llhttp's "
                    + f.headers();
        }
        for (Map.Entry<String, String> e : own.entrySet()) {
            List<String> v = seen.getOrDefault(e.getKey(), List.of());
            if (v.size() != 1 || !v.get(0).matches(e.getValue())) {
                return e.getKey() + ": the client got " + v + ", expected exactly one matching " + e.getValue();
            }
        }
        return null;
    }

    /** Without the spaces and tabs (RFC 9110's OWS) around it. */
    private static String trimOws(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) {
            to--;
        }
        return s.substring(from, to);
    }

    static String report(List<Discrepancy> ds, int max) {
        StringBuilder sb = new StringBuilder();
        for (Discrepancy d : ds.subList(0, Math.min(max, ds.size()))) {
            sb.append(d).append("\n\n");
        }
        return sb.toString();
    }
}
