package nangogateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import nangogateway.config.ListenerLimits;
import nangogateway.exchange.RequestFacts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Raw bytes in, decoded messages out: what the strict decoder accepts and what it poisons the connection for. */
class StrictHttpRequestDecoderTest {
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel(new StrictHttpRequestDecoder(ListenerLimits.DEFAULTS));
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private void write(String s) {
        channel.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1));
    }

    /** Every message decoded so far; request heads are kept (caller releases via {@link #release}). */
    private List<Object> drain() {
        List<Object> out = new ArrayList<>();
        Object o;
        while ((o = channel.readInbound()) != null) {
            out.add(o);
        }
        return out;
    }

    private static void release(List<Object> msgs) {
        msgs.forEach(ReferenceCountUtil::release);
    }

    /** Body bytes of the contents in {@code msgs}, which must end with a LastHttpContent. */
    private static String body(List<Object> msgs) {
        StringBuilder b = new StringBuilder();
        for (Object o : msgs) {
            if (o instanceof HttpContent c) {
                b.append(c.content().toString(StandardCharsets.ISO_8859_1));
            }
        }
        return b.toString();
    }

    /** Asserts that exactly one message came out: a request whose decoder result is a failure. */
    private Throwable assertSingleFailure(List<Object> msgs) {
        try {
            assertFalse(msgs.isEmpty(), "nothing decoded");
            HttpRequest bad = assertInstanceOf(HttpRequest.class, msgs.get(0));
            assertTrue(bad.decoderResult().isFailure(), "decoder result should be a failure: " + bad);
            assertEquals(1, msgs.size(), "nothing may follow the failed request: " + msgs);
            return bad.decoderResult().cause();
        } finally {
            release(msgs);
        }
    }

    /** After a failure, a perfectly valid request on the same connection is discarded too. */
    private void assertPoisoned() {
        write("GET /after HTTP/1.1\r\nHost: example.com\r\n\r\n");
        List<Object> after = drain();
        release(after);
        assertEquals(List.of(), after, "a request after the failure must not be decoded");
    }

    @Test
    void decodesAValidRequestWithBody() {
        write("POST /webhook/prod/github?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\n"
                + "Content-Length: 11\r\nX-Multi: a\r\nX-Multi: b\r\n\r\n{\"ok\":true}");
        List<Object> msgs = drain();
        try {
            HttpRequest r = assertInstanceOf(HttpRequest.class, msgs.get(0));
            assertTrue(r.decoderResult().isSuccess());
            assertEquals(HttpMethod.POST, r.method());
            assertEquals("/webhook/prod/github?x=1", r.uri());
            assertEquals(HttpVersion.HTTP_1_1, r.protocolVersion());
            assertEquals("example.com", r.headers().get("host"));
            assertEquals("application/json", r.headers().get("Content-Type"));
            assertEquals("11", r.headers().get("Content-Length"));
            assertEquals(List.of("a", "b"), r.headers().getAll("X-Multi"));
            assertInstanceOf(LastHttpContent.class, msgs.get(msgs.size() - 1));
            assertEquals("{\"ok\":true}", body(msgs));
        } finally {
            release(msgs);
        }
    }

    @Test
    void decodesAValidRequestSplitAcrossWrites() {
        write("GET /oauth/connect/git");
        write("hub?a=b HTTP/1.1\r\nHo");
        write("st: example.com\r\nUser-Agent: t\r\n");
        write("\r\n");
        List<Object> msgs = drain();
        try {
            HttpRequest r = assertInstanceOf(HttpRequest.class, msgs.get(0));
            assertTrue(r.decoderResult().isSuccess(), () -> String.valueOf(r.decoderResult()));
            assertEquals("/oauth/connect/github?a=b", r.uri());
            assertEquals("example.com", r.headers().get("Host"));
            assertEquals("t", r.headers().get("User-Agent"));
            assertInstanceOf(LastHttpContent.class, msgs.get(msgs.size() - 1));
            assertEquals("", body(msgs));
        } finally {
            release(msgs);
        }
    }

    @Test
    void decodesChunkedBody() {
        write("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        List<Object> msgs = drain();
        try {
            HttpRequest r = assertInstanceOf(HttpRequest.class, msgs.get(0));
            assertTrue(r.decoderResult().isSuccess());
            assertEquals("hello world", body(msgs));
            assertInstanceOf(LastHttpContent.class, msgs.get(msgs.size() - 1));
        } finally {
            release(msgs);
        }
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
        "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /\tHTTP/1.1\r\nHost: h\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /  HTTP/1.1\r\nHost: h\r\n\r\n",
        " GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "\tGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
        "GET / http/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\tfolded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX_Forwarded_For: 1.2.3.4\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello!",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n",
    })
    void rejectsAmbiguousFraming(String raw) {
        write(raw);
        assertSingleFailure(drain());
        assertPoisoned();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
        "GET / HTTP/1.1\nHost: h\n\n",
        "GET / HTTP/1.1\r\nHost: h\nX-A: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\rX-A: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length : 0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n: empty-name\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u0000b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX(A): 1\r\n\r\n",
        "GET /\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello",
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\t\r\n\r\nhello",
    })
    void rejectsBareLineEndsAndMalformedHeaderLines(String raw) {
        write(raw);
        assertSingleFailure(drain());
        assertPoisoned();
    }

    @Test
    void rejectsTrailingWhitespaceAfterTheVersion() {
        write("GET / HTTP/1.1 \r\nHost: h\r\n\r\n");
        assertSingleFailure(drain());
        assertPoisoned();
    }

    @Test
    void rejectsBareLineFeedInAChunkSizeLine() {
        write("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n");
        List<Object> msgs = drain();
        try {
            assertTrue(msgs.stream().anyMatch(o -> o instanceof io.netty.handler.codec.DecoderResultProvider p
                    && p.decoderResult().isFailure()), () -> "a failed message is produced: " + msgs);
            assertFalse(msgs.stream().anyMatch(o -> o instanceof HttpContent c
                    && c.content().toString(StandardCharsets.ISO_8859_1).contains("hello")), "body not passed on");
        } finally {
            release(msgs);
        }
    }

    @Test
    void leadingEmptyLinesBeforeTheRequestLineAreAllowed() {
        write("\r\n\r\nGET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
        List<Object> msgs = drain();
        try {
            HttpRequest r = assertInstanceOf(HttpRequest.class, msgs.get(0));
            assertTrue(r.decoderResult().isSuccess(), () -> String.valueOf(r.decoderResult()));
            assertEquals("/ok", r.uri());
        } finally {
            release(msgs);
        }
    }

    @Test
    void rejectsObsFoldArrivingInALaterWrite() {
        write("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n");
        List<Object> first = drain();
        release(first);
        assertEquals(List.of(), first, "the head is not complete yet");
        write(" folded\r\n\r\n");
        assertSingleFailure(drain());
        assertPoisoned();
    }

    @Test
    void rejectsObsFoldWithTabArrivingInALaterWriteAfterTheRequestLine() {
        write("GET / HTTP/1.1\r\nHost: h\r\n");
        write("\tfolded\r\n\r\n");
        assertSingleFailure(drain());
        assertPoisoned();
    }

    @Test
    void rejectsObsFoldSplitByteByByte() {
        for (char c : "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n folded\r\n\r\n".toCharArray()) {
            write(String.valueOf(c));
        }
        assertSingleFailure(drain());
        assertPoisoned();
    }

    @Test
    void rejectsMoreThanOneHundredHeaderFields() {
        StringBuilder b = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        for (int i = 0; i < 100; i++) {
            b.append("X-H").append(i).append(": v\r\n");
        }
        write(b.append("\r\n").toString());
        Throwable cause = assertSingleFailure(drain());
        assertInstanceOf(TooLongHttpHeaderException.class, cause);
        assertPoisoned();
    }

    @Test
    void acceptsExactlyOneHundredHeaderFields() {
        StringBuilder b = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        for (int i = 0; i < 99; i++) {
            b.append("X-H").append(i).append(": v\r\n");
        }
        write(b.append("\r\n").toString());
        List<Object> msgs = drain();
        try {
            HttpRequest r = assertInstanceOf(HttpRequest.class, msgs.get(0));
            assertTrue(r.decoderResult().isSuccess(), () -> String.valueOf(r.decoderResult()));
            assertEquals(100, r.headers().size());
        } finally {
            release(msgs);
        }
    }

    @Test
    void rejectsARequestLineOverEightKiB() {
        write("GET /" + "a".repeat(8 * 1024) + " HTTP/1.1\r\nHost: h\r\n\r\n");
        Throwable cause = assertSingleFailure(drain());
        assertInstanceOf(TooLongHttpLineException.class, cause);
        assertPoisoned();
    }

    @Test
    void rejectsAHeaderBlockOverSixteenKiB() {
        write("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + "b".repeat(17 * 1024) + "\r\n\r\n");
        Throwable cause = assertSingleFailure(drain());
        assertInstanceOf(TooLongHttpHeaderException.class, cause);
    }

    /** The access log of a refused request: its method and version as sent, never a placeholder's HTTP/1.0. */
    @Test
    void aRefusedRequestLeavesWhatItsLineSaidForTheLog() {
        RequestFacts facts = RequestFacts.of(channel);
        write("POST / HTTP/1.1\r\nHost: h\r\nX-Big: " + "b".repeat(17 * 1024) + "\r\n\r\n");
        assertInstanceOf(TooLongHttpHeaderException.class, assertSingleFailure(drain()));
        assertEquals("POST", facts.refusedMethod());
        assertEquals("HTTP/1.1", facts.refusedVersion(), "a 431's request line is whole");

        for (String[] c : new String[][] {
                {"GET /" + "a".repeat(8 * 1024) + " HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "HTTP/1.1"},
                {"GET /" + "a".repeat(9 * 1024), "GET", null},
                {"GE\"T / HTTP/1.1\r\n\r\n", null, "HTTP/1.1"},
                {"GET / HTTP/1.0\r\nBad Header: x\r\n\r\n", "GET", "HTTP/1.0"},
                {"GET / HTTP/2.0\r\n\r\n", "GET", null},
                {"G".repeat(9 * 1024), null, null}}) {
            channel = new EmbeddedChannel(new StrictHttpRequestDecoder(ListenerLimits.DEFAULTS));
            RequestFacts f = RequestFacts.of(channel);
            write(c[0]);
            assertSingleFailure(drain());
            String what = c[0].substring(0, Math.min(20, c[0].length()));
            assertEquals(c[1], f.refusedMethod(), what);
            assertEquals(c[2], f.refusedVersion(), what);
        }
    }

    @Test
    void bodyContainingLineFeedSpaceIsNotObsFold() {
        String body = "line1\n folded-looking\n\tand tab\r\n more";
        write("POST /webhook/a/b HTTP/1.1\r\nHost: h\r\nContent-Length: " + body.length() + "\r\n\r\n" + body
                + "GET /second HTTP/1.1\r\nHost: h\r\n\r\n");
        List<Object> msgs = drain();
        try {
            HttpRequest first = assertInstanceOf(HttpRequest.class, msgs.get(0));
            assertTrue(first.decoderResult().isSuccess(), () -> String.valueOf(first.decoderResult()));
            int secondAt = -1;
            for (int i = 1; i < msgs.size(); i++) {
                if (msgs.get(i) instanceof HttpRequest) {
                    secondAt = i;
                }
            }
            assertTrue(secondAt > 0, "second request decoded: " + msgs);
            assertEquals(body, body(msgs.subList(0, secondAt)));
            HttpRequest second = (HttpRequest) msgs.get(secondAt);
            assertTrue(second.decoderResult().isSuccess(), () -> String.valueOf(second.decoderResult()));
            assertEquals("/second", second.uri());
            assertInstanceOf(LastHttpContent.class, msgs.get(msgs.size() - 1));
        } finally {
            release(msgs);
        }
    }

    @Test
    void bodyStartingWithSpaceInALaterWriteIsNotObsFold() {
        write("POST /webhook/a/b HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\n");
        write(" body\n\tx");
        write("GET /second HTTP/1.1\r\nHost: h\r\n\r\n");
        List<Object> msgs = drain();
        try {
            assertTrue(((HttpRequest) msgs.get(0)).decoderResult().isSuccess());
            List<HttpRequest> heads = msgs.stream().filter(HttpRequest.class::isInstance)
                    .map(HttpRequest.class::cast).toList();
            assertEquals(2, heads.size(), msgs::toString);
            assertTrue(heads.get(1).decoderResult().isSuccess(), () -> String.valueOf(heads.get(1).decoderResult()));
            assertEquals("/second", heads.get(1).uri());
            int secondAt = msgs.indexOf(heads.get(1));
            assertEquals(" body\n\tx", body(msgs.subList(0, secondAt)));
        } finally {
            release(msgs);
        }
    }

    @Test
    void chunkedBodyWithLineFeedSpaceIsNotObsFold() {
        write("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na\n b\r\n");
        write("3\r\n\n\tc\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n");
        List<Object> msgs = drain();
        try {
            List<HttpRequest> heads = msgs.stream().filter(HttpRequest.class::isInstance)
                    .map(HttpRequest.class::cast).toList();
            assertEquals(2, heads.size(), msgs::toString);
            heads.forEach(h -> assertTrue(h.decoderResult().isSuccess(), () -> String.valueOf(h.decoderResult())));
            assertEquals("a\n b\n\tc", body(msgs.subList(0, msgs.indexOf(heads.get(1)))));
        } finally {
            release(msgs);
        }
    }

    @Test
    void pipelinedRequestAfterAFailureIsDiscarded() {
        write("GET / HTTP/1.1\r\nHost: h\r\nBad_Name: x\r\n\r\nGET /second HTTP/1.1\r\nHost: h\r\n\r\n");
        assertSingleFailure(drain());
        ByteBuf more = Unpooled.copiedBuffer("GET /third HTTP/1.1\r\nHost: h\r\n\r\n", StandardCharsets.US_ASCII);
        channel.writeInbound(more);
        assertEquals(0, more.refCnt(), "bytes after a failure are consumed and released");
        assertNull(channel.readInbound());
    }

    @Test
    void aBodilessRequestComesOutWholeAsOneMessage() {
        write("GET /oauth/callback?code=a HTTP/1.1\r\nHost: h\r\n\r\n"
                + "GET /oauth/callback?code=b HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
        List<Object> msgs = drain();
        try {
            assertEquals(2, msgs.size(), "one message per request: " + msgs);
            for (Object o : msgs) {
                io.netty.handler.codec.http.FullHttpRequest r =
                        assertInstanceOf(io.netty.handler.codec.http.FullHttpRequest.class, o);
                assertTrue(r.decoderResult().isSuccess());
                assertFalse(r.content().isReadable());
                assertEquals("h", r.headers().get("Host"));
            }
            assertEquals("/oauth/callback?code=b", ((HttpRequest) msgs.get(1)).uri());
        } finally {
            release(msgs);
        }
    }

    @Test
    void aRequestWithABodyKeepsHeadAndContentApart() {
        write("POST /webhook/a/b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz");
        List<Object> msgs = drain();
        try {
            assertEquals(2, msgs.size(), msgs.toString());
            assertFalse(msgs.get(0) instanceof HttpContent, "the head is not a full request");
            assertInstanceOf(LastHttpContent.class, msgs.get(1));
            assertEquals("xyz", body(msgs));
        } finally {
            release(msgs);
        }
    }

    @Test
    void aHeadWhoseEndComesLaterIsNotMerged() {
        write("POST /webhook/a/b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
        List<Object> first = drain();
        write("0\r\n\r\n");
        List<Object> second = drain();
        try {
            assertEquals(1, first.size(), first.toString());
            assertFalse(first.get(0) instanceof HttpContent);
            assertEquals(1, second.size(), second.toString());
            assertInstanceOf(LastHttpContent.class, second.get(0));
        } finally {
            release(first);
            release(second);
        }
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
        "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a\u0000b HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a\u007fb HTTP/1.1\r\nHost: h\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456789\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n\rX-Hidden: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\r\n\r\n",
    })
    void rejectsWhatTheStrictGrammarDoesNotAllow(String raw) {
        write(raw);
        assertSingleFailure(drain());
        assertPoisoned();
    }

    @ParameterizedTest(name = "[{index}] chunk size line {0}")
    @ValueSource(strings = {"5 ", "5\t", " 5", "5;", "0x5"})
    void rejectsAChunkSizeLineWithStrayBytes(String sizeLine) {
        write("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + sizeLine.replace("5;", "5;\u0001")
                + "\r\nhello\r\n0\r\n\r\n");
        List<Object> msgs = drain();
        try {
            assertTrue(msgs.get(msgs.size() - 1) instanceof LastHttpContent last && last.decoderResult().isFailure(),
                    () -> "the body ends with a failure: " + msgs);
            assertFalse(msgs.stream().anyMatch(o -> o instanceof HttpContent c
                    && c.content().toString(StandardCharsets.ISO_8859_1).contains("hello")), "body not passed on");
        } finally {
            release(msgs);
        }
        assertPoisoned();
    }

    @Test
    void chunkExtensionsMayFollowWhitespaceAndAreDropped() {
        write("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5 ;a=b\r\nhello\r\n0\r\n"
                + "X-Trailer: t\r\n\r\n");
        List<Object> msgs = drain();
        try {
            assertEquals("hello", body(msgs));
            LastHttpContent last = assertInstanceOf(LastHttpContent.class, msgs.get(msgs.size() - 1));
            assertTrue(last.decoderResult().isSuccess());
            assertTrue(last.trailingHeaders().isEmpty(), "trailers are dropped");
        } finally {
            release(msgs);
        }
    }

    @Test
    void headerValuesKeepObsTextAndLoseOptionalWhitespace() {
        write("GET / HTTP/1.1\r\nHost:h\r\nX-Name: \tcaf\u00e9 au lait \t\r\nX-Empty:\r\n\r\n");
        List<Object> msgs = drain();
        try {
            HttpRequest r = assertInstanceOf(HttpRequest.class, msgs.get(0));
            assertTrue(r.decoderResult().isSuccess(), () -> String.valueOf(r.decoderResult()));
            assertEquals("h", r.headers().get("host"));
            assertEquals("caf\u00e9 au lait", r.headers().get("x-name"));
            assertEquals("", r.headers().get("X-Empty"));
        } finally {
            release(msgs);
        }
    }

    @Test
    void aClientThatClosesMidBodyEndsItWithAFailure() {
        write("POST /webhook/a/b HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhalf");
        channel.close();
        List<Object> msgs = drain();
        try {
            assertInstanceOf(HttpRequest.class, msgs.get(0));
            assertTrue(msgs.get(msgs.size() - 1) instanceof LastHttpContent last && last.decoderResult().isFailure(),
                    () -> "the body ends with a failure: " + msgs);
        } finally {
            release(msgs);
        }
    }

    @Test
    void aLongBodyComesInPiecesOfAtMost64KiB() {
        int length = 150 * 1024;
        write("POST /webhook/a/b HTTP/1.1\r\nHost: h\r\nContent-Length: " + length + "\r\n\r\n" + "x".repeat(length));
        List<Object> msgs = drain();
        try {
            int total = 0;
            for (Object o : msgs.subList(1, msgs.size())) {
                int n = ((HttpContent) o).content().readableBytes();
                assertTrue(n <= 64 * 1024, "piece of " + n);
                total += n;
            }
            assertEquals(length, total);
            assertInstanceOf(LastHttpContent.class, msgs.get(msgs.size() - 1));
        } finally {
            release(msgs);
        }
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {" GET", "\tGET", "\rX", "\u0000", "(GET"})
    void aHeadThatCannotStartARequestIsRefusedAtOnce(String start) {
        write(start);
        assertSingleFailure(drain());
        assertPoisoned();
    }
}
