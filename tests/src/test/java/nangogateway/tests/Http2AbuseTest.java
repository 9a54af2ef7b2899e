package nangogateway.tests;

import static nangogateway.tests.H2Wire.CANCEL;
import static nangogateway.tests.H2Wire.CONTINUATION;
import static nangogateway.tests.H2Wire.DATA;
import static nangogateway.tests.H2Wire.END_HEADERS;
import static nangogateway.tests.H2Wire.ENHANCE_YOUR_CALM;
import static nangogateway.tests.H2Wire.FLOW_CONTROL_ERROR;
import static nangogateway.tests.H2Wire.HEADERS;
import static nangogateway.tests.H2Wire.PING;
import static nangogateway.tests.H2Wire.PROTOCOL_ERROR;
import static nangogateway.tests.H2Wire.REFUSED_STREAM;
import static nangogateway.tests.H2Wire.SETTINGS;
import static nangogateway.tests.H2Wire.STREAM_CLOSED;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import java.util.Set;
import nangogateway.testing.LogCapture;
import nangogateway.observe.AccessLogHandler;
import nangogateway.config.AccessLogFormat;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerOptions;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ServerSettings;
import nangogateway.config.TlsConfig;
import nangogateway.server.Gateway;
import nangogateway.tests.H2Wire.Block;
import nangogateway.tests.H2Wire.Frame;
import nangogateway.tests.H2Wire.StreamResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed and abusive HTTP/2, written frame by frame ({@link H2Wire}) to a TLS listener that negotiated h2, each
 * case getting the answer RFC 9113 asks for and reaching nothing upstream:
 * <ul>
 *   <li>a malformed request (section 8.1.1, 8.2, 8.3) is a stream error: {@code RST_STREAM PROTOCOL_ERROR}, with a
 *       400 (or 431) before it when the gateway's own rules caught it, and the connection goes on serving;</li>
 *   <li>the same target rules as HTTP/1.1 (400, private paths 403);</li>
 *   <li>body framing that does not add up to content-length;</li>
 *   <li>the HTTP/2 denial-of-service classes (Rapid Reset, CONTINUATION flood, HPACK bomb, SETTINGS/PING and
 *       empty-DATA floods, too many streams, window overflow): the answer the RFC gives (REFUSED_STREAM,
 *       FLOW_CONTROL_ERROR) or GOAWAY {@code ENHANCE_YOUR_CALM}, counted in the metrics, and the connection closed;</li>
 *   <li>h2c (the plain-text preface, {@code Upgrade: h2c}) is never honoured.</li>
 * </ul>
 * Every case runs against a fresh gateway and a fresh Nango (MockWebServer); where the connection survives, a
 * sentinel request on it must then pass, and Nango must have seen exactly that sentinel.
 */
class Http2AbuseTest {
    private static final String HOOK = "/webhook/prod/github";

    @TempDir
    static Path certs;
    private MockWebServer nango;
    private final List<RecordedRequest> seen = new CopyOnWriteArrayList<>();
    private Gateway gateway;
    private int port;

    @BeforeEach
    void start() throws Exception {
        nango = new MockWebServer();
        nango.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                seen.add(request);
                String target = request.getTarget();
                if (target.contains("big=")) { // a body of that many bytes
                    return new MockResponse.Builder().code(200)
                            .body("x".repeat(Integer.parseInt(target.substring(target.indexOf("big=") + 4)))).build();
                }
                return new MockResponse.Builder().code(200).body("nango saw " + target).build();
            }
        });
        nango.start();
        if (!certs.resolve("fullchain.pem").toFile().exists()) {
            TestCertificates.generate(certs, "gw.example", "EC");
        }
        TlsConfig tls = new TlsConfig(certs.resolve("fullchain.pem"), certs.resolve("privkey.pem"), true);
        ListenerConfig pub = new ListenerConfig("public", "127.0.0.1", 0, tls, TestConfigs.publicRoutes(), 403,
                ListenerLimits.DEFAULTS);
        ListenerConfig plain = new ListenerConfig("plain", "127.0.0.1", 0, null, TestConfigs.publicRoutes(), 403,
                ListenerLimits.DEFAULTS);
        gateway = Gateway.start(new GatewayConfig("test",
                Map.of("nango", TestConfigs.nango(nango.getPort(), Duration.ofSeconds(5))), List.of(pub, plain),
                Map.of(), ServerSettings.DEFAULTS));
        port = gateway.port("public");
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        nango.close();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** A gateway of a case's own: one TLS listener {@code name} with the public routes, these limits and options. */
    private Gateway startTls(String name, ListenerLimits limits, ListenerOptions options) throws Exception {
        TlsConfig tls = new TlsConfig(certs.resolve("fullchain.pem"), certs.resolve("privkey.pem"), true);
        ListenerConfig l = new ListenerConfig(name, "127.0.0.1", 0, tls, TestConfigs.publicRoutes(), 403, limits,
                options);
        return Gateway.start(new GatewayConfig("test",
                Map.of("nango", TestConfigs.nango(nango.getPort(), Duration.ofSeconds(5))), List.of(l),
                Map.of(), ServerSettings.DEFAULTS));
    }

    /** The answer on a stream, in one comparable word: "403", "400+RST(PROTOCOL_ERROR)", "RST(REFUSED_STREAM)". */
    static String answer(StreamResult r) {
        String status = r.status() < 0 ? "" : Integer.toString(r.status());
        String reset = r.reset < 0 ? "" : "RST(" + code(r.reset) + ")";
        String both = status + (status.isEmpty() || reset.isEmpty() ? "" : "+") + reset;
        return both.isEmpty() ? "nothing" : both;
    }

    static String code(long c) {
        io.netty.handler.codec.http2.Http2Error e = io.netty.handler.codec.http2.Http2Error.valueOf(c);
        return e == null ? "0x" + Long.toHexString(c) : e.name();
    }

    /**
     * A GET on {@code stream} that Nango answers; the answer must come on this connection, and it is the last word:
     * whatever the server sent on earlier streams before it (a RST after a 400) has been read by then.
     */
    static void sentinel(H2Wire w, int stream) throws IOException {
        w.headers(stream, true, Block.request("GET", "/oauth/callback?sentinel=" + stream));
        StreamResult r = w.awaitEnd(stream);
        assertEquals(200, r.status(), "the connection still serves: " + r + " " + w.frames());
        assertEquals("nango saw /oauth/callback?sentinel=" + stream, r.bodyText());
        assertNull(w.goAway(), "no GOAWAY for a stream error");
    }

    /** Nango saw exactly these targets, in this order. */
    void nangoSaw(String... targets) {
        List<String> got = new ArrayList<>();
        for (RecordedRequest r : seen) {
            got.add(r.getTarget());
        }
        assertEquals(List.of(targets), got, "what reached Nango");
        assertEquals(targets.length, nango.getRequestCount());
    }

    /**
     * One request on stream 1 of a new connection, then the sentinel on stream 3: the answer stream 1 got. Nango
     * must have seen the sentinel alone.
     */
    String oneRequest(Block block, boolean endStream, byte[]... data) throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS | (endStream ? H2Wire.END_STREAM : 0), 1,
                    block.bytes()));
            for (int i = 0; i < data.length; i++) {
                burst.writeBytes(H2Wire.encode(DATA, i == data.length - 1 ? H2Wire.END_STREAM : 0, 1, data[i]));
            }
            w.write(burst.toByteArray());
            StreamResult r = w.awaitEnd(1);
            sentinel(w, 3);
            nangoSaw("/oauth/callback?sentinel=3");
            return answer(r);
        }
    }

    double goAways(String code) {
        String want = "nango_gateway_http2_goaway_sent_total{";
        for (String line : gateway.metrics().render().split("\n")) {
            if (line.startsWith(want) && line.contains("code=\"" + code + "\"")
                    && line.contains("listener=\"public\"")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    /** Reads the GOAWAY the server must send, then the end of the connection. */
    static Frame goAwayAndClose(H2Wire w) throws IOException {
        Frame g = w.awaitGoAway();
        assertNotNull(g, "a GOAWAY before the close: " + w.frames());
        w.awaitClose();
        assertTrue(w.closed(), "the connection is closed after the GOAWAY");
        return g;
    }

    static Block get(String path) {
        return Block.request("GET", path);
    }

    static Block get(String path, String... fields) {
        Block b = Block.request("GET", path);
        for (int i = 0; i < fields.length; i += 2) {
            b.field(fields[i], fields[i + 1]);
        }
        return b;
    }

    static Arguments c(String name, String answer, Block block) {
        return Arguments.of(name, answer, block);
    }

    // ------------------------------------------------------------------------------------------------ 8.2, 8.3

    static final String RST = "RST(PROTOCOL_ERROR)";
    static final String BAD = "400+RST(PROTOCOL_ERROR)";

    static Stream<Arguments> malformedHeads() {
        String p = "/oauth/callback?case=";
        return Stream.of(
                // RFC 9113 section 8.2: field names and values
                c("uppercase name", RST, get(p + 1, "X-Upper", "1")),
                c("CR in a value", RST, get(p + 2, "x-a", "a\rb")),
                c("LF in a value", RST, get(p + 3, "x-a", "a\nb")),
                c("NUL in a value", RST, get(p + 4, "x-a", "a\0b")),
                c("leading space in a value", RST, get(p + 5, "x-a", " a")),
                c("trailing space in a value", BAD, get(p + 6, "x-a", "a ")),
                c("leading tab in a value", RST, get(p + 7, "x-a", "\ta")),
                c("connection", RST, get(p + 8, "connection", "close")),
                c("keep-alive", RST, get(p + 9, "keep-alive", "timeout=5")),
                c("proxy-connection", RST, get(p + 10, "proxy-connection", "keep-alive")),
                c("transfer-encoding", RST, get(p + 11, "transfer-encoding", "chunked")),
                c("upgrade", RST, get(p + 12, "upgrade", "websocket")),
                c("te: gzip", RST, get(p + 13, "te", "gzip")),
                c("empty name", RST, get(p + 14, "", "x")),
                c("_ in a name", BAD, get(p + 15, "x_forwarded_for", "1.2.3.4")),
                c("space in a name", RST, get(p + 16, "x a", "1")),
                // section 8.3: pseudo-header fields
                c("missing :method", BAD, new Block().field(":scheme", "https").field(":authority", "gw.example")
                        .field(":path", p + 20)),
                c("missing :scheme", BAD, new Block().field(":method", "GET").field(":authority", "gw.example")
                        .field(":path", p + 21)),
                c("missing :path", BAD, new Block().field(":method", "GET").field(":scheme", "https")
                        .field(":authority", "gw.example")),
                c("empty :path", RST, get("")),
                c("duplicated :path", RST, get(p + 22).field(":path", p + 22)),
                c("duplicated :method", RST, get(p + 23).field(":method", "GET")),
                c("duplicated :authority", RST, get(p + 24).field(":authority", "gw.example")),
                c(":protocol", BAD, get(p + 25).field(":protocol", "websocket")),
                c("unknown pseudo-header", RST, get(p + 26).field(":foo", "bar")),
                c(":status in a request", RST, get(p + 27).field(":status", "200")),
                c("pseudo-header after a regular one", RST, new Block().field(":method", "GET")
                        .field(":scheme", "https").field("x-a", "1").field(":path", p + 28)),
                c(":path in absolute form", BAD, get("http://gw.example/oauth/callback?case=29")),
                c(":path * with GET", BAD, get("*")),
                c(":scheme http", BAD, new Block().field(":method", "GET").field(":scheme", "http")
                        .field(":authority", "gw.example").field(":path", p + 30)),
                c(":authority with userinfo", BAD, new Block().field(":method", "GET").field(":scheme", "https")
                        .field(":authority", "user:pw@gw.example").field(":path", p + 31)),
                c(":authority and host differ", BAD, get(p + 32, "host", "other.example")),
                c("CONNECT", BAD, new Block().field(":method", "CONNECT").field(":authority", "nango:3003")),
                c("bad :method", BAD, Block.request("G(T", p + 33)),
                c("too many fields", "431+" + RST, manyFields(p + 34, 101)));
    }

    static Block manyFields(String path, int n) {
        Block b = get(path);
        for (int i = 0; i < n; i++) {
            b.field("x-f" + i, "1");
        }
        return b;
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("malformedHeads")
    void malformedRequestIsAStreamErrorAndNeverForwarded(String name, String answer, Block block) throws Exception {
        assertEquals(answer, oneRequest(block, true), name);
    }

    /** The controls: the rules refuse only what they must. */
    @Test
    void wellFormedEdgesPass() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            w.headers(1, true, get("/oauth/callback?edge=te", "te", "trailers", "x-a", "in  side", "host",
                    "GW.example"));
            assertEquals("200", answer(w.awaitEnd(1)));
            w.headers(3, true, new Block().field(":method", "GET").field(":scheme", "https").field(":path",
                    "/oauth/callback?edge=no-authority").field("host", "gw.example"));
            assertEquals("200", answer(w.awaitEnd(3)));
            w.headers(5, true, get("/oauth/callback?edge=cookies", "cookie", "a=b", "cookie", "c=d"));
            assertEquals("200", answer(w.awaitEnd(5)));
        }
        nangoSaw("/oauth/callback?edge=te", "/oauth/callback?edge=no-authority", "/oauth/callback?edge=cookies");
        assertEquals("gw.example", seen.get(0).getHeaders().get("X-Forwarded-Host"), "the authority, host agreeing");
        assertEquals("gw.example", seen.get(1).getHeaders().get("X-Forwarded-Host"), "host without :authority");
        assertEquals("in  side", seen.get(0).getHeaders().get("x-a"));
        assertEquals("a=b; c=d", seen.get(2).getHeaders().get("Cookie"));
    }

    // ------------------------------------------------------------------------------------------------ targets

    static Stream<Arguments> targets() {
        return Stream.of(
                c("dot segments", "400", get("/oauth/callback/../api/v1/account")),
                c("encoded dot segments", "400", get("/oauth/callback/%2e%2e/api/v1/account")),
                c("encoded slash", "400", get("/oauth/callback%2f..%2fapi")),
                c("backslash", "400", get("/oauth/callback\\..\\api")),
                c("semicolon", "400", get("/oauth/callback;x=1")),
                c("private: api", "403", get("/api/v1/account")),
                c("private: connection", "403", get("/connection/abc")),
                c("private: case", "403", get("/OAUTH/CALLBACK")),
                c("private: config", "403", get("/config")));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("targets")
    void sameTargetRulesAsHttp11(String name, String answer, Block block) throws Exception {
        assertEquals(answer, oneRequest(block, true), name);
    }

    // ------------------------------------------------------------------------------------------------ framing

    static Block post(String length) {
        Block b = Block.request("POST", HOOK);
        return length == null ? b : b.field("content-length", length);
    }

    @Test
    void contentLengthLargerThanTheData() throws Exception {
        assertEquals(RST, oneRequest(post("10"), false, "hello".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void contentLengthSmallerThanTheData() throws Exception {
        assertEquals(RST, oneRequest(post("3"), false, "hel".getBytes(StandardCharsets.US_ASCII),
                "lo".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void contentLengthOnAHeadersFrameThatEndsTheStream() throws Exception {
        assertEquals(RST, oneRequest(post("5"), true));
    }

    @Test
    void twoDifferentContentLengths() throws Exception {
        assertEquals(RST, oneRequest(post("5").field("content-length", "6"), false,
                "hello".getBytes(StandardCharsets.US_ASCII)));
    }

    /**
     * Two equal content-length fields: Netty's codec replaces them with one before the gateway sees the head (RFC
     * 9110 section 8.6 allows either that or a refusal; HTTP/1.1 refuses). One length, so nothing is ambiguous: the
     * request goes on with exactly one Content-Length, and its DATA are checked against it.
     */
    @Test
    void twoEqualContentLengthsAreFoldedIntoOne() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            w.headers(1, false, post("5").field("content-length", "5"));
            w.data(1, true, "hello".getBytes(StandardCharsets.US_ASCII));
            assertEquals("200", answer(w.awaitEnd(1)));
        }
        nangoSaw(HOOK);
        assertEquals(List.of("5"), seen.get(0).getHeaders().values("Content-Length"));
        assertEquals("hello", seen.get(0).getBody().utf8());
    }

    @Test
    void badContentLength() throws Exception {
        assertEquals(RST, oneRequest(post("+5"), false, "hello".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void dataAfterEndStream() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS, 1, post("5").bytes()));
            burst.writeBytes(H2Wire.encode(DATA, H2Wire.END_STREAM, 1, "hello".getBytes(StandardCharsets.US_ASCII)));
            burst.writeBytes(H2Wire.encode(DATA, 0, 1, "smuggled".getBytes(StandardCharsets.US_ASCII)));
            w.write(burst.toByteArray());
            StreamResult r = w.awaitReset(1);
            assertEquals(STREAM_CLOSED, r.reset, "section 5.1: DATA on a half-closed (remote) stream: " + r);
            sentinel(w, 3);
        }
        // The request before the extra DATA was whole and well-formed: Nango may or may not have had it when the
        // stream was reset, but never anything of what followed.
        for (RecordedRequest r : seen) {
            if (r.getTarget().equals(HOOK)) {
                assertEquals("hello", r.getBody().utf8());
            }
        }
        assertEquals("/oauth/callback?sentinel=3", seen.get(seen.size() - 1).getTarget());
    }

    @Test
    void headersInTheMiddleOfABody() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS, 1, post(null).bytes()));
            burst.writeBytes(H2Wire.encode(DATA, 0, 1, "abc".getBytes(StandardCharsets.US_ASCII)));
            burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS, 1, new Block().field("x-a", "1").bytes()));
            burst.writeBytes(H2Wire.encode(DATA, H2Wire.END_STREAM, 1, "def".getBytes(StandardCharsets.US_ASCII)));
            w.write(burst.toByteArray());
            assertEquals(RST, answer(w.awaitReset(1)));
            sentinel(w, 3);
        }
        nangoSaw("/oauth/callback?sentinel=3");
    }

    @Test
    void badTrailersAreRefused() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS, 1, post(null).bytes()));
            burst.writeBytes(H2Wire.encode(DATA, 0, 1, "abc".getBytes(StandardCharsets.US_ASCII)));
            burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS | H2Wire.END_STREAM, 1,
                    new Block().field("content-length", "3").bytes()));
            w.write(burst.toByteArray());
            assertEquals("400", answer(w.awaitEnd(1)));
            sentinel(w, 3);
        }
        nangoSaw("/oauth/callback?sentinel=3");
    }

    // ------------------------------------------------------------------------------------------------ floods

    @Test
    void rapidResetEndsTheConnectionWithEnhanceYourCalm() throws Exception {
        int pairs = 210;
        try (H2Wire w = H2Wire.tls(port)) {
            w.timeout(20_000); // each stream is routed before its reset is read: slow on a loaded machine
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (int i = 0; i < pairs; i++) {
                int stream = 1 + 2 * i;
                burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS | H2Wire.END_STREAM, stream,
                        get("/oauth/callback?rr=" + i).bytes()));
                burst.writeBytes(H2Wire.encode(H2Wire.RST_STREAM, 0, stream, H2Wire.u32(CANCEL)));
            }
            w.write(burst.toByteArray());
            // (Its last-stream-id is 2^31-1: Netty's codec cannot tell which streams a hard shutdown cut short.)
            assertEquals(ENHANCE_YOUR_CALM, goAwayAndClose(w).errorCode());
        }
        assertEquals(1.0, goAways("ENHANCE_YOUR_CALM"));
        // What Nango saw is bounded by the streams opened before the limit (each reset at once, so in practice
        // none), never all of them.
        assertTrue(nango.getRequestCount() <= 201, "Nango saw " + nango.getRequestCount());
        for (RecordedRequest r : seen) {
            int i = Integer.parseInt(r.getTarget().substring("/oauth/callback?rr=".length()));
            assertTrue(i <= 200, r.getTarget());
        }
    }

    /**
     * A burst of HEADERS each reset at once, under the Rapid Reset limit and in one TLS record: the streams are gone
     * before any takes an upstream connection, so none fills the pool or its queue (before, 199 such streams opened
     * 32 connections to Nango and filled the queue, and about 40 of them were answered 503 "upstream busy"), and the
     * connection goes on serving.
     */
    @Test
    void streamsResetInTheReadOfTheirHeadersTakeNoUpstreamConnection() throws Exception {
        int pairs = 199;
        try (H2Wire w = H2Wire.tls(port)) {
            w.timeout(20_000);
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (int i = 0; i < pairs; i++) {
                int stream = 1 + 2 * i;
                Block head = new Block().ref(2).ref(7) // :method GET, :scheme https (static table): a short block
                        .field(":authority", "gw.example").field(":path", "/oauth/callback?rr=" + i);
                burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS | H2Wire.END_STREAM, stream, head.bytes()));
                burst.writeBytes(H2Wire.encode(H2Wire.RST_STREAM, 0, stream, H2Wire.u32(CANCEL)));
            }
            // One TLS record (16 KiB at most), so the gateway decodes the whole burst in one read: a reset that comes in
            // a later read than its HEADERS may find its request already on the way to Nango, as any cancel can.
            assertTrue(burst.size() <= 16_384, burst.size() + " bytes");
            w.write(burst.toByteArray());
            sentinel(w, 1 + 2 * pairs); // the same connection, after the burst: answered by Nango
        }
        assertEquals(0.0, metric("nango_gateway_upstream_errors_total{", "kind=\"busy\""),
                "no reset stream waited for an upstream connection");
        nangoSaw("/oauth/callback?sentinel=" + (1 + 2 * pairs)); // only the sentinel
    }

    double metric(String prefix, String label) {
        for (String line : gateway.metrics().render().split("\n")) {
            if (line.startsWith(prefix) && line.contains(label)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    @Test
    void continuationFloodEndsTheConnection() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            byte[] block = get("/oauth/callback?cont=1").bytes();
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            burst.writeBytes(H2Wire.encode(HEADERS, H2Wire.END_STREAM, 1, java.util.Arrays.copyOf(block, 4)));
            for (int i = 0; i < 40; i++) {
                burst.writeBytes(H2Wire.encode(CONTINUATION, 0, 1, i % 2 == 0 ? new byte[0] : new byte[] {0}));
            }
            w.write(burst.toByteArray());
            assertEquals(ENHANCE_YOUR_CALM, goAwayAndClose(w).errorCode());
        }
        assertEquals(1.0, goAways("ENHANCE_YOUR_CALM"));
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void largeContinuationsStopAtTheHeaderListLimit() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            // Three full-size fragments (not "small", so only the size bound applies): the block would be 48 KiB,
            // over 1.25 x the advertised header list size (8 KiB + 16 KiB); it is never held whole.
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            byte[] fragment = new byte[16_384];
            burst.writeBytes(H2Wire.encode(HEADERS, H2Wire.END_STREAM, 1, fragment));
            burst.writeBytes(H2Wire.encode(CONTINUATION, 0, 1, fragment));
            burst.writeBytes(H2Wire.encode(CONTINUATION, END_HEADERS, 1, fragment));
            w.write(burst.toByteArray());
            assertEquals(PROTOCOL_ERROR, goAwayAndClose(w).errorCode());
        }
        assertEquals(1.0, goAways("PROTOCOL_ERROR"));
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void hpackBombIsAnswered431AndNeverForwarded() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            // One 4000-byte literal enters the dynamic table and is referenced 30 times: 4 KiB on the wire,
            // 120 KiB once decoded, five times the header list size.
            Block bomb = get("/oauth/callback?bomb=1").indexedField("x-bomb", "a".repeat(4000));
            for (int i = 0; i < 30; i++) {
                bomb.ref(62);
            }
            w.headers(1, true, bomb);
            StreamResult r = w.awaitEnd(1);
            sentinel(w, 3);
            assertEquals("431+" + RST, answer(r), r.toString());
        }
        nangoSaw("/oauth/callback?sentinel=3");
    }

    /** Sends {@code total} control frames in batches, reading the acknowledgements between them. */
    static void controlFlood(H2Wire w, int type, int total) throws IOException {
        int sent = 0;
        int acks = 0;
        while (sent < total && w.goAway() == null) {
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (int i = 0; i < 100; i++) {
                burst.writeBytes(H2Wire.encode(type, 0, 0, type == PING ? new byte[8] : new byte[0]));
            }
            w.write(burst.toByteArray());
            sent += 100;
            while (acks < sent && w.goAway() == null && w.pump()) {
                List<Frame> f = w.frames();
                Frame last = f.get(f.size() - 1);
                if (last.type() == type && last.has(H2Wire.ACK)) {
                    acks++;
                }
            }
        }
    }

    @Test
    void settingsFloodEndsTheConnectionWithEnhanceYourCalm() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            controlFlood(w, SETTINGS, 1100);
            assertEquals(ENHANCE_YOUR_CALM, goAwayAndClose(w).errorCode());
        }
        assertEquals(1.0, goAways("ENHANCE_YOUR_CALM"));
    }

    @Test
    void pingFloodEndsTheConnectionWithEnhanceYourCalm() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            controlFlood(w, PING, 1100);
            assertEquals(ENHANCE_YOUR_CALM, goAwayAndClose(w).errorCode());
        }
        assertEquals(1.0, goAways("ENHANCE_YOUR_CALM"));
    }

    @Test
    void pingsUnderTheLimitAreAnswered() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            controlFlood(w, PING, 900);
            assertNull(w.goAway());
            sentinel(w, 1);
        }
        nangoSaw("/oauth/callback?sentinel=1");
    }

    @Test
    void emptyDataFloodEndsTheConnectionWithEnhanceYourCalm() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS, 1, post(null).bytes()));
            for (int i = 0; i < 10; i++) {
                burst.writeBytes(H2Wire.encode(DATA, 0, 1, new byte[0]));
            }
            w.write(burst.toByteArray());
            assertEquals(ENHANCE_YOUR_CALM, goAwayAndClose(w).errorCode());
        }
        assertEquals(1.0, goAways("ENHANCE_YOUR_CALM"));
        assertEquals(0, nango.getRequestCount());
    }

    @Test
    void streamsBeyondTheHundredthAreRefused() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            int n = 110;
            w.timeout(20_000);
            for (int i = 0; i < n; i++) {
                // A body announced and not sent: each stream stays open, and nothing is forwarded before its body.
                burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS, 1 + 2 * i, post("1").bytes()));
            }
            w.write(burst.toByteArray());
            for (int i = 100; i < n; i++) {
                assertEquals("RST(REFUSED_STREAM)", answer(w.awaitReset(1 + 2 * i)), "stream " + (1 + 2 * i));
            }
            for (int i = 0; i < 100; i++) {
                assertEquals("nothing", answer(w.stream(1 + 2 * i)), "stream " + (1 + 2 * i) + " is open");
            }
            assertNull(w.goAway());
            // A stream given up frees its place for the next one.
            w.rst(1, CANCEL);
            sentinel(w, 1 + 2 * n);
        }
        nangoSaw("/oauth/callback?sentinel=" + (1 + 2 * 110));
    }

    @Test
    void connectionWindowOverflowIsAFlowControlError() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            w.windowUpdate(0, 0x7fffffffL);
            Frame g = goAwayAndClose(w);
            assertEquals(FLOW_CONTROL_ERROR, g.errorCode());
        }
        assertEquals(1.0, goAways("FLOW_CONTROL_ERROR"));
    }

    @Test
    void streamWindowOverflowResetsTheStream() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            w.headers(1, false, post("1"));
            w.windowUpdate(1, 0x7fffffffL);
            assertEquals("RST(FLOW_CONTROL_ERROR)", answer(w.awaitReset(1)));
            sentinel(w, 3);
        }
        nangoSaw("/oauth/callback?sentinel=3");
    }

    @Test
    void zeroWindowIncrementIsAProtocolError() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            w.headers(1, false, post("1"));
            w.windowUpdate(1, 0);
            assertEquals(RST, answer(w.awaitReset(1)));
            sentinel(w, 3);
            w.windowUpdate(0, 0);
            assertEquals(PROTOCOL_ERROR, goAwayAndClose(w).errorCode());
        }
        nangoSaw("/oauth/callback?sentinel=3");
        assertEquals(1.0, goAways("PROTOCOL_ERROR"));
    }

    // ------------------------------------------------------------------------------------------------ h2c

    /** Everything the server sends until it closes (bounded by the socket timeout). */
    static String untilClosed(Socket s) throws IOException {
        s.setSoTimeout(5_000);
        InputStream in = s.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                got.write(buf, 0, n);
            }
        } catch (java.net.SocketException reset) {
            // closed with unread bytes: what came before is what counts
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void plainTextPrefaceIsRefused() throws Exception {
        try (Socket s = new Socket("127.0.0.1", gateway.port("plain"))) {
            s.getOutputStream().write(H2Wire.PREFACE);
            s.getOutputStream().write(H2Wire.encode(SETTINGS, 0, 0, new byte[0]));
            s.getOutputStream().write(H2Wire.encode(HEADERS, END_HEADERS | H2Wire.END_STREAM, 1,
                    get("/oauth/callback?h2c=1").bytes()));
            s.getOutputStream().flush();
            String got = untilClosed(s);
            assertTrue(got.startsWith("HTTP/1.1 400 "), got);
        }
        assertEquals(0, nango.getRequestCount());
    }

    static String h2cUpgrade(String target) {
        return "GET " + target + " HTTP/1.1\r\nHost: gw.example\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
    }

    /** On a route that takes no upgrade, the request goes on as plain HTTP/1.1, its hop-by-hop fields dropped. */
    @Test
    void upgradeToH2cIsNeverHonoured() throws Exception {
        RawHttp.Response r = RawHttp.exchange(gateway.port("plain"), h2cUpgrade("/oauth/callback?up=1"));
        assertEquals(200, r.status(), r.statusLine());
        assertEquals("nango saw /oauth/callback?up=1", r.bodyText());
        nangoSaw("/oauth/callback?up=1");
        assertNull(seen.get(0).getHeaders().get("Upgrade"), seen.get(0).getHeaders().toString());
        assertNull(seen.get(0).getHeaders().get("HTTP2-Settings"), seen.get(0).getHeaders().toString());
    }

    /** The WebSocket route takes a websocket upgrade only: an h2c one matches no route, and is denied. */
    @Test
    void upgradeToH2cOnTheWebSocketRouteIsDenied() throws Exception {
        RawHttp.Response r = RawHttp.exchange(gateway.port("plain"), h2cUpgrade("/"));
        assertEquals(403, r.status(), r.statusLine());
        assertEquals(0, nango.getRequestCount());
    }

    // ------------------------------------------------------------------------------------------------ sanity

    @Test
    void goodRequestsPassOnANewConnectionAfterAbuse() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            controlFlood(w, PING, 1100);
            goAwayAndClose(w);
        }
        byte[] body = new byte[200_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 31 + (i >>> 8));
        }
        try (H2Wire w = H2Wire.tls(port)) {
            w.headers(1, true, get("/oauth/callback?after=1"));
            assertEquals("200", answer(w.awaitEnd(1)));
            w.headers(3, false, post(Integer.toString(body.length)));
            w.body(3, body);
            StreamResult r = w.awaitEnd(3);
            assertEquals("200", answer(r));
            assertEquals("nango saw " + HOOK, r.bodyText());
            w.headers(5, false, post(null));
            w.body(5, body);
            assertEquals("200", answer(w.awaitEnd(5)));
        }
        nangoSaw("/oauth/callback?after=1", HOOK, HOOK);
        assertArrayEquals(body, seen.get(1).getBody().toByteArray(), "the body, byte for byte (content-length)");
        assertArrayEquals(body, seen.get(2).getBody().toByteArray(), "the body, byte for byte (chunked)");
        assertEquals(Integer.toString(body.length), seen.get(1).getHeaders().get("Content-Length"));
    }

    /**
     * Each open stream counts as a connection against max_connections_per_client (as nginx's limit_conn counts each
     * HTTP/2 request): a client allowed 3 has its connection and two open streams; a third stream is answered 503
     * with Retry-After (by the router, so logged and counted as a refusal) and reaches nothing, and once a stream
     * ends its place is free again. Refusals are answers, not
     * resets: 300 of them on one connection (over Netty's cap of 200 resets sent in 30 s, past which it would end the
     * connection) leave the connection and its open streams alone.
     */
    // ------------------------------------------------------------------------------- refusals on the connection

    /**
     * Requests the router refuses are answered on the connection, without a stream pipeline: interleaved with
     * proxied ones in one burst, each stream gets its own answer, Nango sees exactly the proxied ones, and the frames
     * a client sends on an answered stream afterwards (a reset, DATA after its END_STREAM) cost nothing but the
     * RFC's answer.
     */
    @Test
    void refusalsInterleavedWithProxiedStreamsInOneBurst() throws Exception {
        int pairs = 40;
        try (H2Wire w = H2Wire.tls(port)) {
            w.timeout(20_000);
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (int i = 0; i < 2 * pairs; i++) {
                int stream = 1 + 2 * i;
                Block b = i % 2 == 0 ? get("/oauth/callback?n=" + i) : get("/api/v1/account?n=" + i);
                burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS | H2Wire.END_STREAM, stream, b.bytes()));
            }
            w.write(burst.toByteArray());
            Set<String> expected = new java.util.HashSet<>();
            for (int i = 0; i < 2 * pairs; i++) {
                int stream = 1 + 2 * i;
                StreamResult r = w.awaitEnd(stream);
                if (i % 2 == 0) {
                    assertEquals("200", answer(r), "stream " + stream + ": " + r);
                    assertEquals("nango saw /oauth/callback?n=" + i, r.bodyText());
                    expected.add("/oauth/callback?n=" + i);
                } else {
                    assertEquals("403", answer(r), "stream " + stream + ": " + r);
                    assertEquals("403 Forbidden\n", r.bodyText());
                    assertEquals(32, String.valueOf(r.heads.get(0).get("x-request-id")).length(), r.toString());
                }
            }
            w.rst(3, CANCEL); // answered and closed: nothing to act on
            w.data(7, true, "late".getBytes(StandardCharsets.US_ASCII));
            sentinel(w, 1 + 4 * pairs);
            expected.add("/oauth/callback?sentinel=" + (1 + 4 * pairs));
            Set<String> got = new java.util.HashSet<>();
            seen.forEach(r -> got.add(r.getTarget()));
            assertEquals(expected, got, "what reached Nango");
            assertEquals(expected.size(), nango.getRequestCount());
        }
        assertEquals(pairs, metric("nango_gateway_denied_requests_total{", "reason=\"not_allowlisted\""));
    }

    /**
     * A refusal whose body the client's flow control would hold back (a zero window) goes to a stream pipeline, with
     * its send clock: DATA the client sends on it meanwhile is a stream error (STREAM_CLOSED), answered with a
     * reset, and a reset from the client just ends it; the other streams' bodies follow once the client opens their
     * windows, and the connection serves on.
     */
    @Test
    void refusalHeldByFlowControl() throws Exception {
        try (H2Wire w = H2Wire.tls(port)) {
            w.frame(SETTINGS, 0, 0, settings(0x4, 0)); // SETTINGS_INITIAL_WINDOW_SIZE 0: no DATA until granted
            w.headers(1, true, get("/api/v1/account"));
            w.headers(3, true, get("/oauth/callback?held=1"));
            w.headers(5, true, get("/api/v1/cancelled"));
            StreamResult denied = w.stream(1);
            StreamResult proxied = w.stream(3);
            StreamResult cancelled = w.stream(5);
            while ((denied.heads.isEmpty() || proxied.heads.isEmpty() || cancelled.heads.isEmpty()) && w.pump()) {
                // the HEADERS are not flow-controlled: both come
            }
            assertEquals(403, denied.status());
            assertEquals(200, proxied.status());
            assertEquals(0, denied.body.size(), "no DATA within a zero window");
            w.rst(5, CANCEL); // the client gives up on an answer it has not taken all of: nothing more on stream 5
            w.data(1, false, "more".getBytes(StandardCharsets.US_ASCII)); // the request had ended
            assertEquals("403+RST(STREAM_CLOSED)", answer(w.awaitReset(1)));
            w.windowUpdate(3, 65_535);
            assertEquals("nango saw /oauth/callback?held=1", w.awaitEnd(3).bodyText());
            assertNull(w.goAway());
        }
        try (H2Wire w = H2Wire.tls(port)) {
            w.headers(1, true, get("/api/v1/account"));
            assertEquals("403", answer(w.awaitEnd(1)));
            sentinel(w, 3);
        }
        nangoSaw("/oauth/callback?held=1", "/oauth/callback?sentinel=3");
    }

    /**
     * A refusal answered on the connection is the one a stream pipeline gives, byte for byte but the request id: the
     * same status, fields (HSTS, Allow, content-length), body, and the same access-log line. The same requests with
     * an (empty) body go through stream pipelines, which is what they are compared with.
     */
    @Test
    void refusalsOnTheConnectionAnswerAndLogAsAStreamPipelineDoes() throws Exception {
        Gateway g = startTls("hsts", ListenerLimits.DEFAULTS, new ListenerOptions("max-age=63072000", false, null,
                List.of(), null, 0, 0, AccessLogFormat.COMBINED, Set.of()));
        List<Block> requests = List.of(
                get("/api/v1/account?code=secret&x=1", "user-agent", "probe/1.0",
                        "referer", "https://a.example/?state=s"),
                Block.request("POST", "/oauth/callback?code=c"),
                Block.request("HEAD", "/api/v1/account"),
                Block.request("DELETE", "/connection/abc"));
        try (H2Wire w = H2Wire.tls(g.port("hsts"));
                LogCapture log = new LogCapture(AccessLogHandler.LOGGER, Level.INFO)) {
            int stream = 1;
            for (Block b : requests) {
                w.headers(stream, true, b); // whole: answered on the connection
                StreamResult direct = w.awaitEnd(stream);
                String directLine = onlyLine(log);
                stream += 2;
                w.headers(stream, false, b); // its end in a DATA frame: a stream pipeline's
                w.data(stream, true, new byte[0]);
                StreamResult piped = w.awaitEnd(stream);
                String pipedLine = onlyLine(log);
                stream += 2;
                assertEquals(fields(piped), fields(direct), b.toString());
                assertEquals(piped.bodyText(), direct.bodyText());
                assertEquals("max-age=63072000", String.valueOf(direct.heads.get(0).get("strict-transport-security")));
                assertEquals(sameParts(pipedLine), sameParts(directLine));
                assertTrue(directLine.contains(" rid=" + direct.heads.get(0).get("x-request-id")), directLine);
            }
            assertNull(w.goAway());
        } finally {
            g.close();
        }
        assertEquals(0, nango.getRequestCount());
    }

    private static String onlyLine(LogCapture log) {
        List<String> lines = log.lines();
        assertEquals(1, lines.size(), lines.toString());
        log.clear();
        return lines.get(0);
    }

    /** A response's fields but its request id, in order. */
    private static List<String> fields(StreamResult r) {
        List<String> out = new ArrayList<>();
        r.heads.forEach(h -> h.forEach(e -> {
            if (!e.getKey().toString().equals("x-request-id")) {
                out.add(e.getKey() + ": " + e.getValue());
            }
        }));
        return out;
    }

    /** An access-log line without what differs between two requests: its time, duration and request id. */
    private static String sameParts(String line) {
        return line.replaceAll("\\[[^]]*]", "[time]").replaceAll(" rt=\\S+", " rt=-").replaceAll(" rid=\\S+", " rid=-");
    }

    /**
     * Refusals answered on the connection whose bodies the client's connection window does not take (the window ran
     * down while they were answered) and that the client then never takes are reset with CANCEL after
     * {@code send_timeout}, as a stream pipeline's would be: no stream is held open by a client that does not read.
     * Meanwhile a reset from the client ends one, and DATA on one (its request had ended) is a stream error.
     */
    @Test
    void refusalsTheClientDoesNotTakeAreResetAfterTheSendTimeout() throws Exception {
        ListenerLimits quickSend = new ListenerLimits(8 * 1024, 16 * 1024, 100, Duration.ofSeconds(10),
                Duration.ofSeconds(60), Duration.ofSeconds(30), ListenerLimits.DEFAULT_MIN_BODY_RATE,
                Duration.ofSeconds(1), 0);
        Gateway g = startTls("quick", quickSend, ListenerOptions.DEFAULTS);
        int refusals = 99;
        try (H2Wire w = H2Wire.tls(g.port("quick"))) {
            w.timeout(20_000);
            w.giveWindowsBack(false);
            int left = 1100; // of the connection's 65,535-byte window: room for the first 78 of 99 bodies of 14 bytes
            w.headers(1, true, get("/oauth/callback?big=" + (65_535 - left)));
            assertEquals(65_535 - left, w.awaitEnd(1).body.size(), "a body that is not given back");
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (int i = 0; i < refusals; i++) {
                burst.writeBytes(H2Wire.encode(HEADERS, END_HEADERS | H2Wire.END_STREAM, 3 + 2 * i,
                        get("/api/v1/account?n=" + i).bytes()));
            }
            w.write(burst.toByteArray());
            w.timeout(300);
            try {
                while (w.pump()) {
                    // every answer's HEADERS (they take no window), and the bodies the window takes
                }
            } catch (java.net.SocketTimeoutException quiet) {
                // all the server could send has come
            }
            w.timeout(20_000);
            List<Integer> waiting = new ArrayList<>();
            for (int i = 0; i < refusals; i++) {
                StreamResult r = w.stream(3 + 2 * i);
                assertEquals(403, r.status(), r.toString());
                if (!r.ended && r.reset < 0) {
                    waiting.add(3 + 2 * i);
                }
            }
            assertTrue(waiting.size() >= 2, "answers held back by the window: " + waiting);
            int gaveUp = waiting.get(0);
            int late = waiting.get(1);
            w.rst(gaveUp, CANCEL); // the client gives up on an answer it has not taken all of
            w.data(late, true, "late".getBytes(StandardCharsets.US_ASCII)); // after END_STREAM: a stream error
            assertEquals("403+RST(STREAM_CLOSED)", answer(w.awaitReset(late)));
            int taken = 0;
            int reset = 0;
            for (int i = 0; i < refusals; i++) {
                if (3 + 2 * i == gaveUp || 3 + 2 * i == late) {
                    continue;
                }
                StreamResult r = w.awaitEnd(3 + 2 * i);
                assertEquals(403, r.status(), r.toString());
                if (r.ended) {
                    assertEquals("403 Forbidden\n", r.bodyText());
                    taken++;
                } else {
                    assertEquals(CANCEL, r.reset, r.toString());
                    reset++;
                }
            }
            assertEquals(refusals - 2, taken + reset);
            assertTrue(reset > 0 && taken > 0, "taken " + taken + ", reset " + reset);
            assertNull(w.goAway(), "the connection goes on");
            w.giveWindowsBack(true);
            w.windowUpdate(0, 65_535);
            sentinel(w, 3 + 2 * refusals);
        } finally {
            g.close();
        }
    }

    /** A SETTINGS payload of one setting. */
    static byte[] settings(int id, long value) {
        byte[] p = new byte[6];
        p[0] = (byte) (id >>> 8);
        p[1] = (byte) id;
        System.arraycopy(H2Wire.u32(value), 0, p, 2, 4);
        return p;
    }

    /**
     * Refusals answered on the connection count against {@code max_connections_per_client} like any stream while
     * open, and give their place back once answered: 300 in a row on a listener that allows 3 are each refused for
     * what they ask (403), while the connection and 2 open uploads fill the cap they are refused for it (503).
     */
    @Test
    void refusalsOnTheConnectionTakeAndReturnTheirPlaceUnderTheCap() throws Exception {
        Gateway g = startTls("capped", ListenerLimits.DEFAULTS, new ListenerOptions(null, false, null, List.of(), null,
                0, 3, AccessLogFormat.COMBINED, Set.of()));
        try (H2Wire w = H2Wire.tls(g.port("capped"))) {
            w.timeout(20_000);
            w.noDelay();
            int stream = 1;
            for (int i = 0; i < 300; i++, stream += 2) {
                w.headers(stream, true, get("/api/v1/account?n=" + i));
                assertEquals("403", answer(w.awaitEnd(stream)), "refusal " + i);
            }
            int[] uploads = {stream, stream + 2}; // with the connection itself, the client's 3
            for (int u : uploads) {
                w.headers(u, false, post("5"));
            }
            stream += 4;
            w.headers(stream, true, get("/api/v1/account?over=1"));
            StreamResult over = w.awaitEnd(stream);
            assertEquals("503", answer(over), over.toString());
            assertEquals("1", String.valueOf(over.heads.get(0).get("retry-after")));
            for (int u : uploads) {
                w.data(u, true, "hello".getBytes(StandardCharsets.US_ASCII));
                assertEquals("200", answer(w.awaitEnd(u)));
            }
            stream += 2;
            w.headers(stream, true, get("/api/v1/account?after=1"));
            assertEquals("403", answer(w.awaitEnd(stream)));
        }
        String metrics = g.metrics().render();
        g.close();
        assertTrue(metrics.contains("nango_gateway_http2_streams_refused_total{listener=\"capped\"} 1.0"), metrics);
        assertTrue(metrics.contains("nango_gateway_denied_requests_total{listener=\"capped\",reason=\"not_allowlisted\"} "
                + "301.0"), metrics);
    }

    @Test
    void openStreamsCountAgainstMaxConnectionsPerClient() throws Exception {
        Gateway g = startTls("capped", ListenerLimits.DEFAULTS, new ListenerOptions(null, false, null, List.of(), null,
                0, 3, AccessLogFormat.COMBINED, Set.of()));
        int refusals = 300;
        try (H2Wire w = H2Wire.tls(g.port("capped"))) {
            w.timeout(20_000);
            w.noDelay(); // 300 answers in a row, each with a WINDOW_UPDATE back
            w.headers(1, false, post("5")); // open: their bodies have not come yet
            w.headers(3, false, post("5"));
            int stream = 5;
            for (int i = 0; i < refusals; i++, stream += 2) {
                w.headers(stream, true, get("/oauth/callback?over=" + i));
                StreamResult r = w.awaitEnd(stream);
                assertEquals("503", answer(r), "stream " + stream + ": " + r + "; GOAWAY " + w.goAway()
                        + "; resets " + w.frames().stream().filter(f -> f.type() == H2Wire.RST_STREAM).toList());
                assertEquals("1", String.valueOf(r.heads.get(0).get("retry-after")));
            }
            assertNull(w.goAway(), "the connection goes on");
            assertEquals(List.of(), w.frames().stream().filter(f -> f.type() == H2Wire.RST_STREAM).toList(),
                    "a refusal is an answer, not a reset");
            w.data(1, true, "hello".getBytes(StandardCharsets.US_ASCII));
            assertEquals("200", answer(w.awaitEnd(1)));
            sentinel(w, stream); // stream 1's place
            w.data(3, true, "hello".getBytes(StandardCharsets.US_ASCII));
            assertEquals("200", answer(w.awaitEnd(3)));
        }
        String metrics = g.metrics().render();
        g.close();
        nangoSaw(HOOK, "/oauth/callback?sentinel=" + (5 + 2 * refusals), HOOK);
        assertTrue(metrics.contains("nango_gateway_http2_streams_refused_total{listener=\"capped\"} " + refusals
                + ".0"), metrics);
        // Answered by the router like any refusal: counted (and access-logged) as one.
        assertTrue(metrics.contains("nango_gateway_denied_requests_total{listener=\"capped\",reason=\"connection_limit\"} "
                + refusals + ".0"), metrics);
    }
}
