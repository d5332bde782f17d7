package io.github.pymalloc4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * All arenas of an allocator: the shared source of pools, guarded by one lock that no allocation fast
 * path takes. It decides where a pool comes from and where a free pool goes, and delegates each part to
 * the class that owns it:
 *
 * <pre>
 *  takePool(c):   Orphans.adopt (an orphan with room)  else  UsableArenas.fullest() (mapping a new arena
 *                 through ArenaMapping when none is usable): its next free pool, given class c
 *  freePool:      Pool.markFree -&gt; arena's free-pool stack -&gt; UsableArenas re-sorts it
 *                 -&gt; ArenaMapping decommit queue (at once with a zero purge delay); a wholly free arena
 *                 is unmapped at once then, except one
 *  purge (round): Orphans.freeEmpty; ArenaMapping decommits pools free since an earlier round and unmaps
 *                 wholly free arenas likewise, except one (kept as hysteresis)
 * </pre>
 */
final class ArenaSet {
    final long arenaSize;
    final int poolSize;
    final int poolsPerArena;
    final ReentrantLock lock = new ReentrantLock();
    private final ReservationLimit limit;
    private final boolean immediate;
    private final UsableArenas usable;
    private final ArenaMapping mapping;
    private final Orphans orphans;

    /**
     * Counts for ownerless pools (orphans collected under this set's lock) and for remote bits found in a
     * pool as it becomes free (double frees that raced past every other check).
     */
    final Counters orphanCounters = new Counters();
    /** Current maintenance round; advanced by {@link #nextRound()}. */
    private long round;

    // Statistics, written under the lock.
    long allocatedTotal;
    long reclaimed;
    long highWater;
    long poolsDecommitted;

    ArenaSet(
            final long arenaSize,
            final int poolSize,
            final long rangeBytes,
            final boolean rangeShrinkable,
            final ReservationLimit limit,
            final boolean immediate,
            final InFlightCalls inFlight) {
        this.arenaSize = arenaSize;
        this.poolSize = poolSize;
        this.poolsPerArena = (int) (arenaSize / poolSize);
        this.limit = limit;
        this.immediate = immediate;
        this.usable = new UsableArenas(poolsPerArena);
        this.mapping = new ArenaMapping(
                arenaSize, poolSize, new ArenaMap(arenaSize, poolSize, rangeBytes, rangeShrinkable), limit, inFlight);
        this.orphans = new Orphans(this, orphanCounters);
    }

    /** The arena holding {@code address}, or null if it lies in none. Lock-free, any thread (acquire). */
    NativeArena arenaOfAcquire(final long address) {
        return mapping.map().arenaOfAcquire(address);
    }

    /** The address range and its tables. */
    ArenaMap map() {
        return mapping.map();
    }

    /** Thread death and the orphaned pools. */
    Orphans orphans() {
        return orphans;
    }

    /**
     * Arenas held: the mapped ones in creation order, then those out of the map whose unmapping waits for
     * calls in flight (wholly free, still counted against the limit). Lock held.
     */
    List<NativeArena> arenas() {
        return mapping.held();
    }

    /** The arenas in the map, in creation order. Lock held. */
    List<NativeArena> mappedArenas() {
        return mapping.mapped();
    }

    /** Orphaned pools of class {@code c}. Lock held. */
    List<Pool> orphans(final int c) {
        return orphans.ofClass(c);
    }

    /** Lock held. */
    long heapBytes() {
        return mapping.heapBytes() + usable.heapBytes();
    }

    /**
     * Starts a maintenance round.
     *
     * @return its number.
     */
    long nextRound() {
        lock.lock();
        try {
            return ++round;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ pools in and out

    /**
     * A pool of class {@code c} for {@code heap}: an orphan of that class with room, else a free pool
     * from the fullest usable arena, mapping a new arena when none has room.
     *
     * @throws OutOfMemoryError if a new arena is needed and the limit or the OS refuses.
     */
    Pool takePool(final int c, final Heap heap) {
        lock.lock();
        try {
            final Pool orphan = orphans.adopt(c, heap);
            if (orphan != null) {
                return orphan;
            }
            final Pool pool = takeFreePool();
            pool.init(c, heap);
            return pool;
        } finally {
            lock.unlock();
        }
    }

    /** Takes back a pool with no live block: it becomes free. */
    void freePool(final Pool pool) {
        lock.lock();
        try {
            freePoolLocked(pool);
        } finally {
            lock.unlock();
        }
    }

    private Pool takeFreePool() {
        NativeArena arena = usable.fullest();
        if (arena == null) {
            arena = newArena();
        }
        final int n = arena.freePoolCount();
        assert n > 0 : "a usable arena has a free pool";
        final Pool pool = arena.takePool();
        usable.tookPool(arena, n);
        mapping.map().publish(pool);
        return pool;
    }

    /** {@link #freePool}, lock held. */
    void freePoolLocked(final Pool pool) {
        assert lock.isHeldByCurrentThread();
        final NativeArena arena = pool.arena;
        final int n = arena.freePoolCount();
        pool.markFree(orphanCounters);
        arena.returnPool(pool);
        pool.becameFree(round);
        if (immediate) {
            if (mapping.decommit(pool)) {
                poolsDecommitted++;
            }
        } else {
            mapping.queueDecommit(pool);
        }
        if (usable.returnedPool(arena, n)) {
            arena.becameWhollyFree(round);
            if (immediate && usable.whollyFree() > 1) {
                unmap(arena);
            }
        }
    }

    private NativeArena newArena() {
        // One still mapped and counted against the limit is taken back instead of mapping another.
        NativeArena arena = mapping.takeBack();
        if (arena == null) {
            reserve(arenaSize, ReservationLimit.NEW_ARENA);
            arena = mapping.mapNew();
            allocatedTotal++;
        }
        highWater = Math.max(highWater, mapping.mapped().size());
        usable.addWhollyFree(arena);
        return arena;
    }

    /** Unmaps a wholly free arena (or leaves it waiting for the calls in flight). */
    private void unmap(final NativeArena arena) {
        usable.removeWhollyFree(arena);
        reclaimed += mapping.unmap(arena);
    }

    // ------------------------------------------------------------------ maintenance

    /**
     * One purge step, lock held by the caller: frees empty orphans, decommits pools free since an earlier
     * round (all of them when {@code force}), unmaps wholly free arenas likewise except one.
     *
     * @return pools decommitted or freed plus arenas unmapped.
     */
    int purge(final boolean force) {
        assert lock.isHeldByCurrentThread();
        final int unmapped = mapping.unmapQuiet();
        reclaimed += unmapped;
        int work = unmapped + orphans.freeEmpty();
        final int decommitted = mapping.decommitQueued(round, force);
        poolsDecommitted += decommitted;
        work += decommitted;
        if (usable.whollyFree() > 1) {
            NativeArena keep = null;
            for (final NativeArena arena : new ArrayList<>(mapping.mapped())) {
                if (!arena.isWhollyFree()) {
                    continue;
                }
                if (keep == null) {
                    keep = arena;
                } else if (force || arena.freeSinceRound() < round) {
                    unmap(arena);
                    work++;
                }
            }
        }
        return work;
    }

    /** Unmaps every arena; the set is unusable afterwards. No call may be in flight. */
    void releaseAll() {
        lock.lock();
        try {
            reclaimed += mapping.releaseAll();
            usable.clear();
            orphans.clear();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Unmaps the arenas whose unmapping only waited for calls in flight, if none is in flight now (the
     * caller's own call does not count). So a snapshot taken once the threads are quiet holds no arena
     * that merely waited for them.
     *
     * @return arenas unmapped.
     */
    int finishDeferredUnmaps() {
        lock.lock();
        try {
            final int unmapped = mapping.unmapQuiet();
            reclaimed += unmapped;
            return unmapped;
        } finally {
            lock.unlock();
        }
    }

    /** Arenas out of the map whose unmapping waits for calls in flight. Lock held. */
    int arenasAwaitingUnmap() {
        return mapping.awaitingUnmap();
    }

    /**
     * Unmaps every wholly free arena, the kept one included: what a request that hit the reserved-bytes
     * limit can get back without waiting for the purge delay.
     *
     * @return arenas unmapped.
     */
    int releaseWhollyFreeArenas() {
        lock.lock();
        try {
            int released = 0;
            for (final NativeArena arena : new ArrayList<>(mapping.mapped())) {
                if (arena.isWhollyFree()) {
                    unmap(arena);
                    released++;
                }
            }
            return released;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reserves bytes against the limit; if it refuses, first unmaps the wholly free arenas still waiting
     * for the purge delay and tries once more. Callers hold no lock of this allocator.
     *
     * @throws OutOfMemoryError naming the limit if it still refuses.
     */
    void reserve(final long bytes, final String what) {
        try {
            limit.reserve(bytes, what);
        } catch (final OutOfMemoryError e) {
            if (releaseWhollyFreeArenas() == 0) {
                throw e;
            }
            limit.reserve(bytes, what);
        }
    }

    /**
     * The full check of the detached pools of heaps whose owners the caller excluded (package-info,
     * invariant 2): such a pool is full and armed (NOTIFY) or notified (NOTIFIED), never forgotten.
     *
     * @return null when it holds, else what is wrong.
     */
    String checkDetached(final Set<Heap> excluded) {
        lock.lock();
        try {
            for (final NativeArena arena : mapping.mapped()) {
                for (int i = 0; i < arena.carved; i++) {
                    final Pool pool = arena.pool(i);
                    if (pool.sizeClass == Pool.FREE || pool.listed || !excluded.contains(pool.heap)) {
                        continue;
                    }
                    if (!pool.isFull() || Notification.stateVolatile(pool) == Notification.NONE) {
                        return pool.heap + ": detached pool 0x" + Long.toHexString(pool.base) + " has " + pool.used
                                + " of " + pool.capacity
                                + " blocks live and notify state " + Notification.stateVolatile(pool)
                                + ": a detached pool is full and armed or notified";
                    }
                    final String wrong = pool.check();
                    if (wrong != null) {
                        return pool.heap + ": " + wrong;
                    }
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checks the invariants that hold under this set's lock (package-info, "Invariants"): the sorted usable
     * list, and with {@code full} every arena's pools and every orphan. Null when they hold, else what is
     * wrong.
     */
    String checkInvariants(final boolean full) {
        lock.lock();
        try {
            final String list = usable.check(mapping.mapped(), immediate);
            if (list != null || !full) {
                return list;
            }
            for (final NativeArena arena : mapping.mapped()) {
                int free = 0;
                for (int i = 0; i < arena.carved; i++) {
                    final Pool pool = arena.pool(i);
                    final boolean isFree = pool.sizeClass == Pool.FREE;
                    if (isFree != arena.onFreeStack(i)) {
                        return "pool 0x" + Long.toHexString(pool.base)
                                + (isFree ? " is free but not" : " serves a class but is")
                                + " on its arena's free-pool stack";
                    }
                    if (isFree) {
                        free++;
                        if (pool.heap != null || pool.listed) {
                            return "free pool 0x" + Long.toHexString(pool.base) + " is owned or listed";
                        }
                    }
                }
                if (free != arena.freeStackDepth()) {
                    return "arena 0x" + Long.toHexString(arena.base) + ": a pool is twice on its free-pool stack";
                }
            }
            return orphans.check();
        } finally {
            lock.unlock();
        }
    }
}
