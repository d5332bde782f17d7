package io.github.pymalloc4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * A pymalloc-style allocator of native memory: requests of up to 512 bytes are served from pools of
 * same-sized blocks carved from large aligned arenas; larger ones go to the system allocator. See
 * {@code package-info.java} for the layout, its states and invariants, and {@code docs/architecture.md} for the
 * reasons behind them.
 *
 * <p>Thread-safe and built to scale: each platform thread allocates from its own heap with no lock and no
 * atomic instruction, and frees its own blocks the same way (where Linux {@code membarrier} is missing,
 * each thread locks its own heap instead); a block freed by another thread costs that thread one atomic
 * OR. Virtual threads share a few striped heaps. A daemon thread returns empty memory
 * to the OS after the purge delay, also when the owning threads are idle or dead; {@link #trim()} does it
 * at once. Addresses are plain {@code long}s; {@link #allocate(long, long)} wraps one in a native
 * {@link MemorySegment} whose scope is the allocator's lifetime, so this class plugs into FFM as a
 * {@link SegmentAllocator} and a segment used after {@link #close()} throws instead of crashing.
 *
 * <p>Bad input never corrupts the allocator: a negative or absurd size, an overflowing {@code calloc},
 * an alignment that is not a power of two, a double free (from any thread), a foreign or interior
 * pointer all throw {@link IllegalArgumentException} and leave it exactly as it was (two frees of one
 * block racing in two threads throw in one caller or, where neither can tell, are counted in
 * {@link AllocatorStats#doubleFreesDetected()}, and never free another block; as in C, a double free
 * that comes after the block was handed out again frees the new holder's block); any call after
 * {@link #close()} throws {@link IllegalStateException}; exceeding the reserved-bytes maximum throws
 * {@link OutOfMemoryError} naming the limit. {@link #close()} may race with calls in other threads:
 * they complete before anything is unmapped or throw {@link IllegalStateException}. Needs
 * {@code --enable-native-access=ALL-UNNAMED} (or the module's name) on the command line.
 *
 * <p>Optionally ({@link Builder#publishStats(String)}, or {@code -Dpymalloc4j.publish=name}) the allocator
 * publishes its statistics into a memory-mapped file that other processes read with {@link StatsFile}
 * (layout in {@code docs/dump-format.md}); a daemon thread refreshes it, nothing on the allocation path.
 */
public final class Allocator implements SegmentAllocator, AutoCloseable {
    /** Requests of at most this many bytes are served from pools. */
    public static final int SMALL_REQUEST_THRESHOLD = SizeClass.MAX_SMALL_SIZE;
    /** Largest request accepted (64 TiB); larger ones are taken for a bug and refused. */
    public static final long MAX_REQUEST_SIZE = 1L << 46;
    /** Largest alignment accepted (1 GiB). */
    public static final long MAX_ALIGNMENT = 1L << 30;
    /**
     * The in-place rule of realloc: a block stays where it is when the new size fits it and is more than
     * this many quarters of it, that is, shrinks it by less than 25 % ({@link #reallocStaysInPlace}). Of the
     * block size for a pooled block; for a large block, of its requested size to stay a large block and of
     * the usable size the C library reports to stay at its address. A block shrunk further moves, so a
     * small request never keeps a much larger block.
     */
    static final int REALLOC_IN_PLACE_QUARTERS = 3;

    private final ReservationLimit limit;
    private final ArenaSet arenas;
    /** {@code arenas.map()}: one load less on the free path. */
    private final ArenaMap map;
    /** {@code heaps.byThread()}: one load less on the malloc path. */
    private final Heap[] byThread;

    private final HeapSet heaps;
    private final LargeBlocks large;
    private final Maintenance maintenance;
    private final long purgeDelayNanos;
    private final LongAdder reallocs = new LongAdder();
    /** Reallocs that moved a pooled block: the free inside is not a user free. */
    private final LongAdder pooledReallocMoves = new LongAdder();
    /** Null unless statistics are published. */
    private final StatsPublisher publisher;
    /** Calls on the slow paths, which {@link #close()} waits for and arena unmapping defers to. */
    private final InFlightCalls inFlight;
    /** The scope of every segment {@link #allocate(long, long)} hands out: closed by {@link #close()}. */
    private final Arena lifetime = Arena.ofShared();
    /** The debug tier: the full check at every stats(), trim() and close(). */
    private final boolean fullCheck;

    private volatile boolean closed;

    private Allocator(final Builder builder) {
        purgeDelayNanos = builder.purgeDelay.toNanos();
        fullCheck = builder.fullCheck;
        final boolean immediate = purgeDelayNanos == 0;
        limit = new ReservationLimit(builder.maxReservedBytes);
        inFlight = new InFlightCalls();
        arenas = new ArenaSet(
                builder.arenaSize,
                (int) builder.poolSize,
                builder.rangeBytes(),
                builder.addressRange == 0,
                limit,
                immediate,
                inFlight);
        map = arenas.map();
        heaps = new HeapSet(arenas, builder.sharedHeaps, !immediate);
        byThread = heaps.byThread();
        large = new LargeBlocks(limit, arenas);
        maintenance =
                new Maintenance(heaps, arenas, immediate ? Builder.DEFAULT_PURGE_DELAY.toNanos() : purgeDelayNanos);
        publisher = startPublisher(builder); // before the maintenance thread: nothing to stop if it fails
        maintenance.start();
    }

    private StatsPublisher startPublisher(final Builder builder) {
        if (builder.publishName == null) {
            return StatsPublisher.fromSystemProperties(this::stats, builder.arenaSize, builder.poolSize);
        }
        try {
            return StatsPublisher.start(
                    this::stats,
                    builder.arenaSize,
                    builder.poolSize,
                    builder.publishName,
                    builder.publishPeriod,
                    builder.publishDirectory,
                    0);
        } catch (final IOException e) {
            throw new UncheckedIOException(
                    "cannot publish statistics as " + builder.publishName + ": " + e.getMessage(), e);
        }
    }

    /**
     * An allocator with the defaults: 1 MiB arenas, 16 KiB pools, no limit on reserved bytes, 10 ms
     * purge delay.
     *
     * @return a new allocator.
     */
    public static Allocator create() {
        return builder().build();
    }

    /**
     * A builder to choose arena size, pool size, the reserved-bytes maximum and the purge delay.
     *
     * @return a new builder with the defaults set.
     */
    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- the fast paths

    /**
     * Allocates {@code size} bytes, aligned to 16. A request of 0 bytes returns a unique block.
     *
     * @param size bytes, 0 to {@link #MAX_REQUEST_SIZE}.
     * @return the address of the block (never 0).
     * @throws IllegalArgumentException if the size is negative or absurd.
     * @throws OutOfMemoryError         if the reserved-bytes maximum or the OS refuses.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public long malloc(final long size) {
        if (Long.compareUnsigned(size, SMALL_REQUEST_THRESHOLD) <= 0) {
            final Thread thread = Thread.currentThread();
            final Heap[] table = byThread;
            final Heap heap = table[(int) thread.threadId() & (table.length - 1)];
            if (heap != null && heap.ownerThread == thread) {
                return heap.malloc(SizeClass.indexOf(size), size, true);
            }
        }
        return mallocSlow(size);
    }

    /**
     * Everything but the owner's small malloc found in the thread table: a thread's first call, a thread
     * whose slot another holds, virtual threads, large blocks, bad sizes.
     */
    private long mallocSlow(final long size) {
        if (Long.compareUnsigned(size, SMALL_REQUEST_THRESHOLD) <= 0) {
            final Heap heap = heaps.current();
            if (heap != null) {
                return heap.malloc(SizeClass.indexOf(size), size, true);
            }
        }
        final int call = inFlight.enter();
        try {
            return allocate(size, 0, false);
        } finally {
            inFlight.exit(call);
        }
    }

    /**
     * Frees a block. {@code free(0)} does nothing. Any thread may free any block.
     *
     * @param address a live block of this allocator, or 0.
     * @throws IllegalArgumentException on a double free or an address this allocator did not hand out
     *                                  (foreign, interior, or already freed); nothing changes then.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public void free(final long address) {
        final Pool pool = map.poolOfPlain(address);
        final Heap heap = pool == null ? null : pool.heap;
        if (heap == null || heap.ownerThread != Thread.currentThread() || !heap.freeOwned(pool, address)) {
            freeSlow(address);
        }
    }

    /**
     * The calling thread's heap of this allocator, for callers that can keep it: its {@code malloc} and
     * {@code free} skip the lookup of the thread's heap, the fastest way to call. See {@link ThreadHeap}.
     *
     * @return the calling thread's heap (for a virtual thread, a handle whose calls take the general path).
     * @throws IllegalStateException if the allocator is closed.
     */
    public ThreadHeap threadHeap() {
        ensureOpen();
        Heap heap = heaps.current();
        if (heap == null) {
            heap = heaps.createForCurrentThread();
        }
        return new ThreadHeap(this, map, heap, Thread.currentThread());
    }

    /** Everything but the owner's free of a live block: zero, large blocks, remote frees, bad input. */
    void freeSlow(final long address) {
        ensureOpen();
        if (address == 0) {
            return;
        }
        final NativeArena arena = arenas.arenaOfAcquire(address);
        if (arena == null) {
            freeLarge(address);
            return;
        }
        freePooled(arena, address);
    }

    private void freeLarge(final long address) {
        final int call = inFlight.enter();
        try {
            large.free(address, true);
        } finally {
            inFlight.exit(call);
        }
    }

    /**
     * Frees a block of an arena: the owner's free, or one atomic OR (a remote free touches only Java-heap
     * metadata, so it needs no registration against {@link #close()}).
     */
    private static void freePooled(final NativeArena arena, final long address) {
        final Pool pool = arena.poolAtAcquire(address);
        // Read once and check it is the caller's own heap: if this free is a double free, maintenance may
        // meanwhile have returned the pool (heap null) or another thread's heap may own it now, and a
        // thread must never run another heap's enter/exit.
        final Heap heap = pool == null ? null : pool.heap;
        if (heap != null && heap.ownerThread == Thread.currentThread()) {
            freeOwned(pool, heap, address);
        } else {
            freeRemote(pool, address);
        }
    }

    /** {@link #freePooled} of a block checked live in the given {@link Pool#lifeAcquire()} of its pool. */
    private static void freePooledOfLife(
            final NativeArena arena, final Pool pool, final long[] life, final long address) {
        final Heap heap = arena.poolAtAcquire(address) == pool ? pool.heap : null;
        if (heap != null && heap.ownerThread == Thread.currentThread()) {
            final boolean locked = heap.enter();
            try {
                // The owner is the only one who carves a pool it holds: in this life now, it stays in it.
                if (pool.heap == heap && pool.sizeClass != Pool.FREE && pool.lifeAcquire() == life) {
                    heap.freeLocal(pool, address);
                    return;
                }
            } finally {
                heap.exit(locked);
            }
        }
        final Heap notify = livePool(pool, address).freeRemote(address, life);
        if (notify != null) {
            Notification.push(notify, pool);
        }
    }

    private static void freeOwned(final Pool pool, final Heap heap, final long address) {
        if (!heap.freeOwned(pool, address)) {
            freeRemote(pool, address); // the pool left this heap meanwhile (it was empty): report the bad free
        }
    }

    private static void freeRemote(final Pool pool, final long address) {
        final Pool live = livePool(pool, address);
        final Heap notify = live.freeRemote(address);
        if (notify != null) {
            Notification.push(notify, live);
        }
    }

    // ---------------------------------------------------------------- the rest of the API

    /**
     * Allocates {@code count * size} zeroed bytes.
     *
     * @param count number of elements, &ge; 0.
     * @param size  bytes per element, &ge; 0.
     * @return the address of the block.
     * @throws IllegalArgumentException if either is negative or the product overflows or is absurd.
     * @throws OutOfMemoryError         if the reserved-bytes maximum or the OS refuses.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public long calloc(final long count, final long size) {
        ensureOpen();
        if (count < 0 || size < 0) {
            throw new IllegalArgumentException("calloc(" + count + ", " + size + "): negative count or size");
        }
        final long total;
        try {
            total = Math.multiplyExact(count, size);
        } catch (final ArithmeticException e) {
            throw new IllegalArgumentException("calloc(" + count + ", " + size + "): count * size overflows", e);
        }
        checkSize(total);
        final int call = inFlight.enter();
        try {
            if (total <= SMALL_REQUEST_THRESHOLD) {
                final long block = allocateSmall(SizeClass.indexOf(total), total, true);
                AddressSpace.zero(block, total); // a pooled block may hold old data
                return block;
            }
            return allocate(total, 0, true);
        } finally {
            inFlight.exit(call);
        }
    }

    /**
     * Allocates {@code size} bytes aligned to {@code alignment}. Alignments up to a block's natural
     * alignment (the largest power of two dividing its size) are served from pools.
     *
     * @param size      bytes, 0 to {@link #MAX_REQUEST_SIZE}.
     * @param alignment a power of two, 1 to {@link #MAX_ALIGNMENT}.
     * @return the address of the block.
     * @throws IllegalArgumentException if the size or alignment is bad.
     * @throws OutOfMemoryError         if the reserved-bytes maximum or the OS refuses.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public long mallocAligned(final long size, final long alignment) {
        ensureOpen();
        checkAlignment(alignment);
        final int call = inFlight.enter();
        try {
            return allocate(size, alignment, false);
        } finally {
            inFlight.exit(call);
        }
    }

    /**
     * Resizes a block, keeping its contents up to the smaller of its usable size and the new size. The
     * block stays in place when the new size fits it and shrinks it by less than 25 % (the in-place rule; for a large block:
     * of its requested size; for a pooled block: only when the calling thread owns its pool, another
     * thread's realloc moves it); a large block shrinking further to at most 512 bytes moves into a pool.
     * {@code realloc(0, n)} is {@code malloc(n)}. If the call fails, the old block is untouched and still
     * owned by the caller, and nothing else changed (a realloc that loses a race with a free of the same
     * block gives back the block it had already taken).
     *
     * @param address a live block of this allocator, or 0.
     * @param newSize bytes, 0 to {@link #MAX_REQUEST_SIZE}.
     * @return the address of the resized block.
     * @throws IllegalArgumentException if the address is not a live block or the size is bad.
     * @throws OutOfMemoryError         if the reserved-bytes maximum or the OS refuses.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public long realloc(final long address, final long newSize) {
        ensureOpen();
        checkSize(newSize);
        final int call = inFlight.enter();
        try {
            final long result = address == 0 ? allocateUncounted(newSize) : reallocLive(address, newSize);
            reallocs.increment();
            return result;
        } finally {
            inFlight.exit(call);
        }
    }

    /**
     * Bytes that may be used at a live block: the block size for a pooled block, the requested size for
     * a large one.
     *
     * @param address a live block.
     * @return usable bytes.
     * @throws IllegalArgumentException if the address is not a live block.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public long usableSize(final long address) {
        ensureOpen();
        final NativeArena arena = arenas.arenaOfAcquire(address);
        if (arena == null) {
            return largeSize(address);
        }
        final Pool pool = livePool(arena.poolAtAcquire(address), address); // Java-heap metadata only: no native read
        pool.liveBlockIndexAcquire(address);
        return pool.blockSize;
    }

    /** A large block's size, as a call in flight: close() must not release the records meanwhile. */
    private long largeSize(final long address) {
        final int call = inFlight.enter();
        try {
            return large.sizeOf(address);
        } finally {
            inFlight.exit(call);
        }
    }

    /**
     * Allocates a native segment of exactly {@code byteSize} bytes. It is valid until given back with
     * {@link #free(MemorySegment)}; its scope is the allocator's lifetime, so after {@link #close()} any
     * access through it throws {@link IllegalStateException} instead of touching unmapped memory.
     *
     * @param byteSize      bytes, &ge; 0.
     * @param byteAlignment a power of two.
     * @return the segment.
     * @throws IllegalArgumentException if the size or alignment is bad.
     * @throws OutOfMemoryError         if the reserved-bytes maximum or the OS refuses.
     * @throws IllegalStateException    if the allocator is closed.
     */
    @Override
    public MemorySegment allocate(final long byteSize, final long byteAlignment) {
        ensureOpen();
        checkAlignment(byteAlignment);
        final int call = inFlight.enter();
        try {
            // Registered, so close() has not closed the lifetime yet: reinterpret cannot fail.
            return MemorySegment.ofAddress(allocate(byteSize, byteAlignment, false))
                    .reinterpret(byteSize, lifetime, null);
        } finally {
            inFlight.exit(call);
        }
    }

    /**
     * Gives back a segment returned by {@link #allocate(long, long)}. The NULL segment is ignored.
     *
     * @param segment the segment.
     * @throws IllegalArgumentException if it is not a native segment this allocator handed out.
     * @throws IllegalStateException    if the allocator is closed.
     */
    public void free(final MemorySegment segment) {
        ensureOpen();
        if (!segment.isNative()) {
            throw new IllegalArgumentException("not a native segment: " + segment);
        }
        free(segment.address());
    }

    /**
     * Returns empty memory to the OS now: collects remote frees of idle heaps, hands empty pools back to
     * their arenas, decommits them ({@code madvise(MADV_DONTNEED)}) and unmaps wholly free arenas except
     * one, which is kept (decommitted) as hysteresis. Heaps whose owner is inside a call at that moment
     * are left for the next maintenance round.
     *
     * @throws IllegalStateException if the allocator is closed.
     */
    public void trim() {
        ensureOpen();
        final int call = inFlight.enter();
        try {
            maintenance.runRound(true);
            if (fullCheck) {
                failIfInconsistent(maintenance.checkFull());
            }
        } finally {
            inFlight.exit(call);
        }
    }

    /**
     * An immutable snapshot of the allocator's state. Taken under the arena lock (so no pool changes
     * hands meanwhile) while threads go on allocating; the byte identity holds in every snapshot, and
     * every count is exact once the threads are quiet. Cost proportional to the metadata.
     *
     * @return the statistics.
     * @throws IllegalStateException if the allocator is closed.
     */
    public AllocatorStats stats() {
        ensureOpen();
        final int call = inFlight.enter();
        try {
            arenas.finishDeferredUnmaps(); // what the next round would do: the snapshot shows what is held
            if (fullCheck) {
                failIfInconsistent(maintenance.checkFull());
            }
            return StatsSnapshot.take(
                    arenas,
                    heaps,
                    large,
                    maintenance,
                    limit,
                    reallocs.sum(),
                    pooledReallocMoves.sum(),
                    purgeDelayNanos);
        } finally {
            inFlight.exit(call);
        }
    }

    /**
     * Refreshes the published statistics file now, from a fresh {@link #stats()} snapshot, and returns once
     * the file holds it.
     *
     * @throws IllegalStateException if statistics are not published, or the allocator is closed.
     */
    public void publishNow() {
        ensureOpen();
        if (publisher == null) {
            throw new IllegalStateException("statistics publishing is off: see Allocator.Builder.publishStats");
        }
        publisher.publishNow();
    }

    /**
     * The file the statistics are published to, see {@link StatsFile}.
     *
     * @return the file; empty if statistics are not published or the allocator is closed (the file is gone).
     */
    public Optional<Path> statsFile() {
        return publisher == null || closed ? Optional.empty() : Optional.of(publisher.path());
    }

    /**
     * Stops the statistics publisher (deleting its file) and the maintenance thread, returns every arena to
     * the OS and every large block to the system allocator. Idempotent; any other call afterwards throws
     * {@link IllegalStateException}. Addresses handed out become invalid; segments from
     * {@link #allocate(long, long)} become inaccessible (their scope is closed).
     *
     * <p>Safe against calls racing it in other threads: each either completes before any memory is
     * returned, or fails with {@link IllegalStateException}; none touches memory after it went back to the
     * OS. Close waits for calls in flight to finish (and, for the segments' scope, for downcalls that use
     * one of them to return).
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        // While maintenance runs and the heaps are open: the check uses the owner handshake.
        final String wrong = fullCheck ? maintenance.checkFull() : null;
        if (publisher != null) {
            publisher.close(); // first: its thread takes snapshots
        }
        maintenance.stop(); // no round runs after this (trim() rounds are calls in flight)
        inFlight.close(); // slow-path calls: finished, and later ones refused
        closeLifetime(); // segments: accesses in flight finish, later ones throw
        heaps.close(); // owners' fast paths: none inside a call, none can start one
        arenas.releaseAll();
        large.releaseAll();
        failIfInconsistent(wrong); // after everything is released: a failed check still closes
    }

    /** Closes the segments' scope; a downcall holding one of them makes the JDK refuse: wait for it. */
    private void closeLifetime() {
        while (true) {
            try {
                lifetime.close();
                return;
            } catch (final IllegalStateException e) {
                if (!lifetime.scope().isAlive()) {
                    return;
                }
                LockSupport.parkNanos(1_000_000);
            }
        }
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed.
     */
    public boolean isClosed() {
        return closed;
    }

    /** Bytes the reservation limit counts as held (arenas and large blocks). For tests. */
    long limitReservedBytes() {
        return limit.reserved();
    }

    /** Checks the internal invariants that the statistics cannot show; null when they hold. For tests. */
    String checkInvariants() {
        return closed ? null : arenas.checkInvariants(false);
    }

    /**
     * The full check (package-info, "Checks"): every invariant of the arena set, and of each heap whose owner
     * can be excluded now. Null when they hold, else what is wrong. For tests and the debug tier.
     */
    String checkFull() {
        return closed ? null : maintenance.checkFull();
    }

    /** The debug tier: throws if the full check finds the allocator inconsistent. */
    private void failIfInconsistent(final String wrong) {
        if (wrong != null) {
            throw new IllegalStateException(
                    "pymalloc4j full check (-D" + Builder.CHECK_PROPERTY + "=full) failed: " + wrong);
        }
    }

    /** Whether owner heaps skip their lock (the process barrier is available). For tests and reports. */
    boolean lockFreeOwners() {
        return heaps.lockFreeOwners();
    }

    // ---------------------------------------------------------------- slow paths

    private long allocate(final long size, final long alignment, final boolean zeroed) {
        ensureOpen();
        checkSize(size);
        final long rounded = alignment <= SizeClass.ALIGNMENT ? size : (Math.max(size, 1) + alignment - 1) & -alignment;
        if (rounded <= SMALL_REQUEST_THRESHOLD) {
            final long block = allocateSmall(SizeClass.indexOf(rounded), size, true);
            if (zeroed) {
                AddressSpace.zero(block, size);
            }
            return block;
        }
        try {
            return large.allocate(size, alignment, zeroed, true);
        } catch (final OutOfMemoryError e) {
            if (!releaseOwnKeptEmpty()) {
                throw e;
            }
            return large.allocate(size, alignment, zeroed, true);
        }
    }

    /**
     * After the limit refused a large block: gives the calling thread's kept empty pools back to their
     * arenas, so that wholly free arenas can be unmapped (other heaps' go back within two purge rounds).
     *
     * @return whether any pool was given back.
     */
    private boolean releaseOwnKeptEmpty() {
        final Heap heap = heaps.current();
        if (heap == null) {
            return false;
        }
        final boolean locked = heap.enter();
        try {
            return heap.releaseKeptEmpty() > 0;
        } finally {
            heap.exit(locked);
        }
    }

    private long allocateUncounted(final long size) {
        return size <= SMALL_REQUEST_THRESHOLD
                ? allocateSmall(SizeClass.indexOf(size), size, false)
                : large.allocate(size, 0, false, false);
    }

    /** A block of class {@code c} from the calling thread's heap, or a shared one for a virtual thread. */
    private long allocateSmall(final int c, final long size, final boolean counted) {
        Heap heap = heaps.current();
        if (heap == null) {
            heap = heaps.createForCurrentThread();
        }
        if (heap != null) {
            return heap.malloc(c, size, counted);
        }
        final Heap shared = heaps.lockShared(); // throws if closed
        try {
            final long block = shared.allocate(c, size);
            if (counted) {
                shared.counters.mallocs++;
            }
            return block;
        } finally {
            shared.lock.unlock();
        }
    }

    private long reallocLive(final long address, final long newSize) {
        final NativeArena arena = arenas.arenaOfAcquire(address);
        if (arena == null) {
            final long oldSize = large.sizeOf(address);
            if (newSize > SMALL_REQUEST_THRESHOLD || reallocStaysInPlace(newSize, oldSize)) {
                return large.resize(address, newSize);
            }
            // Out of the records while it moves: a racing free of it is refused, C cannot reuse the address.
            final long[] taken = large.take(address);
            final long moved;
            try {
                moved = allocateSmall(SizeClass.indexOf(newSize), newSize, false);
            } catch (final RuntimeException | Error e) {
                large.restore(address, taken);
                throw e;
            }
            AddressSpace.copy(address, moved, Math.min(taken[0], newSize));
            large.freeTaken(address, taken);
            return moved;
        }
        final Pool pool = livePool(arena.poolAtAcquire(address), address);
        final long[] life = pool.lifeAcquire(); // before the check: the block is checked live in this life
        pool.liveBlockIndexAcquire(address);
        final long blockSize = pool.blockSize;
        if (reallocStaysInPlace(Math.max(newSize, 1), blockSize) && resizeOwnedInPlace(pool, life, address, newSize)) {
            return address;
        }
        final long moved = allocateUncounted(newSize);
        AddressSpace.copy(address, moved, Math.min(blockSize, newSize));
        try {
            // Only in the life it was checked in: if a racing free emptied the pool and it was carved
            // again (perhaps for moved itself), the address is another block now and must not be freed.
            freePooledOfLife(arena, pool, life, address);
        } catch (final RuntimeException e) {
            // Another thread freed the block meanwhile: this realloc fails and must change nothing.
            discard(moved);
            throw e;
        }
        pooledReallocMoves.increment();
        return moved;
    }

    /** {@link #free(long)} without the open check: for calls registered in {@link #inFlight}. */
    private void freeBlock(final long address) {
        final NativeArena arena = arenas.arenaOfAcquire(address);
        if (arena == null) {
            large.free(address, true);
        } else {
            freePooled(arena, address);
        }
    }

    /** Gives back a block that {@link #allocateUncounted} took for a call that then failed: no user free. */
    private void discard(final long block) {
        final NativeArena arena = arenas.arenaOfAcquire(block);
        if (arena == null) {
            large.free(block, false);
        } else {
            freePooled(arena, block);
            pooledReallocMoves.increment(); // the free it counted is not a user free
        }
    }

    /** {@link #REALLOC_IN_PLACE_QUARTERS}: whether a block of {@code size} bytes resized to {@code newSize} stays. */
    static boolean reallocStaysInPlace(final long newSize, final long size) {
        return newSize <= size && 4 * newSize > REALLOC_IN_PLACE_QUARTERS * size;
    }

    /**
     * The owner's in-place realloc of a pooled block, inside its heap's handshake, so no collection or
     * maintenance round changes the pool meanwhile. The block is checked again there: a free by another
     * thread, or a collection, may have come between the caller's check and the handshake.
     *
     * @return false if the caller is not the pool's owner: it must move the block (the race-safe path).
     * @throws IllegalArgumentException if the block was freed meanwhile; nothing changed.
     */
    private static boolean resizeOwnedInPlace(
            final Pool pool, final long[] life, final long address, final long newSize) {
        final Heap heap = pool.heap;
        if (heap == null || heap.ownerThread != Thread.currentThread()) {
            return false;
        }
        final boolean locked = heap.enter();
        try {
            if (pool.heap != heap) {
                return false;
            }
            if (pool.lifeAcquire() != life) {
                throw pool.freedMeanwhile(address);
            }
            pool.resizeOwned(pool.liveBlockIndexAcquire(address), newSize);
            return true;
        } finally {
            heap.exit(locked);
        }
    }

    private static Pool livePool(final Pool pool, final long address) {
        if (pool == null || pool.sizeClass == Pool.FREE) {
            throw new IllegalArgumentException("0x" + Long.toHexString(address)
                    + " was not allocated by this allocator, or is a double free: it lies in an arena's "
                    + (pool == null ? "never used" : "empty")
                    + " pool");
        }
        return pool;
    }

    private void ensureOpen() {
        if (closed) {
            throw InFlightCalls.closedException();
        }
    }

    private static void checkSize(final long size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size: " + size);
        }
        if (size > MAX_REQUEST_SIZE) {
            throw new IllegalArgumentException("absurd size: " + size + " bytes (maximum " + MAX_REQUEST_SIZE + ")");
        }
    }

    private static void checkAlignment(final long alignment) {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
        if (alignment > MAX_ALIGNMENT) {
            throw new IllegalArgumentException("absurd alignment: " + alignment + " (maximum " + MAX_ALIGNMENT + ")");
        }
    }

    /**
     * Chooses the arena size, pool size, reserved-bytes maximum, purge delay and statistics publishing of a
     * new {@link Allocator}.
     */
    public static final class Builder {
        static final Duration DEFAULT_PURGE_DELAY = Duration.ofMillis(10);
        /** {@code -Dpymalloc4j.check=full} turns the debug tier on: the full check at stats(), trim(), close(). */
        static final String CHECK_PROPERTY = "pymalloc4j.check";

        private long arenaSize = 1L << 20;
        private long poolSize = 16L << 10;
        private long maxReservedBytes = Long.MAX_VALUE;
        private long addressRange;
        private Duration purgeDelay = DEFAULT_PURGE_DELAY;
        private int sharedHeaps = Math.max(2, 2 * Runtime.getRuntime().availableProcessors());
        private String publishName;
        private Duration publishPeriod = StatsPublisher.DEFAULT_PERIOD;
        private Path publishDirectory;
        private boolean fullCheck = "full".equals(System.getProperty(CHECK_PROPERTY));

        private Builder() {}

        /**
         * The debug tier (package-private: for tests; users set {@code -Dpymalloc4j.check=full}).
         *
         * @param on whether stats(), trim() and close() run the full check and throw
         *           {@link IllegalStateException} when it fails.
         * @return this builder.
         */
        Builder fullCheck(final boolean on) {
            fullCheck = on;
            return this;
        }

        /**
         * Size of each arena obtained from the OS: a power of two from 64 KiB to 1 GiB, at least four
         * pools. Default 1 MiB.
         *
         * @param bytes the arena size.
         * @return this builder.
         */
        public Builder arenaSize(final long bytes) {
            arenaSize = bytes;
            return this;
        }

        /**
         * Size of each pool: a power of two from 4 KiB to 1 MiB. Default 16 KiB.
         *
         * @param bytes the pool size.
         * @return this builder.
         */
        public Builder poolSize(final long bytes) {
            poolSize = bytes;
            return this;
        }

        /**
         * Maximum bytes held from the OS at once, arenas and large blocks together; beyond it allocation
         * throws {@link OutOfMemoryError}. Default: unlimited.
         *
         * @param bytes the maximum, &gt; 0.
         * @return this builder.
         */
        public Builder maxReservedBytes(final long bytes) {
            maxReservedBytes = bytes;
            return this;
        }

        /**
         * Address space reserved for arenas, once, when the allocator is built: every arena is committed
         * inside it, so that telling whether an address is a pooled block is one compare. A reservation
         * holds no memory. Rounded down to a multiple of the arena size. Default: 32 GiB, or less when
         * {@link #maxReservedBytes(long)} allows fewer arenas, or when the process may not reserve that
         * much ({@code ulimit -v}: then the largest it can, halving down to 16 arenas). When it is full,
         * arenas are refused with {@link OutOfMemoryError}.
         *
         * @param bytes from one arena to 1 TiB.
         * @return this builder.
         */
        public Builder addressRange(final long bytes) {
            addressRange = bytes;
            return this;
        }

        /** The range to reserve: the one set, else the default capped by the limit. */
        long rangeBytes() {
            if (addressRange != 0) {
                return addressRange;
            }
            if (maxReservedBytes >= ArenaMap.DEFAULT_RANGE_BYTES) {
                return ArenaMap.DEFAULT_RANGE_BYTES;
            }
            return Math.max(arenaSize, (maxReservedBytes + arenaSize - 1) / arenaSize * arenaSize);
        }

        /**
         * How long empty memory waits before it goes back to the OS: this is the maintenance period, and
         * empty pools are decommitted and wholly free arenas unmapped (but one) from the round after the
         * one in which they emptied, so after one to two periods (longer while maintenance backs off in
         * an idle process, at most 8 periods). Default 10 ms. {@link Duration#ZERO} gives memory
         * back at once, in the freeing call, and keeps no empty pool in a heap.
         *
         * @param delay the delay, 0 to 1 minute.
         * @return this builder.
         */
        public Builder purgeDelay(final Duration delay) {
            purgeDelay = delay;
            return this;
        }

        /**
         * Number of heaps shared by virtual threads (striped by thread id). Default twice the processors,
         * at least 2.
         *
         * @param count 1 to 1024.
         * @return this builder.
         */
        public Builder sharedHeaps(final int count) {
            sharedHeaps = count;
            return this;
        }

        /**
         * Publishes the statistics into a memory-mapped file, {@code <pid>-<name>.pm4j} in
         * {@link StatsFile#defaultDirectory()} (or {@link #publishDirectory(Path)}), refreshed every
         * {@link #publishPeriod(Duration)} by a daemon thread and by {@link Allocator#publishNow()}, and
         * deleted by {@link Allocator#close()}. Another allocator of this process already publishing under
         * the name gets {@code name-2}, {@code name-3}... Default: off, unless the system property
         * {@code pymalloc4j.publish} names it (then {@code pymalloc4j.publish.period}, in milliseconds, and
         * {@code pymalloc4j.publish.dir} apply; bad values are logged and leave publishing off).
         *
         * @param name {@code [A-Za-z0-9._-]{1,48}}.
         * @return this builder.
         * @throws IllegalArgumentException if the name is not of that form.
         */
        public Builder publishStats(final String name) {
            publishName = StatsPublisher.checkName(name);
            return this;
        }

        /**
         * How often the published statistics file is refreshed. Default 1 s. Each refresh takes one
         * {@link Allocator#stats()} snapshot.
         *
         * @param period 100 ms to 1 hour.
         * @return this builder.
         * @throws IllegalArgumentException if the period is out of range.
         */
        public Builder publishPeriod(final Duration period) {
            publishPeriod = StatsPublisher.checkPeriod(period);
            return this;
        }

        /**
         * Directory of the published statistics file instead of {@link StatsFile#defaultDirectory()}; created
         * (owner-only) if missing.
         *
         * @param directory the directory.
         * @return this builder.
         * @throws IllegalArgumentException if it is null.
         */
        public Builder publishDirectory(final Path directory) {
            if (directory == null) {
                throw new IllegalArgumentException("statistics directory must not be null");
            }
            publishDirectory = directory;
            return this;
        }

        /**
         * Creates the allocator and starts its maintenance thread (and its statistics publisher, if asked).
         * No memory is reserved until the first allocation.
         *
         * @return the allocator.
         * @throws IllegalArgumentException if a setting is out of range.
         * @throws UncheckedIOException     if {@link #publishStats(String)} was asked and the file cannot be made.
         */
        public Allocator build() {
            if (Long.bitCount(poolSize) != 1 || poolSize < 4096 || poolSize > (1L << 20)) {
                throw new IllegalArgumentException("pool size must be a power of two from 4 KiB to 1 MiB: " + poolSize);
            }
            if (Long.bitCount(arenaSize) != 1 || arenaSize < (64L << 10) || arenaSize > (1L << 30)) {
                throw new IllegalArgumentException(
                        "arena size must be a power of two from 64 KiB to 1 GiB: " + arenaSize);
            }
            if (arenaSize < 4 * poolSize) {
                throw new IllegalArgumentException(
                        "arena size " + arenaSize + " must hold at least 4 pools of " + poolSize);
            }
            if (maxReservedBytes <= 0) {
                throw new IllegalArgumentException("maximum reserved bytes must be positive: " + maxReservedBytes);
            }
            if (addressRange != 0 && (addressRange < arenaSize || addressRange > (1L << 40))) {
                throw new IllegalArgumentException(
                        "address range must be from one arena (" + arenaSize + " bytes) to 1 TiB: " + addressRange);
            }
            if (purgeDelay == null || purgeDelay.isNegative() || purgeDelay.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("purge delay must be from 0 to 1 minute: " + purgeDelay);
            }
            if (sharedHeaps < 1 || sharedHeaps > 1024) {
                throw new IllegalArgumentException("shared heaps must be from 1 to 1024: " + sharedHeaps);
            }
            return new Allocator(this);
        }
    }
}
