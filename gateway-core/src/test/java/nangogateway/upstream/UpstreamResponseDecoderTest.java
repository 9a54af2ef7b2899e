package nangogateway.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Nango's bytes in, response heads and body pieces out: what the upstream decoder relays and what it refuses. */
class UpstreamResponseDecoderTest {
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel(new UpstreamCodec());
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private void sent(HttpMethod method) {
        channel.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/x"));
        ByteBuf encoded;
        while ((encoded = channel.readOutbound()) != null) {
            encoded.release();
        }
    }

    private void write(String s) {
        channel.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1));
    }

    /** Everything decoded so far, bodies read into strings (and released); heads kept as they are. */
    private List<Object> drain() {
        List<Object> out = new ArrayList<>();
        Object o;
        while ((o = channel.readInbound()) != null) {
            if (o instanceof HttpContent c) {
                boolean failed = c.decoderResult().isFailure();
                String body = c.content().toString(StandardCharsets.ISO_8859_1);
                out.add((c instanceof LastHttpContent ? "last:" : "piece:") + (failed ? "FAILED " + c.decoderResult()
                        .cause().getMessage() : body));
                c.release();
            } else {
                out.add(o);
            }
        }
        return out;
    }

    /** The lines a client would be sent, as the client encoder writes them. */
    private static String relayed(UpstreamResponse r) {
        ByteBuf buf = Unpooled.buffer();
        try {
            r.head().writeRelayed(buf, io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
            return buf.toString(StandardCharsets.ISO_8859_1);
        } finally {
            buf.release();
        }
    }

    private UpstreamResponse onlyHead(List<Object> out) {
        return assertInstanceOf(UpstreamResponse.class, out.get(0));
    }

    @Test
    void aLengthFramedResponseInOneRead() {
        sent(HttpMethod.GET);
        write("HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Nango:  v \r\n\r\nhello");
        List<Object> out = drain();
        UpstreamResponse r = onlyHead(out);
        assertTrue(r.decoderResult().isSuccess());
        assertEquals(201, r.status().code());
        assertEquals("Created", r.status().reasonPhrase());
        assertTrue(r.keepAlive());
        assertTrue(r.lengthKnown());
        assertEquals("Content-Type: text/plain\r\nContent-Length: 5\r\nX-Nango: v\r\n", relayed(r));
        assertEquals(List.of("last:hello"), out.subList(1, out.size()));
    }

    @Test
    void aResponseArrivingOneByteAtATimeComesOutTheSame() {
        sent(HttpMethod.GET);
        String response = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nabc";
        List<Object> out = new ArrayList<>();
        for (char c : response.toCharArray()) {
            write(String.valueOf(c));
            out.addAll(drain());
        }
        UpstreamResponse r = onlyHead(out);
        assertEquals(List.of("a=1", "b=2"), r.headers().getAll("set-cookie"));
        assertEquals(List.of("piece:a", "piece:b", "last:c"), out.subList(1, out.size()));
    }

    @Test
    void twoKeptAliveResponsesInARow() {
        sent(HttpMethod.GET);
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nbc");
        List<Object> out = drain();
        assertEquals(200, ((UpstreamResponse) out.get(0)).status().code());
        assertEquals("last:a", out.get(1));
        assertEquals(404, ((UpstreamResponse) out.get(2)).status().code());
        assertEquals("last:bc", out.get(3));
    }

    @Test
    void aChunkedBodyIsDechunkedAndItsTrailersDropped() {
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
                + "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n");
        List<Object> out = drain();
        UpstreamResponse r = onlyHead(out);
        assertTrue(r.keepAlive());
        assertFalse(r.lengthKnown());
        assertEquals("", relayed(r), "Transfer-Encoding and Trailer are hop-by-hop: the gateway re-frames");
        assertEquals(List.of("piece:abc", "piece:de", "last:"), out.subList(1, out.size()));
    }

    @Test
    void aBodyWithoutLengthOrChunksEndsWhenNangoCloses() {
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome");
        List<Object> out = drain();
        assertFalse(onlyHead(out).keepAlive());
        assertEquals(List.of("piece:some"), out.subList(1, out.size()));
        channel.finish();
        assertEquals(List.of("last:"), drain());
    }

    @Test
    void aLengthFramedBodyCutShortByACloseIsAFailureNotAnEnd() {
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        drain().forEach(ReferenceCountUtil::release);
        channel.finish();
        assertEquals(List.of("last:FAILED upstream closed mid-body"), drain());
    }

    @Test
    void headAnswersAndNoContentStatusesHaveNoBody() {
        sent(HttpMethod.HEAD);
        sent(HttpMethod.GET);
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n"
                + "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
                + "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 9\r\n\r\n");
        List<Object> out = drain();
        assertEquals(6, out.size(), out.toString());
        UpstreamResponse head = (UpstreamResponse) out.get(0);
        assertEquals("Content-Length: 1024\r\n", relayed(head), "a HEAD answer keeps the length it describes");
        assertEquals("last:", out.get(1));
        assertEquals("", relayed((UpstreamResponse) out.get(2)), "a 204 carries no Content-Length");
        assertEquals("last:", out.get(3));
        assertEquals("ETag: \"v1\"\r\nContent-Length: 9\r\n", relayed((UpstreamResponse) out.get(4)));
        assertEquals("last:", out.get(5));
    }

    @Test
    void interimResponsesComeAheadOfTheFinalOneWithoutBodies() {
        sent(HttpMethod.POST);
        write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        List<Object> out = drain();
        assertEquals(100, ((UpstreamResponse) out.get(0)).status().code());
        assertEquals(103, ((UpstreamResponse) out.get(1)).status().code());
        assertEquals(200, ((UpstreamResponse) out.get(2)).status().code());
        assertEquals(List.of("last:ok"), out.subList(3, out.size()));
    }

    @Test
    void afterA101TheBytesStayForTheTunnel() {
        sent(HttpMethod.GET);
        write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u0081\u0002hi");
        List<Object> out = drain();
        assertEquals(1, out.size());
        UpstreamResponse r = onlyHead(out);
        assertEquals("websocket", r.headers().get(HttpHeaderNames.UPGRADE), "headers() still has the hop-by-hop ones");
        channel.pipeline().remove(UpstreamCodec.class);
        ByteBuf rest = channel.readInbound();
        assertEquals("\u0081\u0002hi", rest.toString(StandardCharsets.ISO_8859_1));
        rest.release();
    }

    @Test
    void hopByHopAndConnectionNamedHeadersAreNotRelayed() {
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret-Hop\r\nKeep-Alive: timeout=5\r\n"
                + "X-Secret-Hop: 1\r\nProxy-Authenticate: Basic\r\nUpgrade: h2c\r\nX-Kept: yes\r\n"
                + "Content-Length: 0\r\n\r\n");
        UpstreamResponse r = onlyHead(drain());
        assertEquals("X-Kept: yes\r\nContent-Length: 0\r\n", relayed(r));
        assertEquals(7, r.head().size(), "headers() keeps every line");
    }

    @Test
    void connectionCloseAndHttp10EndTheConnection() {
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        List<Object> first = drain();
        assertFalse(onlyHead(first).keepAlive());
        assertEquals("last:", first.get(1));

        write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertEquals(List.of(), drain(), "nothing after a response that ends the connection is decoded");

        for (boolean keepAliveAsked : new boolean[] {false, true}) {
            EmbeddedChannel ten = new EmbeddedChannel(new UpstreamCodec());
            try {
                ten.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
                ten.releaseOutbound();
                ten.writeInbound(Unpooled.copiedBuffer("HTTP/1.0 200 OK\r\n"
                        + (keepAliveAsked ? "Connection: Keep-Alive\r\n" : "") + "Content-Length: 0\r\n\r\n",
                        StandardCharsets.US_ASCII));
                assertEquals(keepAliveAsked, ((UpstreamResponse) ten.readInbound()).keepAlive(),
                        "HTTP/1.0 is kept alive only when it says so");
            } finally {
                ten.finishAndReleaseAll();
            }
        }
    }

    @Test
    void anUnusualReasonPhraseIsKeptAndAStandardOneShared() {
        sent(HttpMethod.GET);
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 Fine\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
        List<Object> out = drain();
        assertEquals("Fine", ((UpstreamResponse) out.get(0)).status().reasonPhrase());
        assertEquals(200, ((UpstreamResponse) out.get(2)).status().code());
    }

    @Test
    void theHeadersOfTheGatewayReplaceNangosOfTheSameName() {
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\nX-Request-Id: from-nango\r\nx-request-id: again\r\nVary: Origin\r\n"
                + "Content-Length: 0\r\n\r\n");
        UpstreamResponse r = onlyHead(drain());
        ByteBuf buf = Unpooled.buffer();
        try {
            io.netty.handler.codec.http.HttpHeaders own = new io.netty.handler.codec.http.DefaultHttpHeaders();
            own.set("X-Request-ID", "gw");
            r.head().writeRelayed(buf, own);
            assertEquals("Vary: Origin\r\nContent-Length: 0\r\n", buf.toString(StandardCharsets.ISO_8859_1));
        } finally {
            buf.release();
        }
    }

    /** Heads Netty's client codec would have repaired or misread; each is a failed head (502), never relayed. */
    @ParameterizedTest
    @ValueSource(strings = {
            "HTTP/1.1 200 OK\nContent-Length: 0\n\n",                          // bare LF line ends
            "HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\nContent-Length: 0\r\n\r\n",  // bare CR
            "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n", // obs-fold
            "HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 0\r\n\r\n",         // space before the colon
            "HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n",   // NUL in a value
            "HTTP/1.1 200 OK\r\nX-A: a\u001bb\r\nContent-Length: 0\r\n\r\n",   // ESC in a value
            "HTTP/1.1 200 OK\r\nX\u00e9: 1\r\nContent-Length: 0\r\n\r\n",       // non-token name
            "HTTP/1.1 200 OK\r\n: 1\r\nContent-Length: 0\r\n\r\n",             // empty name
            "HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", // repeated length
            "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx",
            "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", // both
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n", // llhttp: not chunked, to the close
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked \r\n\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\t\r\n\r\nx",                 // llhttp refuses it
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 5 \r\n\r\n",
            "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n",
            "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 O\u0007K\r\nContent-Length: 0\r\n\r\n",
            " HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            "ICY 200 OK\r\n\r\n",
    })
    void malformedHeadsFail(String response) {
        sent(HttpMethod.GET);
        write(response);
        List<Object> out = drain();
        assertEquals(1, out.size(), "nothing after a failed head: " + out);
        UpstreamResponse r = onlyHead(out);
        assertTrue(r.decoderResult().isFailure(), response);
        write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertEquals(List.of(), drain(), "the connection is not read again");
    }

    /** Chunk framing Netty would have tolerated: a failed body piece, the connection not used again. */
    @ParameterizedTest
    @ValueSource(strings = {
            "zz\r\nnot a chunk\r\n",
            "3\r\nabcX\r\n0\r\n\r\n",        // data longer than the size
            "3\nabc\r\n0\r\n\r\n",           // bare LF after the size
            "3 x\r\nabc\r\n0\r\n\r\n",       // junk after the size
            "3x\r\nabc\r\n0\r\n\r\n",
            "-3\r\nabc\r\n0\r\n\r\n",
            "3;a\u0000b\r\nabc\r\n0\r\n\r\n", // control byte in an extension
            "fffffffffffffffff\r\n",         // size overflow
            "0\r\nX-T: 1\n\r\n",             // bare LF in the trailers
    })
    void malformedChunksFail(String body) {
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
        List<Object> out = drain();
        assertTrue(onlyHead(out).decoderResult().isSuccess());
        Object last = out.get(out.size() - 1);
        assertTrue(String.valueOf(last).startsWith("last:FAILED"), out.toString());
    }

    @Test
    void aHeadThatNeverEndsIsRefusedAtItsCap() {
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\n");
        String line = "X-Filler: " + "a".repeat(1000) + "\r\n";
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < 80 && out.isEmpty(); i++) {
            write(line);
            out.addAll(drain());
        }
        assertEquals(1, out.size());
        UpstreamResponse r = onlyHead(out);
        assertTrue(r.decoderResult().cause().getMessage().contains("over"), r.decoderResult().toString());
    }

    @Test
    void bytesWithNoRequestOutstandingFailTheConnection() {
        write("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        List<Object> out = drain();
        assertTrue(onlyHead(out).decoderResult().isFailure(), "an answer nobody asked for");
    }

    @Test
    void strayBytesAfterAResponseAreNeverHandedToTheNextRequest() {
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nSet-Cookie: stale=1\r\n");
        List<Object> out = drain();
        assertEquals("last:ok", out.get(1));
        assertTrue(((UpstreamResponse) out.get(2)).decoderResult().isFailure(), out.toString());
        sent(HttpMethod.GET);
        write("Content-Length: 5\r\n\r\nstale");
        assertEquals(List.of(), drain(), "the connection is done with");
    }

    @Test
    void partOfAHeadAndThenACloseIsAFailedResponseNotASilentClose() {
        sent(HttpMethod.PUT);
        write("HTTP/1.1 200 OK\r\nX-Partial: 1\r\n");
        assertEquals(List.of(), drain());
        channel.finish();
        List<Object> out = drain();
        assertTrue(onlyHead(out).decoderResult().isFailure(), "some of an answer came: the request is not retried");
    }

    @Test
    void aCloseWithNothingReceivedIsLeftToTheProxy() {
        sent(HttpMethod.GET);
        channel.finish();
        assertEquals(List.of(), drain(), "no bytes: the proxy decides (a retry on a reused connection)");
    }

    @Test
    void connectionCannotRemoveTheLengthTheBodyIsFramedBy() {
        sent(HttpMethod.GET);
        write("HTTP/1.1 200 OK\r\nConnection: keep-alive, Content-Length, X-Hop\r\nX-Hop: 1\r\n"
                + "Content-Length: 2\r\n\r\nok");
        List<Object> out = drain();
        UpstreamResponse r = onlyHead(out);
        assertTrue(r.lengthKnown());
        assertEquals("Content-Length: 2\r\n", relayed(r));
        assertEquals("last:ok", out.get(1));
    }

    @Test
    void chunksInAnHttp10ResponseAreReadButTheConnectionIsNotKept() {
        sent(HttpMethod.GET);
        write("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
        List<Object> out = drain();
        assertFalse(onlyHead(out).keepAlive());
        assertEquals(List.of("piece:ok", "last:"), out.subList(1, out.size()));
    }
}
