package nangogateway.cli;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.util.concurrent.locks.LockSupport;

/**
 * Logback's {@link AsyncAppender} with nothing lost silently: every line that finds the queue full is counted,
 * as a wait (the default, {@code neverBlock} false: the thread that logs waits for room, so no line is lost and
 * request handling slows to the log destination's pace, as nginx's synchronous writes do; after
 * {@value AccessLineAppender#MAX_WAIT_MILLIS} ms of a destination taking nothing the line is dropped and counted) or as a drop
 * ({@code neverBlock} true, an operator's choice). Both counts are in {@code /metrics}
 * ({@code nango_gateway_log_queue_full_total{action}}), and the gateway warns when lines were dropped.
 *
 * <p>Used by the shipped {@code logback.xml} for the event log; counts are process-wide ({@link LogQueueCounters}).
 */
public final class AccountedAsyncAppender extends AsyncAppender {
    /** A line waited the longest wait in vain: lines are dropped without waiting until the queue has room. */
    private volatile boolean stuck;

    @Override
    protected void append(ILoggingEvent event) {
        if (!isNeverBlock()) {
            if (getRemainingCapacity() == 0) {
                if (stuck) {
                    LogQueueCounters.dropped(); // the last wait was in vain: none till the queue has room again
                    return;
                }
                LogQueueCounters.waited();
                // Wait for room for a bounded time (as the access log does): a stuck destination costs lines,
                // counted, never every event loop.
                long deadline = System.nanoTime() + AccessLineAppender.MAX_WAIT_MILLIS * 1_000_000L;
                while (getRemainingCapacity() == 0) {
                    if (System.nanoTime() - deadline > 0 || !isStarted()) {
                        stuck = true;
                        LogQueueCounters.dropped();
                        return;
                    }
                    LockSupport.parkNanos(100_000);
                }
            }
            stuck = false;
            super.append(event); // room was there a moment ago: at worst a short wait
            return;
        }
        // Dropping is decided here, one producer at a time, so each drop is counted exactly once: between the
        // look and the offer only the worker touches the queue, and it only makes room.
        synchronized (this) {
            if (getRemainingCapacity() == 0) {
                LogQueueCounters.dropped();
                return;
            }
            super.append(event);
        }
    }
}
