package nangogateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import nangogateway.limits.ByteBudget;

/**
 * A temporary file a buffered body spills to once its memory is spent: written at its end, read back from its
 * start, its bytes counted against the process-wide disk budget. Its name is unlinked as soon as it is open, so
 * the bytes go with the last descriptor, whatever way the exchange ends, even when the process dies. Reads and
 * writes are page-cache I/O on the event loop, as nginx's are.
 *
 * <p>One per body; touched on its connection's event loop only.
 */
final class SpillFile {
    /** The most one piece read back holds. */
    static final int PIECE = 64 * 1024;

    private final ByteBudget disk;
    private FileChannel file;
    /** Bytes taken from the disk budget: at least {@link #written}. */
    private long reserved;
    private long written;
    private long read;

    private SpillFile(ByteBudget disk, FileChannel file) {
        this.disk = disk;
        this.file = file;
    }

    /** A new, empty file in {@code dir}, readable by the gateway's user only. */
    static SpillFile open(Path dir, ByteBudget disk) throws IOException {
        Path p = Files.createTempFile(dir, "nango-gateway-body-", ".tmp");
        FileChannel channel = null;
        try {
            channel = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
            Files.delete(p);
            return new SpillFile(disk, channel);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            Files.deleteIfExists(p);
            throw e;
        }
    }

    /** Takes {@code bytes} more room from the disk budget ahead of writing; false when the budget is spent. */
    boolean reserve(long bytes) {
        if (!disk.reserve(bytes)) {
            return false;
        }
        reserved += bytes;
        return true;
    }

    /** Room taken from the budget and not yet written. */
    long room() {
        return reserved - written;
    }

    /**
     * Appends {@code piece}'s readable bytes (the caller still owns it). Past the room reserved, the bytes are
     * taken from the budget as they come, or the write is refused with an {@link IOException}.
     */
    void append(ByteBuf piece) throws IOException {
        int n = piece.readableBytes();
        if (n > room() && !reserve(n - room())) {
            throw new IOException("server.buffer_disk is spent");
        }
        int index = piece.readerIndex();
        long at = written;
        while (at < written + n) {
            at += piece.getBytes(index + (int) (at - written), file, at, (int) (written + n - at));
        }
        written += n;
    }

    /** Bytes written and not yet read back. */
    long unread() {
        return written - read;
    }

    /** The next piece, at most {@link #PIECE} bytes, which the caller then owns; null when all was read. */
    ByteBuf next(ByteBufAllocator alloc) throws IOException {
        if (read >= written) {
            return null;
        }
        int n = (int) Math.min(PIECE, written - read);
        ByteBuf piece = alloc.ioBuffer(n);
        try {
            while (piece.writerIndex() < n) {
                int r = piece.writeBytes(file, read, n - piece.writerIndex());
                if (r < 0) {
                    throw new IOException("the temporary file ended early");
                }
                read += r;
            }
        } catch (IOException | RuntimeException e) {
            piece.release();
            throw e;
        }
        return piece;
    }

    /** Whether the file is still open. */
    boolean open() {
        return file != null;
    }

    /**
     * Starts over once everything written was read back: the next byte goes to the start of the file again and
     * the budget gets back all it lent.
     */
    void rewind() throws IOException {
        file.truncate(0);
        disk.release(reserved);
        reserved = 0;
        written = 0;
        read = 0;
    }

    /** Closes the file (which deletes it) and gives its budget back. Idempotent. */
    void close() {
        if (reserved > 0) {
            disk.release(reserved);
            reserved = 0;
        }
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // the file is unlinked already; a failing close leaves nothing to do
            }
            file = null;
        }
    }
}
