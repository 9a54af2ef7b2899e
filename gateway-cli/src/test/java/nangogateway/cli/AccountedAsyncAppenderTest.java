package nangogateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A full log queue loses nothing by default, and whatever it drops when told to is counted. */
class AccountedAsyncAppenderTest {
    /** A destination slower than the lines come: 1 ms a line. */
    static final class SlowSink extends AppenderBase<ILoggingEvent> {
        final AtomicInteger written = new AtomicInteger();

        @Override
        protected void append(ILoggingEvent e) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            written.incrementAndGet();
        }
    }

    private static int logThrough(boolean neverBlock, int lines, SlowSink sink) {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        sink.setContext(context);
        sink.start();
        AccountedAsyncAppender async = new AccountedAsyncAppender();
        async.setContext(context);
        async.setQueueSize(4);
        async.setDiscardingThreshold(0);
        async.setNeverBlock(neverBlock);
        async.setMaxFlushTime(30_000);
        async.addAppender(sink);
        async.start();
        Logger logger = context.getLogger("nangogateway.access");
        logger.setLevel(Level.INFO);
        logger.addAppender(async);
        for (int i = 0; i < lines; i++) {
            logger.info("line {}", i);
        }
        async.stop(); // drains what is queued
        return sink.written.get();
    }

    @Test
    void aFullQueueMakesTheLineWaitAndLosesNone() {
        long waitsBefore = LogQueueCounters.waits();
        long dropsBefore = LogQueueCounters.drops();
        SlowSink sink = new SlowSink();
        assertEquals(200, logThrough(false, 200, sink), "every line reached the destination");
        assertTrue(LogQueueCounters.waits() > waitsBefore, "the waits were counted");
        assertEquals(dropsBefore, LogQueueCounters.drops());
    }

    @Test
    void withNeverBlockEveryDroppedLineIsCounted() {
        long dropsBefore = LogQueueCounters.drops();
        SlowSink sink = new SlowSink();
        int written = logThrough(true, 200, sink);
        long dropped = LogQueueCounters.drops() - dropsBefore;
        assertTrue(dropped > 0, "the queue overflowed");
        assertEquals(200, written + dropped, "written " + written + " + dropped " + dropped);
    }
}
