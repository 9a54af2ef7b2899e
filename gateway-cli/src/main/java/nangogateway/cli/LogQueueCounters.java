package nangogateway.cli;

import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide counts of log lines that found a log queue full, whichever appender queued them: waited for room
 * (nothing lost) or dropped (an appender told never to block). Read by {@code /metrics}.
 */
public final class LogQueueCounters {
    private static final LongAdder WAITS = new LongAdder();
    private static final LongAdder DROPS = new LongAdder();

    private LogQueueCounters() {
    }

    static void waited() {
        WAITS.increment();
    }

    static void dropped() {
        DROPS.increment();
    }

    /** Lines that waited for room in a full queue, since start. */
    public static long waits() {
        return WAITS.sum();
    }

    /** Lines dropped because a queue was full, since start. */
    public static long drops() {
        return DROPS.sum();
    }
}
