package io.github.pymalloc4j;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * All arenas of an allocator: the shared source of pools, guarded by one lock that no allocation fast
 * path takes. It holds the placement policy that lets memory drain back to the OS, the pools of dead
 * threads (orphans), and the purge of empty memory.
 *
 * <p>Usable arenas (those with at least one free pool) form a doubly-linked list sorted by
 * {@link NativeArena#freePoolCount()} ascending, so a new pool is always taken from the <em>fullest</em>
 * arena; lightly used arenas are left alone, empty out, and are unmapped. {@code lastWithFree[n]} points
 * at the last arena in the list with exactly {@code n} free pools, which makes every re-sort O(1)
 * (CPython's {@code nfp2lasta}).
 *
 * <pre>
 *  usableHead -&gt; [1 free] -&gt; [1 free] -&gt; [3 free] -&gt; [7 free] -&gt; [64 free (wholly free)]
 *                          ^ lastWithFree[1]  ^ lastWithFree[3] ...
 *  orphans[c]:  pools of class c whose heap's thread died, adopted by the next heap that needs one
 *  dirtyPools:  empty pools whose memory may still be resident, decommitted after a delay
 *  unmapping:   wholly free arenas out of the map whose unmapping (PROT_NONE) waits for the calls in flight
 * </pre>
 *
 * Giving memory back: an empty pool is decommitted ({@code madvise(MADV_DONTNEED)}) from the
 * maintenance round after the one in which it emptied; a wholly free arena is unmapped likewise, except that one is
 * kept (decommitted) as hysteresis against map/unmap thrashing. With a purge delay of zero both happen
 * at once, in the freeing call. An arena is unmapped only when no slow-path call is in flight
 * ({@link InFlightCalls}): one that read the arena map just before the arena left it may still copy a
 * block of it (a realloc racing a free of the same block). Otherwise the arena waits, out of the map
 * and still counted against the limit, for the next round.
 */
final class ArenaSet
{
    final long arenaSize;
    final int poolSize;
    final int poolsPerArena;
    final ReentrantLock lock = new ReentrantLock();
    private final int poolShift;
    private final ArenaMap map;
    private final ReservationLimit limit;
    private final boolean immediate;
    private final NativeArena[] lastWithFree;
    private final List<NativeArena> all = new ArrayList<>();
    @SuppressWarnings("unchecked")
    private final List<Pool>[] orphans = new List[SizeClass.COUNT];
    private final ArrayDeque<Pool> dirtyPools = new ArrayDeque<>();
    private final List<NativeArena> unmapping = new ArrayList<>();
    private final InFlightCalls inFlight;
    private NativeArena usableHead;
    private int whollyFree;

    /**
     * Counts for ownerless pools (orphans collected under this set's lock) and for remote bits found in a
     * pool as it is retired (double frees that raced past every other check).
     */
    final Counters orphanCounters = new Counters();
    /** Current maintenance round; advanced by maintenance under the lock. */
    long round;

    long allocatedTotal;
    long reclaimed;
    long highWater;
    long poolsDecommitted;

    ArenaSet(final long arenaSize, final int poolSize, final long rangeBytes, final boolean rangeShrinkable,
        final ReservationLimit limit, final boolean immediate, final InFlightCalls inFlight)
    {
        this.inFlight = inFlight;
        this.arenaSize = arenaSize;
        this.poolSize = poolSize;
        this.poolShift = Integer.numberOfTrailingZeros(poolSize);
        this.poolsPerArena = (int)(arenaSize / poolSize);
        this.map = new ArenaMap(arenaSize, poolSize, rangeBytes, rangeShrinkable);
        this.limit = limit;
        this.immediate = immediate;
        this.lastWithFree = new NativeArena[poolsPerArena + 1];
        for (int c = 0; c < orphans.length; c++)
        {
            orphans[c] = new ArrayList<>();
        }
    }

    /** The arena holding {@code address}, or null if it lies in none. Lock-free, any thread. */
    NativeArena arenaOf(final long address)
    {
        return map.get(address);
    }

    /** The address range and its tables. */
    ArenaMap map()
    {
        return map;
    }

    /**
     * Arenas held: the mapped ones in creation order, then those out of the map whose unmapping waits for
     * calls in flight (wholly free, still counted against the limit). Lock held.
     */
    List<NativeArena> arenas()
    {
        if (unmapping.isEmpty())
        {
            return all;
        }
        final List<NativeArena> held = new ArrayList<>(all);
        held.addAll(unmapping);
        return held;
    }

    /** Orphaned pools of class {@code c}. Lock held. */
    List<Pool> orphans(final int c)
    {
        return orphans[c];
    }

    /** Lock held. */
    long heapBytes()
    {
        long bytes = map.heapBytes() + 16 + 4L * lastWithFree.length + 16 + 4L * all.size() +
            16 + 8L * dirtyPools.size();
        for (final NativeArena arena : all)
        {
            bytes += arena.heapBytes();
        }
        return bytes;
    }

    // ------------------------------------------------------------------ pools in and out

    /**
     * A pool of class {@code c} for {@code heap}: an orphan of that class with room, else an empty pool
     * from the fullest usable arena, mapping a new arena when none has room.
     *
     * @throws OutOfMemoryError if a new arena is needed and the limit or the OS refuses.
     */
    Pool takePool(final int c, final Heap heap)
    {
        lock.lock();
        try
        {
            final Pool orphan = adoptOrphan(c, heap);
            if (orphan != null)
            {
                return orphan;
            }
            final Pool pool = takeEmptyPool();
            pool.init(c, heap);
            return pool;
        }
        finally
        {
            lock.unlock();
        }
    }

    /** Gives back a pool with no live block. */
    void returnPool(final Pool pool)
    {
        lock.lock();
        try
        {
            returnPoolLocked(pool);
        }
        finally
        {
            lock.unlock();
        }
    }

    private Pool adoptOrphan(final int c, final Heap heap)
    {
        final List<Pool> list = orphans[c];
        for (int k = list.size() - 1; k >= 0; k--)
        {
            final Pool pool = list.get(k);
            if (pool.notifyState() == Pool.NOTIFIED)
            {
                continue; // its dead heap has yet to see the notification
            }
            pool.collectRemote(orphanCounters);
            if (pool.used == 0)
            {
                removeAt(list, k);
                returnPoolLocked(pool);
            }
            else if (!pool.isFull())
            {
                removeAt(list, k);
                pool.setOwner(heap);
                return pool;
            }
        }
        return null;
    }

    private Pool takeEmptyPool()
    {
        NativeArena arena = usableHead;
        if (arena == null)
        {
            arena = newArena();
        }
        final int n = arena.freePoolCount();
        if (n == poolsPerArena)
        {
            whollyFree--;
        }
        // The head has the fewest free pools: it stays at the head with one fewer, or leaves the list.
        if (lastWithFree[n] == arena)
        {
            lastWithFree[n] = null;
        }
        final Pool pool = arena.takePool();
        map.publish(pool);
        if (n - 1 == 0)
        {
            unlinkUsable(arena);
        }
        else if (lastWithFree[n - 1] == null)
        {
            lastWithFree[n - 1] = arena;
        }
        return pool;
    }

    private void returnPoolLocked(final Pool pool)
    {
        final NativeArena arena = pool.arena;
        final int n = arena.freePoolCount();
        pool.retire(orphanCounters);
        arena.returnPool(pool);
        pool.emptySinceRound = round;
        if (immediate)
        {
            decommit(pool);
        }
        else if (!pool.dirty)
        {
            pool.dirty = true;
            dirtyPools.add(pool);
        }
        final int m = n + 1;
        if (n == 0)
        {
            // Was full, so not listed: one free pool is the fewest possible, so it goes to the head.
            linkFront(arena);
            if (lastWithFree[1] == null)
            {
                lastWithFree[1] = arena;
            }
        }
        else
        {
            final NativeArena lastOfN = lastWithFree[n];
            if (lastOfN == arena)
            {
                lastWithFree[n] = arena.prev != null && arena.prev.freePoolCount() == n ? arena.prev : null;
            }
            final NativeArena target = lastWithFree[m] != null ? lastWithFree[m] : lastOfN;
            if (target != arena)
            {
                unlinkUsable(arena);
                linkAfter(target, arena);
            }
            lastWithFree[m] = arena;
        }
        if (m == poolsPerArena)
        {
            arena.freeSinceRound = round;
            if (immediate && whollyFree > 0)
            {
                release(arena);
            }
            else
            {
                whollyFree++;
            }
        }
    }

    // ------------------------------------------------------------------ dead threads

    /**
     * Hands every pool of a heap whose thread died to the set: empty ones back to their arenas, the
     * others to the orphan lists, except those whose notification is in flight to the dead heap (they
     * follow when maintenance drains its stack). The caller holds the heap's lock.
     */
    void abandon(final Heap heap)
    {
        lock.lock();
        try
        {
            heap.abandoned = true;
            // A copy: returning the last pool of an arena may unmap it (purge delay zero), which removes it.
            for (final NativeArena arena : new ArrayList<>(all))
            {
                for (int i = 0; i < arena.carved; i++)
                {
                    final Pool pool = arena.pool(i);
                    if (pool.heap != heap || pool.sizeClass == Pool.FREE)
                    {
                        continue;
                    }
                    pool.collectRemote(heap.counters);
                    pool.listed = false;
                    pool.prev = null;
                    pool.next = null;
                    int state = pool.notifyState();
                    if (state == Pool.NOTIFY && !pool.cancelNotify())
                    {
                        state = Pool.NOTIFIED; // a remote free claimed it just now
                    }
                    if (state == Pool.NOTIFIED)
                    {
                        // Its push to the dead heap's stack is in flight or done: the pool stays with the
                        // dead heap until maintenance drains that stack (then orphanOrReturn).
                        heap.inflightNotifications++;
                        continue;
                    }
                    if (pool.used == 0)
                    {
                        returnPoolLocked(pool);
                        continue;
                    }
                    pool.setOwner(null);
                    orphans[pool.sizeClass].add(pool);
                }
            }
            heap.clearLists();
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * A pool of a dead heap, taken off that heap's notified stack: orphaned, or returned if empty.
     */
    void orphanOrReturn(final Pool pool, final Counters counters)
    {
        lock.lock();
        try
        {
            pool.collectRemote(counters);
            if (pool.used == 0)
            {
                returnPoolLocked(pool);
            }
            else
            {
                pool.setOwner(null);
                orphans[pool.sizeClass].add(pool);
            }
        }
        finally
        {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ maintenance

    /**
     * One purge step, lock held by the caller: collects orphans, decommits pools empty since an earlier
     * round (all of them when {@code force}), unmaps wholly free arenas likewise except one.
     *
     * @return pools decommitted plus arenas unmapped.
     */
    int purge(final boolean force)
    {
        int work = unmapQuiet();
        for (final List<Pool> list : orphans)
        {
            for (int k = list.size() - 1; k >= 0; k--)
            {
                final Pool pool = list.get(k);
                if (pool.notifyState() == Pool.NOTIFIED)
                {
                    continue;
                }
                pool.collectRemote(orphanCounters);
                if (pool.used == 0)
                {
                    removeAt(list, k);
                    returnPoolLocked(pool);
                    work++;
                }
            }
        }
        for (int k = dirtyPools.size(); k > 0; k--)
        {
            final Pool pool = dirtyPools.poll();
            if (pool.sizeClass != Pool.FREE || !pool.committed || !pool.arena.mapped)
            {
                pool.dirty = false;
            }
            else if (force || pool.emptySinceRound < round)
            {
                pool.dirty = false;
                decommit(pool);
                work++;
            }
            else
            {
                dirtyPools.add(pool);
            }
        }
        if (whollyFree > 1)
        {
            NativeArena keep = null;
            for (final NativeArena arena : new ArrayList<>(all))
            {
                if (!arena.isWhollyFree())
                {
                    continue;
                }
                if (keep == null)
                {
                    keep = arena;
                }
                else if (force || arena.freeSinceRound < round)
                {
                    whollyFree--;
                    release(arena);
                    work++;
                }
            }
        }
        return work;
    }

    private void decommit(final Pool pool)
    {
        if (pool.committed)
        {
            if (Libc.madvise(pool.base, poolSize, Libc.MADV_DONTNEED) != 0)
            {
                throw new IllegalStateException("madvise(DONTNEED) of pool 0x" + Long.toHexString(pool.base) + " failed");
            }
            pool.committed = false;
            poolsDecommitted++;
        }
    }

    /** Unmaps every arena; the set is unusable afterwards. No call may be in flight. */
    void releaseAll()
    {
        lock.lock();
        try
        {
            all.addAll(unmapping);
            unmapping.clear();
            for (final NativeArena arena : all)
            {
                map.remove(arena);
                arena.mapped = false;
                limit.release(arenaSize);
                reclaimed++;
            }
            map.release();
            all.clear();
            usableHead = null;
            java.util.Arrays.fill(lastWithFree, null);
            whollyFree = 0;
            dirtyPools.clear();
            for (final List<Pool> list : orphans)
            {
                list.clear();
            }
        }
        finally
        {
            lock.unlock();
        }
    }

    private void release(final NativeArena arena)
    {
        if (lastWithFree[poolsPerArena] == arena)
        {
            lastWithFree[poolsPerArena] =
                arena.prev != null && arena.prev.freePoolCount() == poolsPerArena ? arena.prev : null;
        }
        unlinkUsable(arena);
        map.remove(arena);
        all.remove(arena);
        arena.mapped = false;
        unmapping.add(arena);
        unmapQuiet();
    }

    /**
     * Unmaps the arenas taken out of the map, if no call that might still read one is in flight; else
     * they wait for a later round. Lock held.
     *
     * @return arenas unmapped.
     */
    private int unmapQuiet()
    {
        if (unmapping.isEmpty() || !inFlight.isQuiet())
        {
            return 0;
        }
        final int n = unmapping.size();
        for (int k = n - 1; k >= 0; k--)
        {
            final NativeArena arena = unmapping.remove(k);
            if (map.decommitSlot(arena.base) != 0)
            {
                throw new IllegalStateException("unmapping arena 0x" + Long.toHexString(arena.base) + " failed");
            }
            limit.release(arenaSize);
            reclaimed++;
        }
        return n;
    }

    /**
     * Unmaps the arenas whose unmapping only waited for calls in flight, if none is in flight now (the
     * caller's own call does not count). So a snapshot taken once the threads are quiet holds no arena
     * that merely waited for them.
     *
     * @return arenas unmapped.
     */
    int finishDeferredUnmaps()
    {
        lock.lock();
        try
        {
            return unmapQuiet();
        }
        finally
        {
            lock.unlock();
        }
    }

    /** Arenas out of the map whose unmapping waits for calls in flight. Lock held. */
    int arenasAwaitingUnmap()
    {
        return unmapping.size();
    }

    /**
     * Unmaps every wholly free arena, the kept one included: what a request that hit the reserved-bytes
     * limit can get back without waiting for the purge delay.
     *
     * @return arenas unmapped.
     */
    int releaseWhollyFreeArenas()
    {
        lock.lock();
        try
        {
            int released = 0;
            for (final NativeArena arena : new ArrayList<>(all))
            {
                if (arena.isWhollyFree())
                {
                    whollyFree--;
                    release(arena);
                    released++;
                }
            }
            return released;
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Reserves bytes against the limit; if it refuses, first unmaps the wholly free arenas still waiting
     * for the purge delay and tries once more. Callers hold no lock of this allocator.
     *
     * @throws OutOfMemoryError naming the limit if it still refuses.
     */
    void reserve(final long bytes, final String what)
    {
        try
        {
            limit.reserve(bytes, what);
        }
        catch (final OutOfMemoryError e)
        {
            if (releaseWhollyFreeArenas() == 0)
            {
                throw e;
            }
            limit.reserve(bytes, what);
        }
    }

    private NativeArena newArena()
    {
        final NativeArena arena;
        if (!unmapping.isEmpty())
        {
            // Still mapped and counted against the limit: take it back instead of mapping another.
            arena = unmapping.removeLast();
            arena.mapped = true;
        }
        else
        {
            reserve(arenaSize, ReservationLimit.NEW_ARENA);
            final long base;
            try
            {
                base = map.commitSlot(); // only with no arena awaiting unmapping: its slot stays taken
            }
            catch (final RuntimeException | Error e)
            {
                limit.release(arenaSize);
                throw e;
            }
            arena = new NativeArena(base, poolsPerArena, poolShift);
            allocatedTotal++;
        }
        map.put(arena);
        all.add(arena);
        highWater = Math.max(highWater, all.size());
        whollyFree++;
        linkFront(arena);
        lastWithFree[poolsPerArena] = arena;
        return arena;
    }

    private static void removeAt(final List<Pool> list, final int k)
    {
        final int last = list.size() - 1;
        list.set(k, list.get(last));
        list.remove(last);
    }

    private void linkFront(final NativeArena arena)
    {
        arena.prev = null;
        arena.next = usableHead;
        if (usableHead != null)
        {
            usableHead.prev = arena;
        }
        usableHead = arena;
        arena.usable = true;
    }

    private void linkAfter(final NativeArena anchor, final NativeArena arena)
    {
        arena.prev = anchor;
        arena.next = anchor.next;
        if (anchor.next != null)
        {
            anchor.next.prev = arena;
        }
        anchor.next = arena;
        arena.usable = true;
    }

    private void unlinkUsable(final NativeArena arena)
    {
        if (arena.prev != null)
        {
            arena.prev.next = arena.next;
        }
        else
        {
            usableHead = arena.next;
        }
        if (arena.next != null)
        {
            arena.next.prev = arena.prev;
        }
        arena.prev = null;
        arena.next = null;
        arena.usable = false;
    }

    /** Checks the sorted-list invariants; for tests. Returns null when they hold, else what is wrong. */
    String checkInvariants()
    {
        lock.lock();
        try
        {
            int prevFree = 0;
            int listed = 0;
            int free = 0;
            for (NativeArena a = usableHead; a != null; a = a.next)
            {
                listed++;
                final int n = a.freePoolCount();
                if (n < prevFree || n == 0)
                {
                    return "usable list not sorted at 0x" + Long.toHexString(a.base);
                }
                if ((a.next == null || a.next.freePoolCount() != n) && lastWithFree[n] != a)
                {
                    return "lastWithFree[" + n + "] is wrong";
                }
                if (a.next != null && a.next.prev != a)
                {
                    return "broken back link";
                }
                prevFree = n;
            }
            for (final NativeArena a : all)
            {
                if (a.freePoolCount() > 0 != a.usable)
                {
                    return "arena 0x" + Long.toHexString(a.base) + " usable flag wrong";
                }
                if (a.isWhollyFree())
                {
                    free++;
                }
                if (a.usable)
                {
                    listed--;
                }
            }
            if (listed != 0)
            {
                return "usable list and arena set disagree";
            }
            if (free != whollyFree || immediate && free > 1)
            {
                return "wholly free arenas: " + free + " counted " + whollyFree;
            }
            return null;
        }
        finally
        {
            lock.unlock();
        }
    }
}
