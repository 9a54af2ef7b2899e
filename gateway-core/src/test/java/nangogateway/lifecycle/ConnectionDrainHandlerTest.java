package nangogateway.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import nangogateway.exchange.LocalResponses;
import org.junit.jupiter.api.Test;

class ConnectionDrainHandlerTest {

    @Test
    void idleConnectionClosesAtOnce() {
        EmbeddedChannel ch = new EmbeddedChannel(new ConnectionDrainHandler());
        ch.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);
        assertFalse(ch.isOpen());
        ch.finishAndReleaseAll();
    }

    @Test
    void inFlightRequestFinishesWithConnectionClose() {
        EmbeddedChannel ch = new EmbeddedChannel(new ConnectionDrainHandler());
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/oauth/callback"));
        ReferenceCountUtil.release(ch.readInbound());
        ch.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);
        assertTrue(ch.isOpen(), "the request in flight is allowed to finish");
        ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        HttpResponse head = ch.readOutbound();
        assertEquals("close", head.headers().get("Connection"));
        assertTrue(ch.isOpen(), "still streaming the body");
        ch.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        ReferenceCountUtil.release(ch.readOutbound());
        ch.runPendingTasks();
        assertFalse(ch.isOpen(), "closed after the last byte");
        ch.finishAndReleaseAll();
    }

    @Test
    void interimResponsesDoNotEndTheExchange() {
        EmbeddedChannel ch = new EmbeddedChannel(new ConnectionDrainHandler());
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/webhook/a/b"));
        ReferenceCountUtil.release(ch.readInbound());
        ch.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);
        FullHttpResponse cont = LocalResponses.build(ch.alloc(), HttpResponseStatus.CONTINUE, "", "text/plain", false);
        ch.writeOutbound(cont);
        ReferenceCountUtil.release(ch.readOutbound());
        ch.runPendingTasks();
        assertTrue(ch.isOpen(), "a 100 Continue is not the response");
        ch.finishAndReleaseAll();
    }
}
