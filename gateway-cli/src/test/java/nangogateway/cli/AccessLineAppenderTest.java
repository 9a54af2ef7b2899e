package nangogateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The access log's lines reach stdout bare, in order, in batches, and none is lost when stdout is slow. */
class AccessLineAppenderTest {
    /** stdout as a slow reader of the journal's pipe would make it: 1 ms a write. */
    static final class SlowOut extends OutputStream {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int writes;

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            writes++;
            bytes.write(b, off, len);
        }
    }

    /** stdout that takes nothing until it is let go: a stuck journal. */
    static final class StuckOut extends OutputStream {
        final java.util.concurrent.CountDownLatch letGo = new java.util.concurrent.CountDownLatch(1);
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            try {
                letGo.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (bytes) {
                bytes.write(b, off, len);
            }
        }
    }

    @Test
    void aStuckDestinationCostsCountedLinesNeverAStuckLogger() throws Exception {
        PrintStream saved = System.out;
        StuckOut stuck = new StuckOut();
        long dropsBefore = LogQueueCounters.drops();
        AccessLineAppender appender = new AccessLineAppender();
        try {
            System.setOut(new PrintStream(stuck, false, StandardCharsets.UTF_8));
            LoggerContext context = new LoggerContext();
            context.setMDCAdapter(new LogbackMDCAdapter());
            appender.setContext(context);
            appender.setQueueSize(4);
            appender.setMaxWaitMillis(200);
            appender.start();
            Logger logger = context.getLogger("nangogateway.access");
            logger.setAdditive(false);
            logger.addAppender(appender);
            // The writer takes a batch and hangs in its write; the queue fills; then each line waits at most once.
            Thread logging = new Thread(() -> {
                for (int i = 0; i < 1000; i++) {
                    logger.info("line " + i);
                }
            });
            logging.setDaemon(true);
            logging.start();
            logging.join(30_000);
            assertTrue(!logging.isAlive(), "the logging thread is not held by a stuck destination");
            long dropped = LogQueueCounters.drops() - dropsBefore;
            assertTrue(dropped > 900, "the lines stdout could not take were dropped and counted: " + dropped);
            stuck.letGo.countDown();
            appender.stop();
        } finally {
            stuck.letGo.countDown();
            System.setOut(saved);
        }
        long written;
        synchronized (stuck.bytes) {
            written = stuck.bytes.toString(StandardCharsets.UTF_8).lines().count();
        }
        assertEquals(1000, written + LogQueueCounters.drops() - dropsBefore, "every line written or counted");
    }

    @Test
    void everyLineReachesStdoutBareAndInOrderThoughTheQueueFills() {
        PrintStream saved = System.out;
        SlowOut slow = new SlowOut();
        long waitsBefore = LogQueueCounters.waits();
        long dropsBefore = LogQueueCounters.drops();
        try {
            System.setOut(new PrintStream(slow, false, StandardCharsets.UTF_8));
            LoggerContext context = new LoggerContext();
            context.setMDCAdapter(new LogbackMDCAdapter());
            AccessLineAppender appender = new AccessLineAppender();
            appender.setContext(context);
            appender.setQueueSize(8);
            appender.start();
            Logger logger = context.getLogger("nangogateway.access");
            logger.setLevel(Level.INFO);
            logger.setAdditive(false);
            logger.addAppender(appender);
            for (int i = 0; i < 2000; i++) {
                logger.info("{\"n\":" + i + ",\"target\":\"/a?b={c}\"}");
            }
            appender.stop();
        } finally {
            System.setOut(saved);
        }
        List<String> lines = slow.bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2000, lines.size(), "no line lost");
        for (int i = 0; i < 2000; i++) {
            assertEquals("{\"n\":" + i + ",\"target\":\"/a?b={c}\"}", lines.get(i), "bare, whole and in order");
        }
        assertTrue(slow.writes < 2000, "batched: " + slow.writes + " writes for 2000 lines");
        assertTrue(LogQueueCounters.waits() > waitsBefore, "the waits were counted");
        assertEquals(dropsBefore, LogQueueCounters.drops());
    }
}
