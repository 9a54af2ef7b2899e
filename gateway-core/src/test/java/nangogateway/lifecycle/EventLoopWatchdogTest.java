package nangogateway.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The watchdog vouches for the event loops only while every one of them runs tasks. */
class EventLoopWatchdogTest {

    /** Every task queued on {@code loop} before this call has run (tasks of one loop run in order). */
    private static void drained(EventExecutor loop) throws Exception {
        loop.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aBlockedLoopStopsTheKeepAlivesUntilItRunsAgain() throws Exception {
        DefaultEventLoopGroup group = new DefaultEventLoopGroup(2);
        CountDownLatch release = new CountDownLatch(1);
        try {
            List<EventExecutor> loops = new ArrayList<>();
            group.forEach(loops::add);
            EventLoopWatchdog watchdog = new EventLoopWatchdog(loops);
            assertTrue(watchdog.check(), "nothing asked yet");
            drained(loops.get(0));
            drained(loops.get(1));
            assertTrue(watchdog.check(), "both loops ran their probe");

            CountDownLatch blocking = new CountDownLatch(1);
            loops.get(0).execute(() -> {
                blocking.countDown();
                try {
                    release.await(); // a handler that blocks its event loop
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(blocking.await(10, TimeUnit.SECONDS));
            drained(loops.get(1));
            // The previous probes ran before the blocking task began; the ones sent now queue behind it.
            assertTrue(watchdog.check());
            drained(loops.get(1));
            assertFalse(watchdog.check(), "loop 0 is blocked");
            assertEquals(1, watchdog.missing());
            assertFalse(watchdog.check(), "still blocked");

            release.countDown();
            drained(loops.get(0));
            drained(loops.get(1));
            assertTrue(watchdog.check(), "both loops run again");
        } finally {
            release.countDown();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aLoopThatIsGoneNeverAnswers() throws Exception {
        DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
        List<EventExecutor> loops = new ArrayList<>();
        group.forEach(loops::add);
        EventLoopWatchdog watchdog = new EventLoopWatchdog(loops);
        assertTrue(watchdog.check());
        drained(loops.get(0));
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        assertFalse(watchdog.check(), "a loop that refuses tasks will never answer");
        assertFalse(watchdog.check());
    }
}
