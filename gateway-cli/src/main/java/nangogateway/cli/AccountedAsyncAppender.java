package nangogateway.cli;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.util.concurrent.atomic.LongAdder;

/**
 * Logback's {@link AsyncAppender} with nothing lost silently: every line that finds the queue full is counted,
 * as a wait (the default, {@code neverBlock} false: the thread that logs waits for room, so no line is lost and
 * request handling slows to the log destination's pace, as nginx's synchronous writes do) or as a drop
 * ({@code neverBlock} true, an operator's choice). Both counts are in {@code /metrics}
 * ({@code nango_gateway_log_queue_full_total{action}}), and the gateway warns when lines were dropped.
 *
 * <p>Used by the shipped {@code logback.xml}; counts are process-wide, whichever appender instance saw them.
 */
public final class AccountedAsyncAppender extends AsyncAppender {
    private static final LongAdder WAITS = new LongAdder();
    private static final LongAdder DROPS = new LongAdder();

    /** Lines that waited for room in a full queue, since start. */
    public static long waits() {
        return WAITS.sum();
    }

    /** Lines dropped because the queue was full ({@code neverBlock} true), since start. */
    public static long drops() {
        return DROPS.sum();
    }

    @Override
    protected void append(ILoggingEvent event) {
        if (getRemainingCapacity() == 0) {
            (isNeverBlock() ? DROPS : WAITS).increment();
        }
        super.append(event);
    }
}
