package nangogateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import java.io.IOException;
import nangogateway.config.ServerSettings;
import nangogateway.limits.BufferBudgets;

/**
 * A response body on its way to a client that reads slower than the upstream answers (nginx's
 * {@code proxy_buffering on}): the upstream is read ahead of the client, so its connection goes back to the pool
 * when the upstream is done, not when the client is.
 *
 * <p>While the client's socket takes everything, pieces go straight to it, as they would unbuffered. When it stops
 * taking them (the channel is not writable), up to {@code response_buffer_memory} more is written into the
 * channel's own queue, counted against the memory budget; beyond that, pieces go to a {@link SpillFile} under the
 * disk budget and are written to the client from there, in order, as it takes them. When neither budget has room
 * for another read of the upstream, the upstream is read only as fast as the client takes the response, as it is
 * without buffering: memory and disk stay bounded whatever the client does.
 *
 * <p>One per client connection, reused for each response; touched on its event loop only.
 */
final class ResponseBuffer {
    /**
     * The most one read of the upstream can deliver: its receive buffer never grows past 64 KiB (Netty's adaptive
     * allocator's largest, and auto-read is off, so one read is one buffer), plus one TLS record (16 KiB and its
     * overhead) that a TLS upstream's handler may have held back from the read before. Room for it is found before
     * each read.
     */
    static final int READ_MAX = 64 * 1024 + 17 * 1024;
    /** Disk room is taken from the budget this much at a time. */
    static final long DISK_STEP = 1 << 20;

    private final ChannelHandlerContext ctx;
    private final BufferBudgets budgets;
    private boolean enabled;
    private long memoryLimit;
    /** Where a file would go; its path is made only when one is needed. */
    private ServerSettings settings;
    /** Memory taken from the budget for pieces written past the channel's high-water mark. */
    private long memoryReserved;
    /** The response's temporary file, once it needed one; pieces go to it while {@link #spooling}. */
    private SpillFile spill;
    private boolean spooling;
    private boolean draining;
    private boolean diskUnusable;

    ResponseBuffer(ChannelHandlerContext ctx, BufferBudgets budgets) {
        this.ctx = ctx;
        this.budgets = budgets;
    }

    /** A new response; {@code enabled} false reads the upstream only as fast as the client takes it. */
    void begin(boolean enabled, ServerSettings settings) {
        this.enabled = enabled;
        this.memoryLimit = settings.responseBufferMemory();
        this.settings = settings;
        diskUnusable = false;
        if (ctx.channel().isWritable()) {
            releaseMemory();
        }
    }

    /** A piece of the body, which the buffer now owns: written to the client, or to the file behind what waits. */
    void add(HttpContent piece) throws IOException {
        if (!spooling) {
            ctx.write(piece, ctx.voidPromise());
            return;
        }
        try {
            spill.append(piece.content());
        } finally {
            piece.release();
        }
    }

    /** Whether bytes wait in the file for the client. */
    boolean spooled() {
        return spooling && spill.unread() > 0;
    }

    /**
     * Whether the upstream may be read once more now: the client takes what comes, or there is room to hold one
     * more read for it (taken from a budget here, before the read).
     */
    boolean roomForAnotherRead() {
        if (spooling) {
            return diskRoom();
        }
        if (ctx.channel().isWritable()) {
            return true;
        }
        if (!enabled) {
            return false;
        }
        if (memoryReserved + READ_MAX <= memoryLimit && budgets.memory().reserve(READ_MAX)) {
            memoryReserved += READ_MAX;
            return true;
        }
        if (diskUnusable) {
            return false;
        }
        if (spill == null) {
            try {
                spill = SpillFile.open(settings.tempPath(), budgets.disk());
            } catch (IOException | RuntimeException e) {
                diskUnusable = true; // logged by nobody: the response streams at the client's pace, as unbuffered
                return false;
            }
        }
        spooling = true;
        return diskRoom();
    }

    private boolean diskRoom() {
        return spill.room() >= READ_MAX || spill.reserve(DISK_STEP);
    }

    /**
     * The client's socket takes bytes again: the memory past the high-water mark is gone from the channel's queue,
     * and the file is written to the client while it keeps taking them. Returns true when nothing waits in the
     * file any more. Re-entrant calls (a flush that reports the channel writable from inside itself) are ignored.
     */
    boolean clientWritable() throws IOException {
        releaseMemory();
        if (!spooling) {
            return true;
        }
        if (draining) {
            return false;
        }
        draining = true;
        try {
            while (spill.unread() > 0 && ctx.channel().isWritable()) {
                ByteBuf piece = spill.next(ctx.alloc());
                ctx.write(new DefaultHttpContent(piece), ctx.voidPromise());
                ctx.flush();
            }
            if (spill.unread() == 0) {
                spooling = false; // caught up: pieces go straight to the client again, the file starts over
                spill.rewind();
                return true;
            }
            return false;
        } finally {
            draining = false;
        }
    }

    private void releaseMemory() {
        if (memoryReserved > 0) {
            budgets.memory().release(memoryReserved);
            memoryReserved = 0;
        }
    }

    /** The response ended for the client (sent whole, failed or cut): the file and its disk room go. */
    void endResponse() {
        spooling = false;
        if (spill != null) {
            spill.close();
            spill = null;
        }
    }

    /** The connection is gone: everything goes back. */
    void release() {
        endResponse();
        releaseMemory();
    }
}
