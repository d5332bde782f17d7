package io.github.pymalloc4j;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The calls in flight on the allocator's slow paths: every public call except an owner's small
 * malloc/free (which the owner heap's handshake covers, see {@link Heap#enter}) and a small remote free
 * (which touches only Java-heap metadata). {@link Allocator#close()} waits for them to finish before it
 * unmaps anything, and an arena is unmapped only while none is in flight, so no call ever touches
 * native memory that was given back to the OS.
 *
 * <pre>
 *  caller:   counts[stripe] += 1 (atomic);  fence;  if (closed) { counts[stripe] -= 1; throw }
 *            ... reads and writes arenas, copies blocks, calls malloc/free/realloc ...
 *            counts[stripe] -= 1 (atomic)
 *  close:    closed = true (volatile);   wait until every counts[stripe] == 0
 *  unmapper: arena out of the arena map;  fence;  every counts[stripe] == 0 ?  unmap : defer
 * </pre>
 *
 * Each side writes, fences, then reads what the other side writes (a Dekker pair): either the caller
 * sees {@code closed} (or no longer finds the arena), or the other side sees the caller's count. A
 * thread always uses the same stripe (its id hashed), so a stripe's count never goes negative and a
 * zero in every stripe means no call in flight at some instant of the scan that no later caller can
 * undo without seeing the new state. Costs a caller two atomic adds on paths that already make a C
 * call, copy a block, or take a lock.
 */
final class InFlightCalls {
    /** Stripes: a power of two. */
    private static final int STRIPES = 32;
    /** Longs between two stripes: 128 bytes, so no two stripes share a cache line (or its neighbour). */
    private static final int SPACING = 16;

    private final AtomicLongArray counts = new AtomicLongArray(STRIPES * SPACING);
    /** The current thread's registered calls: an unmapper inside a call of its own discounts them. */
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);

    private volatile boolean closed;

    /**
     * Registers a call of the current thread.
     *
     * @return the stripe to pass to {@link #exit(int)}.
     * @throws IllegalStateException if the allocator is closed or closing.
     */
    int enter() {
        final int stripe = stripe();
        counts.getAndIncrement(stripe);
        VarHandle.fullFence(); // order the count before the reads below and the caller's arena-map reads
        if (closed) {
            counts.getAndDecrement(stripe);
            throw closedException();
        }
        depth.get()[0]++;
        return stripe;
    }

    /**
     * Ends a call registered by {@link #enter()}.
     *
     * @param stripe what {@link #enter()} returned.
     */
    void exit(final int stripe) {
        depth.get()[0]--;
        counts.getAndDecrement(stripe);
    }

    /** Whether {@link #close()} has begun. */
    boolean isClosedVolatile() {
        return closed;
    }

    /**
     * Refuses every later {@link #enter()} and waits until no registered call is in flight.
     */
    void close() {
        closed = true;
        awaitQuiet();
    }

    /** Waits until no call is in flight (new calls may still register unless closed). Not from inside a call. */
    void awaitQuiet() {
        int spins = 0;
        while (!isQuiet()) {
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(50_000);
            }
        }
    }

    /**
     * Whether no call of another thread is in flight. An unmapper calls it after taking an arena out of
     * the arena map: true means no call can still be reading that arena. (The unmapper's own call, if it
     * is inside one, reads no wholly free arena.)
     */
    boolean isQuiet() {
        VarHandle.fullFence();
        final int own = stripe();
        final int mine = depth.get()[0];
        for (int s = 0; s < STRIPES * SPACING; s += SPACING) {
            if (counts.get(s) != (s == own ? mine : 0)) {
                return false;
            }
        }
        return true;
    }

    private static int stripe() {
        final long id = Thread.currentThread().threadId();
        return (int) ((id * 0x9E3779B97F4A7C15L) >>> (64 - Integer.numberOfTrailingZeros(STRIPES))) * SPACING;
    }

    static IllegalStateException closedException() {
        return new IllegalStateException("allocator is closed");
    }
}
