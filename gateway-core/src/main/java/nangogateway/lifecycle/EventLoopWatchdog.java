package nangogateway.lifecycle;

import io.netty.util.concurrent.EventExecutor;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Tells whether every event loop still runs tasks: each {@link #check} sends every loop a tiny task and reports
 * whether each ran the task of the check before. A loop that is blocked (a task that never returns) or dead (its
 * thread ended on an error) misses its task, and the gateway stops feeding systemd's watchdog, which restarts it:
 * a process that no longer serves must not look alive. Called from one thread that is not an event loop.
 */
public final class EventLoopWatchdog {
    private final List<EventExecutor> loops;
    /** The round each loop last ran its probe in. */
    private final AtomicLongArray answered;
    private long round;

    public EventLoopWatchdog(List<EventExecutor> loops) {
        this.loops = List.copyOf(loops);
        this.answered = new AtomicLongArray(this.loops.size());
    }

    /**
     * True when every loop ran the previous check's probe (the first check: true); then probes every loop again.
     * Call it at an interval the loops' tasks are expected to fit into many times over.
     */
    public boolean check() {
        boolean all = true;
        for (int i = 0; i < loops.size(); i++) {
            if (answered.get(i) != round) {
                all = false;
            }
        }
        long next = ++round;
        for (int i = 0; i < loops.size(); i++) {
            int loop = i;
            try {
                loops.get(i).execute(() -> answered.set(loop, next));
            } catch (RejectedExecutionException e) {
                all = false; // shut down or gone: it will never answer
            }
        }
        return all;
    }

    /** Which loops missed the previous probe, by thread-less index, for the log. */
    public int missing() {
        int n = 0;
        for (int i = 0; i < loops.size(); i++) {
            if (answered.get(i) < round - 1) {
                n++;
            }
        }
        return n;
    }
}
