package nangogateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One message per read(): queued until asked for, an owed read survives read-complete, close releases. */
class MessagePerReadHandlerTest {
    private EmbeddedChannel channel;
    /** read() calls that got past the handler to the transport. */
    private int transportReads;

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel();
        channel.config().setAutoRead(false); // reads are requested by the test only
        channel.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) {
                transportReads++;
                ctx.read();
            }
        });
        channel.pipeline().addLast(new MessagePerReadHandler());
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private static ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    private void assertNextInbound(ByteBuf expected) {
        ByteBuf got = channel.readInbound();
        try {
            assertSame(expected, got);
        } finally {
            got.release();
        }
    }

    @Test
    void messagesAreHandedOnOnePerRead() {
        ByteBuf a = buf("a");
        ByteBuf b = buf("b");
        ByteBuf c = buf("c");
        channel.writeInbound(a, b, c); // one socket read decoded into three messages; nobody asked yet
        assertNull(channel.readInbound(), "nothing handed on before a read()");

        channel.read();
        assertNextInbound(a);
        assertNull(channel.readInbound(), "one message per read");
        channel.read();
        assertNextInbound(b);
        assertNull(channel.readInbound());
        channel.read();
        assertNextInbound(c);
        assertEquals(0, transportReads, "queued messages are served without reading the socket");

        channel.read();
        assertNull(channel.readInbound());
        assertEquals(1, transportReads, "an empty queue asks the transport");
    }

    @Test
    void anOwedReadIsSatisfiedByALaterMessageEvenAfterReadComplete() {
        channel.read();
        assertEquals(1, transportReads);
        channel.pipeline().fireChannelReadComplete(); // a socket read that produced no whole message
        channel.pipeline().fireChannelReadComplete();
        assertNull(channel.readInbound());

        ByteBuf late = buf("late");
        channel.writeInbound(late);
        assertNextInbound(late);

        ByteBuf extra = buf("extra");
        channel.writeInbound(extra);
        assertNull(channel.readInbound(), "the owed read was used up by the first message");
        channel.read();
        assertNextInbound(extra);
    }

    @Test
    void anOwedReadTakesOnlyTheFirstOfSeveralArrivingMessages() {
        channel.read();
        ByteBuf a = buf("a");
        ByteBuf b = buf("b");
        channel.writeInbound(a, b);
        assertNextInbound(a);
        assertNull(channel.readInbound());
        channel.read();
        assertNextInbound(b);
    }

    @Test
    void queuedMessagesAreReleasedWhenTheChannelCloses() {
        ByteBuf a = buf("a");
        ByteBuf b = buf("b");
        channel.writeInbound(a, b);
        assertEquals(1, a.refCnt());
        channel.close();
        assertEquals(0, a.refCnt());
        assertEquals(0, b.refCnt());
        assertNull(channel.readInbound());
    }

    @Test
    void aCloseAskedForEndsTheQueueEvenIfTheSocketStaysOpen() {
        // A close that has not reached the socket yet (a lingering close keeps it open to read and drop): a request
        // pipelined behind the last answer must not be handed on by a read() that comes after the close.
        channel.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
            @Override
            public void close(ChannelHandlerContext ctx, io.netty.channel.ChannelPromise promise) {
                promise.setSuccess(); // held open, as the lingering handler does
            }
        });
        ByteBuf answered = buf("answered");
        ByteBuf pipelined = buf("pipelined");
        channel.writeInbound(answered, pipelined);
        channel.read();
        assertNextInbound(answered);
        channel.pipeline().close();
        assertEquals(0, pipelined.refCnt(), "released at the close");
        channel.read();
        assertNull(channel.readInbound(), "nothing handed on after the close");
        ByteBuf late = buf("late");
        channel.writeInbound(late);
        channel.read();
        assertNull(channel.readInbound(), "nor anything read after it");
        assertEquals(0, late.refCnt());
        assertEquals(0, transportReads, "and the socket is not asked for more");
    }

    @Test
    void queuedMessagesAreReleasedWhenTheHandlerIsRemoved() {
        ByteBuf a = buf("a");
        channel.writeInbound(a);
        channel.pipeline().remove(MessagePerReadHandler.class);
        assertEquals(0, a.refCnt());
    }
}
