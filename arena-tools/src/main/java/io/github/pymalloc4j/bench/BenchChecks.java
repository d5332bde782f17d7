package io.github.pymalloc4j.bench;

import io.github.pymalloc4j.Allocator;

/** Setup and teardown checks shared by the adapters ({@link SlotAllocator}). */
final class BenchChecks {

    private BenchChecks() {}

    /**
     * Takes one {@link Allocator#stats()} snapshot and drops it, so that the class loading and first-use
     * allocations of the statistics happen in setup (a warm-up iteration), not in the trial teardown:
     * JMH runs that teardown inside the last measured iteration, where {@code -prof gc} would count
     * its ~200 KB of heap allocation against the benchmark.
     */
    static void warmUp(Allocator heap) {
        if (heap.stats().bytesInAllocatedBlocks() < 0) {
            throw new AssertionError();
        }
    }

    /**
     * Closes {@code heap} after the workload has freed every block it held, and fails if the allocator
     * still counts live pooled bytes (a lost block, or a free the allocator did not see): the workload's
     * bookkeeping or the allocator would be wrong.
     */
    static void closeChecked(Allocator heap, String adapter) {
        long live = heap.stats().bytesInAllocatedBlocks();
        heap.close();
        if (live != 0) {
            throw new IllegalStateException(
                    adapter + ": " + live + " bytes still in live blocks after the workload freed every block it held");
        }
    }

    /** Fails if a slot of {@code blocks} (addresses, 0 = empty) still holds a block. */
    static void requireEmpty(long[] blocks, String adapter) {
        for (int i = 0; i < blocks.length; i++) {
            if (blocks[i] != 0) {
                throw new IllegalStateException(adapter + ": slot " + i + " still holds a block at close");
            }
        }
    }

    /** Fails if a slot of {@code handles} (null = empty) still holds a block. */
    static void requireEmpty(Object[] handles, String adapter) {
        for (int i = 0; i < handles.length; i++) {
            if (handles[i] != null) {
                throw new IllegalStateException(adapter + ": slot " + i + " still holds a block at close");
            }
        }
    }
}
