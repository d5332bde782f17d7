package io.github.pymalloc4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The maintenance path that does not wait for an owner's next allocation: a daemon thread that every
 * period (the purge delay) abandons the heaps of dead threads, collects remote frees and returns empty
 * pools of idle heaps, and purges the arena set. {@link #runRound(boolean)} is also what
 * {@code Allocator.trim()} calls, with {@code force} set.
 *
 * <pre>
 *  round:  1. heaps whose thread died   -&gt; Orphans.abandonDeadHeaps (pools to orphans, empty ones free)
 *          2. abandoned heaps            -&gt; Orphans.forgetDrainedHeaps (late notifications, then forget them)
 *          3. live heaps: tryLock each, request, ONE membarrier, skip those whose owner is in a call,
 *             maintain the others (collect remote frees, return pools empty for a whole round)
 *          4. arena set                  -&gt; ArenaSet.purge: free empty orphans, decommit pools and unmap arenas
 *                                           free since an earlier round
 * </pre>
 * When a round finds nothing to do the thread backs off, up to 8 periods.
 */
final class Maintenance implements Runnable {
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final HeapSet heaps;
    private final ArenaSet arenas;
    private final long periodNanos;
    private final ReentrantLock roundLock = new ReentrantLock();
    private final Orphans orphans;
    /** Counters of heaps that are gone. Guarded by {@link #roundLock}; read by statistics. */
    final Counters goneHeaps = new Counters();

    private final Thread thread;
    private volatile boolean stopped;
    /** Rounds run; the last failure, if any, for statistics. */
    volatile long rounds;

    volatile Throwable lastFailure;

    Maintenance(final HeapSet heaps, final ArenaSet arenas, final long periodNanos) {
        this.heaps = heaps;
        this.arenas = arenas;
        this.orphans = arenas.orphans();
        this.periodNanos = periodNanos;
        this.thread = Thread.ofPlatform()
                .daemon()
                .name("pymalloc4j-maintenance-" + THREADS.incrementAndGet())
                .unstarted(this);
    }

    void start() {
        thread.start();
    }

    /** Stops the thread and waits for its current round. */
    void stop() {
        stopped = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        roundLock.lock(); // a round still running (the join timed out) ends before this returns
        roundLock.unlock();
    }

    @Override
    public void run() {
        long sleep = periodNanos;
        while (!stopped) {
            LockSupport.parkNanos(this, sleep);
            if (stopped) {
                break;
            }
            try {
                final int work = runRound(false);
                sleep = work > 0 ? periodNanos : Math.min(sleep * 2, periodNanos * 8);
            } catch (final Throwable t) {
                lastFailure = t;
                sleep = periodNanos * 8;
            }
        }
    }

    /**
     * One maintenance round.
     *
     * @param force return everything empty now, without waiting for a round.
     * @return units of work done (pools returned or purged, heaps abandoned, blocks collected).
     */
    int runRound(final boolean force) {
        roundLock.lock();
        try {
            if (stopped && Thread.currentThread() == thread) {
                return 0;
            }
            final long round = arenas.nextRound();
            int work = orphans.abandonDeadHeaps(heaps)
                    + orphans.forgetDrainedHeaps(goneHeaps)
                    + maintainIdleHeaps(round, force);
            arenas.lock.lock();
            try {
                work += arenas.purge(force);
            } finally {
                arenas.lock.unlock();
            }
            rounds++;
            return work;
        } finally {
            roundLock.unlock();
        }
    }

    /**
     * Adds the counters of gone and abandoned heaps into {@code into} and returns the live heaps, both
     * read under the round lock, so that no heap is abandoned between the two reads (it would be counted
     * in neither).
     */
    List<Heap> addDeadHeapCounters(final Counters into) {
        roundLock.lock();
        try {
            into.add(goneHeaps);
            orphans.addAbandonedCounters(into);
            return List.copyOf(heaps.live());
        } finally {
            roundLock.unlock();
        }
    }

    /**
     * The full check (package-info, "Checks"): the arena set's invariants, and each live heap whose owner it
     * can exclude now by the owner handshake (the others are skipped). Not after {@link HeapSet#close()}.
     *
     * @return null when every invariant checked holds, else what is wrong.
     */
    String checkFull() {
        roundLock.lock();
        try {
            final String arenaState = arenas.checkInvariants(true);
            if (arenaState != null) {
                return arenaState;
            }
            final List<Heap> taken = new ArrayList<>();
            boolean handshake = false;
            for (final Heap heap : heaps.live()) {
                if (heap.lock.tryLock()) {
                    taken.add(heap);
                    if (heap.lockFreeOwner()) {
                        heap.requestMaintenanceVolatile();
                        handshake = true;
                    }
                }
            }
            try {
                if (handshake) {
                    ProcessBarrier.fence();
                }
                final Set<Heap> excluded = Collections.newSetFromMap(new IdentityHashMap<>());
                for (final Heap heap : taken) {
                    if (!heap.ownerInCallAcquire()) {
                        final String wrong = heap.check();
                        if (wrong != null) {
                            return wrong;
                        }
                        excluded.add(heap);
                    }
                }
                return arenas.checkDetached(excluded);
            } finally {
                for (final Heap heap : taken) {
                    heap.endMaintenanceVolatile();
                    heap.lock.unlock();
                }
            }
        } finally {
            roundLock.unlock();
        }
    }

    private int maintainIdleHeaps(final long round, final boolean force) {
        final List<Heap> taken = new ArrayList<>();
        boolean handshake = false;
        for (final Heap heap : heaps.live()) {
            if (heap.mayNeedMaintenance() && heap.lock.tryLock()) {
                if (heap.lockFreeOwner()) {
                    heap.requestMaintenanceVolatile();
                    handshake = true;
                }
                taken.add(heap);
            }
        }
        int work = 0;
        int released = 0;
        try {
            if (handshake) {
                ProcessBarrier.fence();
            }
            while (released < taken.size()) {
                final Heap heap = taken.get(released);
                try {
                    if (!heap.ownerInCallAcquire()) {
                        work += heap.maintain(round, force);
                    }
                } finally {
                    released++;
                    heap.endMaintenanceVolatile(); // let this heap's owner go on at once
                    heap.lock.unlock();
                }
            }
        } finally {
            for (int k = released; k < taken.size(); k++) {
                taken.get(k).endMaintenanceVolatile();
                taken.get(k).lock.unlock();
            }
        }
        return work;
    }
}
