package nangogateway.tests.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Client byte streams for the request-side fuzz, each a pure function of its seed: one to three requests built
 * from seeds the fuzz listener admits, pipelined, then mutated in their structure (methods, targets, versions,
 * separators, header names, values and lines, line endings, Content-Length and Transfer-Encoding values and
 * obfuscations, chunk sizes, extensions, data and trailers) and, for some, byte by byte (insert, delete, duplicate,
 * replace: CR, LF, NUL, high bytes and the like). Most streams end with a request that closes the connection, so
 * the gateway's answer ends without waiting for a timeout.
 */
final class RequestStreams {
    private RequestStreams() {
    }

    static final String HOST = "gw.example";
    /** The last request of most streams: bodiless, answered by the gateway itself, and it closes. */
    static final String SENTINEL = "GET /healthz?end HTTP/1.1\r\nHost: " + HOST + "\r\nConnection: close\r\n\r\n";
    private static final String BEARER = "Bearer nango_connect_session_" + "0123456789abcdef".repeat(4);

    /** One header or trailer line: name, separator (colon and whitespace), value, line ending. */
    static final class Line {
        String name;
        String sep;
        String value;
        String eol = "\r\n";

        Line(String name, String value) {
            this.name = name;
            this.sep = ": ";
            this.value = value;
        }

        Line copy() {
            Line l = new Line(name, value);
            l.sep = sep;
            l.eol = eol;
            return l;
        }

        void write(StringBuilder sb) {
            sb.append(name).append(sep).append(value).append(eol);
        }
    }

    static final class Chunk {
        String size;
        String ext = "";
        String eol = "\r\n";
        String data;
        String dataEol = "\r\n";

        Chunk(String data) {
            this.data = data;
            this.size = Integer.toHexString(data.length());
        }
    }

    /** A request as parts; strings hold bytes one per char (ISO-8859-1). */
    static final class Request {
        String leading = "";
        String method;
        String sp1 = " ";
        String target;
        String sp2 = " ";
        String version = "HTTP/1.1";
        String eol = "\r\n";
        final List<Line> headers = new ArrayList<>();
        String eoh = "\r\n";
        /** A fixed body (null when chunked). */
        String body = "";
        /** Chunks, when the body is chunked. */
        List<Chunk> chunks;
        String lastChunk = "0";
        String lastExt = "";
        String lastEol = "\r\n";
        final List<Line> trailers = new ArrayList<>();
        String finalEol = "\r\n";

        Request(String method, String target) {
            this.method = method;
            this.target = target;
            headers.add(new Line("Host", HOST));
        }

        Request header(String name, String value) {
            headers.add(new Line(name, value));
            return this;
        }

        Request fixed(String b) {
            body = b;
            chunks = null;
            headers.add(new Line("Content-Length", Integer.toString(b.length())));
            return this;
        }

        Request chunked(String... parts) {
            body = null;
            chunks = new ArrayList<>();
            for (String p : parts) {
                chunks.add(new Chunk(p));
            }
            headers.add(new Line("Transfer-Encoding", "chunked"));
            return this;
        }

        Request trailer(String name, String value) {
            trailers.add(new Line(name, value));
            return this;
        }

        String write() {
            StringBuilder sb = new StringBuilder(256);
            sb.append(leading).append(method).append(sp1).append(target).append(sp2).append(version).append(eol);
            for (Line l : headers) {
                l.write(sb);
            }
            sb.append(eoh);
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
            return sb.toString();
        }

        String bodyText() {
            if (chunks == null) {
                return body;
            }
            StringBuilder sb = new StringBuilder();
            chunks.forEach(c -> sb.append(c.data));
            return sb.toString();
        }
    }

    // ---- seeds: requests the fuzz listener admits ----

    static final int SEEDS = 26;

    static Request seed(int n, SplittableRandom r) {
        return switch (n) {
            case 0 -> new Request("GET", "/oauth/callback?code=abc&state=xyz").header("User-Agent", "Mozilla/5.0")
                    .header("Accept", "text/html,*/*;q=0.8").header("Cookie", "nango_state=s1; other=2");
            case 1 -> new Request("GET", "/oauth/connect/github?connect_session_token=tok&user_scope=")
                    .header("Accept-Language", "en-US,en;q=0.5").header("Referer", "https://app.example/x");
            case 2 -> new Request("POST", "/webhook/prod/github").header("Content-Type", "application/json")
                    .header("X-Hub-Signature-256", "sha256=abc").fixed("{\"action\":\"opened\",\"n\":1}");
            case 3 -> new Request("POST", "/webhook/dev/slack").header("Content-Type", "application/json")
                    .chunked("{\"a\":", "1}").trailer("X-Checksum", "abc");
            case 4 -> new Request("GET", "/connect/session").header("Authorization", BEARER)
                    .header("Origin", "https://app.example");
            case 5 -> new Request("OPTIONS", "/connect/telemetry").header("Origin", "https://app.example")
                    .header("Access-Control-Request-Method", "POST");
            case 6 -> new Request("HEAD", "/healthz");
            case 7 -> new Request("PUT", "/proxy/files/upload?path=%2Fa.txt").header("Content-Type",
                    "application/octet-stream").fixed("hello\u0000\u00ff\r\nworld");
            case 8 -> new Request("PATCH", "/stream/records/1").header("Content-Type", "text/plain")
                    .chunked("abc", "defgh", "\r\n0\r\n").trailer("X-T", "1");
            case 9 -> new Request("DELETE", "/proxy/connection/42?provider_config_key=github");
            case 10 -> new Request("POST", "/small/upload").fixed("0123456789");
            case 11 -> {
                Request q = new Request("GET", "/proxy/x?v=10").header("Connection", "keep-alive");
                q.version = "HTTP/1.0";
                yield q;
            }
            case 12 -> new Request("POST", "/stream/up").header("Expect", "100-continue").fixed("body-with-expect");
            case 13 -> new Request("GET", "/proxy/hop").header("Connection", "X-Hop, keep-alive")
                    .header("X-Hop", "secret").header("Keep-Alive", "timeout=5").header("TE", "trailers")
                    .header("X-Kept", "1");
            case 14 -> new Request("GET", "/proxy/fwd").header("X-Forwarded-For", "6.6.6.6")
                    .header("Forwarded", "for=6.6.6.6").header("Via", "1.1 evil").header("X-Real-IP", "6.6.6.6")
                    .header("Base-Url-Override", "https://evil.example").header("X-Request-Id", "client-id.1");
            case 15 -> new Request("POST", "/proxy/empty").header("Content-Length", "0");
            case 16 -> new Request("GET", "/proxy/values").header("X-Obs", "caf\u00e9 \u00ff")
                    .header("X-Empty", "").header("X-Tab", "a\tb").header("x-lower", "v").header("X-Q", "\"q\"");
            case 17 -> new Request("QUERY", "/proxy/search").header("Content-Type", "text/plain").fixed("q=1");
            case 18 -> new Request("GET", "/webhook/prod/github"); // 405
            case 19 -> new Request("GET", "/api/v1/account"); // 403
            case 20 -> {
                Request q = new Request("GET", "/oauth/callback?lead=1");
                q.leading = "\r\n";
                yield q;
            }
            case 21 -> {
                Request q = new Request("POST", "/proxy/lz").header("Content-Length", "005");
                q.body = "abcde";
                yield q;
            }
            case 22 -> new Request("PROPFIND", "/stream/dav").header("Depth", "1").chunked("<x/>");
            case 23 -> new Request("GET", "/proxy/upgrade").header("Upgrade", "h2c")
                    .header("Connection", "Upgrade, HTTP2-Settings").header("HTTP2-Settings", "AAMAAABkAAQAAP__");
            case 24 -> new Request("POST", "/small/chunks").chunked("0123456789", "0123456789abcdefghijklmnop",
                    "qrstuvwxyz");
            case 25 -> new Request("GET", "/proxy/many").header("Accept-Encoding", "gzip, deflate, br")
                    .header("Cache-Control", "no-cache").header("X-Request-Id", "dup").header("X-Request-Id", "dup2")
                    .header("Sec-Fetch-Mode", "navigate").header("If-None-Match", "W/\"1\"");
            default -> throw new IllegalArgumentException("seed " + n);
        };
    }

    // ---- dictionaries ----

    private static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
        "CONNECT", "PRI", "QUERY", "PROPFIND", "M-SEARCH", "SOURCE", "LINK", "MKCALENDAR", "PURGE", "FOO", "get",
        "Get", "GET1", "G\u0000T", "BREW", "DESCRIBE", "SETUP", "", "GET ", "\tGET", "POST\u00ff", "PUT!", "PO"};
    private static final String[] TARGETS = {"/proxy/x", "/proxy/a/../b", "/proxy/./a", "//proxy/x", "/proxy//x",
        "/proxy/%2e%2e/x", "/proxy/%2F", "/proxy/a%20b", "/proxy/a%zz", "/proxy/a#frag", "*",
        "http://gw.example/proxy/x",
        "gw.example:443", "/proxy/a;b", "/proxy/a\\b", "/proxy/\u00e9", "/proxy/a?b=\u0000", "/proxy/a?x y",
        "/stream/x?q=%41", "/proxy/", "/", "/healthz", "/small/", "/webhook/prod/x", "/proxy/x?", "/proxy/x?a=b?c",
        "/PROXY/x", "/proxy/x%", "/proxy/x%4", "/stream/%7e"};
    private static final String[] VERSIONS = {"HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "http/1.1",
        "HTTP/1.10", "HTTP/1", "HTTP/01.1", "HTTP/1.1 ", "", "HTTP/0.9", "HTTP/1.1\u0000", "HTTPS/1.1", "HTTP/1.1x"};
    static final String[] SPACES = {" ", "  ", "\t", "\u000b", "\f", "\r", "", " \t", "\u0000", "\u00a0"};
    static final String[] EOLS = {"\r\n", "\n", "\r", "\r\r\n", "\n\r", "", "\r\n ", "\r\n\t", " \r\n",
        "\u0000\r\n", "\r\u0000\n"};
    static final String[] SEPS = {": ", ":", ":  ", ":\t", " :", "\t:", "::", ": \t ", ":\u000b", " : ",
        ":\r\n "};
    private static final String[] NAMES = {"Content-Length", "content-length", "CONTENT-LENGTH", "Transfer-Encoding",
        "transfer-encoding", "Content-Length ", " Content-Length", "Content_Length", "Transfer_Encoding",
        "Content-Length\t", "Transfer-Encoding ", "Host", "host", "Connection", "Expect", "Upgrade", "X-Forwarded-For",
        "X-Request-Id", "Trailer", "TE", "Keep-Alive", "Proxy-Connection", "X-A:B", "X A", "X\u0000A", "X\u00ffA",
        "", "Cookie", "Authorization", "X-HTTP-Method-Override", "Base-Url-Override", "Forwarded", "Via",
        "Content-Length\u0000", "X-Hop", "\u0000"};
    static final String[] VALUES = {"", " ", "chunked", "0", "5", "close", "keep-alive", "100-continue",
        "a\u0000b", "a\rb", "a\nb", "a\r\nX-Injected: 1", "\u00ff\u00fe", "v ", " v", "a\tb", "\u007f", "x".repeat(64),
        "gw.example", "gw.example:80", "127.0.0.1", "[::1]", "a, b", "\"quoted\"", "X-Kept", "X-Hop", "Host",
        "Content-Length", "upgrade", "websocket", "h2c", "keep-alive, X-Kept", "1.1 evil", "trailers"};
    static final String[] LENGTHS = {"0", "1", "-1", "+5", "5,5", "5, 6", " 5", "5 ", "0x5", "05", "1e2", "",
        "\uff15", "99999999999999999999", "18446744073709551616", "4294967296", "5\u0000", "5\t",
        "00000000000000000005",
        "1000000"};
    static final String[] ENCODINGS = {"chunked", "Chunked", "CHUNKED", "chunked ", " chunked", "\tchunked",
        "chunked\t", "chunked, chunked", "gzip, chunked", "chunked, gzip", "identity", "identity, chunked", "chunk",
        "chunkedx", "x chunked", "chunked;q=1", "\"chunked\"", "chunked\u0000", "chu\u000bnked", "", ",chunked",
        "chunked,", "gzip", "chunked\r\n Transfer-Encoding: chunked", "cHuNkEd"};
    static final String[] CHUNK_SIZES = {"0", "1", "3", "03", "0003", "A", "a", "F", "10", "+3", "-3", "0x3",
        "3 ", " 3", "3\t", "ffffffffffffffffff", "fffffffffffffff", "7fffffffffffffff", "", "g", "3\u0000", "3;"};
    static final String[] EXTENSIONS = {"", ";a=b", ";a", "; a = b", ";a=\"q\\\"x\"", ";a=\"q;b\"", ";", ";=",
        ";a=\"unterminated", ";a=b\u0000", ";a=b;c", " ;a=b", ";a=\u00ff", ";a=\"\r\n\"", ";a=b\t", ";a=\"\u0001\""};
    static final String[] BYTES = {"\r", "\n", "\r\n", " ", "\t", "\u0000", "\u007f", "\u0080", "\u00ff", ":",
        ";", ",", "\"", "\\", "0", "1", "a", "f", "/", "?", "#", "%", "\u000b", "\f", "\r\n\r\n", "0\r\n\r\n"};

    static String pick(SplittableRandom r, String[] a) {
        return a[r.nextInt(a.length)];
    }

    // ---- streams ----

    /** The stream for {@code seed}: deterministic. */
    static byte[] stream(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int count = 1 + r.nextInt(3);
        List<Request> requests = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            requests.add(seed(r.nextInt(SEEDS), r));
        }
        int mutations = switch (r.nextInt(8)) {
            case 0 -> 0;
            case 1, 2, 3 -> 1;
            case 4, 5 -> 2;
            default -> 3 + r.nextInt(3);
        };
        for (int i = 0; i < mutations; i++) {
            mutate(requests.get(r.nextInt(count)), r);
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < count; i++) {
            if (i > 0 && r.nextInt(12) == 0) {
                sb.append(pick(r, new String[] {"\r\n", "\n", "\r", "\r\n\r\n", " "}));
            }
            sb.append(requests.get(i).write());
        }
        String s = sb.toString();
        if (r.nextInt(4) == 0) {
            int n = 1 + r.nextInt(3);
            for (int i = 0; i < n; i++) {
                s = mutateBytes(s, r);
            }
        }
        if (r.nextInt(40) != 0) {
            s += SENTINEL;
        }
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** One structural mutation of a request. */
    static void mutate(Request q, SplittableRandom r) {
        switch (r.nextInt(24)) {
            case 22 -> dualFraming(q, r);
            case 23 -> {
                if (q.chunks == null) {
                    reframe(q, r);
                }
                Chunk c = q.chunks.isEmpty() ? null : q.chunks.get(r.nextInt(q.chunks.size()));
                String e = pick(r, EOLS);
                switch (r.nextInt(3)) {
                    case 0 -> q.lastEol = e;
                    case 1 -> q.finalEol = e;
                    default -> {
                        if (c != null) {
                            c.eol = e;
                        } else {
                            q.lastEol = e;
                        }
                    }
                }
            }
            case 0 -> q.method = pick(r, METHODS);
            case 1 -> q.target = pick(r, TARGETS);
            case 2 -> q.target = insert(q.target, pick(r, BYTES), r);
            case 3 -> q.version = pick(r, VERSIONS);
            case 4 -> {
                if (r.nextBoolean()) {
                    q.sp1 = pick(r, SPACES);
                } else {
                    q.sp2 = pick(r, SPACES);
                }
            }
            case 5 -> {
                String e = pick(r, EOLS);
                switch (r.nextInt(3)) {
                    case 0 -> q.eol = e;
                    case 1 -> q.eoh = e;
                    default -> {
                        if (!q.headers.isEmpty()) {
                            q.headers.get(r.nextInt(q.headers.size())).eol = e;
                        }
                    }
                }
            }
            case 6 -> line(q, r).name = pick(r, NAMES);
            case 7 -> line(q, r).value = pick(r, VALUES);
            case 8 -> line(q, r).sep = pick(r, SEPS);
            case 9 -> {
                Line l = line(q, r);
                if (r.nextBoolean()) {
                    l.name = insert(l.name, pick(r, BYTES), r);
                } else {
                    l.value = insert(l.value, pick(r, BYTES), r);
                }
            }
            case 10 -> q.headers.add(r.nextInt(q.headers.size() + 1), new Line(pick(r, NAMES), pick(r, VALUES)));
            case 11 -> {
                if (!q.headers.isEmpty()) {
                    q.headers.remove(r.nextInt(q.headers.size()));
                }
            }
            case 12 -> {
                if (!q.headers.isEmpty()) {
                    Line l = q.headers.get(r.nextInt(q.headers.size()));
                    q.headers.add(r.nextInt(q.headers.size() + 1), l.copy());
                }
            }
            case 13 -> framingValue(q, r);
            case 14 -> framingHeaderAdded(q, r);
            case 15 -> reframe(q, r);
            case 16 -> chunkMutation(q, r);
            case 17 -> bodyMutation(q, r);
            case 18 -> {
                Line fold = new Line(pick(r, new String[] {" ", "\t", " X-Folded"}), "");
                fold.sep = pick(r, new String[] {"", ": v", "folded"});
                q.headers.add(r.nextInt(q.headers.size() + 1), fold);
            }
            case 19 -> q.leading = pick(r, new String[] {"\r\n", "\n", "\r", " ", "\r\n\r\n", "\u0000"});
            case 20 -> {
                // Connection naming headers, or closing
                q.headers.add(new Line("Connection", pick(r, new String[] {"close", "keep-alive", "X-Hop",
                    "Content-Length", "Transfer-Encoding", "Host", "X-Request-Id", "x-kept, close", "upgrade",
                    "Keep-Alive, X-Hop", "Cookie", "TE"})));
                if (r.nextBoolean()) {
                    q.headers.add(new Line(pick(r, new String[] {"X-Hop", "X-Kept"}), "v"));
                }
            }
            default -> q.headers.add(new Line(pick(r, new String[] {"Expect", "Upgrade", "Trailer", "TE",
                "X-Request-Id", "Host", "Proxy-Connection", "Keep-Alive", "X-HTTP-Method-Override"}), pick(r,
                new String[] {"100-continue", "websocket", "X-T", "trailers", "id-1", "other.example", "keep-alive",
                    "DELETE", "h2c", "100-Continue", "bogus"})));
        }
    }

    private static Line line(Request q, SplittableRandom r) {
        if (q.headers.isEmpty()) {
            q.headers.add(new Line("X-Added", "1"));
        }
        return q.headers.get(r.nextInt(q.headers.size()));
    }

    private static Line framingLine(Request q) {
        for (Line l : q.headers) {
            if (l.name.equalsIgnoreCase("content-length") || l.name.equalsIgnoreCase("transfer-encoding")) {
                return l;
            }
        }
        return null;
    }

    private static void framingValue(Request q, SplittableRandom r) {
        Line l = framingLine(q);
        if (l == null) {
            q.fixed(r.nextBoolean() ? "" : "body");
            return;
        }
        if (l.name.equalsIgnoreCase("content-length")) {
            int len = q.bodyText().length();
            l.value = switch (r.nextInt(5)) {
                case 0 -> Integer.toString(Math.max(0, len + r.nextInt(7) - 3));
                case 1 -> Integer.toString(len + 40 + r.nextInt(60)); // swallows the next request
                default -> pick(r, LENGTHS);
            };
        } else {
            l.value = pick(r, ENCODINGS);
        }
    }

    private static void framingHeaderAdded(Request q, SplittableRandom r) {
        int at = r.nextInt(q.headers.size() + 1);
        if (r.nextBoolean()) {
            String v = r.nextBoolean() ? Integer.toString(q.bodyText().length()) : pick(r, LENGTHS);
            q.headers.add(at, new Line(pick(r, new String[] {"Content-Length", "content-length", "Content-Length "}),
                    v));
        } else {
            q.headers.add(at, new Line(pick(r, new String[] {"Transfer-Encoding", "transfer-encoding"}),
                    pick(r, ENCODINGS)));
        }
    }

    /**
     * Both framings, each with a value that would be plausible alone: a chunked body also given a length (of its
     * data, or of its chunked encoding), or a body with a length also declared chunked. The classic CL.TE and
     * TE.CL pair, which the gateway must refuse.
     */
    private static void dualFraming(Request q, SplittableRandom r) {
        if (q.chunks == null && r.nextBoolean()) {
            reframe(q, r);
        }
        int at = r.nextInt(q.headers.size() + 1);
        if (q.chunks != null) {
            String w = q.write();
            int encoded = w.length() - w.indexOf("\r\n\r\n") - 4;
            String v = Integer.toString(r.nextBoolean() ? q.bodyText().length() : encoded);
            q.headers.add(at, new Line(pick(r, new String[] {"Content-Length", "content-length"}), v));
        } else {
            q.headers.add(at, new Line(pick(r, new String[] {"Transfer-Encoding", "transfer-encoding"}),
                    pick(r, new String[] {"chunked", "chunked", "Chunked", "gzip, chunked"})));
        }
    }

    /** The same body framed the other way (chunked for a length, a length for chunks). */
    private static void reframe(Request q, SplittableRandom r) {
        String b = q.bodyText();
        q.headers.removeIf(l -> l.name.equalsIgnoreCase("content-length") || l.name.equalsIgnoreCase(
                "transfer-encoding"));
        if (q.chunks == null) {
            if (b.isEmpty()) {
                b = "xyz";
            }
            int cut = r.nextInt(b.length() + 1);
            List<String> parts = new ArrayList<>();
            if (cut > 0) {
                parts.add(b.substring(0, cut));
            }
            if (cut < b.length()) {
                parts.add(b.substring(cut));
            }
            q.chunked(parts.toArray(String[]::new));
        } else {
            q.fixed(b);
        }
    }

    private static void chunkMutation(Request q, SplittableRandom r) {
        if (q.chunks == null) {
            reframe(q, r);
        }
        Chunk c = q.chunks.isEmpty() ? null : q.chunks.get(r.nextInt(q.chunks.size()));
        switch (r.nextInt(10)) {
            case 0 -> {
                if (c != null) {
                    c.size = pick(r, CHUNK_SIZES);
                }
            }
            case 1 -> {
                if (c != null) {
                    c.size = Integer.toHexString(Math.max(0, c.data.length() + r.nextInt(5) - 2));
                    if (r.nextBoolean()) {
                        c.size = c.size.toUpperCase();
                    }
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
                if (c != null) {
                    c.eol = pick(r, EOLS);
                } else {
                    q.lastEol = pick(r, EOLS);
                }
            }
            case 4 -> {
                if (c != null) {
                    c.dataEol = pick(r, EOLS);
                }
            }
            case 5 -> q.lastChunk = pick(r, new String[] {"0", "00", "000", "0 ", "", "1", "0x0", " 0"});
            case 6 -> {
                Line t = new Line(pick(r, new String[] {"X-T", "Content-Length", "Transfer-Encoding", "Host",
                    " folded", "bad trailer", "X_T", "", "Connection", "Trailer", "Upgrade"}), pick(r, VALUES));
                if (r.nextInt(4) == 0) {
                    t.eol = pick(r, EOLS);
                }
                q.trailers.add(t);
            }
            case 7 -> q.finalEol = pick(r, EOLS);
            case 8 -> {
                if (c != null) {
                    c.data = insert(c.data, pick(r, BYTES), r); // the size no longer matches
                }
            }
            default -> q.chunks.add(r.nextInt(q.chunks.size() + 1), new Chunk(pick(r, new String[] {"x",
                "0\r\n\r\nGET /proxy/smuggled HTTP/1.1\r\nHost: gw.example\r\n\r\n", "\r\n", "0123456789abcdef"})));
        }
    }

    private static void bodyMutation(Request q, SplittableRandom r) {
        if (q.chunks != null) {
            chunkMutation(q, r);
            return;
        }
        if (framingLine(q) == null && r.nextBoolean()) {
            q.fixed("xyz");
        }
        switch (r.nextInt(3)) {
            case 0 -> q.body = insert(q.body, pick(r, BYTES), r);
            case 1 -> q.body = q.body + "GET /proxy/smuggled HTTP/1.1\r\nHost: gw.example\r\n\r\n";
            default -> {
                if (!q.body.isEmpty()) {
                    int at = r.nextInt(q.body.length());
                    q.body = q.body.substring(0, at) + q.body.substring(at + 1);
                }
            }
        }
    }

    static String insert(String s, String what, SplittableRandom r) {
        int at = r.nextInt(s.length() + 1);
        return s.substring(0, at) + what + s.substring(at);
    }

    /** One byte-level mutation anywhere in the stream, biased towards line ends. */
    static String mutateBytes(String s, SplittableRandom r) {
        if (s.isEmpty()) {
            return pick(r, BYTES);
        }
        int at = r.nextInt(s.length());
        if (r.nextBoolean()) {
            int cr = s.indexOf('\r', at);
            if (cr >= 0) {
                at = cr + r.nextInt(3) - 1;
                at = Math.max(0, Math.min(s.length() - 1, at));
            }
        }
        return switch (r.nextInt(5)) {
            case 0 -> s.substring(0, at) + pick(r, BYTES) + s.substring(at);
            case 1 -> s.substring(0, at) + s.substring(at + 1);
            case 2 -> {
                int end = Math.min(s.length(), at + 1 + r.nextInt(8));
                yield s.substring(0, end) + s.substring(at, end) + s.substring(end);
            }
            case 3 -> s.substring(0, at) + (char) r.nextInt(256) + s.substring(at + 1);
            default -> s.substring(0, at) + pick(r, BYTES) + s.substring(at + 1);
        };
    }
}
