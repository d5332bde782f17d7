package io.github.pymalloc4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Thread death: the heaps of dead threads, the pools they leave (orphans), and their adoption by live
 * heaps. One protocol, start to end:
 *
 * <pre>
 *  maintenance round:  heap's thread not alive  -&gt; {@link #abandonDeadHeaps}: under the heap lock and the arena
 *                      lock, every pool of the heap: empty -&gt; free; NOTIFIED -&gt; stays with the dead heap
 *                      (its push is in flight); else -&gt; orphans[class] (heap null)
 *                      every round             -&gt; {@link #forgetDrainedHeaps}: drains each abandoned heap's
 *                      notified stack (each pool -&gt; {@link #orphanOrFree}); a heap with no notification
 *                      left is forgotten (its counters kept)
 *  a heap needs a pool of class c              -&gt; {@link #adopt}: an orphan with room, not NOTIFIED
 *  purge                                       -&gt; {@link #freeEmpty}: collects remote frees of orphans, frees
 *                                                 the empty ones
 * </pre>
 *
 * The orphan lists are guarded by the {@link ArenaSet} lock; the list of abandoned heaps by the
 * maintenance round lock (it is only used by maintenance and by statistics, both under that lock).
 */
final class Orphans {
    private final ArenaSet arenas;

    @SuppressWarnings("unchecked")
    private final List<Pool>[] lists = new List[SizeClass.COUNT];
    /** Counts for ownerless pools: blocks collected from orphans, double frees found in them. */
    private final Counters counters;
    /** Heaps of dead threads that wait for notifications still in flight. Maintenance round lock. */
    private final List<Heap> abandoned = new ArrayList<>();

    Orphans(final ArenaSet arenas, final Counters counters) {
        this.arenas = arenas;
        this.counters = counters;
        for (int c = 0; c < lists.length; c++) {
            lists[c] = new ArrayList<>();
        }
    }

    /** Orphaned pools of class {@code c}. Arena lock held. */
    List<Pool> ofClass(final int c) {
        return lists[c];
    }

    // ------------------------------------------------------------------ dead heaps (maintenance round lock)

    /**
     * Abandons every live heap whose thread died: its pools become orphans (or free), and the heap waits
     * among the abandoned ones for notifications still in flight.
     *
     * @return heaps abandoned.
     */
    int abandonDeadHeaps(final HeapSet heaps) {
        int work = 0;
        for (final Heap heap : heaps.live()) {
            if (heap.ownerThread == null || heap.ownerThread.isAlive()) {
                continue;
            }
            heap.lock.lock();
            try {
                abandon(heap);
                heap.drainNotified();
            } finally {
                heap.lock.unlock();
            }
            heaps.remove(heap);
            abandoned.add(heap);
            work++;
        }
        return work;
    }

    /**
     * Drains the notified stacks of the abandoned heaps and forgets those that wait for no notification
     * any more, adding their counters to {@code gone}.
     *
     * @return heaps forgotten.
     */
    int forgetDrainedHeaps(final Counters gone) {
        int work = 0;
        for (int k = abandoned.size() - 1; k >= 0; k--) {
            final Heap heap = abandoned.get(k);
            heap.lock.lock();
            try {
                heap.drainNotified();
            } finally {
                heap.lock.unlock();
            }
            if (!heap.awaitsNotifications()) {
                gone.add(heap.counters);
                abandoned.remove(k);
                work++;
            }
        }
        return work;
    }

    /** Adds the counters of the abandoned heaps into {@code into}. Maintenance round lock held. */
    void addAbandonedCounters(final Counters into) {
        for (final Heap heap : abandoned) {
            into.add(heap.counters);
        }
    }

    /**
     * Hands every pool of a heap whose thread died over: empty ones become free, the others orphans,
     * except those whose notification is in flight to the dead heap (they follow when its stack is
     * drained, {@link #orphanOrFree}). The caller holds the heap's lock.
     */
    private void abandon(final Heap heap) {
        assert heap.lock.isHeldByCurrentThread() : "abandon without the heap lock";
        arenas.lock.lock();
        try {
            heap.markAbandoned();
            // A copy: freeing the last pool of an arena may unmap it (purge delay zero), which removes it.
            for (final NativeArena arena : new ArrayList<>(arenas.mappedArenas())) {
                for (int i = 0; i < arena.carved; i++) {
                    final Pool pool = arena.pool(i);
                    if (pool.heap != heap || pool.sizeClass == Pool.FREE) {
                        continue;
                    }
                    pool.collectRemote(heap.counters);
                    pool.forgetLinks();
                    int state = Notification.stateVolatile(pool);
                    if (state == Notification.NOTIFY && !Notification.cancel(pool)) {
                        state = Notification.NOTIFIED; // a remote free claimed it just now
                    }
                    if (state == Notification.NOTIFIED) {
                        // Its push to the dead heap's stack is in flight or done: the pool stays with the
                        // dead heap until that stack is drained (then orphanOrFree).
                        heap.expectLateNotification();
                        continue;
                    }
                    if (pool.used == 0) {
                        arenas.freePoolLocked(pool);
                        continue;
                    }
                    orphan(pool);
                }
            }
            heap.forgetLists();
        } finally {
            arenas.lock.unlock();
        }
    }

    /** A pool of a dead heap, taken off that heap's notified stack: orphaned, or made free if empty. */
    void orphanOrFree(final Pool pool, final Counters collector) {
        arenas.lock.lock();
        try {
            pool.collectRemote(collector);
            if (pool.used == 0) {
                arenas.freePoolLocked(pool);
            } else {
                orphan(pool);
            }
        } finally {
            arenas.lock.unlock();
        }
    }

    private void orphan(final Pool pool) {
        assert !pool.listed && Notification.stateVolatile(pool) == Notification.NONE
                : "an orphan is unlisted and unarmed";
        pool.setOwnerPlain(null);
        lists[pool.sizeClass].add(pool);
    }

    // ------------------------------------------------------------------ adoption and purge (arena lock held)

    /**
     * An orphan of class {@code c} with room, given to {@code heap}; orphans found empty on the way become
     * free. Null when there is none.
     */
    Pool adopt(final int c, final Heap heap) {
        final List<Pool> list = lists[c];
        for (int k = list.size() - 1; k >= 0; k--) {
            final Pool pool = list.get(k);
            if (Notification.stateVolatile(pool) == Notification.NOTIFIED) {
                continue; // its dead heap has yet to see the notification
            }
            pool.collectRemote(counters);
            if (pool.used == 0) {
                removeAt(list, k);
                arenas.freePoolLocked(pool);
            } else if (!pool.isFull()) {
                removeAt(list, k);
                pool.setOwnerPlain(heap);
                return pool;
            }
        }
        return null;
    }

    /**
     * Collects remote frees into every orphan and makes the empty ones free.
     *
     * @return pools made free.
     */
    int freeEmpty() {
        int work = 0;
        for (final List<Pool> list : lists) {
            for (int k = list.size() - 1; k >= 0; k--) {
                final Pool pool = list.get(k);
                if (Notification.stateVolatile(pool) == Notification.NOTIFIED) {
                    continue;
                }
                pool.collectRemote(counters);
                if (pool.used == 0) {
                    removeAt(list, k);
                    arenas.freePoolLocked(pool);
                    work++;
                }
            }
        }
        return work;
    }

    /** Forgets every orphan (the allocator is closing). */
    void clear() {
        for (final List<Pool> list : lists) {
            list.clear();
        }
    }

    /** Checks every orphan; null when all hold, else what is wrong. */
    String check() {
        for (int c = 0; c < lists.length; c++) {
            for (final Pool pool : lists[c]) {
                if (pool.heap != null || pool.listed || pool.sizeClass != c) {
                    return "orphan at 0x" + Long.toHexString(pool.base) + " is owned, listed, or of another class";
                }
                final String wrong = pool.check();
                if (wrong != null) {
                    return wrong;
                }
            }
        }
        return null;
    }

    private static void removeAt(final List<Pool> list, final int k) {
        final int last = list.size() - 1;
        list.set(k, list.get(last));
        list.remove(last);
    }
}
