package io.github.pymalloc4j;

import java.util.List;

/**
 * An immutable snapshot of an {@link Allocator}: per size class, per heap, per arena and per pool, the
 * byte accounting of the arenas, large blocks and counters. In every snapshot, even one taken while
 * threads allocate,
 * <pre>
 *   bytesInAllocatedBlocks + bytesPendingRemoteFree + bytesInAvailableBlocks + bytesInFreePools
 *       + bytesLostToQuantization == arenaBytes == arenasCurrent * arenaSize
 * </pre>
 * holds exactly; counts that other threads are changing are exact once they are quiet. Rendered by {@link #toText()} (in the spirit of CPython's
 * {@code sys._debugmallocstats()}) and {@link #toJson()} (schema in {@code docs/stats-format.md}).
 */
public final class AllocatorStats implements StatsTotals {
    /** Version of the JSON schema written by {@link #toJson()}. */
    public static final int JSON_SCHEMA_VERSION = 3;

    private final long arenaSize;
    private final long poolSize;
    private final List<SizeClassStats> sizeClasses;
    private final List<ArenaStats> arenas;
    private final List<HeapStats> heaps;
    private final long maxReservedBytes;
    private final long purgeDelayNanos;
    private final boolean lockFreeOwners;
    private final String maintenanceFailure;
    /** The stored totals, indexed by {@link Statistic#ordinal()} (derived ones are computed on read). */
    private final long[] totals;

    AllocatorStats(final Builder b) {
        arenaSize = b.arenaSize;
        poolSize = b.poolSize;
        sizeClasses = List.copyOf(b.sizeClasses);
        arenas = List.copyOf(b.arenas);
        heaps = List.copyOf(b.heaps);
        maxReservedBytes = b.maxReservedBytes;
        purgeDelayNanos = b.purgeDelayNanos;
        lockFreeOwners = b.lockFreeOwners;
        maintenanceFailure = b.maintenanceFailure;
        totals = b.totals.clone();
    }

    /** Mutable fields the snapshot fills in. */
    static final class Builder {
        long arenaSize;
        long poolSize;
        final List<SizeClassStats> sizeClasses = new java.util.ArrayList<>();
        final List<ArenaStats> arenas = new java.util.ArrayList<>();
        final List<HeapStats> heaps = new java.util.ArrayList<>();
        long maxReservedBytes;
        long purgeDelayNanos;
        boolean lockFreeOwners;
        String maintenanceFailure;
        final long[] totals = new long[Statistic.COUNT];

        /** Sets a stored total. */
        void set(final Statistic statistic, final long value) {
            assert !statistic.derived() : statistic + " is derived";
            totals[statistic.ordinal()] = value;
        }

        /** Adds to a stored total. */
        void add(final Statistic statistic, final long value) {
            assert !statistic.derived() : statistic + " is derived";
            totals[statistic.ordinal()] += value;
        }
    }

    /**
     * One size class.
     *
     * @param index           class index, 0..31.
     * @param blockSize       bytes per block, 16..512.
     * @param pools           pools serving the class (partly or wholly used).
     * @param blocksInUse     live blocks.
     * @param blocksAvailable free blocks in those pools (free list and never-handed-out).
     * @param bytesRequested  sum of the sizes requested for the live blocks.
     * @param pendingRemoteFrees blocks freed by threads other than the owner, not yet collected by it.
     */
    public record SizeClassStats(
            int index,
            int blockSize,
            int pools,
            long blocksInUse,
            long blocksAvailable,
            long bytesRequested,
            long pendingRemoteFrees) {
        /**
         * Bytes handed out in live blocks.
         *
         * @return {@code blocksInUse * blockSize}.
         */
        public long bytesInUse() {
            return blocksInUse * blockSize;
        }

        /**
         * Internal fragmentation: bytes handed out beyond what was requested.
         *
         * @return {@code bytesInUse() - bytesRequested}.
         */
        public long internalWaste() {
            return bytesInUse() - bytesRequested;
        }

        /**
         * jemalloc's {@code util}: live blocks over the capacity of the class's pools.
         *
         * @return a fraction from 0 to 1; 0 when the class has no pool.
         */
        public double utilisation() {
            final long capacity = blocksInUse + pendingRemoteFrees + blocksAvailable;
            return capacity == 0 ? 0.0 : (double) blocksInUse / capacity;
        }
    }

    /**
     * One arena.
     *
     * @param address     base address (aligned to the arena size).
     * @param poolsTotal  pools the arena is cut into.
     * @param poolsCarved pools handed out at least once (the high-water mark).
     * @param poolsFree   pools that can be handed out: empty carved ones plus never-carved ones.
     * @param pools       each carved pool, by index.
     */
    public record ArenaStats(long address, int poolsTotal, int poolsCarved, int poolsFree, List<PoolStats> pools) {}

    /**
     * One carved pool.
     *
     * @param index              index in its arena.
     * @param sizeClass          class served, or -1 if the pool is free.
     * @param blockSize          bytes per block, 0 if free.
     * @param blocksInUse        live blocks.
     * @param capacity           blocks the pool holds, 0 if free.
     * @param pendingRemoteFrees blocks freed by other threads, not yet collected.
     * @param heapId             the owning heap's id; -1 when free or orphaned (its thread died).
     */
    public record PoolStats(
            int index,
            int sizeClass,
            int blockSize,
            int blocksInUse,
            int capacity,
            int pendingRemoteFrees,
            int heapId) {}

    /**
     * One heap: a platform thread's own, or one shared by virtual threads.
     *
     * @param id                 heap id (as in {@link PoolStats#heapId()}).
     * @param threadName         the owner thread's name; null for a shared heap.
     * @param shared             whether virtual threads share it.
     * @param pools              pools it holds.
     * @param blocksInUse        live blocks in them.
     * @param bytesInUse         bytes in those blocks.
     * @param pendingRemoteFrees blocks freed into its pools by other threads, not yet collected.
     * @param mallocs            allocations it served.
     * @param frees              blocks it took back (own frees and collected remote frees).
     */
    public record HeapStats(
            int id,
            String threadName,
            boolean shared,
            int pools,
            long blocksInUse,
            long bytesInUse,
            long pendingRemoteFrees,
            long mallocs,
            long frees) {}

    /** @return bytes per arena. */
    public long arenaSize() {
        return arenaSize;
    }

    /** @return bytes per pool. */
    public long poolSize() {
        return poolSize;
    }

    /** @return the largest request served from pools (512). */
    public int smallRequestThreshold() {
        return SizeClass.MAX_SMALL_SIZE;
    }

    /** @return the 32 size classes, by index. */
    public List<SizeClassStats> sizeClasses() {
        return sizeClasses;
    }

    /** @return live heaps (own and shared) that hold pools or have served calls, by id. */
    public List<HeapStats> heaps() {
        return heaps;
    }

    /** @return current arenas, by ascending address. */
    public List<ArenaStats> arenas() {
        return arenas;
    }

    /** @return arenas ever mapped. */
    public long arenasAllocatedTotal() {
        return get(Statistic.ARENAS_ALLOCATED_TOTAL);
    }

    /** @return arenas given back to the OS. */
    public long arenasReclaimed() {
        return get(Statistic.ARENAS_RECLAIMED);
    }

    /** @return the most arenas held at once. */
    public long arenasHighWater() {
        return get(Statistic.ARENAS_HIGH_WATER);
    }

    /** @return arenas held now. */
    public long arenasCurrent() {
        return get(Statistic.ARENAS_CURRENT);
    }

    /** @return bytes reserved in arenas: {@code arenasCurrent() * arenaSize()}. */
    public long arenaBytes() {
        return get(Statistic.ARENA_BYTES);
    }

    /** @return bytes in live pooled blocks (block sizes, not requested sizes). */
    public long bytesInAllocatedBlocks() {
        return get(Statistic.IN_ALLOCATED_BLOCKS);
    }

    /** @return bytes in blocks freed by other threads and not yet collected by their pool's owner. */
    public long bytesPendingRemoteFree() {
        return get(Statistic.PENDING_REMOTE_FREE);
    }

    /** @return bytes in free blocks of pools that serve a class (listed and detached). */
    public long bytesInAvailableBlocks() {
        return get(Statistic.IN_AVAILABLE_BLOCKS);
    }

    /** @return bytes in free pools: carved pools that serve no class, and never-carved ones. */
    public long bytesInFreePools() {
        return get(Statistic.IN_FREE_POOLS);
    }

    /** @return bytes at the tail of pools serving a class, too small for one more block. */
    public long bytesLostToQuantization() {
        return get(Statistic.QUANTIZATION);
    }

    /** @return the five categories added up; always equal to {@link #arenaBytes()}. */
    public long accountedBytes() {
        return StatsTotals.accounted(this);
    }

    /**
     * Arena bytes that may be resident: pools in use, and empty pools not yet decommitted. An upper bound
     * (a pool counts whole once touched); never-carved and decommitted pools are not counted.
     *
     * @return committed bytes.
     */
    public long committedBytes() {
        return get(Statistic.COMMITTED);
    }

    /**
     * Bytes free but not yet returned to the OS: empty pools still committed, in arenas or kept by a heap
     * until the purge delay passes.
     *
     * @return those bytes; {@link Allocator#trim()} brings them to 0.
     */
    public long freeNotReturnedBytes() {
        return get(Statistic.FREE_NOT_RETURNED);
    }

    /** @return pools decommitted ({@code madvise(MADV_DONTNEED)}) since creation. */
    public long poolsDecommitted() {
        return get(Statistic.POOLS_DECOMMITTED);
    }

    /** @return pools whose heap's thread died, waiting to be adopted or to empty. */
    public int orphanPools() {
        return (int) get(Statistic.ORPHAN_POOLS);
    }

    /** @return live blocks in orphaned pools. */
    public long orphanedBlocksInUse() {
        return get(Statistic.ORPHANED_BLOCKS_IN_USE);
    }

    /** @return the purge delay in nanoseconds (0: memory goes back at once). */
    public long purgeDelayNanos() {
        return purgeDelayNanos;
    }

    /** @return whether platform threads allocate without any lock (the process barrier is available). */
    public boolean lockFreeOwners() {
        return lockFreeOwners;
    }

    /** @return maintenance rounds run. */
    public long maintenanceRounds() {
        return get(Statistic.MAINTENANCE_ROUNDS);
    }

    /** @return the last failure of the maintenance thread, or null. */
    public String maintenanceFailure() {
        return maintenanceFailure;
    }

    /** @return live pooled bytes as requested by the callers. */
    public long bytesRequested() {
        return get(Statistic.REQUESTED);
    }

    /** @return internal fragmentation: {@code bytesInAllocatedBlocks() - bytesRequested()}. */
    public long internalFragmentationBytes() {
        return get(Statistic.INTERNAL_FRAGMENTATION);
    }

    /** @return external fragmentation: the fraction of arena bytes not in live blocks (0 when no arenas). */
    public double externalFragmentation() {
        return fraction(Statistic.EXTERNAL_FRAGMENTATION);
    }

    /** @return live blocks served by the system allocator. */
    public long largeAllocations() {
        return get(Statistic.LARGE_COUNT);
    }

    /** @return requested bytes of live large blocks. */
    public long largeBytes() {
        return get(Statistic.LARGE_BYTES);
    }

    /** @return bytes held from the OS that the limit applies to: {@code arenaBytes() + largeBytes()}. */
    public long reservedBytes() {
        return get(Statistic.RESERVED);
    }

    /** @return the reserved-bytes maximum; {@link Long#MAX_VALUE} when unlimited. */
    public long maxReservedBytes() {
        return maxReservedBytes;
    }

    /** @return estimated bytes of on-heap metadata (pool and arena objects, bitmaps, maps). */
    public long heapMetadataBytes() {
        return get(Statistic.HEAP_METADATA);
    }

    /** @return successful allocations: malloc, calloc, mallocAligned and allocate (not realloc). */
    public long mallocs() {
        return get(Statistic.MALLOCS);
    }

    /** @return successful frees (not those done inside realloc), remote ones included. */
    public long frees() {
        return get(Statistic.FREES);
    }

    /** @return frees of pooled blocks by threads other than the owner (collected or pending). */
    public long remoteFrees() {
        return get(Statistic.REMOTE_FREES);
    }

    /**
     * @return double frees found after the fact: a remote free that raced past the caller's check and was
     *         caught when the owner collected it (all others throw in the caller).
     */
    public long doubleFreesDetected() {
        return get(Statistic.DOUBLE_FREES_DETECTED);
    }

    /** @return successful reallocs. */
    public long reallocs() {
        return get(Statistic.REALLOCS);
    }

    /** @return blocks obtained from the system allocator (realloc moves included). */
    public long largeMallocs() {
        return get(Statistic.LARGE_MALLOCS);
    }

    /**
     * One allocator-wide total.
     *
     * @param statistic a {@link Statistic.Unit#BYTES} or {@link Statistic.Unit#COUNT} total.
     * @return its value in this snapshot.
     * @throws IllegalArgumentException if it is a {@link Statistic.Unit#FRACTION}.
     */
    @Override
    public long get(final Statistic statistic) {
        return StatsTotals.value(statistic, totals);
    }

    /**
     * One allocator-wide fraction.
     *
     * @param statistic a {@link Statistic.Unit#FRACTION} total.
     * @return its value in this snapshot, from 0 to 1.
     * @throws IllegalArgumentException if it is not a fraction.
     */
    @Override
    public double fraction(final Statistic statistic) {
        return StatsTotals.fraction(statistic, totals);
    }

    /** @return a human-readable report; see {@code docs/stats-format.md}. */
    public String toText() {
        return StatsFormat.text(this);
    }

    /** @return the snapshot as JSON, schema version {@value #JSON_SCHEMA_VERSION}; see {@code docs/stats-format.md}. */
    public String toJson() {
        return StatsFormat.json(this);
    }

    @Override
    public String toString() {
        return "AllocatorStats[arenas=" + arenasCurrent() + ", heaps=" + heaps.size() + ", inUse="
                + bytesInAllocatedBlocks() + ", large=" + largeBytes() + ", reserved=" + reservedBytes() + "]";
    }
}
