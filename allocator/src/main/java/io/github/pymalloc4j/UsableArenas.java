package io.github.pymalloc4j;

import java.util.Arrays;
import java.util.List;

/**
 * The usable arenas (those with at least one free pool) as a doubly-linked list sorted by
 * {@link NativeArena#freePoolCount()} ascending, so a new pool is always taken from the <em>fullest</em>
 * arena; lightly used arenas are left alone, become wholly free, and are unmapped. {@code lastWithFree[n]}
 * points at the last arena in the list with exactly {@code n} free pools, which makes every re-sort O(1)
 * (CPython's {@code nfp2lasta}). Also counts the wholly free arenas. Guarded by the {@link ArenaSet} lock.
 *
 * <pre>
 *  head -&gt; [1 free] -&gt; [1 free] -&gt; [3 free] -&gt; [7 free] -&gt; [64 free (wholly free)]
 *                    ^ lastWithFree[1]  ^ lastWithFree[3] ...
 * </pre>
 */
final class UsableArenas {
    private final int poolsPerArena;
    private final NativeArena[] lastWithFree;
    private NativeArena head;
    private int whollyFree;

    UsableArenas(final int poolsPerArena) {
        this.poolsPerArena = poolsPerArena;
        this.lastWithFree = new NativeArena[poolsPerArena + 1];
    }

    /** The arena with the fewest free pools, or null when no arena has one. */
    NativeArena fullest() {
        return head;
    }

    /** Wholly free arenas: mapped, every pool free. */
    int whollyFree() {
        return whollyFree;
    }

    /** A newly mapped (or taken back) arena, wholly free. */
    void addWhollyFree(final NativeArena arena) {
        assert arena.isWhollyFree() : "a new arena is wholly free";
        whollyFree++;
        linkFront(arena);
        lastWithFree[poolsPerArena] = arena;
    }

    /**
     * The head arena gave a pool away.
     *
     * @param n its free pools before.
     */
    void tookPool(final NativeArena arena, final int n) {
        assert arena == head && arena.freePoolCount() == n - 1 : "a pool is taken from the head, one at a time";
        if (n == poolsPerArena) {
            whollyFree--;
        }
        // The head has the fewest free pools: it stays at the head with one fewer, or leaves the list.
        if (lastWithFree[n] == arena) {
            lastWithFree[n] = null;
        }
        if (n - 1 == 0) {
            unlink(arena);
        } else if (lastWithFree[n - 1] == null) {
            lastWithFree[n - 1] = arena;
        }
        assert sortedAround(arena);
    }

    /**
     * An arena got a pool back.
     *
     * @param n its free pools before.
     * @return whether it is wholly free now.
     */
    boolean returnedPool(final NativeArena arena, final int n) {
        assert arena.freePoolCount() == n + 1 : "one pool back at a time";
        final int m = n + 1;
        if (n == 0) {
            // Was full, so not listed: one free pool is the fewest possible, so it goes to the head.
            linkFront(arena);
            if (lastWithFree[1] == null) {
                lastWithFree[1] = arena;
            }
        } else {
            final NativeArena lastOfN = lastWithFree[n];
            if (lastOfN == arena) {
                final NativeArena prev = arena.prevUsable();
                lastWithFree[n] = prev != null && prev.freePoolCount() == n ? prev : null;
            }
            final NativeArena target = lastWithFree[m] != null ? lastWithFree[m] : lastOfN;
            if (target != arena) {
                unlink(arena);
                arena.linkUsableAfter(target);
            }
            lastWithFree[m] = arena;
        }
        assert sortedAround(arena);
        if (m == poolsPerArena) {
            whollyFree++;
            return true;
        }
        return false;
    }

    /** A wholly free arena leaves the list: it is being unmapped. */
    void removeWhollyFree(final NativeArena arena) {
        assert arena.isWhollyFree() && whollyFree > 0 : "only a wholly free arena is unmapped";
        if (lastWithFree[poolsPerArena] == arena) {
            final NativeArena prev = arena.prevUsable();
            lastWithFree[poolsPerArena] = prev != null && prev.freePoolCount() == poolsPerArena ? prev : null;
        }
        unlink(arena);
        whollyFree--;
    }

    /** Forgets every arena (the allocator is closing). */
    void clear() {
        head = null;
        Arrays.fill(lastWithFree, null);
        whollyFree = 0;
    }

    /** Bytes of on-heap metadata (estimate). */
    long heapBytes() {
        return 16 + 4L * lastWithFree.length;
    }

    private void linkFront(final NativeArena arena) {
        arena.linkUsableBefore(head);
        head = arena;
    }

    private void unlink(final NativeArena arena) {
        if (head == arena) {
            head = arena.nextUsable();
        }
        arena.unlinkUsable();
    }

    /** The order around one arena that the last change moved: cheap enough for every assert. */
    private static boolean sortedAround(final NativeArena arena) {
        if (!arena.isUsable()) {
            return true;
        }
        final NativeArena prev = arena.prevUsable();
        final NativeArena next = arena.nextUsable();
        final int n = arena.freePoolCount();
        assert prev == null || prev.freePoolCount() <= n
                : "usable list not sorted before 0x" + Long.toHexString(arena.base);
        assert next == null || next.freePoolCount() >= n
                : "usable list not sorted after 0x" + Long.toHexString(arena.base);
        return true;
    }

    /**
     * Checks the whole list against the mapped arenas; null when it holds, else what is wrong.
     *
     * @param immediate whether the purge delay is zero (then at most one arena is wholly free).
     */
    String check(final List<NativeArena> mapped, final boolean immediate) {
        int prevFree = 0;
        int listed = 0;
        int free = 0;
        for (NativeArena a = head; a != null; a = a.nextUsable()) {
            listed++;
            final int n = a.freePoolCount();
            if (n < prevFree || n == 0) {
                return "usable list not sorted at 0x" + Long.toHexString(a.base);
            }
            final NativeArena next = a.nextUsable();
            if ((next == null || next.freePoolCount() != n) && lastWithFree[n] != a) {
                return "lastWithFree[" + n + "] is wrong";
            }
            if (next != null && next.prevUsable() != a) {
                return "broken back link";
            }
            prevFree = n;
        }
        for (final NativeArena a : mapped) {
            if (a.freePoolCount() > 0 != a.isUsable()) {
                return "arena 0x" + Long.toHexString(a.base) + " usable flag wrong";
            }
            if (a.isWhollyFree()) {
                free++;
            }
            if (a.isUsable()) {
                listed--;
            }
        }
        if (listed != 0) {
            return "usable list and arena set disagree";
        }
        if (free != whollyFree || immediate && free > 1) {
            return "wholly free arenas: " + free + " counted " + whollyFree;
        }
        return null;
    }
}
