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
 * holds exactly; counts that other threads are changing are exact once they are quiet. The totals
 * ({@link Statistic}, with their named accessors) are those of {@link StatsTotals}, shared with a published
 * file's {@link StatsFile.Snapshot}. Rendered by {@link #toText()} (in the spirit of CPython's
 * {@code sys._debugmallocstats()}) and {@link #toJson()} ({@code docs/stats-format.md},
 * {@code docs/stats.schema.json}).
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

    /** @return the purge delay in nanoseconds (0: memory goes back at once). */
    public long purgeDelayNanos() {
        return purgeDelayNanos;
    }

    /** @return whether platform threads allocate without any lock (the process barrier is available). */
    public boolean lockFreeOwners() {
        return lockFreeOwners;
    }

    /** @return the last failure of the maintenance thread, or null. */
    public String maintenanceFailure() {
        return maintenanceFailure;
    }

    /** @return the reserved-bytes maximum; {@link Long#MAX_VALUE} when unlimited. */
    public long maxReservedBytes() {
        return maxReservedBytes;
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
        return statistic.value(totals);
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
        return statistic.fraction(totals);
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
