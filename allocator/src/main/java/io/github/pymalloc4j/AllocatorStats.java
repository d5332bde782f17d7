package io.github.pymalloc4j;

import java.util.List;

/**
 * An immutable snapshot of an {@link Allocator}: per size class, per heap, per arena and per pool, the
 * byte accounting of the arenas, large blocks and counters. In every snapshot, even one taken while
 * threads allocate,
 * <pre>
 *   bytesInAllocatedBlocks + bytesPendingRemoteFree + bytesInAvailableBlocks + bytesInUnusedPools
 *       + bytesLostToQuantization == arenaBytes == arenasCurrent * arenaSize
 * </pre>
 * holds exactly; counts that other threads are changing are exact once they are quiet. Rendered by {@link #toText()} (in the spirit of CPython's
 * {@code sys._debugmallocstats()}) and {@link #toJson()} (schema in {@code docs/stats-format.md}).
 */
public final class AllocatorStats implements StatsTotals
{
    /** Version of the JSON schema written by {@link #toJson()}. */
    public static final int JSON_SCHEMA_VERSION = 2;

    private final long arenaSize;
    private final long poolSize;
    private final List<SizeClassStats> sizeClasses;
    private final List<ArenaStats> arenas;
    private final List<HeapStats> heaps;
    private final long arenasAllocatedTotal;
    private final long arenasReclaimed;
    private final long arenasHighWater;
    private final long bytesInUnusedPools;
    private final long bytesLostToQuantization;
    private final long committedBytes;
    private final long freeNotReturnedBytes;
    private final long poolsDecommitted;
    private final int orphanPools;
    private final long orphanedBlocksInUse;
    private final long largeAllocations;
    private final long largeBytes;
    private final long maxReservedBytes;
    private final long purgeDelayNanos;
    private final boolean lockFreeOwners;
    private final long maintenanceRounds;
    private final String maintenanceFailure;
    private final long heapMetadataBytes;
    private final long mallocs;
    private final long frees;
    private final long remoteFrees;
    private final long reallocs;
    private final long largeMallocs;
    private final long doubleFreesDetected;

    AllocatorStats(final Builder b)
    {
        arenaSize = b.arenaSize;
        poolSize = b.poolSize;
        sizeClasses = List.copyOf(b.sizeClasses);
        arenas = List.copyOf(b.arenas);
        heaps = List.copyOf(b.heaps);
        arenasAllocatedTotal = b.arenasAllocatedTotal;
        arenasReclaimed = b.arenasReclaimed;
        arenasHighWater = b.arenasHighWater;
        bytesInUnusedPools = b.unusedPoolBytes;
        bytesLostToQuantization = b.quantization;
        committedBytes = b.committedBytes;
        freeNotReturnedBytes = b.freeNotReturnedBytes;
        poolsDecommitted = b.poolsDecommitted;
        orphanPools = b.orphanPools;
        orphanedBlocksInUse = b.orphanedBlocksInUse;
        largeAllocations = b.largeAllocations;
        largeBytes = b.largeBytes;
        maxReservedBytes = b.maxReservedBytes;
        purgeDelayNanos = b.purgeDelayNanos;
        lockFreeOwners = b.lockFreeOwners;
        maintenanceRounds = b.maintenanceRounds;
        maintenanceFailure = b.maintenanceFailure;
        heapMetadataBytes = b.heapMetadataBytes;
        mallocs = b.mallocs;
        frees = b.frees;
        remoteFrees = b.remoteFrees;
        reallocs = b.reallocs;
        largeMallocs = b.largeMallocs;
        doubleFreesDetected = b.doubleFreesDetected;
    }

    /** Mutable fields the snapshot fills in. */
    static final class Builder
    {
        long arenaSize;
        long poolSize;
        final List<SizeClassStats> sizeClasses = new java.util.ArrayList<>();
        final List<ArenaStats> arenas = new java.util.ArrayList<>();
        final List<HeapStats> heaps = new java.util.ArrayList<>();
        long arenasAllocatedTotal;
        long arenasReclaimed;
        long arenasHighWater;
        long unusedPoolBytes;
        long quantization;
        long committedBytes;
        long freeNotReturnedBytes;
        long poolsDecommitted;
        int orphanPools;
        long orphanedBlocksInUse;
        long largeAllocations;
        long largeBytes;
        long maxReservedBytes;
        long purgeDelayNanos;
        boolean lockFreeOwners;
        long maintenanceRounds;
        String maintenanceFailure;
        long heapMetadataBytes;
        long mallocs;
        long frees;
        long remoteFrees;
        long reallocs;
        long largeMallocs;
        long doubleFreesDetected;
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
        int index, int blockSize, int pools, long blocksInUse, long blocksAvailable, long bytesRequested,
        long pendingRemoteFrees)
    {
        /**
         * Bytes handed out in live blocks.
         *
         * @return {@code blocksInUse * blockSize}.
         */
        public long bytesInUse()
        {
            return blocksInUse * blockSize;
        }

        /**
         * Internal fragmentation: bytes handed out beyond what was requested.
         *
         * @return {@code bytesInUse() - bytesRequested}.
         */
        public long internalWaste()
        {
            return bytesInUse() - bytesRequested;
        }

        /**
         * jemalloc's {@code util}: live blocks over the capacity of the class's pools.
         *
         * @return a fraction from 0 to 1; 0 when the class has no pool.
         */
        public double utilisation()
        {
            final long capacity = blocksInUse + pendingRemoteFrees + blocksAvailable;
            return capacity == 0 ? 0.0 : (double)blocksInUse / capacity;
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
    public record ArenaStats(long address, int poolsTotal, int poolsCarved, int poolsFree, List<PoolStats> pools)
    {
    }

    /**
     * One carved pool.
     *
     * @param index              index in its arena.
     * @param sizeClass          class served, or -1 if the pool is empty.
     * @param blockSize          bytes per block, 0 if empty.
     * @param blocksInUse        live blocks.
     * @param capacity           blocks the pool holds, 0 if empty.
     * @param pendingRemoteFrees blocks freed by other threads, not yet collected.
     * @param heapId             the owning heap's id; -1 when empty or orphaned (its thread died).
     */
    public record PoolStats(
        int index, int sizeClass, int blockSize, int blocksInUse, int capacity, int pendingRemoteFrees, int heapId)
    {
    }

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
        int id, String threadName, boolean shared, int pools, long blocksInUse, long bytesInUse,
        long pendingRemoteFrees, long mallocs, long frees)
    {
    }

    /** @return bytes per arena. */
    public long arenaSize()
    {
        return arenaSize;
    }

    /** @return bytes per pool. */
    public long poolSize()
    {
        return poolSize;
    }

    /** @return the largest request served from pools (512). */
    public int smallRequestThreshold()
    {
        return SizeClass.MAX_SMALL_SIZE;
    }

    /** @return the 32 size classes, by index. */
    public List<SizeClassStats> sizeClasses()
    {
        return sizeClasses;
    }

    /** @return live heaps (own and shared) that hold pools or have served calls, by id. */
    public List<HeapStats> heaps()
    {
        return heaps;
    }

    /** @return current arenas, by ascending address. */
    public List<ArenaStats> arenas()
    {
        return arenas;
    }

    /** @return arenas ever mapped. */
    public long arenasAllocatedTotal()
    {
        return arenasAllocatedTotal;
    }

    /** @return arenas given back to the OS. */
    public long arenasReclaimed()
    {
        return arenasReclaimed;
    }

    /** @return the most arenas held at once. */
    public long arenasHighWater()
    {
        return arenasHighWater;
    }

    /** @return arenas held now. */
    public long arenasCurrent()
    {
        return arenas.size();
    }

    /** @return bytes reserved in arenas: {@code arenasCurrent() * arenaSize()}. */
    public long arenaBytes()
    {
        return arenas.size() * arenaSize;
    }

    /** @return bytes in live pooled blocks (block sizes, not requested sizes). */
    public long bytesInAllocatedBlocks()
    {
        long sum = 0;
        for (final SizeClassStats c : sizeClasses)
        {
            sum += c.bytesInUse();
        }
        return sum;
    }

    /** @return bytes in blocks freed by other threads and not yet collected by their pool's owner. */
    public long bytesPendingRemoteFree()
    {
        long sum = 0;
        for (final SizeClassStats c : sizeClasses)
        {
            sum += c.pendingRemoteFrees() * c.blockSize();
        }
        return sum;
    }

    /** @return bytes in free blocks of used pools. */
    public long bytesInAvailableBlocks()
    {
        long sum = 0;
        for (final SizeClassStats c : sizeClasses)
        {
            sum += c.blocksAvailable() * c.blockSize();
        }
        return sum;
    }

    /** @return bytes in pools that serve no class: empty carved pools and never-carved ones. */
    public long bytesInUnusedPools()
    {
        return bytesInUnusedPools;
    }

    /** @return bytes at the tail of used pools too small for one more block. */
    public long bytesLostToQuantization()
    {
        return bytesLostToQuantization;
    }

    /** @return the five categories added up; always equal to {@link #arenaBytes()}. */
    public long accountedBytes()
    {
        return bytesInAllocatedBlocks() + bytesPendingRemoteFree() + bytesInAvailableBlocks() + bytesInUnusedPools +
            bytesLostToQuantization;
    }

    /**
     * Arena bytes that may be resident: pools in use, and empty pools not yet decommitted. An upper bound
     * (a pool counts whole once touched); never-carved and decommitted pools are not counted.
     *
     * @return committed bytes.
     */
    public long committedBytes()
    {
        return committedBytes;
    }

    /**
     * Bytes free but not yet returned to the OS: empty pools still committed, in arenas or kept by a heap
     * until the purge delay passes.
     *
     * @return those bytes; {@link Allocator#trim()} brings them to 0.
     */
    public long freeNotReturnedBytes()
    {
        return freeNotReturnedBytes;
    }

    /** @return pools decommitted ({@code madvise(MADV_DONTNEED)}) since creation. */
    public long poolsDecommitted()
    {
        return poolsDecommitted;
    }

    /** @return pools whose heap's thread died, waiting to be adopted or to empty. */
    public int orphanPools()
    {
        return orphanPools;
    }

    /** @return live blocks in orphaned pools. */
    public long orphanedBlocksInUse()
    {
        return orphanedBlocksInUse;
    }

    /** @return the purge delay in nanoseconds (0: memory goes back at once). */
    public long purgeDelayNanos()
    {
        return purgeDelayNanos;
    }

    /** @return whether platform threads allocate without any lock (the process barrier is available). */
    public boolean lockFreeOwners()
    {
        return lockFreeOwners;
    }

    /** @return maintenance rounds run. */
    public long maintenanceRounds()
    {
        return maintenanceRounds;
    }

    /** @return the last failure of the maintenance thread, or null. */
    public String maintenanceFailure()
    {
        return maintenanceFailure;
    }

    /** @return live pooled bytes as requested by the callers. */
    public long bytesRequested()
    {
        long sum = 0;
        for (final SizeClassStats c : sizeClasses)
        {
            sum += c.bytesRequested();
        }
        return sum;
    }

    /** @return internal fragmentation: {@code bytesInAllocatedBlocks() - bytesRequested()}. */
    public long internalFragmentationBytes()
    {
        return bytesInAllocatedBlocks() - bytesRequested();
    }

    /** @return external fragmentation: the fraction of arena bytes not in live blocks (0 when no arenas). */
    public double externalFragmentation()
    {
        final long total = arenaBytes();
        return total == 0 ? 0.0 : 1.0 - (double)bytesInAllocatedBlocks() / total;
    }

    /** @return live blocks served by the system allocator. */
    public long largeAllocations()
    {
        return largeAllocations;
    }

    /** @return requested bytes of live large blocks. */
    public long largeBytes()
    {
        return largeBytes;
    }

    /** @return bytes held from the OS that the limit applies to: {@code arenaBytes() + largeBytes()}. */
    public long reservedBytes()
    {
        return arenaBytes() + largeBytes;
    }

    /** @return the reserved-bytes maximum; {@link Long#MAX_VALUE} when unlimited. */
    public long maxReservedBytes()
    {
        return maxReservedBytes;
    }

    /** @return estimated bytes of on-heap metadata (pool and arena objects, bitmaps, maps). */
    public long heapMetadataBytes()
    {
        return heapMetadataBytes;
    }

    /** @return successful allocations: malloc, calloc, mallocAligned and allocate (not realloc). */
    public long mallocs()
    {
        return mallocs;
    }

    /** @return successful frees (not those done inside realloc), remote ones included. */
    public long frees()
    {
        return frees;
    }

    /** @return frees of pooled blocks by threads other than the owner (collected or pending). */
    public long remoteFrees()
    {
        return remoteFrees;
    }

    /**
     * @return double frees found after the fact: a remote free that raced past the caller's check and was
     *         caught when the owner collected it (all others throw in the caller).
     */
    public long doubleFreesDetected()
    {
        return doubleFreesDetected;
    }

    /** @return successful reallocs. */
    public long reallocs()
    {
        return reallocs;
    }

    /** @return blocks obtained from the system allocator (realloc moves included). */
    public long largeMallocs()
    {
        return largeMallocs;
    }

    /** @return a human-readable report; see {@code docs/stats-format.md}. */
    public String toText()
    {
        return StatsFormat.text(this);
    }

    /** @return the snapshot as JSON, schema version {@value #JSON_SCHEMA_VERSION}; see {@code docs/stats-format.md}. */
    public String toJson()
    {
        return StatsFormat.json(this);
    }

    @Override
    public String toString()
    {
        return "AllocatorStats[arenas=" + arenasCurrent() + ", heaps=" + heaps.size() + ", inUse=" + bytesInAllocatedBlocks() +
            ", large=" + largeBytes + ", reserved=" + reservedBytes() + "]";
    }
}
