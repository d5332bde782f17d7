package io.github.pymalloc4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A heap: the pools one owner allocates from, per size class. A platform thread has its own heap
 * ({@link #ownerThread} set); virtual threads share a few striped heaps, each used under its lock.
 *
 * <pre>
 *  listedPools[c] -&gt; pool &lt;-&gt; pool &lt;-&gt; pool     listed pools of class c (with room)
 *  detached pools: full, armed with NOTIFY; the first remote free makes them NOTIFIED and pushes them on
 *  notified   -&gt; pool -&gt; pool                    (a lock-free stack; the owner drains it)
 *  empty listed pools: kept (the last one of a class always, up to MAX_KEPT_EMPTY others) until
 *                maintenance sees them empty twice, so a malloc/free pair or a batch that empties and
 *                refills pools carves nothing; beyond that, made free at once
 * </pre>
 *
 * <h2>Who may touch what</h2>
 * Everything except {@link #notified} (the notified stack, {@link Notification}'s) is owner state: touched by the owner thread inside an
 * allocator call, or by the maintenance thread while it holds {@link #lock} and the owner is outside
 * any call (package-info, invariant 6, and "Owner handshake"). The owner does not lock on its fast
 * path; it publishes {@code inCall = 1} with an opaque store, then reads {@code maintenanceRequested}. Maintenance takes the lock, sets the request, and
 * issues a process-wide barrier ({@link ProcessBarrier}, Linux {@code membarrier}) before it reads
 * {@code inCall}: the barrier orders the owner's store before its load as a fence would, so either
 * the owner sees the request (and waits on the lock) or maintenance sees the owner inside a call
 * (and skips this heap). Without {@code membarrier}, owners take the lock on every call instead.
 */
final class Heap {
    private static final VarHandle IN_CALL;

    static {
        try {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            IN_CALL = lookup.findVarHandle(Heap.class, "inCall", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Sequence number, for reports. */
    final int id;
    /** The owning platform thread, or null for a heap shared by virtual threads under {@link #lock}. */
    final Thread ownerThread;
    /** Held by maintenance while it works on this heap, and by callers of a shared heap. */
    final ReentrantLock lock = new ReentrantLock();
    /** Empty pools a heap keeps listed besides the last of each class: 64 pools (1 MiB at 16 KiB). */
    static final int MAX_KEPT_EMPTY = 64;

    private final Pool[] listedPools = new Pool[SizeClass.COUNT];
    /** Listed pools with {@link Pool#keptEmpty} set. Owner state. */
    private int keptEmpty;

    private final ArenaSet arenas;
    /** The owner enters its calls without the lock (the owner handshake); false for a shared heap. */
    private final boolean lockFreeOwner;

    private final boolean retainEmptyPools;

    @SuppressWarnings("unused") // accessed through IN_CALL
    private int inCall;

    private volatile boolean maintenanceRequested;
    /** Set once, under {@link #lock}, by {@link #close()}: every later call fails. */
    private volatile boolean closed;
    /** The notified stack's head ({@link Notification}: touched by nothing else). */
    @SuppressWarnings("unused") // accessed through Notification's VarHandle
    volatile Pool notified;
    /** Maintenance is inside {@link #maintain}: written only inside {@code assert}s, for invariant 6. */
    private boolean maintaining;

    /** Written by the owner with plain stores, read by statistics with racy reads. */
    final Counters counters = new Counters();

    /** Abandoned: the owner thread died; the heap only waits for notifications still in flight. */
    private boolean abandoned;
    /** Pools that were NOTIFIED when the heap was abandoned and are not drained yet. */
    private int lateNotifications;

    Heap(
            final int id,
            final Thread ownerThread,
            final ArenaSet arenas,
            final boolean lockFreeOwners,
            final boolean retainEmptyPools) {
        this.id = id;
        this.ownerThread = ownerThread;
        this.arenas = arenas;
        this.lockFreeOwner = lockFreeOwners && ownerThread != null;
        this.retainEmptyPools = retainEmptyPools;
    }

    // ------------------------------------------------------------------ owner entry and exit

    /**
     * Owner: marks the start of a call. Returns true if the heap lock was taken (maintenance wanted
     * the heap, or the owners are not lock-free); pass it to {@link #exit}.
     *
     * @throws IllegalStateException if the allocator was closed (nothing is held then).
     */
    boolean enter() {
        if (!lockFreeOwner) {
            lockOpen();
            return true;
        }
        IN_CALL.setOpaque(this, 1);
        // The Java memory model does not order this store before the load below; HotSpot's C1 and C2 do
        // (they treat a fence as a barrier for every memory access, and emit nothing for it on x86). The
        // CPU side of the ordering is maintenance's membarrier. See package-info, "Owner handshake".
        VarHandle.acquireFence();
        if (maintenanceRequested) {
            IN_CALL.setRelease(this, 0);
            lockOpen();
            return true;
        }
        return false;
    }

    /**
     * Takes {@link #lock} for a call: the owner's slow entry, or a caller of a shared heap.
     *
     * @throws IllegalStateException if the allocator was closed (the lock is not held then).
     */
    void lockOpen() {
        lock.lock();
        if (closed) {
            lock.unlock();
            throw InFlightCalls.closedException();
        }
    }

    /**
     * Closing the allocator: no call may start on this heap any more. Under the lock, so no caller of a
     * locked heap is inside; an owner entering without the lock sees the permanent maintenance request
     * and comes to the lock, where it finds the heap closed. The caller then waits for
     * {@link #ownerInCallAcquire()} to turn false (after a process barrier).
     */
    void close() {
        lock.lock();
        try {
            closed = true;
            maintenanceRequested = true;
        } finally {
            lock.unlock();
        }
    }

    /** Owner: marks the end of a call started by {@link #enter}. */
    void exit(final boolean locked) {
        if (locked) {
            lock.unlock();
        } else {
            IN_CALL.setRelease(this, 0);
        }
    }

    /** Maintenance, holding {@link #lock}: asks the owner to stay out. */
    void requestMaintenanceVolatile() {
        maintenanceRequested = true;
    }

    /** Maintenance, after the process barrier: whether the owner is inside a call. */
    boolean ownerInCallAcquire() {
        return lockFreeOwner && (int) IN_CALL.getAcquire(this) != 0; // pairs with exit's release store
    }

    /** Maintenance, before unlocking. */
    void endMaintenanceVolatile() {
        maintenanceRequested = false;
    }

    /** Whether {@link #close()} was called. */
    boolean isClosedVolatile() {
        return closed;
    }

    /** Whether the owner enters without the lock, so maintenance must use the owner handshake. */
    boolean lockFreeOwner() {
        return lockFreeOwner;
    }

    // ------------------------------------------------------------------ allocation (owner)

    /**
     * Owner, outside any call: a block of class {@code c}, inside the handshake.
     *
     * @param counted whether it is a user's malloc (false for realloc's move).
     * @throws IllegalStateException if the allocator was closed.
     * @throws OutOfMemoryError      if a new arena was needed and refused; nothing changed then.
     */
    long malloc(final int c, final long size, final boolean counted) {
        final boolean locked = enter();
        try {
            final long block = allocate(c, size);
            if (counted) {
                counters.mallocs++;
            }
            return block;
        } finally {
            exit(locked);
        }
    }

    /**
     * Allocates a block of class {@code c}. Owner only, inside {@link #enter}/{@link #exit} or with
     * the lock of a shared heap held.
     *
     * @throws OutOfMemoryError if a new arena was needed and refused; nothing changed then.
     */
    long allocate(final int c, final long size) {
        final Pool pool = listedPools[c];
        if (pool != null) {
            if (pool.keptEmpty) {
                unkeep(pool);
            }
            final long block = pool.allocate(size);
            if (pool.isFull()) {
                onFull(pool);
            }
            return block;
        }
        return allocateSlow(c, size);
    }

    /** A kept empty pool is in use again, or leaves the list. */
    private void unkeep(final Pool pool) {
        pool.setKeptEmpty(false);
        keptEmpty--;
    }

    /**
     * Owner, inside a call: gives every kept empty pool back to its arena (a request the limit refused
     * may succeed then).
     *
     * @return pools given back.
     */
    int releaseKeptEmpty() {
        int released = 0;
        for (int c = 0; c < listedPools.length && keptEmpty > 0; c++) {
            Pool pool = listedPools[c];
            while (pool != null) {
                final Pool next = pool.next;
                if (pool.keptEmpty && pool.used == 0) {
                    onEmpty(pool, true); // a NOTIFIED pool stays until its notification is drained
                    released += pool.listed ? 0 : 1;
                }
                pool = next;
            }
        }
        return released;
    }

    private long allocateSlow(final int c, final long size) {
        assert noMaintenanceInCall();
        drainNotified();
        Pool pool = listedPools[c];
        if (pool == null) {
            try {
                pool = arenas.takePool(c, this);
            } catch (final OutOfMemoryError e) {
                if (releaseKeptEmpty() == 0) {
                    throw e;
                }
                pool = arenas.takePool(c, this);
            }
            linkFront(pool);
            if (pool.isFull()) {
                // An adopted orphan is never full; a fresh pool has capacity >= 8. Defensive only.
                onFull(pool);
                return allocateSlow(c, size);
            }
        }
        if (pool.keptEmpty) {
            unkeep(pool);
        }
        final long block = pool.allocate(size);
        if (pool.isFull()) {
            onFull(pool);
        }
        return block;
    }

    /**
     * A listed pool just filled up: collect remote frees, or detach it armed for notification.
     */
    private void onFull(final Pool pool) {
        if (Notification.armOrCollect(pool, counters)) {
            unlink(pool);
        } else if (pool.used == 0) {
            onEmpty(pool, false);
        }
    }

    // ------------------------------------------------------------------ free (owner)

    /**
     * Owner, outside any call: frees a block of a pool it read as its own, inside the handshake.
     *
     * @return false if the pool is no longer this heap's (the caller takes the slow path, which also
     *         reports a bad free); nothing changed then.
     * @throws IllegalArgumentException if the block is not live; nothing changed.
     * @throws IllegalStateException    if the allocator was closed.
     */
    boolean freeOwned(final Pool pool, final long address) {
        final boolean locked = enter();
        try {
            // Never FREE then: only the owner, or maintenance while the owner is out of calls, makes a pool free
            // and clears its heap.
            if (pool.heap != this) {
                return false;
            }
            freeLocal(pool, address);
            return true;
        } finally {
            exit(locked);
        }
    }

    /**
     * Owner's free of a block in one of its own pools. Validates first: nothing changes on bad input.
     */
    void freeLocal(final Pool pool, final long address) {
        pool.freeOwned(address);
        counters.localFrees++;
        // One test on the pool's own fields: it was full (detached), or it emptied and is not the last
        // pool of its class (the head with no next, which stays, so a malloc/free pair makes no call).
        if (!pool.listed || pool.used == 0 && (pool.next != null || pool.prev != null || !retainEmptyPools)) {
            afterFreeMoves(pool);
        }
    }

    /** {@link #freeLocal} of a block whose pool must move: back into the list, or back to its arena. */
    private void afterFreeMoves(final Pool pool) {
        assert noMaintenanceInCall();
        if (!pool.listed) {
            Notification.disarm(pool);
            linkFront(pool);
        }
        if (pool.used == 0 && (pool.next != null || pool.prev != null || !retainEmptyPools)) {
            if (retainEmptyPools && keptEmpty < MAX_KEPT_EMPTY && !pool.keptEmpty) {
                pool.setKeptEmpty(true); // stays listed: the next carve of this class is saved
                keptEmpty++;
            } else {
                onEmpty(pool, false);
            }
        }
    }

    /**
     * A listed pool has no live block. The last pool of its class stays listed (so that a malloc/free
     * pair does not hand the pool back and forth with the arena) until maintenance finds it still
     * empty; any other goes back to its arena now.
     */
    private void onEmpty(final Pool pool, final boolean force) {
        if (Notification.stateVolatile(pool) == Notification.NOTIFIED) {
            return; // still on the notified stack: keep it until drained, then maintenance returns it
        }
        if (!force && retainEmptyPools && listedPools[pool.sizeClass] == pool && pool.next == null) {
            return;
        }
        unlink(pool);
        arenas.freePool(pool);
    }

    // ------------------------------------------------------------------ notifications

    /** Owner: takes every notified pool back into use. */
    void drainNotified() {
        assert noMaintenanceInCall();
        Pool pool = Notification.takeAll(this);
        while (pool != null) {
            final Pool next = Notification.taken(pool);
            if (abandoned) {
                lateNotifications--;
                arenas.orphans().orphanOrFree(pool, counters);
            } else if (pool.heap != this) {
                // Not expected (see Pool.freeRemote); never leave another heap's pool unnotified.
                if (pool.heap != null && Notification.claimUnarmed(pool)) {
                    Notification.push(pool.heap, pool);
                }
            } else if (!pool.listed) {
                pool.collectRemote(counters);
                if (!pool.isFull() || !Notification.armOrCollect(pool, counters)) {
                    linkFront(pool);
                    if (pool.used == 0) {
                        onEmpty(pool, false);
                    }
                }
            }
            pool = next;
        }
    }

    // ------------------------------------------------------------------ maintenance (lock held, owner out)

    /**
     * Collects remote frees in every listed pool, takes back notified pools, and returns empty pools:
     * at once when {@code force}, else those seen empty in the previous round too.
     *
     * @return work done: pools handed back to the arenas plus blocks collected.
     */
    int maintain(final long round, final boolean force) {
        assert lock.isHeldByCurrentThread() && setMaintaining(true);
        try {
            return maintainExcluded(round, force);
        } finally {
            assert setMaintaining(false);
        }
    }

    /**
     * Invariant 6, the owner handshake, from the owner's side: inside a call, either it holds the lock or
     * no maintenance is working on its heap. Only called inside {@code assert}.
     */
    private boolean noMaintenanceInCall() {
        return lock.isHeldByCurrentThread() || !maintaining;
    }

    /** Only called inside {@code assert}. */
    private boolean setMaintaining(final boolean on) {
        maintaining = on;
        return true;
    }

    private int maintainExcluded(final long round, final boolean force) {
        drainNotified();
        int released = 0;
        for (int c = 0; c < listedPools.length; c++) {
            Pool pool = listedPools[c];
            while (pool != null) {
                final Pool next = pool.next;
                released += pool.collectRemote(counters);
                if (pool.used == 0 && Notification.stateVolatile(pool) != Notification.NOTIFIED) {
                    if (force || (pool.seenEmptyRound >= 0 && pool.seenEmptyRound < round)) {
                        unlink(pool);
                        arenas.freePool(pool);
                        released++;
                    } else if (pool.seenEmptyRound < 0) {
                        pool.setSeenEmptyRound(round);
                    }
                } else {
                    pool.setSeenEmptyRound(-1);
                }
                pool = next;
            }
        }
        return released;
    }

    /** Whether the heap may have work for maintenance (racy hint). */
    boolean mayNeedMaintenance() {
        if (notified != null) {
            return true;
        }
        for (final Pool head : listedPools) {
            if (head != null) {
                return true;
            }
        }
        return false;
    }

    /** Thread death ({@link Orphans}), heap lock held: from now on drained pools go to the orphans. */
    void markAbandoned() {
        abandoned = true;
    }

    /** Thread death: a pool of this abandoned heap is NOTIFIED; it will arrive on the notified stack. */
    void expectLateNotification() {
        lateNotifications++;
    }

    /** Whether this abandoned heap still waits for a pool on its notified stack. Heap lock held. */
    boolean awaitsNotifications() {
        return lateNotifications > 0 || Notification.hasNotifiedVolatile(this);
    }

    /** Forgets every list (thread death: the pools went to the orphans). */
    void forgetLists() {
        java.util.Arrays.fill(listedPools, null);
        keptEmpty = 0;
    }

    /**
     * The full check of this heap (package-info, invariants 2 and 3), with the owner excluded (heap lock
     * held, owner outside any call): every listed pool is this heap's, of its list's class, not full, linked
     * both ways, and consistent itself; the kept-empty count matches.
     *
     * @return null when it holds, else what is wrong.
     */
    String check() {
        assert lock.isHeldByCurrentThread();
        int kept = 0;
        for (int c = 0; c < listedPools.length; c++) {
            Pool prev = null;
            for (Pool pool = listedPools[c]; pool != null; pool = pool.next) {
                final String at = this + ", class " + c + ", pool 0x" + Long.toHexString(pool.base) + ": ";
                if (!pool.listed || pool.heap != this || pool.sizeClass != c) {
                    return at + "on the list but not listed as this heap's pool of this class";
                }
                if (pool.prev != prev) {
                    return at + "broken back link";
                }
                if (pool.isFull()) {
                    return at + "listed and full";
                }
                if (pool.keptEmpty) {
                    kept++;
                }
                final String wrong = pool.check();
                if (wrong != null) {
                    return this + ": " + wrong;
                }
                prev = pool;
            }
        }
        return kept == keptEmpty ? null : this + ": " + kept + " kept empty pools listed, counted " + keptEmpty;
    }

    // ------------------------------------------------------------------ lists

    private void linkFront(final Pool pool) {
        assert pool.heap == this : "a heap lists only its own pools";
        pool.listBefore(listedPools[pool.sizeClass]);
        listedPools[pool.sizeClass] = pool;
    }

    private void unlink(final Pool pool) {
        if (pool.keptEmpty) {
            unkeep(pool);
        }
        if (pool.prev == null) {
            assert listedPools[pool.sizeClass] == pool : "a listed pool with no predecessor heads its list";
            listedPools[pool.sizeClass] = pool.next;
        }
        pool.unlist();
    }

    @Override
    public String toString() {
        return ownerThread == null
                ? "shared heap " + id
                : "heap " + id + " of thread \"" + ownerThread.getName() + "\"";
    }
}
