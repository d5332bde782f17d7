package io.github.pymalloc4j;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The OS side of the arenas: committing an arena into a slot of the reserved range, decommitting free
 * pools ({@code madvise(MADV_DONTNEED)}), and unmapping wholly free arenas (remapping them
 * {@code PROT_NONE}). Holds the mapped arenas, the queue of free pools whose memory may still be resident,
 * and the arenas out of the map whose unmapping waits for calls in flight. Guarded by the
 * {@link ArenaSet} lock; the placement policy (which arena, when) is {@link ArenaSet}'s.
 *
 * <pre>
 *  mapped:         arenas in the map, in creation order
 *  decommitQueue:  free pools whose memory may be resident, decommitted from the round after they became free
 *  unmapping:      wholly free arenas out of the map whose unmapping (PROT_NONE) waits for the calls in flight
 * </pre>
 *
 * An arena is unmapped only when no slow-path call is in flight ({@link InFlightCalls}): one that read the
 * arena map just before the arena left it may still copy a block of it (a realloc racing a free of the
 * same block). Otherwise the arena waits, out of the map and still counted against the limit, for the
 * next round.
 */
final class ArenaMapping {
    private final long arenaSize;
    private final int poolSize;
    private final int poolShift;
    private final int poolsPerArena;
    private final ArenaMap map;
    private final ReservationLimit limit;
    private final InFlightCalls inFlight;
    private final List<NativeArena> mapped = new ArrayList<>();
    private final ArrayDeque<Pool> decommitQueue = new ArrayDeque<>();
    private final List<NativeArena> unmapping = new ArrayList<>();

    ArenaMapping(
            final long arenaSize,
            final int poolSize,
            final ArenaMap map,
            final ReservationLimit limit,
            final InFlightCalls inFlight) {
        this.arenaSize = arenaSize;
        this.poolSize = poolSize;
        this.poolShift = Integer.numberOfTrailingZeros(poolSize);
        this.poolsPerArena = (int) (arenaSize / poolSize);
        this.map = map;
        this.limit = limit;
        this.inFlight = inFlight;
    }

    ArenaMap map() {
        return map;
    }

    /** The arenas in the map, in creation order. */
    List<NativeArena> mapped() {
        return mapped;
    }

    /**
     * Arenas held: the mapped ones in creation order, then those out of the map whose unmapping waits for
     * calls in flight (wholly free, still counted against the limit).
     */
    List<NativeArena> held() {
        if (unmapping.isEmpty()) {
            return mapped;
        }
        final List<NativeArena> held = new ArrayList<>(mapped);
        held.addAll(unmapping);
        return held;
    }

    /** Arenas out of the map whose unmapping waits for calls in flight. */
    int awaitingUnmap() {
        return unmapping.size();
    }

    /**
     * An arena out of the map but still mapped and counted against the limit, taken back into the map; or
     * null when none waits.
     */
    NativeArena takeBack() {
        if (unmapping.isEmpty()) {
            return null;
        }
        final NativeArena arena = unmapping.removeLast();
        enter(arena);
        return arena;
    }

    /**
     * Commits the lowest free slot as a new arena and enters it into the map. The caller reserved
     * {@code arenaSize} against the limit; it is given back if this fails.
     *
     * @throws OutOfMemoryError if the range is full or the OS refuses.
     */
    NativeArena mapNew() {
        assert unmapping.isEmpty() : "a slot is committed only while no arena awaits unmapping (its slot stays taken)";
        final long base;
        try {
            base = map.commitSlot();
        } catch (final RuntimeException | Error e) {
            limit.release(arenaSize);
            throw e;
        }
        final NativeArena arena = new NativeArena(base, poolsPerArena, poolShift);
        enter(arena);
        return arena;
    }

    private void enter(final NativeArena arena) {
        map.put(arena);
        arena.setMapped(true);
        mapped.add(arena);
    }

    /**
     * Takes a wholly free arena out of the map and unmaps it, or leaves it waiting for the calls in flight.
     *
     * @return arenas unmapped (this one and others that waited).
     */
    int unmap(final NativeArena arena) {
        assert arena.isWhollyFree() && !arena.isUsable() : "only a wholly free arena off the usable list is unmapped";
        map.remove(arena);
        mapped.remove(arena);
        arena.setMapped(false);
        unmapping.add(arena);
        return unmapQuiet();
    }

    /**
     * Unmaps the arenas taken out of the map, if no call that might still read one is in flight; else
     * they wait for a later round.
     *
     * @return arenas unmapped.
     */
    int unmapQuiet() {
        if (unmapping.isEmpty() || !inFlight.isQuiet()) {
            return 0;
        }
        final int n = unmapping.size();
        for (int k = n - 1; k >= 0; k--) {
            final NativeArena arena = unmapping.remove(k);
            if (map.decommitSlot(arena.base) != 0) {
                throw new IllegalStateException("unmapping arena 0x" + Long.toHexString(arena.base) + " failed");
            }
            limit.release(arenaSize);
        }
        return n;
    }

    /** Queues a pool that became free for decommit, unless queued already. */
    void queueDecommit(final Pool pool) {
        if (!pool.isDecommitQueued()) {
            pool.setDecommitQueued(true);
            decommitQueue.add(pool);
        }
    }

    /**
     * Decommits the queued pools that became free before {@code round} (all of them when {@code force});
     * drops those taken again or whose arena left the map.
     *
     * @return pools decommitted.
     */
    int decommitQueued(final long round, final boolean force) {
        int decommitted = 0;
        for (int k = decommitQueue.size(); k > 0; k--) {
            final Pool pool = decommitQueue.poll();
            if (pool.sizeClass != Pool.FREE || !pool.committed || !pool.arena.isMapped()) {
                pool.setDecommitQueued(false);
            } else if (force || pool.freeSinceRound() < round) {
                pool.setDecommitQueued(false);
                if (decommit(pool)) {
                    decommitted++;
                }
            } else {
                decommitQueue.add(pool);
            }
        }
        return decommitted;
    }

    /**
     * Gives a free pool's memory back to the OS.
     *
     * @return whether it was committed (and so is decommitted now).
     */
    boolean decommit(final Pool pool) {
        assert pool.sizeClass == Pool.FREE : "only a free pool is decommitted";
        if (!pool.committed) {
            return false;
        }
        if (Libc.madvise(pool.base, poolSize, Libc.MADV_DONTNEED) != 0) {
            throw new IllegalStateException("madvise(DONTNEED) of pool 0x" + Long.toHexString(pool.base) + " failed");
        }
        pool.decommitted();
        return true;
    }

    /**
     * Takes every arena out of the map and releases the whole range; unusable afterwards. No call may be in
     * flight.
     *
     * @return arenas released.
     */
    int releaseAll() {
        mapped.addAll(unmapping);
        unmapping.clear();
        final int n = mapped.size();
        for (final NativeArena arena : mapped) {
            map.remove(arena);
            arena.setMapped(false);
            limit.release(arenaSize);
        }
        map.release();
        mapped.clear();
        decommitQueue.clear();
        return n;
    }

    /** Bytes of on-heap metadata (estimate, compressed oops). */
    long heapBytes() {
        long bytes = map.heapBytes() + 16 + 4L * mapped.size() + 16 + 8L * decommitQueue.size();
        for (final NativeArena arena : mapped) {
            bytes += arena.heapBytes();
        }
        return bytes;
    }
}
