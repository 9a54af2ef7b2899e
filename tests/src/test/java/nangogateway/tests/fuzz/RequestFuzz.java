package nangogateway.tests.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ListenerOptions;
import nangogateway.config.ProxyAction;
import nangogateway.config.RespondAction;
import nangogateway.config.RouteConfig;
import nangogateway.config.ServerSettings;
import nangogateway.server.Gateway;
import nangogateway.tests.TestConfigs;
import nangogateway.tests.fuzz.ClientAnswers.Answer;
import nangogateway.tests.fuzz.LlhttpRecorder.Message;
import nangogateway.tests.fuzz.LlhttpRecorder.NodeRecord;
import nangogateway.tests.fuzz.LlhttpRecorder.Reading;

/**
 * The request side of the differential fuzz: client byte streams through the gateway to Node (the recorder), each
 * also read by llhttp directly, and the three readings compared. See {@link RequestFuzzTest}.
 */
final class RequestFuzz {
    /** A stream to send: its bytes and how to find it again (a seed, or a regression file's line). */
    record Case(String label, byte[] bytes) {
    }

    record Discrepancy(Case c, String what, String detail) {
        @Override
        public String toString() {
            return c.label() + ": " + what + "\n  stream: " + Escapes.escape(c.bytes()) + "\n" + detail;
        }
    }

    /** What one stream came to, before the oracle sees Node's records. */
    private record Outcome(Case c, String clientIp, byte[] received, String clientProblem, Reading llhttp) {
    }

    /** Counts over a run. */
    static final class Stats {
        int streams;
        int llhttpRequests;
        int forwarded;
        int cut;
        int gatewayAnswered;
        int stricter;
        /**
         * Requests forwarded that llhttp reads only past something the gateway takes by design and drops: whitespace
         * in a chunk extension (RFC 9112's BWS), a trailer naming the framing or the connection (the body is
         * re-framed), a Proxy-Connection header (hop-by-hop; llhttp reads it as Connection).
         */
        final Map<String, Integer> lenient = new TreeMap<>();
        final Map<Integer, Integer> ownStatuses = new TreeMap<>();
        final Map<String, Integer> llhttpEnds = new TreeMap<>();
        final List<Discrepancy> discrepancies = new ArrayList<>();

        void add(Stats o) {
            streams += o.streams;
            llhttpRequests += o.llhttpRequests;
            forwarded += o.forwarded;
            cut += o.cut;
            gatewayAnswered += o.gatewayAnswered;
            stricter += o.stricter;
            o.lenient.forEach((k, v) -> lenient.merge(k, v, Integer::sum));
            o.ownStatuses.forEach((k, v) -> ownStatuses.merge(k, v, Integer::sum));
            o.llhttpEnds.forEach((k, v) -> llhttpEnds.merge(k, v, Integer::sum));
            discrepancies.addAll(o.discrepancies);
        }

        @Override
        public String toString() {
            return streams + " streams: llhttp read " + llhttpRequests + " whole requests; the gateway forwarded "
                    + forwarded + " whole and " + cut + " cut off inside the body, answered " + gatewayAnswered
                     + " itself " + ownStatuses + " (" + stricter + " of them requests llhttp read whole), forwarded "
                    + lenient + " that llhttp reads only past whitespace in a chunk extension (bws), a framing trailer "
                    + "(trailer) or Proxy-Connection (proxy-connection), which the gateway drops; llhttp's readings "
                    + "ended " + llhttpEnds + "; " + discrepancies.size() + " discrepancies";
        }
    }

    private final LlhttpRecorder recorder;
    private final int connections;

    RequestFuzz(LlhttpRecorder recorder, int connections) {
        this.recorder = recorder;
        this.connections = connections;
    }

    /**
     * The fuzz listener: the public surface's kinds of route (GET-only proxied paths, a webhook POST, a header
     * condition, a local answer, a CORS preflight with no body allowed) and the internal listener's prefix route
     * that takes every method, each buffering the body first; plus two prefixes that stream the body as it comes,
     * one with a 32-byte cap. Short timeouts (300 ms) end a stream that stops inside a request or after its last:
     * they decide when a stream ends, never what the oracle holds it to.
     */
    static GatewayConfig config(int nodePort) {
        ProxyAction buffered = new ProxyAction("nango", 1024 * 1024, ProxyAction.BaseUrlOverrideMode.STRIP, null);
        List<RouteConfig> routes = List.of(
                TestConfigs.route("oauth-callback", "/oauth/callback", List.of("GET"), buffered),
                TestConfigs.route("oauth-connect", "/oauth/connect/{key}", List.of("GET"), buffered),
                TestConfigs.route("webhooks", "/webhook/{env}/{key}", List.of("POST"), TestConfigs.proxy(75L << 20)),
                new RouteConfig("connect-session", List.of(nangogateway.target.PathPattern.compile("/connect/session")),
                        null, Set.of("GET"), List.of(new nangogateway.config.HeaderCondition("Authorization",
                        java.util.regex.Pattern.compile("^Bearer nango_connect_session_[a-f0-9]{64}$"))), false,
                        buffered, 1),
                TestConfigs.route("cors-preflight", "/connect/telemetry", List.of("OPTIONS"),
                        new ProxyAction("nango", 0, ProxyAction.BaseUrlOverrideMode.STRIP, null)),
                TestConfigs.route("health", "/healthz", List.of("GET", "HEAD"), new RespondAction(200, "ok\n",
                        Map.of())),
                new RouteConfig("proxy-api", List.of(), "/proxy/", Set.of(), List.of(), false, buffered, 1),
                new RouteConfig("stream", List.of(), "/stream/", Set.of(), List.of(), false,
                        new ProxyAction("nango", 1024 * 1024, ProxyAction.BaseUrlOverrideMode.STRIP, null, null, false,
                                false), 1),
                new RouteConfig("small", List.of(), "/small/", Set.of(), List.of(), false,
                        new ProxyAction("nango", 32, ProxyAction.BaseUrlOverrideMode.STRIP, null, null, false, false),
                        1));
        ListenerLimits limits = new ListenerLimits(8 * 1024, 16 * 1024, 100, Duration.ofMillis(300),
                Duration.ofMillis(300), Duration.ofMillis(300));
        ListenerConfig l = new ListenerConfig("public", "127.0.0.1", 0, null, routes, 403, limits,
                ListenerOptions.DEFAULTS);
        return new GatewayConfig("fuzz", Map.of("nango", TestConfigs.nango(nodePort, Duration.ofSeconds(5))),
                List.of(l), Map.of(), ServerSettings.DEFAULTS);
    }

    static boolean streamingRoute(String target) {
        return target.startsWith("/stream/") || target.startsWith("/small/");
    }

    /** Sends the cases through one gateway, concurrently, then checks every one against Node's records. */
    Stats run(List<Case> cases) throws Exception {
        Gateway gateway = Gateway.start(config(recorder.upstreamPort));
        List<Outcome> outcomes;
        try {
            int port = gateway.port("public");
            ExecutorService pool = Executors.newFixedThreadPool(connections);
            try {
                List<Future<Outcome>> futures = new ArrayList<>(cases.size());
                for (int i = 0; i < cases.size(); i++) {
                    Case c = cases.get(i);
                    String ip = address(i);
                    futures.add(pool.submit(() -> send(port, c, ip)));
                }
                outcomes = new ArrayList<>(cases.size());
                for (Future<Outcome> f : futures) {
                    outcomes.add(f.get());
                }
            } finally {
                pool.shutdownNow();
            }
        } finally {
            gateway.close();
        }
        // The gateway is closed, so every connection to Node is: its records are final.
        List<NodeRecord> records = recorder.records();
        Map<String, List<NodeRecord>> byClient = new HashMap<>();
        Stats stats = new Stats();
        Map<Integer, NodeRecord> lastOnSocket = new HashMap<>();
        for (NodeRecord r : records) {
            NodeRecord before = lastOnSocket.put(r.socket(), r);
            if (r.kind().equals("clientError") && r.code().equals("HPE_INVALID_EOF_STATE") && r.raw().length == 0
                    && before != null && before.kind().equals("aborted")) {
                continue; // the gateway closed the connection inside a streamed body it then refused: that request
                          // is checked as cut off, with its stream
            }
            if (r.kind().equals("clientError")) {
                String from = forwardedFor(r.raw(), r.xff());
                Outcome o = outcomes.stream().filter(x -> x.clientIp().equals(from)).findFirst().orElse(null);
                stats.discrepancies.add(new Discrepancy(o == null ? new Case("unknown stream", new byte[0]) : o.c(),
                        "Node failed to parse what the gateway sent", "  " + r.describe()));
            } else {
                byClient.computeIfAbsent(r.xff(), k -> new ArrayList<>()).add(r);
            }
        }
        for (Outcome o : outcomes) {
            check(o, byClient.getOrDefault(o.clientIp(), List.of()), stats);
        }
        stats.discrepancies.sort(java.util.Comparator.comparingInt(d -> cases.indexOf(d.c())));
        return stats;
    }

    /** The client a failed parse belongs to: the X-Forwarded-For in the failing bytes, else the connection's last. */
    private static String forwardedFor(byte[] raw, String last) {
        String s = new String(raw, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = s.indexOf("\r\nX-Forwarded-For: ");
        if (at < 0) {
            return last;
        }
        int from = at + "\r\nX-Forwarded-For: ".length();
        int end = s.indexOf('\r', from);
        return end < 0 ? last : s.substring(from, end);
    }

    /** A client address of its own for each stream, so Node's records name their stream in X-Forwarded-For. */
    private static String address(int i) {
        return "127." + (1 + i / 65536) + "." + ((i / 256) % 256) + "." + (i % 256);
    }

    private Outcome send(int port, Case c, String ip) throws Exception {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        String problem = null;
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(ip, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            // A hang guard, not a timing assertion: the gateway ends every stream within its 300 ms timeouts.
            s.setSoTimeout(30_000);
            try {
                s.getOutputStream().write(c.bytes());
                s.getOutputStream().flush();
            } catch (IOException e) {
                // the gateway refused and closed before taking every byte: what it answered is still read
            }
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    received.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                problem = "the gateway neither answered nor closed within 30 s";
            } catch (IOException e) {
                // reset after a refusal: what came before it counts
            }
        }
        Reading llhttp = recorder.readRequests(c.bytes());
        return new Outcome(c, ip, received.toByteArray(), problem, llhttp);
    }

    /** The oracle for one stream. */
    private void check(Outcome o, List<NodeRecord> records, Stats stats) {
        stats.streams++;
        Reading l = o.llhttp();
        stats.llhttpEnds.merge(l.end(), 1, Integer::sum);
        for (Message m : l.messages()) {
            if (m.complete()) {
                stats.llhttpRequests++;
            }
        }
        List<Answer> answers;
        try {
            answers = ClientAnswers.read(o.received());
        } catch (RuntimeException e) {
            stats.discrepancies.add(new Discrepancy(o.c(), "unreadable answer from the gateway: " + e.getMessage(),
                    "  received: " + Escapes.escape(o.received())));
            return;
        }
        String detail = "  gateway answers: " + answers + "\n  llhttp reading:\n" + l.describe()
                + "\n  Node behind the gateway read:" + (records.isEmpty() ? " nothing" : "")
                + records.stream().map(r -> "\n    " + r.describe()).reduce("", String::concat);
        if (o.clientProblem() != null) {
            stats.discrepancies.add(new Discrepancy(o.c(), o.clientProblem(), detail));
        }
        // Each of Node's records is the gateway's request k: the answer that relays Node's (X-Recorder-Seq), or
        // else the gateway's own answer with the record's request id, in order (an answer lost to a reset after
        // the gateway closed can only be at the end).
        int[] index = new int[records.size()];
        int from = 0;
        for (int i = 0; i < records.size(); i++) {
            NodeRecord r = records.get(i);
            int k = -1;
            for (int j = from; j < answers.size() && k < 0; j++) {
                if (answers.get(j).recorderSeq() == r.seq()) {
                    k = j;
                }
            }
            for (int j = from; j < answers.size() && k < 0; j++) {
                if (answers.get(j).recorderSeq() < 0 && r.requestId().equals(answers.get(j).header("X-Request-Id"))) {
                    k = j;
                }
            }
            if (k < 0) {
                k = Math.max(from, answers.size());
            }
            index[i] = k;
            from = k + 1;
        }
        for (int i = 0; i < records.size(); i++) {
            NodeRecord r = records.get(i);
            int k = index[i];
            if (r.kind().equals("connect")) {
                stats.discrepancies.add(new Discrepancy(o.c(), "Node took request " + k
                        + " as a CONNECT tunnel: the bytes after its head are not read as HTTP", detail));
                continue;
            }
            if (k >= l.messages().size()) {
                stats.discrepancies.add(new Discrepancy(o.c(), "Node read a request " + k
                        + " that llhttp does not read off the client's bytes", detail));
                continue;
            }
            Message m = l.messages().get(k);
            boolean whole = r.kind().equals("request");
            if (whole) {
                stats.forwarded++;
            } else {
                stats.cut++;
                // Node gets a request cut off only when the gateway refused its body midway (400 for its framing,
                // 413 for its size, 408 for its pace), or the client connection ended inside it.
                Answer a = k < answers.size() ? answers.get(k) : null;
                boolean refusedBody = a != null && a.recorderSeq() < 0
                        && (a.status() == 400 || a.status() == 408 || a.status() == 413);
                if (!refusedBody && !(a == null && !m.complete())) {
                    stats.discrepancies.add(new Discrepancy(o.c(), "Node got request " + k + " cut off, and the "
                            + "gateway did not refuse its body (its answer: " + a + ")", detail));
                    continue;
                }
            }
            if (m.refusedMethod()) {
                stats.discrepancies.add(new Discrepancy(o.c(), "the gateway forwarded request " + k + " with method "
                        + Escapes.escape(m.method()) + ", which llhttp refuses (or takes as a tunnel)", detail));
                continue;
            }
            if (whole && !m.complete()) {
                stats.discrepancies.add(new Discrepancy(o.c(), "Node read request " + k
                        + " whole; llhttp reads it unfinished off the client's bytes", detail));
                continue;
            }
            for (String why : m.lenient()) {
                stats.lenient.merge(why, 1, Integer::sum); // dropped by the gateway: Node never sees them
            }
            String diff = ForwardingModel.difference(m, r, whole, streamingRoute(m.url()), o.clientIp(),
                    "127.0.0.1:" + recorder.upstreamPort);
            if (diff != null) {
                stats.discrepancies.add(new Discrepancy(o.c(), "request " + k + ": " + diff, detail));
            }
        }
        for (int j = 0; j < answers.size(); j++) {
            Answer a = answers.get(j);
            int seq = a.recorderSeq();
            if (seq < 0) {
                stats.gatewayAnswered++;
                stats.ownStatuses.merge(a.status(), 1, Integer::sum);
                if (a.status() == 400 && j < l.messages().size() && l.messages().get(j).complete()) {
                    stats.stricter++;
                }
                for (int i = 0; i < records.size(); i++) {
                    if (index[i] == j && records.get(i).kind().equals("request") && a.status() >= 400
                            && a.status() < 500) {
                        stats.discrepancies.add(new Discrepancy(o.c(), "the gateway refused request " + j + " with "
                                + a.status() + " but Node read it whole", detail));
                    }
                }
                continue;
            }
            int at = -1;
            for (int i = 0; i < records.size(); i++) {
                if (records.get(i).seq() == seq) {
                    at = i;
                }
            }
            if (at < 0 || index[at] != j) {
                stats.discrepancies.add(new Discrepancy(o.c(), "answer " + j + " is Node's answer #" + seq
                        + ", which is not Node's answer to this client's request " + j, detail));
            }
        }
    }

    /** A short report of the first discrepancies. */
    static String report(List<Discrepancy> ds, int max) {
        List<Discrepancy> first = ds.subList(0, Math.min(max, ds.size()));
        StringBuilder sb = new StringBuilder();
        for (Discrepancy d : first) {
            sb.append(d).append("\n\n");
        }
        return sb.toString();
    }

    static List<Case> unmodifiable(List<Case> cases) {
        return Collections.unmodifiableList(cases);
    }
}
