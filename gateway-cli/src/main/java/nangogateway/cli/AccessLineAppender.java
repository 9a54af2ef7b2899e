package nangogateway.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The access log's appender: each line exactly as the gateway made it (no prefix, so a JSON line stays JSON), on
 * stdout, which systemd hands to the journal. Lines are queued by the event loops and written by one thread in
 * batches, one write for as many lines as have come since the last one, instead of a formatted event and a
 * write for every request.
 *
 * <p>Bounded and lossless by default: {@code queueSize} lines wait at most; when the queue is full the logging
 * thread waits for room ({@code neverBlock} false) and the wait is counted, or, with {@code neverBlock} true, the
 * line is dropped and counted; both counts are in {@code /metrics} ({@code nango_gateway_log_queue_full_total}).
 * Writes go through {@link System#out}'s own lock, so they never interleave with the other log lines.
 */
public final class AccessLineAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    /** The most lines one write carries. */
    private static final int BATCH = 4096;

    private int queueSize = 65_536;
    private boolean neverBlock;
    private ArrayBlockingQueue<String> queue;
    private Thread writer;
    private volatile boolean stopping;

    public void setQueueSize(int queueSize) {
        this.queueSize = queueSize;
    }

    public void setNeverBlock(boolean neverBlock) {
        this.neverBlock = neverBlock;
    }

    @Override
    public void start() {
        if (queueSize < 1) {
            addError("queueSize must be at least 1");
            return;
        }
        queue = new ArrayBlockingQueue<>(queueSize);
        stopping = false;
        writer = new Thread(this::writeLines, "access-log-writer");
        writer.setDaemon(true);
        writer.start();
        super.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        String line = event.getFormattedMessage();
        if (queue.offer(line)) {
            return;
        }
        if (neverBlock) {
            LogQueueCounters.dropped();
            return;
        }
        LogQueueCounters.waited();
        try {
            queue.put(line);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LogQueueCounters.dropped(); // only at shutdown: the line cannot be kept
        }
    }

    private void writeLines() {
        List<String> batch = new ArrayList<>(BATCH);
        byte[] buffer = new byte[64 * 1024];
        PrintStream out = System.out;
        while (true) {
            try {
                String first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (stopping) {
                        return;
                    }
                    continue;
                }
                batch.add(first);
            } catch (InterruptedException e) {
                if (stopping && queue.isEmpty()) {
                    return;
                }
                continue;
            }
            queue.drainTo(batch, BATCH - 1);
            buffer = write(out, batch, buffer);
            batch.clear();
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
