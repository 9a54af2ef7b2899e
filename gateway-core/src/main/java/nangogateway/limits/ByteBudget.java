package nangogateway.limits;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One budget, for the whole process, of the bytes buffered bodies may hold in one place: in memory (request bodies
 * buffered or held for a signature check, responses read ahead of a slow client) or in temporary files. Every
 * connection's buffer counts against it, so a flood of large bodies meets a refusal (then the disk, back-pressure
 * or a 503), never an {@link OutOfMemoryError} or a full disk. Reserved and released by compare-and-set, from any
 * event loop, without a lock.
 */
public final class ByteBudget {
    private volatile long limit;
    private final AtomicLong used = new AtomicLong();
    private final LongAdder refusals = new LongAdder();

    public ByteBudget(long limit) {
        this.limit = limit;
    }

    /** Takes {@code bytes} from the budget; false (and nothing taken) when that would pass the limit. */
    public boolean reserve(long bytes) {
        while (true) {
            long now = used.get();
            if (now + bytes > limit) {
                refusals.increment();
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /** Gives back what {@link #reserve} took. */
    public void release(long bytes) {
        used.addAndGet(-bytes);
    }

    public long limit() {
        return limit;
    }

    /** A new limit (reload); what is held stays held, and new reservations meet the new limit. */
    public void limit(long bytes) {
        limit = bytes;
    }

    /** Bytes held now. */
    public long used() {
        return used.get();
    }

    /** Reservations refused since start: memory that was wanted and not there. */
    public long refusals() {
        return refusals.sum();
    }
}
