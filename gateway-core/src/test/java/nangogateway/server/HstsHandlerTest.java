package nangogateway.server;

import nangogateway.exchange.LocalResponses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Strict-Transport-Security on every final response of a TLS listener, never on interim ones. */
class HstsHandlerTest {
    private static final String HSTS = "Strict-Transport-Security";
    private static final String VALUE = "max-age=31536000; includeSubDomains";

    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel(new HstsHandler(VALUE));
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    /** Writes one message and returns what came out the other side; the caller releases it. */
    private <T> T passThrough(Object msg) {
        assertTrue(channel.writeOutbound(msg));
        T out = channel.readOutbound();
        assertNotNull(out);
        assertSame(msg, out, "the message itself is forwarded, not a copy");
        Object more = channel.readOutbound();
        ReferenceCountUtil.release(more);
        assertNull(more, "nothing else is written");
        return out;
    }

    @Test
    void finalResponseHeadGetsTheHeader() {
        HttpResponse r = passThrough(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        assertEquals(VALUE, r.headers().get(HSTS));
    }

    @Test
    void localErrorResponsesGetItToo() {
        // Errors are where a downgrade would otherwise slip through, so they carry it as well.
        for (int status : new int[] {301, 400, 403, 404, 431, 500, 502, 504}) {
            FullHttpResponse r = passThrough(LocalResponses.text(channel.alloc(), status, true));
            try {
                assertEquals(VALUE, r.headers().get(HSTS), "status " + status);
            } finally {
                r.release();
            }
        }
    }

    @Test
    void anUpstreamValueIsReplacedNotDuplicated() {
        HttpResponse upstream = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        upstream.headers().add(HSTS, "max-age=0");
        upstream.headers().add(HSTS, "max-age=1");
        HttpResponse r = passThrough(upstream);
        assertEquals(List.of(VALUE), r.headers().getAll(HSTS));
    }

    @Test
    void interimResponsesDoNotGetIt() {
        for (HttpResponseStatus s : new HttpResponseStatus[] {HttpResponseStatus.CONTINUE,
                HttpResponseStatus.SWITCHING_PROTOCOLS, HttpResponseStatus.valueOf(103)}) {
            FullHttpResponse r = passThrough(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, s));
            try {
                assertFalse(r.headers().contains(HSTS), s.toString());
            } finally {
                r.release();
            }
        }
    }

    @Test
    void bodyContentPassesUntouched() {
        HttpContent chunk = new DefaultHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII));
        HttpContent out = passThrough(chunk);
        try {
            assertEquals("abc", out.content().toString(StandardCharsets.US_ASCII));
        } finally {
            out.release();
        }
        LastHttpContent last = passThrough(LastHttpContent.EMPTY_LAST_CONTENT);
        assertTrue(last.trailingHeaders().isEmpty(), "trailers are not a response head");
    }

    @Test
    void oneInstanceServesEveryConnection() {
        // Marked @Sharable: it holds no per-connection state, so one instance may sit in many pipelines.
        HstsHandler shared = new HstsHandler(VALUE);
        EmbeddedChannel a = new EmbeddedChannel(shared);
        EmbeddedChannel b = new EmbeddedChannel(shared);
        try {
            for (EmbeddedChannel ch : new EmbeddedChannel[] {a, b}) {
                ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT));
                HttpResponse r = ch.readOutbound();
                assertEquals(VALUE, r.headers().get(HSTS));
            }
        } finally {
            a.finishAndReleaseAll();
            b.finishAndReleaseAll();
        }
    }
}
