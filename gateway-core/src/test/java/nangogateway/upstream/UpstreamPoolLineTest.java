package nangogateway.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
 * none starves behind later ones; newest first once it stands (its oldest has waited half of
 * {@code connect_timeout}), so clients still waiting are served before the ones about to give up. Both ways a
 * waiter can be served are covered: a connection released to it, and a new one opened in place of one that closed.
 */
class UpstreamPoolLineTest {
    /** Long, so that no waiter's real timeout runs out on a slow machine; the line's clock below is a fake one. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(60);
    private static final long STANDING = CONNECT_TIMEOUT.toNanos() / 2;
    private static final long START = 1_000_000_000L;

    private final AtomicLong clock = new AtomicLong(START);
    private final List<Socket> accepted = new ArrayList<>();
    private ServerSocket nango;
    private EventLoopGroup group;
    private EventLoop loop;
    private UpstreamPool pool;
    private Channel taken;

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
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        if (nango != null) {
            nango.close();
        }
        synchronized (accepted) {
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(10, TimeUnit.SECONDS);
    }

    /** The one connection, taken; then three requests in line, 100 ms of the clock apart, the first at START. */
    private List<Future<UpstreamPool.Lease>> busyWithThreeWaiting() throws Exception {
        taken = onLoop(() -> pool.acquire(false)).get(10, TimeUnit.SECONDS).channel();
        List<Future<UpstreamPool.Lease>> line = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            line.add(onLoop(() -> pool.acquire(false)));
            clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
        }
        assertEquals(3, (int) onLoop(pool::waitingRequests));
        return line;
    }

    /** The connection released: which of {@code line} got it (the hand-over runs in a later task of the loop). */
    private int released(List<Future<UpstreamPool.Lease>> line) throws Exception {
        int served = servedAfter(() -> pool.release(taken), line);
        assertEquals(taken, line.get(served).getNow().channel(), "the released connection itself");
        return served;
    }

    /** The connection closed: which of {@code line} got a new one in its place; that one is then the taken one. */
    private int closed(List<Future<UpstreamPool.Lease>> line) throws Exception {
        Channel old = taken;
        int served = servedAfter(() -> old.close(), line);
        taken = line.get(served).getNow().channel();
        assertNotEquals(old, taken, "a new connection");
        return served;
    }

    private int servedAfter(Runnable action, List<Future<UpstreamPool.Lease>> line) throws Exception {
        List<Future<UpstreamPool.Lease>> before = new ArrayList<>();
        for (Future<UpstreamPool.Lease> f : line) {
            if (f.isDone()) {
                before.add(f);
            }
        }
        onLoop(() -> {
            action.run();
            return null;
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < line.size(); i++) {
                if (line.get(i).isDone() && !before.contains(line.get(i))) {
                    assertTrue(line.get(i).isSuccess(), "given a connection: " + line.get(i).cause());
                    return i;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no waiting request was given a connection");
    }

    @Test
    void aMovingLineIsServedOldestFirst() throws Exception {
        List<Future<UpstreamPool.Lease>> line = busyWithThreeWaiting();
        clock.set(START + STANDING - 1); // the oldest has waited just under half the timeout
        assertEquals(0, released(line), "the oldest of a line that moves");
        assertEquals(1, released(line), "then the next oldest");
        assertFalse(line.get(2).isDone());
        assertEquals(1, (int) onLoop(pool::waitingRequests));
    }

    @Test
    void aStandingLineIsServedNewestFirst() throws Exception {
        List<Future<UpstreamPool.Lease>> line = busyWithThreeWaiting();
        clock.set(START + STANDING); // the oldest has waited half the timeout
        assertEquals(2, released(line), "the newest of a standing line");
        assertEquals(1, released(line), "then the next newest");
        assertFalse(line.get(0).isDone(), "the oldest is left to its timeout");
    }

    @Test
    void aConnectionThatClosesIsReplacedForTheOldestOfAMovingLine() throws Exception {
        List<Future<UpstreamPool.Lease>> line = busyWithThreeWaiting();
        assertEquals(0, closed(line));
        assertEquals(1, closed(line));
        assertFalse(line.get(2).isDone());
    }

    @Test
    void aConnectionThatClosesIsReplacedForTheNewestOfAStandingLine() throws Exception {
        List<Future<UpstreamPool.Lease>> line = busyWithThreeWaiting();
        clock.set(START + STANDING);
        assertEquals(2, closed(line));
        assertEquals(1, closed(line));
        assertFalse(line.get(0).isDone());
    }
}
