package io.github.pymalloc4j;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A pymalloc-style allocator of native memory: requests of up to 512 bytes are served from pools of
 * same-sized blocks carved from large aligned arenas; larger ones go to the system allocator. See
 * {@code package-info.java} and {@code docs/architecture.md} for the layout and its invariants.
 *
 * <p>Thread-safe: every call takes one lock (a later version replaces it with per-thread heaps).
 * Addresses are plain {@code long}s; {@link #allocate(long, long)} wraps one in a native
 * {@link MemorySegment} of global scope, so this class plugs into FFM as a {@link SegmentAllocator}.
 *
 * <p>Bad input never corrupts the allocator: a negative or absurd size, an overflowing {@code calloc},
 * an alignment that is not a power of two, a double free, a foreign or interior pointer all throw
 * {@link IllegalArgumentException} and leave it exactly as it was; any call after {@link #close()}
 * throws {@link IllegalStateException}; exceeding the reserved-bytes maximum throws
 * {@link OutOfMemoryError} naming the limit. Needs {@code --enable-native-access=ALL-UNNAMED} (or the
 * module's name) on the command line.
 */
public final class Allocator implements SegmentAllocator, AutoCloseable
{
    /** Requests of at most this many bytes are served from pools. */
    public static final int SMALL_REQUEST_THRESHOLD = SizeClass.MAX_SMALL_SIZE;
    /** Largest request accepted (64 TiB); larger ones are taken for a bug and refused. */
    public static final long MAX_REQUEST_SIZE = 1L << 46;
    /** Largest alignment accepted (1 GiB). */
    public static final long MAX_ALIGNMENT = 1L << 30;

    private final ReentrantLock lock = new ReentrantLock();
    private final ReservationLimit limit;
    private final ArenaSet arenas;
    private final Heap heap;
    private final LargeBlocks large;
    /** Written under the lock; read first by every call so that a closed allocator refuses before validating. */
    private volatile boolean closed;

    private long mallocs;
    private long frees;
    private long reallocs;
    private long largeMallocs;

    private Allocator(final Builder builder)
    {
        limit = new ReservationLimit(builder.maxReservedBytes);
        arenas = new ArenaSet(builder.arenaSize, (int)builder.poolSize, limit);
        heap = new Heap(arenas);
        large = new LargeBlocks(limit);
    }

    /**
     * An allocator with the defaults: 1 MiB arenas, 16 KiB pools, no limit on reserved bytes.
     *
     * @return a new allocator.
     */
    public static Allocator create()
    {
        return builder().build();
    }

    /**
     * A builder to choose arena size, pool size and the reserved-bytes maximum.
     *
     * @return a new builder with the defaults set.
     */
    public static Builder builder()
    {
        return new Builder();
    }

    /**
     * Allocates {@code size} bytes, aligned to 16. A request of 0 bytes returns a unique block.
     *
     * @param size bytes, 0 to {@link #MAX_REQUEST_SIZE}.
     * @return the address of the block (never 0).
     * @throws IllegalArgumentException if the size is negative or absurd.
     * @throws OutOfMemoryError         if the reserved-bytes maximum or the OS refuses.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public long malloc(final long size)
    {
        if (Long.compareUnsigned(size, SMALL_REQUEST_THRESHOLD) <= 0)
        {
            lock.lock();
            try
            {
                ensureOpen();
                final long block = heap.allocate(SizeClass.indexOf(size), size);
                mallocs++;
                return block;
            }
            finally
            {
                lock.unlock();
            }
        }
        return allocate(size, 0, false);
    }

    /**
     * Allocates {@code count * size} zeroed bytes.
     *
     * @param count number of elements, &ge; 0.
     * @param size  bytes per element, &ge; 0.
     * @return the address of the block.
     * @throws IllegalArgumentException if either is negative or the product overflows or is absurd.
     * @throws OutOfMemoryError         if the reserved-bytes maximum or the OS refuses.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public long calloc(final long count, final long size)
    {
        ensureOpen();
        if (count < 0 || size < 0)
        {
            throw new IllegalArgumentException("calloc(" + count + ", " + size + "): negative count or size");
        }
        final long total;
        try
        {
            total = Math.multiplyExact(count, size);
        }
        catch (final ArithmeticException e)
        {
            throw new IllegalArgumentException("calloc(" + count + ", " + size + "): count * size overflows", e);
        }
        return allocate(total, 0, true);
    }

    /**
     * Allocates {@code size} bytes aligned to {@code alignment}. Alignments up to a block's natural
     * alignment (the largest power of two dividing its size) are served from pools.
     *
     * @param size      bytes, 0 to {@link #MAX_REQUEST_SIZE}.
     * @param alignment a power of two, 1 to {@link #MAX_ALIGNMENT}.
     * @return the address of the block.
     * @throws IllegalArgumentException if the size or alignment is bad.
     * @throws OutOfMemoryError         if the reserved-bytes maximum or the OS refuses.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public long mallocAligned(final long size, final long alignment)
    {
        ensureOpen();
        checkAlignment(alignment);
        return allocate(size, alignment, false);
    }

    /**
     * Resizes a block, keeping its contents up to the smaller of its usable size and the new size. The
     * block stays in place when the new size fits it and shrinks it by less than 25 % (for a large block:
     * of its requested size); a large block shrinking further to at most 512 bytes moves into a pool. {@code realloc(0, n)} is {@code malloc(n)}.
     * If the call fails, the old block is untouched and still owned by the caller.
     *
     * @param address a live block of this allocator, or 0.
     * @param newSize bytes, 0 to {@link #MAX_REQUEST_SIZE}.
     * @return the address of the resized block.
     * @throws IllegalArgumentException if the address is not a live block or the size is bad.
     * @throws OutOfMemoryError         if the reserved-bytes maximum or the OS refuses.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public long realloc(final long address, final long newSize)
    {
        ensureOpen();
        checkSize(newSize);
        lock.lock();
        try
        {
            ensureOpen();
            final long result = address == 0 ? allocateLocked(newSize, 0, false) : reallocLocked(address, newSize);
            reallocs++;
            return result;
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Frees a block. {@code free(0)} does nothing.
     *
     * @param address a live block of this allocator, or 0.
     * @throws IllegalArgumentException on a double free or an address this allocator did not hand out
     *                                  (foreign, interior, or already freed); nothing changes then.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public void free(final long address)
    {
        lock.lock();
        try
        {
            ensureOpen();
            if (address != 0)
            {
                freeLocked(address);
                frees++;
            }
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Bytes that may be used at a live block: the block size for a pooled block, the requested size for
     * a large one.
     *
     * @param address a live block.
     * @return usable bytes.
     * @throws IllegalArgumentException if the address is not a live block.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public long usableSize(final long address)
    {
        lock.lock();
        try
        {
            ensureOpen();
            final NativeArena arena = arenas.arenaOf(address);
            if (arena != null)
            {
                final Pool pool = livePool(arena, address);
                pool.liveBlockIndex(address);
                return pool.blockSize;
            }
            return largeSize(address);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Allocates a native segment of exactly {@code byteSize} bytes (global scope: it is valid until
     * given back with {@link #free(MemorySegment)}).
     *
     * @param byteSize      bytes, &ge; 0.
     * @param byteAlignment a power of two.
     * @return the segment.
     * @throws IllegalArgumentException if the size or alignment is bad.
     * @throws OutOfMemoryError         if the reserved-bytes maximum or the OS refuses.
     * @throws IllegalStateException    if the allocator is closed.
     */
    @Override
    public MemorySegment allocate(final long byteSize, final long byteAlignment)
    {
        return AddressSpace.segment(mallocAligned(byteSize, byteAlignment), byteSize);
    }

    /**
     * Gives back a segment returned by {@link #allocate(long, long)}. The NULL segment is ignored.
     *
     * @param segment the segment.
     * @throws IllegalArgumentException if it is not a native segment this allocator handed out.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public void free(final MemorySegment segment)
    {
        ensureOpen();
        if (!segment.isNative())
        {
            throw new IllegalArgumentException("not a native segment: " + segment);
        }
        free(segment.address());
    }

    /**
     * An immutable, exact snapshot of the allocator's state; cost proportional to the number of pools.
     *
     * @return the statistics.
     * @throws IllegalStateException if the allocator is closed.
     */
    public AllocatorStats stats()
    {
        lock.lock();
        try
        {
            ensureOpen();
            return snapshot();
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Returns every arena to the OS and every large block to the system allocator. Idempotent; any other
     * call afterwards throws {@link IllegalStateException}. Addresses handed out become invalid.
     */
    @Override
    public void close()
    {
        lock.lock();
        try
        {
            if (!closed)
            {
                closed = true;
                arenas.releaseAll();
                large.releaseAll();
            }
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed.
     */
    public boolean isClosed()
    {
        lock.lock();
        try
        {
            return closed;
        }
        finally
        {
            lock.unlock();
        }
    }

    /** Checks the internal invariants that the statistics cannot show; null when they hold. For tests. */
    String checkInvariants()
    {
        lock.lock();
        try
        {
            return closed ? null : arenas.checkInvariants();
        }
        finally
        {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- slow paths, all under the lock

    private long allocate(final long size, final long alignment, final boolean zeroed)
    {
        ensureOpen();
        checkSize(size);
        lock.lock();
        try
        {
            ensureOpen();
            final long block = allocateLocked(size, alignment, zeroed);
            mallocs++;
            return block;
        }
        finally
        {
            lock.unlock();
        }
    }

    private long allocateLocked(final long size, final long alignment, final boolean zeroed)
    {
        final long rounded = alignment <= SizeClass.ALIGNMENT ? size : (Math.max(size, 1) + alignment - 1) & -alignment;
        if (rounded <= SMALL_REQUEST_THRESHOLD)
        {
            final long block = heap.allocate(SizeClass.indexOf(rounded), size);
            if (zeroed)
            {
                AddressSpace.zero(block, size);
            }
            return block;
        }
        final long block = large.allocate(size, alignment, zeroed);
        largeMallocs++;
        return block;
    }

    private long reallocLocked(final long address, final long newSize)
    {
        final NativeArena arena = arenas.arenaOf(address);
        if (arena != null)
        {
            final Pool pool = livePool(arena, address);
            final int i = pool.liveBlockIndex(address);
            final long blockSize = pool.blockSize;
            if (newSize <= blockSize && 4 * Math.max(newSize, 1) > 3 * blockSize)
            {
                pool.resize(i, newSize);
                return address;
            }
            final long moved = allocateLocked(newSize, 0, false);
            AddressSpace.copy(address, moved, Math.min(blockSize, newSize));
            heap.free(pool, i, address);
            return moved;
        }
        final long oldSize = largeSize(address);
        if (newSize <= oldSize && 4 * newSize > 3 * oldSize)
        {
            large.shrinkInPlace(address, oldSize, newSize);
            return address;
        }
        if (newSize <= SMALL_REQUEST_THRESHOLD)
        {
            final long moved = heap.allocate(SizeClass.indexOf(newSize), newSize);
            AddressSpace.copy(address, moved, Math.min(oldSize, newSize));
            large.free(address, oldSize);
            return moved;
        }
        return large.resize(address, oldSize, newSize);
    }

    private void freeLocked(final long address)
    {
        final NativeArena arena = arenas.arenaOf(address);
        if (arena != null)
        {
            final Pool pool = livePool(arena, address);
            heap.free(pool, pool.liveBlockIndex(address), address);
        }
        else
        {
            large.free(address, largeSize(address));
        }
    }

    private static Pool livePool(final NativeArena arena, final long address)
    {
        final Pool pool = arena.poolAt(address);
        if (pool == null || pool.sizeClass == Pool.FREE)
        {
            throw new IllegalArgumentException("0x" + Long.toHexString(address) +
                " was not allocated by this allocator, or is a double free: it lies in an arena's " +
                (pool == null ? "never used" : "empty") + " pool");
        }
        return pool;
    }

    private long largeSize(final long address)
    {
        final long size = large.sizeOf(address);
        if (size < 0)
        {
            throw new IllegalArgumentException("0x" + Long.toHexString(address) +
                " was not allocated by this allocator (a foreign pointer, or a double free of a large block)");
        }
        return size;
    }

    private void ensureOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("allocator is closed");
        }
    }

    private static void checkSize(final long size)
    {
        if (size < 0)
        {
            throw new IllegalArgumentException("negative size: " + size);
        }
        if (size > MAX_REQUEST_SIZE)
        {
            throw new IllegalArgumentException("absurd size: " + size + " bytes (maximum " + MAX_REQUEST_SIZE + ")");
        }
    }

    private static void checkAlignment(final long alignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
        if (alignment > MAX_ALIGNMENT)
        {
            throw new IllegalArgumentException("absurd alignment: " + alignment + " (maximum " + MAX_ALIGNMENT + ")");
        }
    }

    private AllocatorStats snapshot()
    {
        final int classes = SizeClass.COUNT;
        final int[] pools = new int[classes];
        final long[] inUse = new long[classes];
        final long[] available = new long[classes];
        final long[] requested = new long[classes];
        long quantization = 0;
        long unusedPools = 0;
        final List<NativeArena> sorted = new ArrayList<>(arenas.arenas());
        sorted.sort(Comparator.comparingLong(a -> a.base));
        final List<AllocatorStats.ArenaStats> arenaStats = new ArrayList<>(sorted.size());
        for (final NativeArena arena : sorted)
        {
            final List<AllocatorStats.PoolStats> poolStats = new ArrayList<>(arena.carved);
            for (int i = 0; i < arena.carved; i++)
            {
                final Pool pool = arena.pool(i);
                final int c = pool.sizeClass;
                if (c == Pool.FREE)
                {
                    poolStats.add(new AllocatorStats.PoolStats(i, Pool.FREE, 0, 0, 0));
                    continue;
                }
                pools[c]++;
                inUse[c] += pool.used;
                available[c] += pool.capacity - pool.used;
                requested[c] += pool.requestedBytes;
                quantization += arenas.poolSize - (long)pool.capacity * pool.blockSize;
                poolStats.add(new AllocatorStats.PoolStats(i, c, pool.blockSize, pool.used, pool.capacity));
            }
            unusedPools += arena.freePoolCount();
            arenaStats.add(new AllocatorStats.ArenaStats(
                arena.base, arena.poolCount, arena.carved, arena.freePoolCount(), List.copyOf(poolStats)));
        }
        final List<AllocatorStats.SizeClassStats> classStats = new ArrayList<>(classes);
        for (int c = 0; c < classes; c++)
        {
            classStats.add(new AllocatorStats.SizeClassStats(
                c, SizeClass.blockSize(c), pools[c], inUse[c], available[c], requested[c]));
        }
        return new AllocatorStats(
            arenas.arenaSize, arenas.poolSize, List.copyOf(classStats), List.copyOf(arenaStats),
            arenas.allocatedTotal, arenas.reclaimed, arenas.highWater,
            unusedPools * arenas.poolSize, quantization,
            large.count(), large.bytes(), limit.max(),
            arenas.heapBytes() + large.heapBytes(),
            mallocs, frees, reallocs, largeMallocs);
    }

    /**
     * Chooses the arena size, pool size and reserved-bytes maximum of a new {@link Allocator}.
     */
    public static final class Builder
    {
        private long arenaSize = 1L << 20;
        private long poolSize = 16L << 10;
        private long maxReservedBytes = Long.MAX_VALUE;

        private Builder()
        {
        }

        /**
         * Size of each arena obtained from the OS: a power of two from 64 KiB to 1 GiB, at least four
         * pools. Default 1 MiB.
         *
         * @param bytes the arena size.
         * @return this builder.
         */
        public Builder arenaSize(final long bytes)
        {
            arenaSize = bytes;
            return this;
        }

        /**
         * Size of each pool: a power of two from 4 KiB to 1 MiB. Default 16 KiB.
         *
         * @param bytes the pool size.
         * @return this builder.
         */
        public Builder poolSize(final long bytes)
        {
            poolSize = bytes;
            return this;
        }

        /**
         * Maximum bytes held from the OS at once, arenas and large blocks together; beyond it allocation
         * throws {@link OutOfMemoryError}. Default: unlimited.
         *
         * @param bytes the maximum, &gt; 0.
         * @return this builder.
         */
        public Builder maxReservedBytes(final long bytes)
        {
            maxReservedBytes = bytes;
            return this;
        }

        /**
         * Creates the allocator. No memory is reserved until the first allocation.
         *
         * @return the allocator.
         * @throws IllegalArgumentException if a setting is out of range.
         */
        public Allocator build()
        {
            if (Long.bitCount(poolSize) != 1 || poolSize < 4096 || poolSize > (1L << 20))
            {
                throw new IllegalArgumentException("pool size must be a power of two from 4 KiB to 1 MiB: " + poolSize);
            }
            if (Long.bitCount(arenaSize) != 1 || arenaSize < (64L << 10) || arenaSize > (1L << 30))
            {
                throw new IllegalArgumentException("arena size must be a power of two from 64 KiB to 1 GiB: " + arenaSize);
            }
            if (arenaSize < 4 * poolSize)
            {
                throw new IllegalArgumentException("arena size " + arenaSize + " must hold at least 4 pools of " + poolSize);
            }
            if (maxReservedBytes <= 0)
            {
                throw new IllegalArgumentException("maximum reserved bytes must be positive: " + maxReservedBytes);
            }
            return new Allocator(this);
        }
    }
}
