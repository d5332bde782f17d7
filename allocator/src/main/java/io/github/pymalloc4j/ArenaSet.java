package io.github.pymalloc4j;

import java.util.ArrayList;
import java.util.List;

/**
 * All arenas of an allocator, and the placement policy that lets memory drain back to the OS.
 *
 * <p>Usable arenas (those with at least one free pool) form a doubly-linked list sorted by
 * {@link NativeArena#freePoolCount()} ascending, so a new pool is always taken from the <em>fullest</em>
 * arena; lightly used arenas are left alone, empty out, and are unmapped. {@code lastWithFree[n]} points
 * at the last arena in the list with exactly {@code n} free pools, which makes every re-sort O(1)
 * (CPython's {@code nfp2lasta}).
 *
 * <pre>
 *  usableHead -&gt; [1 free] -&gt; [1 free] -&gt; [3 free] -&gt; [7 free] -&gt; [64 free (kept, wholly free)]
 *                          ^ lastWithFree[1]  ^ lastWithFree[3] ...
 * </pre>
 *
 * A wholly free arena is unmapped at once, except that one is kept (at the tail) as hysteresis
 * against mmap/munmap thrashing. Not thread-safe: the allocator's lock serialises access.
 */
final class ArenaSet
{
    final long arenaSize;
    final int poolSize;
    final int poolsPerArena;
    private final int poolShift;
    private final ArenaMap map;
    private final ReservationLimit limit;
    private final NativeArena[] lastWithFree;
    private final List<NativeArena> all = new ArrayList<>();
    private NativeArena usableHead;
    private int whollyFree;

    long allocatedTotal;
    long reclaimed;
    long highWater;

    ArenaSet(final long arenaSize, final int poolSize, final ReservationLimit limit)
    {
        this.arenaSize = arenaSize;
        this.poolSize = poolSize;
        this.poolShift = Integer.numberOfTrailingZeros(poolSize);
        this.poolsPerArena = (int)(arenaSize / poolSize);
        this.map = new ArenaMap(Long.numberOfTrailingZeros(arenaSize));
        this.limit = limit;
        this.lastWithFree = new NativeArena[poolsPerArena + 1];
    }

    /** The arena holding {@code address}, or null if it lies in none. */
    NativeArena arenaOf(final long address)
    {
        return map.get(address);
    }

    /** Live arenas, in creation order. */
    List<NativeArena> arenas()
    {
        return all;
    }

    long heapBytes()
    {
        long bytes = map.heapBytes() + 16 + 4L * lastWithFree.length + 16 + 4L * all.size();
        for (final NativeArena arena : all)
        {
            bytes += arena.heapBytes();
        }
        return bytes;
    }

    /**
     * An empty pool from the fullest usable arena, mapping a new arena when none has room.
     *
     * @throws OutOfMemoryError if a new arena is needed and the limit or the OS refuses it.
     */
    Pool takePool()
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

    /**
     * Gives back a pool whose last block was freed; re-sorts its arena, and unmaps the arena if it is
     * now wholly free and another wholly free arena is already kept.
     */
    void returnPool(final Pool pool)
    {
        final NativeArena arena = pool.arena;
        final int n = arena.freePoolCount();
        arena.returnPool(pool);
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
            if (whollyFree > 0)
            {
                release(arena);
            }
            else
            {
                whollyFree++;
            }
        }
    }

    /** Unmaps every arena; the set is unusable afterwards. */
    void releaseAll()
    {
        for (final NativeArena arena : all)
        {
            map.remove(arena);
            Libc.munmap(arena.base, arenaSize);
            limit.release(arenaSize);
            reclaimed++;
        }
        all.clear();
        usableHead = null;
        java.util.Arrays.fill(lastWithFree, null);
        whollyFree = 0;
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
        if (Libc.munmap(arena.base, arenaSize) != 0)
        {
            throw new IllegalStateException("munmap of arena 0x" + Long.toHexString(arena.base) + " failed");
        }
        limit.release(arenaSize);
        reclaimed++;
    }

    private NativeArena newArena()
    {
        limit.reserve(arenaSize, "a new " + arenaSize + "-byte arena");
        final long base;
        try
        {
            base = mapAligned();
        }
        catch (final RuntimeException | Error e)
        {
            limit.release(arenaSize);
            throw e;
        }
        final NativeArena arena = new NativeArena(base, poolsPerArena, poolShift);
        map.put(arena);
        all.add(arena);
        allocatedTotal++;
        highWater = Math.max(highWater, all.size());
        whollyFree++;
        linkFront(arena);
        lastWithFree[poolsPerArena] = arena;
        return arena;
    }

    /** Maps {@code 2 * arenaSize} and trims it to an {@code arenaSize}-aligned {@code arenaSize}. */
    private long mapAligned()
    {
        final long raw = Libc.mmapAnonymous(2 * arenaSize);
        if (raw == Libc.MAP_FAILED || raw == 0)
        {
            throw new OutOfMemoryError("pymalloc4j: mmap of " + 2 * arenaSize + " bytes for a new arena failed");
        }
        final long base = (raw + arenaSize - 1) & -arenaSize;
        if (base > raw)
        {
            Libc.munmap(raw, base - raw);
        }
        final long tail = raw + 2 * arenaSize - (base + arenaSize);
        if (tail > 0)
        {
            Libc.munmap(base + arenaSize, tail);
        }
        if (!map.covers(base) || !map.covers(base + arenaSize - 1))
        {
            Libc.munmap(base, arenaSize);
            throw new OutOfMemoryError("pymalloc4j: mmap returned 0x" + Long.toHexString(base) +
                ", outside the " + ArenaMap.ADDRESS_BITS + "-bit address range the arena map covers");
        }
        return base;
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
        return free == whollyFree && free <= 1 ? null : "wholly free arenas: " + free + " counted " + whollyFree;
    }
}
