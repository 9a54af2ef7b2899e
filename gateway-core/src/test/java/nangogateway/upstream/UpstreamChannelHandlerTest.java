package nangogateway.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The upstream connection's last handler: events to the leasing request, or close when nobody owns it. */
class UpstreamChannelHandlerTest {
    private EmbeddedChannel channel;
    private UpstreamChannelHandler handler;

    /** Records what a leasing request is told, in order. */
    private static final class Recorder implements UpstreamChannelHandler.Listener {
        final List<Object> events = new ArrayList<>();
        final List<Object> reads = new ArrayList<>();
        final List<Throwable> closes = new ArrayList<>();

        @Override
        public void upstreamRead(Object msg) {
            events.add("read");
            reads.add(msg);
        }

        @Override
        public void upstreamReadComplete() {
            events.add("readComplete");
        }

        @Override
        public void upstreamWritabilityChanged(boolean writable) {
            events.add("writable=" + writable);
        }

        @Override
        public void upstreamClosed(Throwable cause) {
            events.add("closed");
            closes.add(cause);
        }

        void releaseReads() {
            reads.forEach(ReferenceCountUtil::release);
        }
    }

    @BeforeEach
    void setUp() {
        handler = new UpstreamChannelHandler();
        channel = new EmbeddedChannel();
        channel.pipeline().addLast(UpstreamChannelHandler.NAME, handler);
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private static ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void eventsGoToTheAttachedListener() {
        Recorder r = new Recorder();
        handler.attach(r);
        ByteBuf msg = buf("HTTP/1.1 200 OK");
        channel.writeInbound(msg);
        try {
            assertEquals(List.of("read", "readComplete"), r.events);
            assertSame(msg, r.reads.get(0), "the message itself, for the listener to own");
            assertEquals(1, msg.refCnt(), "not released on the listener's behalf");
            assertNull(channel.readInbound(), "not passed further down the pipeline");
            assertTrue(channel.isOpen());
        } finally {
            r.releaseReads();
        }
        channel.close();
        assertEquals(List.of("read", "readComplete", "closed"), r.events);
        assertEquals(1, r.closes.size());
        assertNull(r.closes.get(0), "a plain close has no cause");
    }

    @Test
    void writabilityChangesAreReported() {
        Recorder r = new Recorder();
        handler.attach(r);
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1, 2));
        channel.write(buf("POST /x HTTP/1.1\r\n\r\n")); // queued, not flushed: over the high water mark
        assertFalse(channel.isWritable());
        channel.flush();
        assertTrue(channel.isWritable());
        assertEquals(List.of("writable=false", "writable=true"), r.events);
        ReferenceCountUtil.release(channel.readOutbound());
    }

    @Test
    void readWithNoListenerClosesTheConnectionAndReleasesTheMessage() {
        // An idle pooled connection that Nango writes to is no longer in a known state.
        ByteBuf msg = buf("HTTP/1.1 408 Request Timeout\r\n\r\n");
        channel.writeInbound(msg);
        assertEquals(0, msg.refCnt());
        assertFalse(channel.isOpen());
        assertNull(channel.readInbound());
    }

    @Test
    void otherEventsWithNoListenerAreIgnored() {
        channel.pipeline().fireChannelReadComplete();
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1, 2));
        channel.write(buf("x"));
        channel.flush();
        ReferenceCountUtil.release(channel.readOutbound());
        assertTrue(channel.isOpen(), "only a read or a close means the idle connection is unusable");
    }

    @Test
    void exceptionClosesAndItsCauseReachesTheListener() {
        Recorder r = new Recorder();
        handler.attach(r);
        IOException reset = new IOException("Connection reset by peer");
        channel.pipeline().fireExceptionCaught(reset);
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
        assertEquals(List.of("closed"), r.events);
        assertSame(reset, r.closes.get(0));
        channel.checkException(); // not passed on to the end of the pipeline
    }

    @Test
    void theFirstCauseIsTheOneReported() {
        // On a socket channel the close completes after the handler asks for it, so a second failure (a write
        // failing as the connection goes down) can arrive in between; hold the close back to get that order here.
        List<Runnable> closes = new ArrayList<>();
        channel.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
            @Override
            public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
                closes.add(() -> ctx.close(promise));
            }
        });
        Recorder r = new Recorder();
        handler.attach(r);
        IOException first = new IOException("Connection reset by peer");
        channel.pipeline().fireExceptionCaught(first);
        channel.pipeline().fireExceptionCaught(new IOException("Broken pipe"));
        assertEquals(List.of(), r.events, "not closed yet");
        assertEquals(2, closes.size(), "each failure asks for the close");
        closes.forEach(Runnable::run);
        assertFalse(channel.isOpen());
        assertEquals(List.of("closed"), r.events);
        assertSame(first, r.closes.get(0));
    }

    @Test
    void detachedListenerHearsNothingMore() {
        Recorder r = new Recorder();
        handler.attach(r);
        handler.detach();
        ByteBuf msg = buf("late");
        channel.writeInbound(msg);
        assertEquals(List.of(), r.events, "neither the read nor the close");
        assertEquals(0, msg.refCnt(), "released as with no listener");
        assertFalse(channel.isOpen());
    }

    @Test
    void attachReplacesTheListener() {
        Recorder first = new Recorder();
        Recorder second = new Recorder();
        handler.attach(first);
        handler.attach(second);
        channel.writeInbound(buf("x"));
        second.releaseReads();
        channel.close();
        assertEquals(List.of(), first.events);
        assertEquals(List.of("read", "readComplete", "closed"), second.events);
    }

    @Test
    void poolAttachFindsTheHandlerByName() {
        Recorder r = new Recorder();
        UpstreamPool.attach(channel, r);
        channel.close();
        assertEquals(List.of("closed"), r.events);
    }
}
