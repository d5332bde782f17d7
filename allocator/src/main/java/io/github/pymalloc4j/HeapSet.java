package io.github.pymalloc4j;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which heap a calling thread uses, and the list of all heaps for maintenance and statistics.
 *
 * <pre>
 *  platform thread  --byThread[id &amp; mask], checked against the heap's owner; else ThreadLocal--&gt;
 *                   its own Heap (no lock, no atomic on the fast path)
 *  virtual thread   --id % n------&gt; one of n shared Heaps, taken with tryLock, next one if busy
 * </pre>
 *
 * A virtual thread never gets a heap of its own: 100 000 of them share {@code 2 x cores} heaps and hold
 * no memory each (the idea of Netty 4.2's magazines and the JDK's {@code BufferStack}). Their frees are
 * remote frees (one atomic OR), since no virtual thread owns a pool.
 */
final class HeapSet {
    /** Slots of the direct-mapped thread table: a power of two. */
    private static final int SLOTS = 4096;

    /**
     * The fast way to one's own heap: a direct-mapped table indexed by thread id, each entry checked
     * against the heap's (final) owner, so a stale or colliding entry only sends the caller to the
     * ThreadLocal. Measured here: a ThreadLocal lookup on the malloc path cost ~8 ns in context, this ~2.
     * Written only by a thread creating its own heap; plain reads are safe because only the final
     * {@code ownerThread} field is trusted.
     */
    private final Heap[] byThread = new Heap[SLOTS];

    private final ThreadLocal<Heap> own = new ThreadLocal<>();
    private final Heap[] shared;
    private final List<Heap> live = new CopyOnWriteArrayList<>();
    private final ArenaSet arenas;
    private final boolean lockFreeOwners;
    private final boolean retainEmptyPools;
    private final AtomicInteger ids = new AtomicInteger();
    /** Set once by {@link #close()}, under this set's monitor. */
    private boolean closed;

    HeapSet(final ArenaSet arenas, final int sharedHeaps, final boolean retainEmptyPools) {
        this.arenas = arenas;
        this.lockFreeOwners = ProcessBarrier.isAvailable();
        this.retainEmptyPools = retainEmptyPools;
        this.shared = new Heap[sharedHeaps];
        for (int k = 0; k < sharedHeaps; k++) {
            shared[k] = new Heap(ids.getAndIncrement(), null, arenas, false, retainEmptyPools);
            live.add(shared[k]);
        }
    }

    /**
     * The table {@link #current} looks in first: {@code table[threadId & (length - 1)]}, checked against
     * the heap's owner. A fast path that holds it skips a load; a miss must fall back to {@link #current}.
     */
    Heap[] byThread() {
        return byThread;
    }

    /** The calling platform thread's heap, or null (first call, or a virtual thread). */
    Heap current() {
        final Thread thread = Thread.currentThread();
        final Heap heap = byThread[(int) thread.threadId() & (SLOTS - 1)];
        return heap != null && heap.ownerThread == thread ? heap : own.get();
    }

    /**
     * Creates the calling platform thread's heap; null for a virtual thread.
     *
     * @throws IllegalStateException if the heaps are closed.
     */
    Heap createForCurrentThread() {
        final Thread thread = Thread.currentThread();
        if (thread.isVirtual()) {
            return null;
        }
        final Heap heap = new Heap(ids.getAndIncrement(), thread, arenas, lockFreeOwners, retainEmptyPools);
        synchronized (this) {
            if (closed) {
                throw InFlightCalls.closedException();
            }
            live.add(heap);
        }
        own.set(heap);
        byThread[(int) thread.threadId() & (SLOTS - 1)] = heap;
        return heap;
    }

    /**
     * A shared heap, locked: the thread's stripe if free, else the next free one, else wait for the stripe.
     *
     * @throws IllegalStateException if the heaps are closed (no lock is held then).
     */
    Heap lockShared() {
        final int n = shared.length;
        final int start = (int) (Thread.currentThread().threadId() % n);
        for (int k = 0; k < n; k++) {
            final Heap heap = shared[(start + k) % n];
            if (heap.lock.tryLock()) {
                if (heap.isClosedVolatile()) {
                    heap.lock.unlock();
                    throw InFlightCalls.closedException();
                }
                return heap;
            }
        }
        final Heap heap = shared[start];
        heap.lockOpen();
        return heap;
    }

    /**
     * Closing the allocator: refuses new heaps, closes every heap, and returns once no thread is inside
     * a call on any of them. Maintenance must be stopped first (it would clear the requests).
     */
    void close() {
        synchronized (this) {
            closed = true;
        }
        for (final Heap heap : live) {
            heap.close();
        }
        if (lockFreeOwners) {
            ProcessBarrier.fence(); // every owner now sees the request, or is seen inside its call
        }
        for (final Heap heap : live) {
            int spins = 0;
            while (heap.ownerInCallAcquire()) {
                if (++spins < 100) {
                    Thread.onSpinWait();
                } else {
                    java.util.concurrent.locks.LockSupport.parkNanos(50_000);
                }
            }
        }
    }

    /** Live heaps (own and shared); a snapshot-safe list. */
    List<Heap> live() {
        return live;
    }

    void remove(final Heap heap) {
        live.remove(heap);
    }

    /** Whether owner heaps skip the lock (the process barrier exists). */
    boolean lockFreeOwners() {
        return lockFreeOwners;
    }
}
