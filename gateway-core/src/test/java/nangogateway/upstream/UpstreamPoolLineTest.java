package nangogateway.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import nangogateway.config.UpstreamConfig;
import nangogateway.net.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The order in which requests waiting for a busy upstream get a connection: oldest first while the line moves, so
 * none starves behind later ones; newest first once it stands (its oldest has waited a quarter of
 * {@code connect_timeout}), so clients still waiting are served before the ones about to give up.
 */
class UpstreamPoolLineTest {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(8); // standing after 2 s of the clock below

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<Socket> accepted = new ArrayList<>();
    private ServerSocket nango;
    private EventLoopGroup group;
    private EventLoop loop;
    private UpstreamPool pool;

    @BeforeEach
    void start() throws IOException {
        nango = new ServerSocket(0);
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    Socket s = nango.accept();
                    synchronized (accepted) {
                        accepted.add(s);
                    }
                }
            } catch (IOException closed) {
                // the test is over
            }
        }, "nango-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        group = Transport.nio().newGroup(1, "line-test");
        loop = group.next();
        UpstreamConfig upstream = new UpstreamConfig("nango", "http", "127.0.0.1", nango.getLocalPort(),
                CONNECT_TIMEOUT, Duration.ofSeconds(60), Duration.ofSeconds(4), 1);
        pool = new UpstreamPool(loop, upstream, Transport.nio(), null, 1, clock::get);
    }

    @AfterEach
    void stop() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        nango.close();
        synchronized (accepted) {
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(10, TimeUnit.SECONDS);
    }

    /** The one connection, taken; then three requests in line, {@code apartNanos} of the clock apart. */
    private List<Future<UpstreamPool.Lease>> busyWithThreeWaiting(long apartNanos, Channel[] taken) throws Exception {
        taken[0] = onLoop(() -> pool.acquire(false)).get(10, TimeUnit.SECONDS).channel();
        List<Future<UpstreamPool.Lease>> line = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            line.add(onLoop(() -> pool.acquire(false)));
            clock.addAndGet(apartNanos);
        }
        assertEquals(3, (int) onLoop(pool::waitingRequests));
        return line;
    }

    /** Releases the connection and returns which of {@code line} got it (the hand-over runs on the loop). */
    private int released(Channel ch, List<Future<UpstreamPool.Lease>> line) throws Exception {
        List<Future<UpstreamPool.Lease>> before = new ArrayList<>();
        for (Future<UpstreamPool.Lease> f : line) {
            if (f.isDone()) {
                before.add(f);
            }
        }
        onLoop(() -> {
            pool.release(ch);
            return null;
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < line.size(); i++) {
                if (line.get(i).isDone() && !before.contains(line.get(i))) {
                    assertTrue(line.get(i).isSuccess(), "handed the released connection: " + line.get(i).cause());
                    assertEquals(ch, line.get(i).getNow().channel());
                    return i;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("the released connection went to no waiting request");
    }

    @Test
    void aMovingLineIsServedOldestFirst() throws Exception {
        Channel[] taken = new Channel[1];
        List<Future<UpstreamPool.Lease>> line = busyWithThreeWaiting(TimeUnit.MILLISECONDS.toNanos(100), taken);
        assertEquals(0, released(taken[0], line), "the oldest of a line that moves");
        assertEquals(1, released(taken[0], line), "then the next oldest");
        assertFalse(line.get(2).isDone());
        assertEquals(1, (int) onLoop(pool::waitingRequests));
    }

    @Test
    void aStandingLineIsServedNewestFirst() throws Exception {
        Channel[] taken = new Channel[1];
        List<Future<UpstreamPool.Lease>> line = busyWithThreeWaiting(TimeUnit.MILLISECONDS.toNanos(100), taken);
        clock.addAndGet(CONNECT_TIMEOUT.toNanos() / 4); // the oldest has now waited past a quarter of the timeout
        assertEquals(2, released(taken[0], line), "the newest of a standing line");
        assertEquals(1, released(taken[0], line), "then the next newest");
        assertFalse(line.get(0).isDone(), "the oldest is left to its timeout");
    }
}
