package io.github.pymalloc4j;

import java.util.List;

/**
 * An immutable, exact snapshot of an {@link Allocator}: per size class, per arena and per pool, the byte
 * accounting of the arenas, large blocks and counters. Taken under the allocator's lock, so every
 * number belongs to the same instant and
 * <pre>
 *   bytesInAllocatedBlocks + bytesInAvailableBlocks + bytesInUnusedPools + bytesLostToQuantization
 *       == arenaBytes == arenasCurrent * arenaSize
 * </pre>
 * holds exactly. Rendered by {@link #toText()} (in the spirit of CPython's
 * {@code sys._debugmallocstats()}) and {@link #toJson()} (schema in {@code docs/stats-format.md}).
 */
public final class AllocatorStats
{
    /** Version of the JSON schema written by {@link #toJson()}. */
    public static final int JSON_SCHEMA_VERSION = 1;

    private final long arenaSize;
    private final long poolSize;
    private final List<SizeClassStats> sizeClasses;
    private final List<ArenaStats> arenas;
    private final long arenasAllocatedTotal;
    private final long arenasReclaimed;
    private final long arenasHighWater;
    private final long bytesInUnusedPools;
    private final long bytesLostToQuantization;
    private final long largeAllocations;
    private final long largeBytes;
    private final long maxReservedBytes;
    private final long heapMetadataBytes;
    private final long mallocs;
    private final long frees;
    private final long reallocs;
    private final long largeMallocs;

    AllocatorStats(
        final long arenaSize, final long poolSize, final List<SizeClassStats> sizeClasses, final List<ArenaStats> arenas,
        final long arenasAllocatedTotal, final long arenasReclaimed, final long arenasHighWater,
        final long bytesInUnusedPools, final long bytesLostToQuantization,
        final long largeAllocations, final long largeBytes, final long maxReservedBytes, final long heapMetadataBytes,
        final long mallocs, final long frees, final long reallocs, final long largeMallocs)
    {
        this.arenaSize = arenaSize;
        this.poolSize = poolSize;
        this.sizeClasses = sizeClasses;
        this.arenas = arenas;
        this.arenasAllocatedTotal = arenasAllocatedTotal;
        this.arenasReclaimed = arenasReclaimed;
        this.arenasHighWater = arenasHighWater;
        this.bytesInUnusedPools = bytesInUnusedPools;
        this.bytesLostToQuantization = bytesLostToQuantization;
        this.largeAllocations = largeAllocations;
        this.largeBytes = largeBytes;
        this.maxReservedBytes = maxReservedBytes;
        this.heapMetadataBytes = heapMetadataBytes;
        this.mallocs = mallocs;
        this.frees = frees;
        this.reallocs = reallocs;
        this.largeMallocs = largeMallocs;
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
     */
    public record SizeClassStats(
        int index, int blockSize, int pools, long blocksInUse, long blocksAvailable, long bytesRequested)
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
            final long capacity = blocksInUse + blocksAvailable;
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
     * @param index       index in its arena.
     * @param sizeClass   class served, or -1 if the pool is empty.
     * @param blockSize   bytes per block, 0 if empty.
     * @param blocksInUse live blocks.
     * @param capacity    blocks the pool holds, 0 if empty.
     */
    public record PoolStats(int index, int sizeClass, int blockSize, int blocksInUse, int capacity)
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

    /** @return the four categories added up; always equal to {@link #arenaBytes()}. */
    public long accountedBytes()
    {
        return bytesInAllocatedBlocks() + bytesInAvailableBlocks() + bytesInUnusedPools + bytesLostToQuantization;
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

    /** @return successful frees (not those done inside realloc). */
    public long frees()
    {
        return frees;
    }

    /** @return successful reallocs. */
    public long reallocs()
    {
        return reallocs;
    }

    /** @return allocations served by the system allocator, realloc moves included. */
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
        return "AllocatorStats[arenas=" + arenasCurrent() + ", inUse=" + bytesInAllocatedBlocks() +
            ", large=" + largeBytes + ", reserved=" + reservedBytes() + "]";
    }
}
