package nangogateway.server;

import nangogateway.exchange.LocalResponses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import nangogateway.upstream.RelayedResponse;
import nangogateway.upstream.UpstreamCodec;
import nangogateway.upstream.UpstreamResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Nango's header lines go to the client as they came, next to the ones the gateway sets, which win. */
class ClientResponseEncoderTest {
    private final EmbeddedChannel upstream = new EmbeddedChannel(new UpstreamCodec());
    private final EmbeddedChannel client = new EmbeddedChannel(new ClientResponseEncoder());

    @AfterEach
    void tearDown() {
        upstream.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    private UpstreamResponse fromNango(String head) {
        upstream.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
        upstream.releaseOutbound();
        upstream.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
        return upstream.readInbound();
    }

    private String written() {
        return written(client);
    }

    /** Every byte {@code ch} has written so far (the buffers released). */
    private static String written(EmbeddedChannel ch) {
        StringBuilder s = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            s.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return s.toString();
    }

    @Test
    void aWholeRelayedResponse() {
        UpstreamResponse r = fromNango("HTTP/1.1 302 Found\r\nLocation: https://app.example/done\r\n"
                + "Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2\r\nX-Request-Id: nango\r\nConnection: keep-alive\r\n"
                + "Content-Length: 2\r\n\r\n");
        assertNull(upstream.readInbound(), "the body has not come yet");
        HttpHeaders own = new DefaultHttpHeaders();
        own.set("X-Request-Id", "gw-1");
        client.writeOutbound(RelayedResponse.whole(r.status(), r.head(), own,
                Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII)));
        assertEquals("HTTP/1.1 302 Found\r\nLocation: https://app.example/done\r\nSet-Cookie: a=1; Path=/\r\n"
                + "Set-Cookie: b=2\r\nContent-Length: 2\r\nX-Request-Id: gw-1\r\n\r\nok", written());
    }

    @Test
    void aStreamedRelayedResponseIsChunkedWhenTheGatewaySaysSo() {
        UpstreamResponse r = fromNango("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n");
        HttpHeaders own = new DefaultHttpHeaders();
        own.set("Transfer-Encoding", "chunked");
        client.writeOutbound(RelayedResponse.head(r.status(), r.head(), own));
        client.writeOutbound(new DefaultHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII)));
        client.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        assertEquals("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n0\r\n\r\n", written());
    }

    @Test
    void a205KeepsOneContentLengthTheEncoders() {
        UpstreamResponse r = fromNango("HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\nX-A: 1\r\n\r\n");
        client.writeOutbound(RelayedResponse.whole(r.status(), r.head(), new DefaultHttpHeaders(), Unpooled.EMPTY_BUFFER));
        String out = written();
        assertEquals(1, out.toLowerCase(java.util.Locale.ROOT).split("content-length", -1).length - 1, out);
        assertEquals("HTTP/1.1 205 Reset Content\r\nX-A: 1\r\ncontent-length: 0\r\n\r\n", out);
    }

    /** The bytes a client receives for {@code response} (released), as the client connection's encoder writes them. */
    static String onTheWire(io.netty.handler.codec.http.HttpResponse response) {
        EmbeddedChannel ch = new EmbeddedChannel(new ClientResponseEncoder());
        try {
            ch.writeOutbound(response);
            return written(ch);
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aStatusPageIsItsFixedLinesThenWhatWasSetForIt() {
        var page = LocalResponses.text(client.alloc(), 403, false);
        assertEquals(0, page.headers().size(), "the fixed lines are not in the map");
        page.headers().set("X-Request-Id", "r-1");
        client.writeOutbound(page);
        assertEquals("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 14\r\n"
                + "cache-control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Request-Id: r-1\r\n\r\n"
                + "403 Forbidden\n", written());
    }

    @Test
    void aHeaderSetOnAStatusPageReplacesTheFixedLineOfThatName() {
        var page = LocalResponses.text(client.alloc(), 404, true);
        page.headers().set("Cache-Control", "max-age=60");
        client.writeOutbound(page);
        String out = written();
        assertEquals("HTTP/1.1 404 Not Found\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 14\r\n"
                + "X-Content-Type-Options: nosniff\r\nconnection: close\r\nCache-Control: max-age=60\r\n\r\n"
                + "404 Not Found\n", out);
    }

    @Test
    void aStatusPageForHeadKeepsItsLengthAndLosesItsBody() {
        var page = LocalResponses.text(client.alloc(), 405, false);
        page.content().clear(); // as the router does for HEAD
        client.writeOutbound(page);
        assertEquals("HTTP/1.1 405 Method Not Allowed\r\ncontent-type: text/plain; charset=utf-8\r\n"
                + "content-length: 23\r\ncache-control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n",
                written());
        var again = LocalResponses.text(client.alloc(), 405, false);
        assertEquals(23, again.content().readableBytes(), "the shared body is untouched");
    }

    @Test
    void aStatusWithoutABodyGetsNoFixedFramingLines() {
        client.writeOutbound(LocalResponses.text(client.alloc(), 204, false));
        assertEquals("HTTP/1.1 204 No Content\r\ncache-control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n",
                written());
    }

    @Test
    void fixedLinesRefuseWhatIsNotAHeaderLine() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> nangogateway.upstream.ResponseHead.fixed("X Bad", "v"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> nangogateway.upstream.ResponseHead.fixed("X-Ok", "a\r\nInjected: 1"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> nangogateway.upstream.ResponseHead.fixed("X-Ok"));
    }
}
