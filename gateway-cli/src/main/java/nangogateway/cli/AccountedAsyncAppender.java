package nangogateway.cli;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Logback's {@link AsyncAppender} with nothing lost silently: every line that finds the queue full is counted,
 * as a wait (the default, {@code neverBlock} false: the thread that logs waits for room, so no line is lost and
 * request handling slows to the log destination's pace, as nginx's synchronous writes do) or as a drop
 * ({@code neverBlock} true, an operator's choice). Both counts are in {@code /metrics}
 * ({@code nango_gateway_log_queue_full_total{action}}), and the gateway warns when lines were dropped.
 *
 * <p>Used by the shipped {@code logback.xml} for the event log; counts are process-wide ({@link LogQueueCounters}).
 */
public final class AccountedAsyncAppender extends AsyncAppender {
    @Override
    protected void append(ILoggingEvent event) {
        if (!isNeverBlock()) {
            if (getRemainingCapacity() == 0) {
                LogQueueCounters.waited();
            }
            super.append(event); // waits for room
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
