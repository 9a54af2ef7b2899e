package nangogateway.tests.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The Node side of the differential fuzz tests: {@code tests/llhttp-recorder/recorder.js} run by
 * {@code /usr/bin/node}. It plays Nango behind the gateway (a {@code node:http} server that records every request
 * it reads and every parse error), and reads byte streams with llhttp directly, as Node's server reads a client's
 * connection or as its http client reads a response. Without node the tests skip, unless
 * {@code NANGO_GATEWAY_BROWSER_TEST=1} (CI) makes node required.
 */
final class LlhttpRecorder implements AutoCloseable {
    static final boolean REQUIRED = "1".equals(System.getenv("NANGO_GATEWAY_BROWSER_TEST"));
    private static final Path NODE = Path.of("/usr/bin/node");

    private final Process process;
    private final List<String> said = new CopyOnWriteArrayList<>();
    private final HttpClient http;
    final int upstreamPort;
    private final int controlPort;

    /** A header line as llhttp gave it: name and value as bytes read one char per byte (ISO-8859-1). */
    record Field(String name, String value) {
        @Override
        public String toString() {
            return Escapes.escape(name) + ": " + Escapes.escape(value);
        }
    }

    /** One message llhttp read: a request (method, url) or a response (status, reason). */
    record Message(boolean complete, boolean upgrade, boolean keepAlive, boolean refusedMethod,
            java.util.Set<String> lenient, String version,
            String method, String url, int status, String reason, byte[] body, List<Field> headers,
            List<Field> trailers) {
        String describe() {
            return (status > 0 ? "HTTP/" + version + " " + status + " " + Escapes.escape(reason)
                    : Escapes.escape(method) + " " + Escapes.escape(url) + " HTTP/" + version)
                    + " headers=" + headers + (trailers.isEmpty() ? "" : " trailers=" + trailers) + " body="
                    + Escapes.escape(body) + (complete ? "" : " (incomplete)") + (upgrade ? " (upgrade)" : "")
                    + (refusedMethod ? " (llhttp refuses this method; read on as if it were GET)" : "")
                    + (lenient.contains("bws") ? " (llhttp refuses whitespace in a chunk extension; read on"
                            + " without it)" : "")
                    + (lenient.contains("trailer") ? " (llhttp refuses, or ends the connection on, a trailer naming"
                            + " the framing or the connection; read on without it)" : "")
                    + (lenient.contains("proxy-connection") ? " (llhttp ends the connection on Proxy-Connection: close;"
                            + " read on without it)" : "");
        }
    }

    /**
     * llhttp's reading of a whole byte stream: the messages in order, then how it ended: {@code eof} (every byte
     * read, nothing pending), {@code eof-in-message} (the bytes ended inside a message), {@code error} (a parse
     * error with its llhttp code at {@code endOffset}), {@code connect} and {@code pri} (Node's server drops the
     * connection after such a request), {@code upgrade} (a response switched protocols) or {@code stopped}.
     */
    record Reading(List<Message> messages, String end, String endCode, int endOffset) {
        String describe() {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < messages.size(); i++) {
                sb.append("    [").append(i).append("] ").append(messages.get(i).describe()).append('\n');
            }
            return sb.append("    end: ").append(end).append(endCode.isEmpty() ? "" : " " + endCode)
                    .append(" at ").append(endOffset).toString();
        }
    }

    /**
     * What the Node server behind the gateway read: a request ({@code kind} {@code request} when whole,
     * {@code aborted} when its connection closed before its end, {@code connect} for a CONNECT taken as a tunnel),
     * or a parse error ({@code clientError}, with {@code code}, the bytes that failed and the last
     * {@code X-Forwarded-For} seen on that connection in {@code xff}).
     */
    record NodeRecord(int seq, String kind, int socket, String xff, String requestId, String method, String url,
            String version, byte[] body, List<Field> headers, List<Field> trailers, String code, byte[] raw) {
        String describe() {
            if (kind.equals("clientError")) {
                return "clientError " + code + " on upstream connection " + socket + " (after a request from " + xff
                        + "), failing bytes: " + Escapes.escape(raw);
            }
            return kind + " #" + seq + ": " + Escapes.escape(method) + " " + Escapes.escape(url) + " HTTP/"
                    + version + " headers=" + headers + (trailers.isEmpty() ? "" : " trailers=" + trailers)
                    + " body=" + Escapes.escape(body);
        }
    }

    /** Starts the recorder, or skips the calling test when node is missing (fails when node is required). */
    static LlhttpRecorder start() throws IOException, InterruptedException {
        if (!Files.isExecutable(NODE)) {
            assertTrue(!REQUIRED, "node is required (NANGO_GATEWAY_BROWSER_TEST=1)");
            Assumptions.abort("node is not installed");
        }
        return new LlhttpRecorder(script());
    }

    /** The script, from the tests module (surefire's working directory) or the repository root. */
    static Path script() {
        for (Path p : List.of(Path.of("llhttp-recorder", "recorder.js"), Path.of("tests", "llhttp-recorder",
                "recorder.js"))) {
            if (Files.isRegularFile(p)) {
                return p.toAbsolutePath();
            }
        }
        throw new IllegalStateException("tests/llhttp-recorder/recorder.js not found from " + Path.of("")
                .toAbsolutePath());
    }

    private LlhttpRecorder(Path script) throws IOException, InterruptedException {
        process = new ProcessBuilder(NODE.toString(), script.toString()).redirectErrorStream(true).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String l = r.readLine(); l != null; l = r.readLine()) {
                    said.add(l);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "llhttp-recorder-output");
        reader.setDaemon(true);
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String ports = null;
        while (ports == null && System.nanoTime() < deadline && process.isAlive()) {
            ports = said.stream().filter(l -> l.startsWith("ports ")).findFirst().orElse(null);
            if (ports == null) {
                Thread.sleep(10);
            }
        }
        if (ports == null) {
            process.destroy();
            throw new IllegalStateException("recorder.js did not start: " + said);
        }
        String[] p = ports.split(" ");
        upstreamPort = Integer.parseInt(p[1]);
        controlPort = Integer.parseInt(p[2]);
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    /** llhttp's reading of a client's byte stream, as Node's server reads one connection. */
    Reading readRequests(byte[] stream) throws IOException, InterruptedException {
        return reading(post("/parse-request", stream));
    }

    /** llhttp's reading of an upstream's byte stream, as Node's http client reads the response to {@code method}. */
    Reading readResponses(byte[] stream, String method) throws IOException, InterruptedException {
        return reading(post("/parse-response?method=" + method, stream));
    }

    /**
     * Every record of the server behind the gateway since the last call. Call it once the gateway is closed: it
     * answers when no connection to that server is open, so every record is final.
     */
    List<NodeRecord> records() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(control("/records")).timeout(Duration.ofSeconds(60))
                .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.ISO_8859_1));
        List<NodeRecord> out = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("open ")) {
                throw new IllegalStateException("connections to the recorder stayed open: " + line);
            }
            Fields f = new Fields(line);
            String type = f.next();
            int seq = Integer.parseInt(f.next());
            String kind = f.next();
            int socket = Integer.parseInt(f.next());
            if (type.equals("c")) {
                String code = f.text();
                byte[] raw = f.bytes();
                String last = f.text();
                out.add(new NodeRecord(seq, kind, socket, last, "", "", "", "", new byte[0], List.of(), List.of(),
                        code, raw));
            } else {
                String xff = f.text();
                String id = f.text();
                String method = f.text();
                String url = f.text();
                String version = f.next();
                byte[] body = f.bytes();
                List<Field> headers = f.fields();
                List<Field> trailers = f.fields();
                out.add(new NodeRecord(seq, kind, socket, xff, id, method, url, version, body, headers, trailers, "",
                        new byte[0]));
            }
        }
        return out;
    }

    private String post(String path, byte[] body) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(control(path)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.ISO_8859_1));
        if (r.statusCode() != 200) {
            throw new IOException(path + ": " + r.statusCode());
        }
        return r.body();
    }

    private URI control(String path) {
        return URI.create("http://127.0.0.1:" + controlPort + path);
    }

    private static Reading reading(String text) {
        List<Message> messages = new ArrayList<>();
        for (String line : text.split("\n")) {
            Fields f = new Fields(line);
            String type = f.next();
            if (type.equals("m")) {
                boolean complete = f.next().equals("1");
                boolean upgrade = f.next().equals("1");
                boolean keepAlive = f.next().equals("1");
                boolean refused = f.next().equals("1");
                String marks = f.next();
                java.util.Set<String> lenient = marks.equals("-") ? java.util.Set.of()
                        : java.util.Set.of(marks.split(","));
                String version = f.next();
                String method = f.text();
                String url = f.text();
                int status = Integer.parseInt(f.next());
                String reason = f.text();
                byte[] body = f.bytes();
                messages.add(new Message(complete, upgrade, keepAlive, refused, lenient, version, method, url, status,
                        reason, body, f.fields(), f.fields()));
            } else if (type.equals("e")) {
                String end = f.next();
                String code = f.text();
                int offset = Integer.parseInt(f.next());
                return new Reading(List.copyOf(messages), end, code, offset);
            }
        }
        throw new IllegalStateException("no end in the reading: " + text);
    }

    /** The space-separated fields of one line; bytes in base64, '-' for none. */
    private static final class Fields {
        private final String[] parts;
        private int i;

        Fields(String line) {
            parts = line.split(" ");
        }

        String next() {
            return parts[i++];
        }

        byte[] bytes() {
            String s = next();
            return s.equals("-") ? new byte[0] : Base64.getDecoder().decode(s);
        }

        String text() {
            return new String(bytes(), StandardCharsets.ISO_8859_1);
        }

        List<Field> fields() {
            int n = Integer.parseInt(next());
            List<Field> out = new ArrayList<>(n);
            for (int k = 0; k < n; k++) {
                out.add(new Field(text(), text()));
            }
            return out;
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
