package nangogateway.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import nangogateway.config.ListenerLimits;
import nangogateway.server.MessagePerReadHandler;
import nangogateway.server.StrictHttpRequestDecoder;
import nangogateway.upstream.UpstreamChannelHandler;
import nangogateway.upstream.UpstreamCodec;
import nangogateway.upstream.UpstreamPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A 101 from Nango turns the client and upstream connections into one raw byte tunnel. Both sides are embedded
 * channels built like the real ones: the client with the listener's HTTP handlers, the upstream with the pool's
 * codec and {@link UpstreamChannelHandler}, whose listener opens the tunnel from inside the decoder's callback
 * as the proxy does.
 */
class TunnelTest {
    private static final String SWITCHING = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    private EmbeddedChannel client;
    private EmbeddedChannel upstream;
    private Gate upstreamGate;
    /** Messages the upstream delivered to the proxy other than the 101 (there should be none). */
    private final List<Object> unexpected = new ArrayList<>();

    /** Counts read() requests and can hold flushes back, so written bytes stay queued against the water mark. */
    private static final class Gate extends ChannelOutboundHandlerAdapter {
        int reads;
        boolean holdFlush;

        @Override
        public void read(ChannelHandlerContext ctx) {
            reads++;
            ctx.read();
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            if (!holdFlush) {
                ctx.flush();
            }
        }
    }

    @BeforeEach
    void setUp() {
        client = new EmbeddedChannel();
        client.config().setAutoRead(false); // reads happen only when asked for, as on the real listener
        client.pipeline()
                .addLast("decoder", new StrictHttpRequestDecoder(ListenerLimits.DEFAULTS))
                .addLast("encoder", new HttpResponseEncoder())
                .addLast("flow", new MessagePerReadHandler())
                .addLast("proxy", new ChannelInboundHandlerAdapter());

        upstream = new EmbeddedChannel();
        upstream.config().setAutoRead(false);
        upstreamGate = new Gate();
        upstream.pipeline()
                .addLast("gate", upstreamGate)
                .addLast(UpstreamCodec.NAME, new UpstreamCodec())
                .addLast(UpstreamChannelHandler.NAME, new UpstreamChannelHandler());
        UpstreamPool.attach(upstream, new UpstreamChannelHandler.Listener() {
            @Override
            public void upstreamRead(Object msg) {
                if (msg instanceof HttpResponse r && r.status().code() == 101) {
                    UpstreamPool.attach(upstream, null);
                    Tunnel.open(client, upstream, r);
                } else {
                    unexpected.add(msg.getClass().getSimpleName());
                    ReferenceCountUtil.release(msg);
                }
            }

            @Override
            public void upstreamReadComplete() {
            }

            @Override
            public void upstreamWritabilityChanged(boolean writable) {
            }

            @Override
            public void upstreamClosed(Throwable cause) {
            }
        });
        // The codec pairs each response with the request it answers: send the upgrade request first.
        FullHttpRequest upgrade = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/ws");
        upgrade.headers().set("Host", "nango").set("Upgrade", "websocket").set("Connection", "Upgrade");
        upstream.writeOutbound(upgrade);
        drain(upstream);
    }

    @AfterEach
    void tearDown() {
        client.finishAndReleaseAll();
        upstream.finishAndReleaseAll();
        assertTrue(unexpected.isEmpty(), "only the 101 reaches the proxy: " + unexpected);
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    /** Everything written to {@code ch} so far, released, as ISO-8859-1 text (one char per byte). */
    private static String drain(EmbeddedChannel ch) {
        StringBuilder b = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            try {
                b.append(((ByteBuf) o).toString(StandardCharsets.ISO_8859_1));
            } finally {
                ReferenceCountUtil.release(o);
            }
        }
        return b.toString();
    }

    /** Nango answers 101, followed in the same read by {@code after}; the switch completes on the event loop. */
    private void switchProtocols(String after) {
        upstream.writeInbound(bytes(SWITCHING + after));
    }

    /** The client's 101 as written, asserted and stripped from what the client received. */
    private static String after101(String received) {
        int end = received.indexOf("\r\n\r\n");
        assertTrue(end > 0, "a complete response head: " + received);
        String head = received.substring(0, end + 4);
        assertTrue(head.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), head);
        String lower = head.toLowerCase(Locale.ROOT);
        assertTrue(lower.contains("\r\nupgrade: websocket\r\n"), head);
        assertTrue(lower.contains("\r\nsec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"), head);
        assertFalse(lower.contains("content-length") || lower.contains("transfer-encoding"), head);
        return received.substring(end + 4);
    }

    /** After the switch the client pipeline holds only the tunnel; a gate added now sits next to the transport. */
    private Gate gateClient() {
        Gate g = new Gate();
        client.pipeline().addFirst("gate", g);
        return g;
    }

    @Test
    void switchWrites101AndLeavesOnlyTheTunnelInBothPipelines() {
        int readsBefore = upstreamGate.reads;
        switchProtocols("");
        assertEquals("", after101(drain(client)), "the 101 and nothing else");
        assertEquals(List.of("tunnel-idle", "tunnel"), List.copyOf(client.pipeline().toMap().keySet()),
                "every HTTP handler is gone from the client");
        assertEquals(List.of("gate", "tunnel"), List.copyOf(upstream.pipeline().toMap().keySet()),
                "codec and upstream handler replaced by the tunnel");
        assertEquals(readsBefore + 1, upstreamGate.reads, "the tunnel starts reading the upstream");
        assertTrue(client.isOpen());
        assertTrue(upstream.isOpen());
        assertNull(upstream.readOutbound(), "nothing sent upstream yet");
    }

    @Test
    void bytesRightBehindThe101FollowItToTheClient() {
        String frame = "\u0081\u0005hello"; // a WebSocket text frame in the same read as the 101
        switchProtocols(frame);
        assertEquals(frame, after101(drain(client)));
    }

    @Test
    void bytesTheClientDecoderStillHeldGoUpstreamRaw() {
        // The upgrade request, then bytes the decoder is still holding (no line end yet): they belong to the tunnel.
        client.writeInbound(bytes("GET /ws HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "\r\nhello"));
        switchProtocols("");
        after101(drain(client));
        assertEquals("hello", drain(upstream));
    }

    @Test
    void bytesFlowBothWaysUnchanged() {
        switchProtocols("");
        after101(drain(client));
        Gate clientGate = gateClient();
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }

        upstream.writeInbound(Unpooled.wrappedBuffer(all), bytes("\r\n0\r\n\r\n"));
        byte[] toClient = drain(client).getBytes(StandardCharsets.ISO_8859_1);
        byte[] expected = new byte[all.length + 7];
        System.arraycopy(all, 0, expected, 0, all.length);
        System.arraycopy("\r\n0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0, expected, all.length, 7);
        assertArrayEquals(expected, toClient, "no HTTP framing added or parsed on the way");

        int clientReads = clientGate.reads;
        client.writeInbound(Unpooled.wrappedBuffer(all), bytes("HTTP/1.1 200 OK\r\n\r\n"));
        String toUpstream = drain(upstream);
        assertArrayEquals(all, toUpstream.substring(0, 256).getBytes(StandardCharsets.ISO_8859_1));
        assertEquals("HTTP/1.1 200 OK\r\n\r\n", toUpstream.substring(256), "not parsed as a response");
        assertEquals(clientReads + 1, clientGate.reads, "reads on once the upstream took the bytes");
        assertTrue(client.isOpen());
        assertTrue(upstream.isOpen());
    }

    @Test
    void clientCloseClosesTheUpstream() {
        switchProtocols("");
        after101(drain(client));
        client.close();
        assertFalse(upstream.isOpen());
        assertEquals("", drain(upstream), "only the empty flush that carries the close");
    }

    @Test
    void upstreamCloseClosesTheClient() {
        switchProtocols("");
        after101(drain(client));
        upstream.close();
        assertFalse(client.isOpen());
        assertEquals("", drain(client));
    }

    @Test
    void anErrorOnEitherSideClosesBoth() {
        switchProtocols("");
        after101(drain(client));
        client.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
        client.runPendingTasks();
        upstream.runPendingTasks();
        assertFalse(client.isOpen());
        assertFalse(upstream.isOpen());
    }

    @Test
    void clientThatLeftBeforeTheSwitchClosesTheUpstream() {
        client.close();
        switchProtocols("\u0081\u0005hello"); // held for the client that is gone: released with the tunnel
        assertFalse(upstream.isOpen());
        assertNull(client.readOutbound(), "no 101 to a closed connection");
    }

    @Test
    void idleTunnelIsClosedAfterTenMinutes() {
        switchProtocols("");
        after101(drain(client));
        client.advanceTimeBy(Tunnel.IDLE_TIMEOUT.toSeconds() - 60, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertTrue(client.isOpen());
        client.writeInbound(bytes("ping")); // traffic restarts the clock
        drain(upstream);
        client.advanceTimeBy(Tunnel.IDLE_TIMEOUT.toSeconds() - 60, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertTrue(client.isOpen(), "ten minutes since the start, but not since the last byte");
        upstream.writeInbound(bytes("pong")); // traffic toward the client counts too
        assertEquals("pong", drain(client));
        client.advanceTimeBy(Tunnel.IDLE_TIMEOUT.toSeconds() - 60, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertTrue(client.isOpen());
        assertTrue(upstream.isOpen());
        client.advanceTimeBy(61, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        client.runPendingTasks();
        assertFalse(client.isOpen());
        assertFalse(upstream.isOpen());
    }

    @Test
    void slowClientStopsReadingTheUpstreamUntilItDrains() {
        client.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1024, 2048));
        switchProtocols("");
        after101(drain(client));
        Gate clientGate = gateClient();
        clientGate.holdFlush = true; // the client's socket takes nothing for now

        int reads = upstreamGate.reads;
        upstream.writeInbound(bytes("a".repeat(100)));
        assertTrue(client.isWritable());
        assertEquals(reads + 1, upstreamGate.reads, "below the water mark: keep reading");
        upstream.writeInbound(bytes("b".repeat(4096)));
        assertFalse(client.isWritable());
        assertEquals(reads + 1, upstreamGate.reads, "client backed up: the upstream is not read");
        assertNull(client.readOutbound());

        clientGate.holdFlush = false;
        client.flush(); // the client's socket drains
        assertTrue(client.isWritable());
        assertEquals(reads + 2, upstreamGate.reads, "drained: reading resumes");
        assertEquals("a".repeat(100) + "b".repeat(4096), drain(client));
    }

    @Test
    void slowUpstreamStopsReadingTheClientUntilItDrains() {
        upstream.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1024, 2048));
        switchProtocols("");
        after101(drain(client));
        Gate clientGate = gateClient();
        upstreamGate.holdFlush = true;

        int reads = clientGate.reads;
        client.writeInbound(bytes("c".repeat(4096)));
        assertFalse(upstream.isWritable());
        assertEquals(reads, clientGate.reads, "upstream backed up: the client is not read");
        assertNull(upstream.readOutbound());

        upstreamGate.holdFlush = false;
        upstream.flush();
        assertTrue(upstream.isWritable());
        assertEquals(reads + 1, clientGate.reads, "drained: reading resumes");
        assertEquals("c".repeat(4096), drain(upstream));
    }
}
