package nangogateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.io.IOException;
import java.nio.file.Path;
import nangogateway.limits.BufferBudgets;

/**
 * A request body read whole before anything of the request goes upstream (nginx's
 * {@code proxy_request_buffering on}): held in memory up to a per-request amount, while the process-wide memory
 * budget allows, and beyond that in a {@link SpillFile} under the disk budget, deleted when the body is
 * {@linkplain #release() released}, whatever way the exchange ended. Then given back, memory part first, in pieces
 * for the upstream.
 *
 * <p>One per request; touched on its connection's event loop only.
 */
final class BufferedBody implements UpstreamExchange.BodySource {
    private final BufferBudgets budgets;
    private final long memoryLimit;
    private final Path tempDir;
    private CompositeByteBuf memory;
    private long reserved;
    private SpillFile file;
    private long size;
    private boolean memoryGiven;

    BufferedBody(ByteBufAllocator alloc, BufferBudgets budgets, long memoryLimit, Path tempDir) {
        this.budgets = budgets;
        this.memoryLimit = memoryLimit;
        this.tempDir = tempDir;
        this.memory = alloc.compositeBuffer(Integer.MAX_VALUE);
    }

    /**
     * Keeps a copy of {@code piece}'s readable bytes (retained in memory, or written to the file); the caller still
     * owns {@code piece}. Throws when the bytes cannot be held anywhere (both budgets spent, or no usable temp
     * directory): the request gets 503.
     */
    void add(ByteBuf piece) throws IOException {
        int n = piece.readableBytes();
        if (n == 0) {
            return;
        }
        if (file == null && memory.readableBytes() + (long) n <= memoryLimit && budgets.memory().reserve(n)) {
            reserved += n;
            memory.addComponent(true, piece.retainedSlice());
        } else {
            if (file == null) {
                file = SpillFile.open(tempDir, budgets.disk());
            }
            file.append(piece);
        }
        size += n;
    }

    /** All bytes added so far. */
    long size() {
        return size;
    }

    /** Whether part of the body went to the disk. */
    boolean spilled() {
        return file != null;
    }

    @Override
    public ByteBuf next(ByteBufAllocator alloc) throws IOException {
        if (!memoryGiven) {
            memoryGiven = true;
            CompositeByteBuf m = memory;
            memory = null;
            if (m.isReadable()) {
                return m; // handed over: whoever writes it releases it; the budget comes back on release()
            }
            m.release();
        }
        return file == null ? null : file.next(alloc);
    }

    /** Frees what the body still holds: its memory, its budgets and its file (which deletes it). Idempotent. */
    @Override
    public void release() {
        if (memory != null) {
            memory.release();
            memory = null;
        }
        if (reserved > 0) {
            budgets.memory().release(reserved);
            reserved = 0;
        }
        if (file != null) {
            file.close();
            file = null;
        }
    }
}
