package io.github.pymalloc4j;

/**
 * The allocator-wide totals that both a live {@link AllocatorStats} snapshot and a published
 * {@link StatsFile.Snapshot} carry: every {@link Statistic}, read with {@link #get(Statistic)} or
 * {@link #fraction(Statistic)}, and a named accessor for each, defined here once.
 */
public interface StatsTotals {
    /**
     * One allocator-wide total.
     *
     * @param statistic a {@link Statistic.Unit#BYTES} or {@link Statistic.Unit#COUNT} total.
     * @return its value.
     * @throws IllegalArgumentException if it is a {@link Statistic.Unit#FRACTION}.
     */
    long get(Statistic statistic);

    /**
     * One allocator-wide fraction.
     *
     * @param statistic a {@link Statistic.Unit#FRACTION} total.
     * @return its value, from 0 to 1.
     * @throws IllegalArgumentException if it is not a fraction.
     */
    double fraction(Statistic statistic);

    /** @return arenas ever mapped. */
    default long arenasAllocatedTotal() {
        return get(Statistic.ARENAS_ALLOCATED_TOTAL);
    }

    /** @return arenas given back to the OS. */
    default long arenasReclaimed() {
        return get(Statistic.ARENAS_RECLAIMED);
    }

    /** @return the most arenas held at once. */
    default long arenasHighWater() {
        return get(Statistic.ARENAS_HIGH_WATER);
    }

    /** @return arenas held now. */
    default long arenasCurrent() {
        return get(Statistic.ARENAS_CURRENT);
    }

    /** @return bytes reserved in arenas: {@code arenasCurrent() * arenaSize()}. */
    default long arenaBytes() {
        return get(Statistic.ARENA_BYTES);
    }

    /** @return bytes in live pooled blocks (block sizes, not requested sizes). */
    default long bytesInAllocatedBlocks() {
        return get(Statistic.IN_ALLOCATED_BLOCKS);
    }

    /** @return bytes in blocks freed by other threads and not yet collected by their pool's owner. */
    default long bytesPendingRemoteFree() {
        return get(Statistic.PENDING_REMOTE_FREE);
    }

    /** @return bytes in free blocks of pools that serve a class (listed and detached). */
    default long bytesInAvailableBlocks() {
        return get(Statistic.IN_AVAILABLE_BLOCKS);
    }

    /** @return bytes in free pools: carved pools that serve no class, and never-carved ones. */
    default long bytesInFreePools() {
        return get(Statistic.IN_FREE_POOLS);
    }

    /** @return bytes at the tail of pools serving a class, too small for one more block. */
    default long bytesLostToQuantization() {
        return get(Statistic.QUANTIZATION);
    }

    /** @return the five categories added up; always equal to {@link #arenaBytes()}. */
    default long accountedBytes() {
        return Statistic.accounted(this);
    }

    /**
     * Arena bytes that may be resident: pools in use, and empty pools not yet decommitted. An upper bound
     * (a pool counts whole once touched); never-carved and decommitted pools are not counted.
     *
     * @return committed bytes.
     */
    default long committedBytes() {
        return get(Statistic.COMMITTED);
    }

    /**
     * Bytes free but not yet returned to the OS: empty pools still committed, in arenas or kept by a heap
     * until the purge delay passes.
     *
     * @return those bytes; {@link Allocator#trim()} brings them to 0.
     */
    default long freeNotReturnedBytes() {
        return get(Statistic.FREE_NOT_RETURNED);
    }

    /** @return pools decommitted ({@code madvise(MADV_DONTNEED)}) since creation. */
    default long poolsDecommitted() {
        return get(Statistic.POOLS_DECOMMITTED);
    }

    /** @return pools whose heap's thread died, waiting to be adopted or to empty. */
    default long orphanPools() {
        return get(Statistic.ORPHAN_POOLS);
    }

    /** @return live blocks in orphaned pools. */
    default long orphanedBlocksInUse() {
        return get(Statistic.ORPHANED_BLOCKS_IN_USE);
    }

    /** @return maintenance rounds run. */
    default long maintenanceRounds() {
        return get(Statistic.MAINTENANCE_ROUNDS);
    }

    /** @return live pooled bytes as requested by the callers. */
    default long bytesRequested() {
        return get(Statistic.REQUESTED);
    }

    /** @return internal fragmentation: {@code bytesInAllocatedBlocks() - bytesRequested()}. */
    default long internalFragmentationBytes() {
        return get(Statistic.INTERNAL_FRAGMENTATION);
    }

    /** @return external fragmentation: the fraction of arena bytes not in live blocks (0 when no arenas). */
    default double externalFragmentation() {
        return fraction(Statistic.EXTERNAL_FRAGMENTATION);
    }

    /** @return live blocks served by the system allocator. */
    default long largeAllocations() {
        return get(Statistic.LARGE_COUNT);
    }

    /** @return requested bytes of live large blocks. */
    default long largeBytes() {
        return get(Statistic.LARGE_BYTES);
    }

    /** @return bytes held from the OS that the limit applies to: {@code arenaBytes() + largeBytes()}. */
    default long reservedBytes() {
        return get(Statistic.RESERVED);
    }

    /** @return estimated bytes of on-heap metadata (pool and arena objects, bitmaps, maps). */
    default long heapMetadataBytes() {
        return get(Statistic.HEAP_METADATA);
    }

    /** @return successful allocations: malloc, calloc, mallocAligned and allocate (not realloc). */
    default long mallocs() {
        return get(Statistic.MALLOCS);
    }

    /** @return successful frees (not those done inside realloc), remote ones included. */
    default long frees() {
        return get(Statistic.FREES);
    }

    /** @return frees of pooled blocks by threads other than the owner (collected or pending). */
    default long remoteFrees() {
        return get(Statistic.REMOTE_FREES);
    }

    /**
     * @return double frees found after the fact: a remote free that raced past the caller's check and was
     *         caught when the owner collected it (all others throw in the caller).
     */
    default long doubleFreesDetected() {
        return get(Statistic.DOUBLE_FREES_DETECTED);
    }

    /** @return successful reallocs. */
    default long reallocs() {
        return get(Statistic.REALLOCS);
    }

    /** @return blocks obtained from the system allocator (realloc moves included). */
    default long largeMallocs() {
        return get(Statistic.LARGE_MALLOCS);
    }

    /** @return live heaps (own and shared) that hold pools or have served calls. */
    default long heapCount() {
        return get(Statistic.HEAP_COUNT);
    }
}
