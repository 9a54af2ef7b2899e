package nangogateway.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The lingering timers over a real socket: a server answers "no" to the first bytes and closes; the handler keeps
 * reading and dropping what the client sends, and ends the connection on the client's FIN, after the idle time,
 * or at the cap however much the client goes on sending.
 */
class LingeringCloseHandlerTest {
    private static final Duration IDLE = Duration.ofMillis(300);

    private EventLoopGroup group;
    private Channel server;
    private final AtomicBoolean passedOnAfterClose = new AtomicBoolean();
    private final AtomicInteger toldClosed = new AtomicInteger();
    private final CountDownLatch told = new CountDownLatch(1);
    private final AtomicBoolean lateWriteFailed = new AtomicBoolean();

    @BeforeEach
    void group() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    private void start(Duration idle, Duration max) throws Exception {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new LingeringCloseHandler(idle, max), new RefuseAtOnce());
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close().sync();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Answers the first read and closes; anything passed on to it after that would be a lingering bug. */
    private final class RefuseAtOnce extends ChannelInboundHandlerAdapter {
        private boolean answered;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            if (answered) {
                passedOnAfterClose.set(true);
                return;
            }
            answered = true;
            ByteBuf no = Unpooled.copiedBuffer("no\n", StandardCharsets.US_ASCII);
            ctx.writeAndFlush(no).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            toldClosed.incrementAndGet();
            // A handler that still writes once told: nothing reaches the client, and it hears so.
            ctx.writeAndFlush(Unpooled.copiedBuffer("late\n", StandardCharsets.US_ASCII))
                    .addListener(f -> lateWriteFailed.set(!f.isSuccess()));
            ctx.close();
            told.countDown();
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    private static String readToEnd(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }

    @Test
    void theClientsFinEndsIt() throws Exception {
        start(Duration.ofSeconds(60), Duration.ofSeconds(60));
        try (Socket s = connect()) {
            s.getOutputStream().write(new byte[64 * 1024]);
            s.getOutputStream().write(new byte[64 * 1024]);
            s.shutdownOutput();
            assertEquals("no\n", readToEnd(s.getInputStream()));
        }
        assertTrue(!passedOnAfterClose.get(), "bytes after the close reached the handlers further in");
        assertTrue(told.await(10, TimeUnit.SECONDS), "the handlers further in are told of the close");
        assertEquals(1, toldClosed.get(), "the handlers further in are told of the close once");
        assertTrue(lateWriteFailed.get(), "a write after the close fails");
    }

    @Test
    void aCloseAskedFromFurtherInDoesNotCutItShort() throws Exception {
        start(Duration.ofSeconds(60), Duration.ofSeconds(60));
        try (Socket s = connect()) {
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            assertEquals("no\n", readToEnd(s.getInputStream()));
            assertTrue(told.await(10, TimeUnit.SECONDS)); // and it asked for a close then (see RefuseAtOnce)
            // Still read and dropped: a closed socket would answer these with a reset and fail the next write.
            for (int i = 0; i < 10; i++) {
                s.getOutputStream().write(new byte[16 * 1024]);
                s.getOutputStream().flush();
                Thread.sleep(20);
            }
        }
        assertTrue(!passedOnAfterClose.get(), "bytes after the close reached the handlers further in");
    }

    @Test
    void aQuietClientIsClosedAfterTheIdleTime() throws Exception {
        start(IDLE, Duration.ofSeconds(60));
        try (Socket s = connect()) {
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            // The server's side ended with the answer (FIN, read as end of stream); the socket closes at idle.
            assertEquals("no\n", readToEnd(s.getInputStream()));
            assertTrue(told.await(10, TimeUnit.SECONDS), "the handlers further in were told when the lingering began");
            Thread.sleep(4 * IDLE.toMillis()); // quiet, well past the idle time (the cap is a minute away)
            waitClosedByServer(s);
        }
    }

    @Test
    void aClientThatNeverStopsIsClosedAtTheCap() throws Exception {
        start(IDLE, Duration.ofMillis(1500));
        try (Socket s = connect()) {
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            assertEquals("no\n", readToEnd(s.getInputStream()));
            // A byte every 100 ms never leaves the idle time (300 ms) to run out; only the cap ends it.
            for (int i = 0; i < 200; i++) {
                try {
                    s.getOutputStream().write('x');
                    s.getOutputStream().flush();
                } catch (IOException closed) {
                    return; // the server closed and reset the next write: ended by the cap
                }
                Thread.sleep(100);
            }
            throw new AssertionError("20 s of trickling and the connection is still open");
        } finally {
            assertTrue(!passedOnAfterClose.get(), "bytes after the close reached the handlers further in");
        }
    }

    /**
     * After the server closes, a write is answered with a reset and the next one fails: the only way a client sees
     * the full close. While the server still lingers, each write resets its idle time, so this cannot end it.
     */
    private static void waitClosedByServer(Socket s) throws Exception {
        for (int i = 0; i < 100; i++) {
            try {
                s.getOutputStream().write('x');
                s.getOutputStream().flush();
            } catch (IOException closed) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("10 s and the lingering connection is still open");
    }
}
