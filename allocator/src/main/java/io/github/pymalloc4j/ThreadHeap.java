package io.github.pymalloc4j;

/**
 * One thread's heap of an {@link Allocator}, held by the caller (mimalloc's {@code mi_heap_t}): its
 * {@link #malloc} and {@link #free} skip finding the calling thread's heap, which is the fastest way to
 * call the allocator. Get it with {@link Allocator#threadHeap()} in the thread that will use it and keep
 * it (in a field of a thread-confined object, or a local variable of a loop).
 *
 * <p>Every guarantee of {@link Allocator#malloc} and {@link Allocator#free} holds: the calls are the same
 * calls with one lookup less. Used from another thread than the one that got it, or got by a virtual
 * thread, a call simply takes the allocator's general path: correct, not faster. Blocks are the
 * allocator's: one malloc'd here may be freed with {@link Allocator#free} in any thread, and the other
 * way round.
 */
public final class ThreadHeap {
    private final Allocator allocator;
    private final ArenaMap map;
    /** Null for a virtual thread: no heap of its own. */
    private final Heap heap;

    private final Thread owner;

    ThreadHeap(final Allocator allocator, final ArenaMap map, final Heap heap, final Thread owner) {
        this.allocator = allocator;
        this.map = map;
        this.heap = heap;
        this.owner = heap == null ? null : owner;
    }

    /**
     * {@link Allocator#malloc(long)}.
     *
     * @param size bytes, 0 to {@link Allocator#MAX_REQUEST_SIZE}.
     * @return the address of the block (never 0).
     * @throws IllegalArgumentException if the size is negative or absurd.
     * @throws OutOfMemoryError         if the reserved-bytes maximum or the OS refuses.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public long malloc(final long size) {
        if (Long.compareUnsigned(size, Allocator.SMALL_REQUEST_THRESHOLD) <= 0 && owner == Thread.currentThread()) {
            return heap.malloc(SizeClass.indexOf(size), size, true);
        }
        return allocator.malloc(size);
    }

    /**
     * {@link Allocator#free(long)}.
     *
     * @param address a live block of the allocator, or 0.
     * @throws IllegalArgumentException on a double free or an address the allocator did not hand out;
     *                                  nothing changes then.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public void free(final long address) {
        final Pool pool = map.poolOfPlain(address);
        if (pool == null || pool.heap != heap || owner != Thread.currentThread() || !heap.freeOwned(pool, address)) {
            allocator.freeSlow(address);
        }
    }

    /** @return the allocator this heap belongs to. */
    public Allocator allocator() {
        return allocator;
    }

    @Override
    public String toString() {
        return heap == null ? "thread heap (general path) of " + allocator : heap.toString();
    }
}
