package io.github.pymalloc4j.bench;

import io.github.pymalloc4j.Allocator;

/** Teardown checks of the multi-threaded benchmarks. */
final class BenchChecks {

    private BenchChecks() {
    }

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
     * Closes {@code heap} after the teardown has freed every block the benchmark still held, and fails
     * the trial if the allocator still counts live pooled bytes (a lost block, or a free the allocator
     * did not see): the benchmark bookkeeping or the allocator would be wrong.
     */
    static void closeChecked(Allocator heap, String benchmark, String impl) {
        long live = heap.stats().bytesInAllocatedBlocks();
        heap.close();
        if (live != 0) {
            throw new IllegalStateException(benchmark + " impl=" + impl + ": " + live
                    + " bytes still in live blocks after the teardown freed every block it held");
        }
    }
}
