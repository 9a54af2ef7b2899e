package nangogateway.tests.fuzz;

import static nangogateway.tests.fuzz.RequestStreams.BYTES;
import static nangogateway.tests.fuzz.RequestStreams.CHUNK_SIZES;
import static nangogateway.tests.fuzz.RequestStreams.ENCODINGS;
import static nangogateway.tests.fuzz.RequestStreams.EOLS;
import static nangogateway.tests.fuzz.RequestStreams.EXTENSIONS;
import static nangogateway.tests.fuzz.RequestStreams.LENGTHS;
import static nangogateway.tests.fuzz.RequestStreams.SEPS;
import static nangogateway.tests.fuzz.RequestStreams.VALUES;
import static nangogateway.tests.fuzz.RequestStreams.insert;
import static nangogateway.tests.fuzz.RequestStreams.pick;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import nangogateway.tests.fuzz.RequestStreams.Chunk;
import nangogateway.tests.fuzz.RequestStreams.Line;

/**
 * Upstream byte streams for the response-side fuzz, each a pure function of its seed: a response Nango could send
 * (length, chunks with extensions and trailers, a body to the close, HTTP/1.0, 1xx first, 204, 304, redirects,
 * odd reason phrases), to a GET or a HEAD, mutated in its structure (status line, header names, values, lines and
 * separators, line endings, obs-fold, Content-Length and Transfer-Encoding values, both, repeated, chunk sizes,
 * extensions, data and trailers, bytes after the response) and, for some, byte by byte.
 */
final class ResponseStreams {
    private ResponseStreams() {
    }

    /** A case: the request's method and the upstream's bytes. */
    record Case(String method, byte[] bytes) {
    }

    /** A response as parts; strings hold bytes one per char (ISO-8859-1). */
    static final class Response {
        String interim = "";
        String version = "HTTP/1.1";
        String sp = " ";
        String status;
        String reason;
        String eol = "\r\n";
        final List<Line> headers = new ArrayList<>();
        String eoh = "\r\n";
        String body = "";
        List<Chunk> chunks;
        String lastChunk = "0";
        String lastExt = "";
        String lastEol = "\r\n";
        final List<Line> trailers = new ArrayList<>();
        String finalEol = "\r\n";
        String after = "";

        Response(String status, String reason) {
            this.status = status;
            this.reason = reason;
            headers.add(new Line("Content-Type", "application/json; charset=utf-8"));
        }

        Response header(String name, String value) {
            headers.add(new Line(name, value));
            return this;
        }

        Response fixed(String b) {
            body = b;
            chunks = null;
            headers.add(new Line("Content-Length", Integer.toString(b.length())));
            return this;
        }

        Response chunked(String... parts) {
            body = null;
            chunks = new ArrayList<>();
            for (String p : parts) {
                chunks.add(new Chunk(p));
            }
            headers.add(new Line("Transfer-Encoding", "chunked"));
            return this;
        }

        Response toClose(String b) {
            body = b;
            chunks = null;
            return this;
        }

        String bodyText() {
            if (chunks == null) {
                return body;
            }
            StringBuilder sb = new StringBuilder();
            chunks.forEach(c -> sb.append(c.data));
            return sb.toString();
        }

        String write(boolean head) {
            StringBuilder sb = new StringBuilder(256).append(interim);
            sb.append(version).append(sp).append(status);
            if (reason != null) {
                sb.append(' ').append(reason);
            }
            sb.append(eol);
            for (Line l : headers) {
                l.write(sb);
            }
            sb.append(eoh);
            if (!head) {
                if (chunks == null) {
                    sb.append(body);
                } else {
                    for (Chunk c : chunks) {
                        sb.append(c.size).append(c.ext).append(c.eol).append(c.data).append(c.dataEol);
                    }
                    sb.append(lastChunk).append(lastExt).append(lastEol);
                    for (Line t : trailers) {
                        t.write(sb);
                    }
                    sb.append(finalEol);
                }
            }
            return sb.append(after).toString();
        }
    }

    static final int SEEDS = 16;

    static Response seed(int n) {
        return switch (n) {
            case 0 -> new Response("200", "OK").header("X-Up", "1").fixed("{\"ok\":true}");
            case 1 -> {
                Response r = new Response("200", "OK").header("Trailer", "X-Checksum").chunked("{\"a\":", "[1,2]", "}");
                r.chunks.get(0).ext = ";name=value";
                r.trailers.add(new Line("X-Checksum", "abc"));
                yield r;
            }
            case 2 -> new Response("200", "OK").header("Cache-Control", "no-store").toClose("streamed to the close");
            case 3 -> {
                Response r = new Response("200", "OK").header("Connection", "keep-alive").fixed("http/1.0");
                r.version = "HTTP/1.0";
                yield r;
            }
            case 4 -> new Response("204", "No Content").header("X-Up", "4");
            case 5 -> new Response("304", "Not Modified").header("ETag", "W/\"1\"").header("Content-Length", "10");
            case 6 -> {
                Response r = new Response("200", "OK").fixed("after a 100");
                r.interim = "HTTP/1.1 100 Continue\r\n\r\n";
                yield r;
            }
            case 7 -> {
                Response r = new Response("200", "OK").fixed("after early hints");
                r.interim = "HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n";
                yield r;
            }
            case 8 -> new Response("302", "Found").header("Location", "https://app.example/cb?x=1")
                    .header("Set-Cookie", "a=1; Path=/; HttpOnly").header("Set-Cookie", "b=2; Secure").fixed("");
            case 9 -> new Response("404", "Not There").fixed("{\"error\":\"unknown_connection\"}");
            case 10 -> new Response("200", "OK").header("Connection", "X-Hop, keep-alive").header("X-Hop", "secret")
                    .header("Keep-Alive", "timeout=5").header("X-Kept", "1").fixed("hop");
            case 11 -> new Response("200", "").fixed("empty reason");
            case 12 -> new Response("200", null).fixed("no reason");
            case 13 -> {
                Response r = new Response("500", "Internal Server Error").chunked("x".repeat(26), "y".repeat(300));
                r.chunks.forEach(c -> c.size = c.size.toUpperCase());
                yield r;
            }
            case 14 -> new Response("200", "OK").header("X-Obs", "caf\u00e9").header("X-Empty", "")
                    .header("X-Tab", "a\tb").header("x-lower", "v").header("X-Request-Id", "upstream-id").fixed("v");
            case 15 -> new Response("201", "Created").fixed("");
            default -> throw new IllegalArgumentException("seed " + n);
        };
    }

    /** The case for {@code seed}: deterministic. */
    static Case stream(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Response q = seed(r.nextInt(SEEDS));
        boolean head = r.nextInt(6) == 0;
        int mutations = switch (r.nextInt(8)) {
            case 0 -> 0;
            case 1, 2, 3 -> 1;
            case 4, 5 -> 2;
            default -> 3 + r.nextInt(3);
        };
        for (int i = 0; i < mutations; i++) {
            mutate(q, r);
        }
        String s = q.write(head);
        if (r.nextInt(4) == 0) {
            int n = 1 + r.nextInt(3);
            for (int i = 0; i < n; i++) {
                s = RequestStreams.mutateBytes(s, r);
            }
        }
        return new Case(head ? "HEAD" : "GET", s.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static final String[] STATUSES = {"200", "201", "204", "205", "206", "304", "100", "101", "103", "199",
        "099", "600", "999", "20", "2000", "2OO", " 200", "200 ", "302", "404", "500", "502", ""};
    private static final String[] VERSIONS = {"HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2", "http/1.1", "HTTP/1",
        "HTTP/1.1 ", "ICY", "HTTP/1.10", " HTTP/1.1", "HTTP/0.9"};
    private static final String[] REASONS = {"OK", "", null, "Not \u00e9", "a\u0000b", "a\rb", "OK\t", " OK",
        "O\u007fK",
        "X".repeat(200)};
    private static final String[] NAMES = {"Content-Length", "content-length", "CONTENT-LENGTH", "Transfer-Encoding",
        "transfer-encoding", "Content-Length ", " Content-Length", "Content_Length", "Connection", "Keep-Alive",
        "Upgrade", "Trailer", "Set-Cookie", "Location", "X-Request-Id", "Proxy-Authenticate", "X A", "X\u0000A",
        "X\u00ffA", "", "Strict-Transport-Security", "X-Hop"};

    static void mutate(Response q, SplittableRandom r) {
        switch (r.nextInt(19)) {
            case 0 -> q.status = pick(r, STATUSES);
            case 1 -> q.version = pick(r, VERSIONS);
            case 2 -> q.reason = REASONS[r.nextInt(REASONS.length)];
            case 3 -> q.sp = pick(r, new String[] {" ", "  ", "\t", ""});
            case 4 -> {
                String e = pick(r, EOLS);
                switch (r.nextInt(3)) {
                    case 0 -> q.eol = e;
                    case 1 -> q.eoh = e;
                    default -> line(q, r).eol = e;
                }
            }
            case 5 -> line(q, r).name = pick(r, NAMES);
            case 6 -> line(q, r).value = pick(r, VALUES);
            case 7 -> line(q, r).sep = pick(r, SEPS);
            case 8 -> {
                Line l = line(q, r);
                if (r.nextBoolean()) {
                    l.name = insert(l.name, pick(r, BYTES), r);
                } else {
                    l.value = insert(l.value, pick(r, BYTES), r);
                }
            }
            case 9 -> q.headers.add(r.nextInt(q.headers.size() + 1), new Line(pick(r, NAMES), pick(r, VALUES)));
            case 10 -> {
                if (!q.headers.isEmpty()) {
                    q.headers.remove(r.nextInt(q.headers.size()));
                }
            }
            case 11 -> {
                if (!q.headers.isEmpty()) {
                    q.headers.add(r.nextInt(q.headers.size() + 1), q.headers.get(r.nextInt(q.headers.size())).copy());
                }
            }
            case 12 -> framing(q, r);
            case 13 -> chunks(q, r);
            case 14 -> {
                Line fold = new Line(pick(r, new String[] {" ", "\t"}), "");
                fold.sep = pick(r, new String[] {"folded", ": v", ""});
                q.headers.add(r.nextInt(q.headers.size() + 1), fold);
            }
            case 15 -> q.after = pick(r, new String[] {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "x", "\r\n",
                "HTTP/1.1 100 Continue\r\n\r\n", "0\r\n\r\n"});
            case 16 -> {
                if (q.chunks == null) {
                    q.body = insert(q.body, pick(r, BYTES), r);
                } else {
                    chunks(q, r);
                }
            }
            case 17 -> q.interim = pick(r, new String[] {"HTTP/1.1 100 Continue\r\n\r\n",
                "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", "HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\n",
                "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 100 Continue\n\n"});
            default -> {
                // both framings, each plausible alone
                if (q.chunks != null) {
                    q.headers.add(r.nextInt(q.headers.size() + 1), new Line("Content-Length",
                            Integer.toString(q.bodyText().length())));
                } else {
                    q.headers.add(r.nextInt(q.headers.size() + 1), new Line("Transfer-Encoding", "chunked"));
                }
            }
        }
    }

    private static Line line(Response q, SplittableRandom r) {
        if (q.headers.isEmpty()) {
            q.headers.add(new Line("X-Added", "1"));
        }
        return q.headers.get(r.nextInt(q.headers.size()));
    }

    private static void framing(Response q, SplittableRandom r) {
        Line l = null;
        for (Line x : q.headers) {
            if (x.name.equalsIgnoreCase("content-length") || x.name.equalsIgnoreCase("transfer-encoding")) {
                l = x;
            }
        }
        if (l == null) {
            q.headers.add(new Line("Content-Length", Integer.toString(q.bodyText().length() + r.nextInt(3) - 1)));
            return;
        }
        if (l.name.equalsIgnoreCase("content-length")) {
            int len = q.bodyText().length();
            l.value = r.nextInt(3) == 0 ? pick(r, LENGTHS) : Integer.toString(Math.max(0, len + r.nextInt(7) - 3));
        } else {
            l.value = pick(r, ENCODINGS);
        }
    }

    private static void chunks(Response q, SplittableRandom r) {
        if (q.chunks == null) {
            String b = q.body.isEmpty() ? "abc" : q.body;
            q.headers.removeIf(l -> l.name.equalsIgnoreCase("content-length"));
            int cut = r.nextInt(b.length() + 1);
            List<String> parts = new ArrayList<>();
            if (cut > 0) {
                parts.add(b.substring(0, cut));
            }
            if (cut < b.length()) {
                parts.add(b.substring(cut));
            }
            q.chunked(parts.toArray(String[]::new));
            return;
        }
        Chunk c = q.chunks.isEmpty() ? null : q.chunks.get(r.nextInt(q.chunks.size()));
        switch (r.nextInt(9)) {
            case 0 -> {
                if (c != null) {
                    c.size = pick(r, CHUNK_SIZES);
                }
            }
            case 1 -> {
                if (c != null) {
                    c.size = Integer.toHexString(Math.max(0, c.data.length() + r.nextInt(5) - 2));
                }
            }
            case 2 -> {
                if (c != null) {
                    c.ext = pick(r, EXTENSIONS);
                } else {
                    q.lastExt = pick(r, EXTENSIONS);
                }
            }
            case 3 -> {
                String e = pick(r, EOLS);
                if (c != null && r.nextBoolean()) {
                    c.eol = e;
                } else if (c != null) {
                    c.dataEol = e;
                } else {
                    q.lastEol = e;
                }
            }
            case 4 -> q.lastChunk = pick(r, new String[] {"0", "00", "000", "0 ", "", "1", "0x0"});
            case 5 -> {
                Line t = new Line(pick(r, new String[] {"X-T", "Content-Length", "Transfer-Encoding", "Connection",
                    " folded", "bad trailer", "Set-Cookie", ""}), pick(r, VALUES));
                if (r.nextInt(4) == 0) {
                    t.eol = pick(r, EOLS);
                }
                q.trailers.add(t);
            }
            case 6 -> q.finalEol = pick(r, EOLS);
            case 7 -> {
                if (c != null) {
                    c.data = insert(c.data, pick(r, BYTES), r);
                }
            }
            default -> q.chunks.add(r.nextInt(q.chunks.size() + 1), new Chunk(pick(r, new String[] {"x",
                "0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "\r\n", "0123456789abcdef"})));
        }
    }
}
