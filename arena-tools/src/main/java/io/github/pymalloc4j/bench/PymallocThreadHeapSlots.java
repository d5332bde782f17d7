package io.github.pymalloc4j.bench;

import io.github.pymalloc4j.Allocator;
import io.github.pymalloc4j.ThreadHeap;

/**
 * pymalloc4j's {@code long} API through the explicit per-thread handle: {@link Allocator#threadHeap()}
 * taken once by the thread that opens the adapter, then {@link ThreadHeap#malloc(long)} and
 * {@link ThreadHeap#free(long)}. Other threads' calls through it are correct but take the general path,
 * so the multi-threaded workloads do not run it. At close it fails if the allocator still counts live
 * bytes ({@link BenchChecks#closeChecked}).
 */
final class PymallocThreadHeapSlots extends AddressSlots {

    static final String NAME = "pymalloc4j-heap";

    private Allocator allocator;
    private ThreadHeap heap;

    PymallocThreadHeapSlots() {
        super(NAME);
    }

    @Override
    public void open(int slots) {
        allocator = Allocator.create();
        BenchChecks.warmUp(allocator);
        heap = allocator.threadHeap();
        super.open(slots);
    }

    @Override
    public long allocate(int slot, long size) {
        long a = heap.malloc(size);
        blocks[slot] = a;
        return a;
    }

    @Override
    public void free(int slot) {
        heap.free(take(slot));
    }

    @Override
    public void close() {
        try {
            super.close();
        } finally {
            BenchChecks.closeChecked(allocator, NAME);
        }
    }
}
