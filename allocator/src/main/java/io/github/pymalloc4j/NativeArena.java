package io.github.pymalloc4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One arena: {@code arenaSize} bytes of address space from {@code mmap}, aligned to its own size,
 * cut into {@code poolCount} pools. Pools are carved lazily at the high-water mark {@code carved};
 * a pool that becomes free goes onto {@code freePools} and is reused (LIFO) before new ones are carved.
 *
 * <pre>
 *  base (aligned to arenaSize)
 *   | pool 0 | pool 1 | pool 2 | ... | pool carved-1 | never carved ... | base + arenaSize
 *   '------- Pool objects exist -------------------'
 *   freePools: indices of carved pools that are free (serve no class)
 *   freePoolCount() = freePools stack depth + (poolCount - carved)
 * </pre>
 *
 * Guarded by the {@link ArenaSet} lock, except {@link #poolAtAcquire}, which any thread may call: pools
 * are published with a release store and read with an acquire load.
 */
final class NativeArena {
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

    /** False once out of the arena map (unmapped, or waiting to be); see {@link ArenaMapping}. */
    private boolean mapped = true;
    /** Maintenance round in which the arena became wholly free. */
    private long freeSinceRound;

    /** Neighbours in the list of {@link UsableArenas} (sorted by free pools, ascending). */
    private NativeArena prevUsable;

    private NativeArena nextUsable;
    private boolean usable;

    NativeArena(final long base, final int poolCount, final int poolShift) {
        this.base = base;
        this.poolCount = poolCount;
        this.poolShift = poolShift;
        this.poolSize = 1 << poolShift;
        this.pools = new Pool[poolCount];
        this.freePools = new int[poolCount];
    }

    /** Number of pools that can still be handed out: free carved pools plus never-carved ones. */
    int freePoolCount() {
        return freePoolsTop + poolCount - carved;
    }

    boolean isWhollyFree() {
        return freePoolCount() == poolCount;
    }

    /**
     * The pool that holds {@code address}, or null when that pool was never carved.
     *
     * @param address an address inside this arena.
     */
    Pool poolAtAcquire(final long address) {
        return (Pool) POOLS.getAcquire(pools, (int) ((address - base) >>> poolShift));
    }

    /** Pool {@code i}, or null if not carved. */
    Pool pool(final int i) {
        return pools[i];
    }

    /**
     * Takes a free pool: the most recently freed one, else a new one at the high-water mark.
     * The caller guarantees {@link #freePoolCount()} &gt; 0.
     */
    Pool takePool() {
        if (freePoolsTop > 0) {
            return pools[freePools[--freePoolsTop]];
        }
        final int i = carved++;
        final Pool pool = new Pool(this, i, base + ((long) i << poolShift), poolSize);
        POOLS.setRelease(pools, i, pool);
        return pool;
    }

    /** Gives back a pool of this arena that has become free. */
    void returnPool(final Pool pool) {
        assert pool.arena == this && pool.sizeClass == Pool.FREE : "only a free pool of this arena goes on its stack";
        assert freePoolsTop < carved : "more free pools than carved ones";
        freePools[freePoolsTop++] = pool.index;
    }

    /** Whether pool {@code i} is on the free-pool stack (a scan; for the full check). */
    boolean onFreeStack(final int i) {
        for (int k = 0; k < freePoolsTop; k++) {
            if (freePools[k] == i) {
                return true;
            }
        }
        return false;
    }

    /** Depth of the free-pool stack. */
    int freeStackDepth() {
        return freePoolsTop;
    }

    // ------------------------------------------------------------------ mapping state (arena lock)

    boolean isMapped() {
        return mapped;
    }

    /** Entered into, or taken out of, the arena map ({@link ArenaMapping}). */
    void setMapped(final boolean mapped) {
        this.mapped = mapped;
    }

    long freeSinceRound() {
        return freeSinceRound;
    }

    /** Records the maintenance round in which the arena became wholly free. */
    void becameWhollyFree(final long round) {
        freeSinceRound = round;
    }

    // ------------------------------------------------------------------ links of the usable list (arena lock)

    NativeArena prevUsable() {
        return prevUsable;
    }

    NativeArena nextUsable() {
        return nextUsable;
    }

    /** On the list of {@link UsableArenas}. */
    boolean isUsable() {
        return usable;
    }

    /** Links this arena in front of {@code head} (null: an empty list). */
    void linkUsableBefore(final NativeArena head) {
        assert !usable : "arena linked twice";
        prevUsable = null;
        nextUsable = head;
        if (head != null) {
            head.prevUsable = this;
        }
        usable = true;
    }

    /** Links this arena right after {@code anchor}. */
    void linkUsableAfter(final NativeArena anchor) {
        assert !usable && anchor.usable : "arena linked twice, or after an unlisted one";
        prevUsable = anchor;
        nextUsable = anchor.nextUsable;
        if (anchor.nextUsable != null) {
            anchor.nextUsable.prevUsable = this;
        }
        anchor.nextUsable = this;
        usable = true;
    }

    /** Unlinks this arena; the caller moves the list head when this was it. */
    void unlinkUsable() {
        assert usable : "arena not on the usable list";
        if (prevUsable != null) {
            prevUsable.nextUsable = nextUsable;
        }
        if (nextUsable != null) {
            nextUsable.prevUsable = prevUsable;
        }
        prevUsable = null;
        nextUsable = null;
        usable = false;
    }

    /** Bytes of on-heap metadata (estimate, compressed oops). */
    long heapBytes() {
        long bytes = 64 + 16 + 4L * poolCount + 16 + 4L * poolCount;
        for (int i = 0; i < carved; i++) {
            bytes += pools[i].heapBytes();
        }
        return bytes;
    }
}
