package nangogateway.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The access log's appender: each line exactly as the gateway made it (no prefix, so a JSON line stays JSON), on
 * stdout, which systemd hands to the journal. Lines are queued by the event loops and written by one thread in
 * batches, one write for as many lines as have come since the last one, instead of a formatted event and a
 * write for every request.
 *
 * <p>Bounded and lossless by default: {@code queueSize} lines wait at most; when the queue is full the logging
 * thread waits for room ({@code neverBlock} false) and the wait is counted, or, with {@code neverBlock} true, the
 * line is dropped and counted; both counts are in {@code /metrics} ({@code nango_gateway_log_queue_full_total}).
 * A wait lasts at most {@code maxWaitMillis} (5,000 ms): a log destination that stops taking lines altogether (a stuck
 * journal) costs the lines it does not take, counted as dropped, rather than stopping every event loop until
 * systemd's watchdog kills the gateway and everything in flight with it.
 * Writes go through {@link System#out}'s own lock, so they never interleave with the other log lines.
 *
 * <p>No lock on the event loops' side: a line is counted in and put on a lock-free queue; the writer looks at the
 * queue every {@value #IDLE_MILLIS} ms when it finds it empty, so an event loop never wakes it (nor waits for a
 * lock it holds) and a line reaches stdout within milliseconds.
 */
public final class AccessLineAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    /** The most lines one write carries. */
    private static final int BATCH = 4096;
    /** How long the writer sleeps when it found nothing to write. */
    static final int IDLE_MILLIS = 2;
    /** The longest one line waits for room before it is dropped (and counted), by default. */
    static final long MAX_WAIT_MILLIS = 5_000;

    private int queueSize = 65_536;
    private boolean neverBlock;
    private long maxWaitMillis = MAX_WAIT_MILLIS;
    private final ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
    /** Lines queued and not yet taken by the writer: the bound. */
    private final AtomicInteger queued = new AtomicInteger();
    private Thread writer;
    private volatile boolean stopping;
    /** A line waited the longest wait in vain; lines are dropped without waiting until the writer writes again. */
    private volatile boolean stuck;

    public void setQueueSize(int queueSize) {
        this.queueSize = queueSize;
    }

    public void setNeverBlock(boolean neverBlock) {
        this.neverBlock = neverBlock;
    }

    /** The longest one line waits for room in a full queue before it is dropped and counted. */
    public void setMaxWaitMillis(long maxWaitMillis) {
        this.maxWaitMillis = maxWaitMillis;
    }

    @Override
    public void start() {
        if (queueSize < 1) {
            addError("queueSize must be at least 1");
            return;
        }
        stopping = false;
        writer = new Thread(this::writeLines, "access-log-writer");
        writer.setDaemon(true);
        writer.start();
        super.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        String line = event.getFormattedMessage();
        if (queued.incrementAndGet() > queueSize) {
            queued.decrementAndGet();
            if (neverBlock) {
                LogQueueCounters.dropped();
                return;
            }
            if (stuck) {
                LogQueueCounters.dropped(); // the destination took nothing for a whole wait: no more waits till it does
                return;
            }
            LogQueueCounters.waited();
            // Full: wait for the writer to make room, a tenth of a millisecond at a time, for a bounded time.
            long deadline = System.nanoTime() + maxWaitMillis * 1_000_000L;
            while (queued.incrementAndGet() > queueSize) {
                queued.decrementAndGet();
                if ((!isStarted() && stopping) || System.nanoTime() - deadline > 0) {
                    stuck = isStarted();
                    LogQueueCounters.dropped(); // the writer is gone, or the destination is stuck
                    return;
                }
                LockSupport.parkNanos(100_000);
            }
        }
        queue.offer(line);
    }

    private void writeLines() {
        List<String> batch = new ArrayList<>(BATCH);
        byte[] buffer = new byte[64 * 1024];
        PrintStream out = System.out;
        while (true) {
            String line;
            while (batch.size() < BATCH && (line = queue.poll()) != null) {
                batch.add(line);
            }
            if (batch.isEmpty()) {
                if (stopping) {
                    return;
                }
                LockSupport.parkNanos(IDLE_MILLIS * 1_000_000L);
                continue;
            }
            queued.addAndGet(-batch.size());
            buffer = write(out, batch, buffer);
            batch.clear();
            stuck = false;
        }
    }

    /** One write for the whole batch; returns the buffer, grown when a batch needed more. */
    private static byte[] write(PrintStream out, List<String> batch, byte[] buffer) {
        int n = 0;
        for (String line : batch) {
            byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
            if (n + bytes.length + 1 > buffer.length) {
                byte[] bigger = new byte[Math.max(buffer.length * 2, n + bytes.length + 1)];
                System.arraycopy(buffer, 0, bigger, 0, n);
                buffer = bigger;
            }
            System.arraycopy(bytes, 0, buffer, n, bytes.length);
            n += bytes.length;
            buffer[n++] = '\n';
        }
        synchronized (out) {
            out.write(buffer, 0, n);
            out.flush();
        }
        return buffer;
    }

    /** Writes what is queued, then stops. */
    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        stopping = true;
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
