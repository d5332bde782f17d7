package io.github.pymalloc4j;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes the allocator holds from the operating system (arenas, and large blocks at what the C library
 * holds for them, see {@link LargeBlocks}) against the configured maximum. Thread-safe (a CAS loop):
 * arenas and large blocks are reserved under different locks, and both are slow paths.
 */
final class ReservationLimit {
    /** {@link #reserve}'s {@code what} for a new large block: a constant, so no string is built per call. */
    static final String LARGE_BLOCK = "a large block";
    /** {@link #reserve}'s {@code what} for a large block that grows. */
    static final String LARGE_BLOCK_GROWTH = "growing a large block";
    /** {@link #reserve}'s {@code what} for a new arena. */
    static final String NEW_ARENA = "a new arena";

    private final long max;
    private final AtomicLong reserved = new AtomicLong();

    ReservationLimit(final long max) {
        this.max = max;
    }

    /**
     * Accounts for {@code bytes} more, or refuses.
     *
     * @param bytes bytes about to be obtained.
     * @param what  what they are for, for the message (one of the constants above).
     * @throws OutOfMemoryError if the maximum would be exceeded; nothing is accounted then.
     */
    void reserve(final long bytes, final String what) {
        while (true) {
            final long held = reserved.get();
            if (bytes > max - held) {
                throw new OutOfMemoryError("pymalloc4j: reserved-bytes limit " + max + " bytes reached: holding " + held
                        + " bytes, " + what + " needs " + bytes + " more");
            }
            if (reserved.compareAndSet(held, held + bytes)) {
                return;
            }
        }
    }

    /**
     * Accounts for {@code bytes} already obtained, even beyond the maximum: for what a C call that cannot
     * be undone took beyond the bound reserved for it (which glibc never does).
     */
    void add(final long bytes) {
        reserved.addAndGet(bytes);
    }

    void release(final long bytes) {
        reserved.addAndGet(-bytes);
    }

    long reserved() {
        return reserved.get();
    }

    long max() {
        return max;
    }
}
