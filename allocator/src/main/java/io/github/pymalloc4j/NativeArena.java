package io.github.pymalloc4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One arena: {@code arenaSize} bytes of address space from {@code mmap}, aligned to its own size,
 * cut into {@code poolCount} pools. Pools are carved lazily at the high-water mark {@code carved};
 * a pool that empties goes onto {@code freePools} and is reused (LIFO) before new ones are carved.
 *
 * <pre>
 *  base (aligned to arenaSize)
 *   | pool 0 | pool 1 | pool 2 | ... | pool carved-1 | never carved ... | base + arenaSize
 *   '------- Pool objects exist -------------------'
 *   freePools: indices of carved pools that are empty
 *   freePoolCount() = freePools stack depth + (poolCount - carved)
 * </pre>
 *
 * Guarded by the {@link ArenaSet} lock, except {@link #poolAt}, which any thread may call: pools are
 * published with a release store and read with an acquire load.
 */
final class NativeArena
{
    private static final VarHandle POOLS = MethodHandles.arrayElementVarHandle(Pool[].class);

    final long base;
    final int poolCount;
    private final int poolShift;
    private final int poolSize;
    private final Pool[] pools;
    private final int[] freePools;
    private int freePoolsTop;
    /** Pools {@code [0, carved)} have been handed out at least once. */
    int carved;

    /** False once unmapped. */
    boolean mapped = true;
    /** Maintenance round in which the arena became wholly free. */
    long freeSinceRound;

    /** Neighbours in {@link ArenaSet}'s list of usable arenas (sorted by free pools, ascending). */
    NativeArena prev;
    NativeArena next;
    boolean usable;

    NativeArena(final long base, final int poolCount, final int poolShift)
    {
        this.base = base;
        this.poolCount = poolCount;
        this.poolShift = poolShift;
        this.poolSize = 1 << poolShift;
        this.pools = new Pool[poolCount];
        this.freePools = new int[poolCount];
    }

    /** Number of pools that can still be handed out: empty carved pools plus never-carved ones. */
    int freePoolCount()
    {
        return freePoolsTop + poolCount - carved;
    }

    boolean isWhollyFree()
    {
        return freePoolCount() == poolCount;
    }

    /**
     * The pool that holds {@code address}, or null when that pool was never carved.
     *
     * @param address an address inside this arena.
     */
    Pool poolAt(final long address)
    {
        return (Pool)POOLS.getAcquire(pools, (int)((address - base) >>> poolShift));
    }

    /** Pool {@code i}, or null if not carved. */
    Pool pool(final int i)
    {
        return pools[i];
    }

    /**
     * Takes an empty pool: the most recently emptied one, else a new one at the high-water mark.
     * The caller guarantees {@link #freePoolCount()} &gt; 0.
     */
    Pool takePool()
    {
        if (freePoolsTop > 0)
        {
            return pools[freePools[--freePoolsTop]];
        }
        final int i = carved++;
        final Pool pool = new Pool(this, i, base + ((long)i << poolShift), poolSize);
        POOLS.setRelease(pools, i, pool);
        return pool;
    }

    /** Gives back an empty pool of this arena. */
    void returnPool(final Pool pool)
    {
        freePools[freePoolsTop++] = pool.index;
    }

    /** Bytes of on-heap metadata (estimate, compressed oops). */
    long heapBytes()
    {
        long bytes = 64 + 16 + 4L * poolCount + 16 + 4L * poolCount;
        for (int i = 0; i < carved; i++)
        {
            bytes += pools[i].heapBytes();
        }
        return bytes;
    }
}
