package io.github.pymalloc4j;

import java.util.ArrayList;
import java.util.List;
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
 *  round:  1. heaps whose thread died   -&gt; ArenaSet.abandon (pools to orphans / arenas)
 *          2. abandoned heaps            -&gt; drain late notifications, then forget them
 *          3. live heaps: tryLock each, request, ONE membarrier, skip those whose owner is in a call,
 *             maintain the others (collect remote frees, return pools empty for a whole round)
 *          4. arena set                  -&gt; collect orphans, decommit pools and unmap arenas empty for a round
 * </pre>
 * When a round finds nothing to do the thread backs off, up to 8 periods.
 */
final class Maintenance implements Runnable
{
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final HeapSet heaps;
    private final ArenaSet arenas;
    private final long periodNanos;
    private final ReentrantLock roundLock = new ReentrantLock();
    private final List<Heap> abandoned = new ArrayList<>();
    /** Counters of heaps that are gone. Guarded by {@link #roundLock}; read by statistics. */
    final Counters retired = new Counters();
    private final Thread thread;
    private volatile boolean stopped;
    /** Rounds run; the last failure, if any, for statistics. */
    volatile long rounds;
    volatile Throwable lastFailure;

    Maintenance(final HeapSet heaps, final ArenaSet arenas, final long periodNanos)
    {
        this.heaps = heaps;
        this.arenas = arenas;
        this.periodNanos = periodNanos;
        this.thread = Thread.ofPlatform().daemon().name("pymalloc4j-maintenance-" + THREADS.incrementAndGet()).unstarted(this);
    }

    void start()
    {
        thread.start();
    }

    /** Stops the thread and waits for its current round. */
    void stop()
    {
        stopped = true;
        LockSupport.unpark(thread);
        try
        {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        roundLock.lock(); // a round still running (the join timed out) ends before this returns
        roundLock.unlock();
    }

    @Override
    public void run()
    {
        long sleep = periodNanos;
        while (!stopped)
        {
            LockSupport.parkNanos(this, sleep);
            if (stopped)
            {
                break;
            }
            try
            {
                final int work = runRound(false);
                sleep = work > 0 ? periodNanos : Math.min(sleep * 2, periodNanos * 8);
            }
            catch (final Throwable t)
            {
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
    int runRound(final boolean force)
    {
        roundLock.lock();
        try
        {
            if (stopped && Thread.currentThread() == thread)
            {
                return 0;
            }
            arenas.lock.lock();
            try
            {
                arenas.round++;
            }
            finally
            {
                arenas.lock.unlock();
            }
            final long round = arenas.round;
            int work = abandonDeadHeaps() + drainAbandoned() + maintainIdleHeaps(round, force);
            arenas.lock.lock();
            try
            {
                work += arenas.purge(force);
            }
            finally
            {
                arenas.lock.unlock();
            }
            rounds++;
            return work;
        }
        finally
        {
            roundLock.unlock();
        }
    }

    /**
     * Adds the counters of retired and abandoned heaps into {@code into} and returns the live heaps, both
     * read under the round lock, so that no heap is abandoned between the two reads (it would be counted
     * in neither).
     */
    List<Heap> addRetired(final Counters into)
    {
        roundLock.lock();
        try
        {
            into.add(retired);
            for (final Heap heap : abandoned)
            {
                into.add(heap.counters);
            }
            return List.copyOf(heaps.live());
        }
        finally
        {
            roundLock.unlock();
        }
    }

    private int abandonDeadHeaps()
    {
        int work = 0;
        for (final Heap heap : heaps.live())
        {
            if (heap.ownerThread == null || heap.ownerThread.isAlive())
            {
                continue;
            }
            heap.lock.lock();
            try
            {
                arenas.abandon(heap);
                heap.drainNotified();
            }
            finally
            {
                heap.lock.unlock();
            }
            heaps.remove(heap);
            abandoned.add(heap);
            work++;
        }
        return work;
    }

    private int drainAbandoned()
    {
        int work = 0;
        for (int k = abandoned.size() - 1; k >= 0; k--)
        {
            final Heap heap = abandoned.get(k);
            heap.lock.lock();
            try
            {
                heap.drainNotified();
            }
            finally
            {
                heap.lock.unlock();
            }
            if (heap.inflightNotifications == 0 && !heap.hasNotified())
            {
                retired.add(heap.counters);
                abandoned.remove(k);
                work++;
            }
        }
        return work;
    }

    private int maintainIdleHeaps(final long round, final boolean force)
    {
        final List<Heap> taken = new ArrayList<>();
        boolean handshake = false;
        for (final Heap heap : heaps.live())
        {
            if (heap.mayNeedMaintenance() && heap.lock.tryLock())
            {
                if (heap.lockFreeOwner())
                {
                    heap.requestMaintenance();
                    handshake = true;
                }
                taken.add(heap);
            }
        }
        int work = 0;
        int released = 0;
        try
        {
            if (handshake)
            {
                ProcessBarrier.fence();
            }
            while (released < taken.size())
            {
                final Heap heap = taken.get(released);
                try
                {
                    if (!heap.ownerInCall())
                    {
                        work += heap.maintain(round, force);
                    }
                }
                finally
                {
                    released++;
                    heap.endMaintenance(); // let this heap's owner go on at once
                    heap.lock.unlock();
                }
            }
        }
        finally
        {
            for (int k = released; k < taken.size(); k++)
            {
                taken.get(k).endMaintenance();
                taken.get(k).lock.unlock();
            }
        }
        return work;
    }
}
