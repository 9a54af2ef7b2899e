package nangogateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import nangogateway.limits.MemoryBudget;

/**
 * A request body read whole before anything of the request goes upstream (nginx's
 * {@code proxy_request_buffering on}): held in memory up to a per-request amount, while the process-wide
 * {@link MemoryBudget} allows, and beyond that in a temporary file that is deleted when the body is
 * {@linkplain #release() released}, whatever way the exchange ended (its name is gone from the directory from
 * the start). Then given back, memory part first, in pieces
 * for the upstream. File reads and writes are page-cache writes on the event loop, as nginx's are.
 *
 * <p>One per request; touched on its connection's event loop only.
 */
final class BufferedBody implements UpstreamExchange.BodySource {
    /** The most one piece read back from the file holds. */
    static final int FILE_PIECE = 64 * 1024;

    private final MemoryBudget budget;
    private final long memoryLimit;
    private final Path tempDir;
    private CompositeByteBuf memory;
    private long reserved;
    private FileChannel file;
    private long fileSize;
    private long size;
    /** Read-back position in the file; -1 until the memory part has been given. */
    private long readPosition = -1;

    BufferedBody(ByteBufAllocator alloc, MemoryBudget budget, long memoryLimit, Path tempDir) {
        this.budget = budget;
        this.memoryLimit = memoryLimit;
        this.tempDir = tempDir;
        this.memory = alloc.compositeBuffer(Integer.MAX_VALUE);
    }

    /**
     * Keeps a copy of {@code piece}'s readable bytes (retained in memory, or written to the file); the caller still
     * owns {@code piece}. Throws when the bytes cannot be held anywhere (the budget spent and no usable temp
     * directory): the request gets 503.
     */
    void add(ByteBuf piece) throws IOException {
        int n = piece.readableBytes();
        if (n == 0) {
            return;
        }
        if (file == null && memory.readableBytes() + (long) n <= memoryLimit && budget.reserve(n)) {
            reserved += n;
            memory.addComponent(true, piece.retainedSlice());
        } else {
            if (file == null) {
                file = open(tempDir);
            }
            int index = piece.readerIndex();
            long at = fileSize;
            while (at < fileSize + n) {
                at += piece.getBytes(index + (int) (at - fileSize), file, at, (int) (fileSize + n - at));
            }
            fileSize += n;
        }
        size += n;
    }

    private static FileChannel open(Path dir) throws IOException {
        // createTempFile makes it readable by its owner only; its name is unlinked as soon as it is open, so the
        // bytes go with the last descriptor, even when the process dies.
        Path p = Files.createTempFile(dir, "nango-gateway-body-", ".tmp");
        try {
            return FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } finally {
            Files.deleteIfExists(p);
        }
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
        if (readPosition < 0) {
            readPosition = 0;
            CompositeByteBuf m = memory;
            memory = null;
            if (m.isReadable()) {
                return m; // handed over: whoever writes it releases it; the budget comes back on release()
            }
            m.release();
        }
        if (file == null || readPosition >= fileSize) {
            return null;
        }
        int n = (int) Math.min(FILE_PIECE, fileSize - readPosition);
        ByteBuf piece = alloc.ioBuffer(n);
        try {
            while (piece.writerIndex() < n) {
                int read = piece.writeBytes(file, readPosition, n - piece.writerIndex());
                if (read < 0) {
                    throw new IOException("the buffered body's file ended early");
                }
                readPosition += read;
            }
        } catch (IOException | RuntimeException e) {
            piece.release();
            throw e;
        }
        return piece;
    }

    /** Frees what the body still holds: its memory, its budget and its file (which deletes it). Idempotent. */
    @Override
    public void release() {
        if (memory != null) {
            memory.release();
            memory = null;
        }
        if (reserved > 0) {
            budget.release(reserved);
            reserved = 0;
        }
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // the file is unlinked on close; a failing close leaves nothing to do
            }
            file = null;
        }
    }
}
