package io.github.pymalloc4j;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Takes an {@link AllocatorStats} snapshot while threads go on allocating. The arena lock is held, so
 * no pool changes hands or class; each pool's {@code used} count is read once, so every pool's bytes
 * fall into exactly one category each and the identity holds in every snapshot. Counters written by
 * other threads are read racily: exact once those threads are quiet. Cost: proportional to the number
 * of pools plus the remote frees pending, never a stop-the-world.
 */
final class StatsSnapshot {
    private StatsSnapshot() {}

    static AllocatorStats take(
            final ArenaSet arenas,
            final HeapSet heaps,
            final LargeBlocks large,
            final Maintenance maintenance,
            final ReservationLimit limit,
            final long reallocs,
            final long pooledReallocMoves,
            final long purgeDelayNanos) {
        final Counters counts = new Counters();
        // Before the arena lock (maintenance takes its locks in that order); live heaps read together.
        final List<Heap> liveHeaps = maintenance.addDeadHeapCounters(counts);
        final long[] largeNow = large.snapshot();
        // Taken before the arena lock, so that no stripe lock is ever taken inside it. Exact only while no
        // large-block call runs (see LargeBlocks).
        final long largeHeapBytes = large.heapBytes();
        final AllocatorStats.Builder b = new AllocatorStats.Builder();
        b.arenaSize = arenas.arenaSize;
        b.poolSize = arenas.poolSize;
        b.maxReservedBytes = limit.max();
        b.purgeDelayNanos = purgeDelayNanos;
        b.lockFreeOwners = heaps.lockFreeOwners();
        b.set(Statistic.MAINTENANCE_ROUNDS, maintenance.rounds);
        final Throwable failure = maintenance.lastFailure;
        b.maintenanceFailure = failure == null ? null : failure.toString();

        final int classes = SizeClass.COUNT;
        final int[] pools = new int[classes];
        final long[] inUse = new long[classes];
        final long[] pending = new long[classes];
        final long[] available = new long[classes];
        final long[] requested = new long[classes];
        final Map<Heap, long[]> perHeap = new IdentityHashMap<>();
        for (final Heap heap : liveHeaps) {
            perHeap.put(heap, new long[4]);
        }
        final long[] orphaned = new long[4];

        // Each live heap's lock, so that maintenance cannot collect remote frees between the pass that
        // counts them as pending and the read of the heap counters that count them as collected (it would
        // count them twice). Maintenance only tryLocks a heap it collects, and holds no heap lock while it
        // waits for another, so this cannot deadlock; an owner's own calls take no lock and go on.
        long pendingTotal = 0;
        for (final Heap heap : liveHeaps) {
            heap.lock.lock();
        }
        try {
            arenas.lock.lock();
            try {
                final List<NativeArena> sorted = new ArrayList<>(arenas.arenas());
                sorted.sort(Comparator.comparingLong(a -> a.base));
                for (final NativeArena arena : sorted) {
                    final List<AllocatorStats.PoolStats> poolStats = new ArrayList<>(arena.carved);
                    for (int i = 0; i < arena.carved; i++) {
                        final Pool pool = arena.pool(i);
                        final int c = pool.sizeClass;
                        if (c == Pool.FREE) {
                            poolStats.add(new AllocatorStats.PoolStats(i, Pool.FREE, 0, 0, 0, 0, -1));
                            if (pool.committed) {
                                b.add(Statistic.COMMITTED, arenas.poolSize);
                                b.add(Statistic.FREE_NOT_RETURNED, arenas.poolSize);
                            }
                            continue;
                        }
                        final int used = pool.used;
                        final int waiting = Math.min(pool.pendingRemoteFreesOpaque(), used);
                        final long blocksInUse = used - waiting;
                        pools[c]++;
                        inUse[c] += blocksInUse;
                        pending[c] += waiting;
                        available[c] += pool.capacity - used;
                        // Racy against the owner: clamp to the block bytes read, so a snapshot taken mid-malloc
                        // never shows more requested than handed out (exact once the owner is quiet).
                        requested[c] +=
                                Math.max(0, Math.min(pool.requestedBytesOpaque(), blocksInUse * pool.blockSize));
                        b.add(Statistic.QUANTIZATION, arenas.poolSize - (long) pool.capacity * pool.blockSize);
                        b.add(Statistic.COMMITTED, arenas.poolSize);
                        if (used == 0) {
                            b.add(Statistic.FREE_NOT_RETURNED, arenas.poolSize);
                        }
                        final Heap owner = pool.heap;
                        long[] h = owner == null ? orphaned : perHeap.get(owner);
                        if (h == null) {
                            h = new long[4];
                            perHeap.put(owner, h);
                        }
                        h[0]++;
                        h[1] += blocksInUse;
                        h[2] += blocksInUse * pool.blockSize;
                        h[3] += waiting;
                        poolStats.add(new AllocatorStats.PoolStats(
                                i,
                                c,
                                pool.blockSize,
                                (int) blocksInUse,
                                pool.capacity,
                                waiting,
                                owner == null ? -1 : owner.id));
                    }
                    b.add(Statistic.IN_FREE_POOLS, (long) arena.freePoolCount() * arenas.poolSize);
                    b.arenas.add(new AllocatorStats.ArenaStats(
                            arena.base, arena.poolCount, arena.carved, arena.freePoolCount(), List.copyOf(poolStats)));
                }
                for (int c = 0; c < classes; c++) {
                    b.add(Statistic.ORPHAN_POOLS, arenas.orphans(c).size());
                }
                counts.add(arenas.orphanCounters);
                b.set(Statistic.ARENAS_ALLOCATED_TOTAL, arenas.allocatedTotal);
                b.set(Statistic.ARENAS_RECLAIMED, arenas.reclaimed);
                b.set(Statistic.ARENAS_HIGH_WATER, arenas.highWater);
                b.set(Statistic.POOLS_DECOMMITTED, arenas.poolsDecommitted);
                b.set(Statistic.HEAP_METADATA, arenas.heapBytes() + largeHeapBytes + 256L * liveHeaps.size());
            } finally {
                arenas.lock.unlock();
            }

            for (int c = 0; c < classes; c++) {
                final int blockSize = SizeClass.blockSize(c);
                b.sizeClasses.add(new AllocatorStats.SizeClassStats(
                        c, blockSize, pools[c], inUse[c], available[c], requested[c], pending[c]));
                pendingTotal += pending[c];
                b.add(Statistic.IN_ALLOCATED_BLOCKS, inUse[c] * blockSize);
                b.add(Statistic.PENDING_REMOTE_FREE, pending[c] * blockSize);
                b.add(Statistic.IN_AVAILABLE_BLOCKS, available[c] * blockSize);
                b.add(Statistic.REQUESTED, requested[c]);
            }
            for (final Heap heap : liveHeaps) {
                counts.add(heap.counters); // dead heaps' counters came with addDeadHeapCounters
            }
            for (final Map.Entry<Heap, long[]> e : perHeap.entrySet()) {
                final Heap heap = e.getKey();
                final long[] h = e.getValue();
                b.heaps.add(new AllocatorStats.HeapStats(
                        heap.id,
                        heap.ownerThread == null ? null : heap.ownerThread.getName(),
                        heap.ownerThread == null,
                        (int) h[0],
                        h[1],
                        h[2],
                        h[3],
                        heap.counters.mallocs,
                        heap.counters.localFrees + heap.counters.remoteFreesCollected));
            }
        } finally {
            for (final Heap heap : liveHeaps) {
                heap.lock.unlock();
            }
        }
        b.heaps.sort(Comparator.comparingInt(AllocatorStats.HeapStats::id));
        b.set(Statistic.ORPHANED_BLOCKS_IN_USE, orphaned[1]);
        b.set(Statistic.LARGE_COUNT, largeNow[0]);
        b.set(Statistic.LARGE_BYTES, largeNow[1]);
        b.set(Statistic.MALLOCS, counts.mallocs + largeNow[2]);
        b.set(
                Statistic.FREES,
                counts.localFrees + counts.remoteFreesCollected + pendingTotal - pooledReallocMoves + largeNow[3]);
        b.set(Statistic.REMOTE_FREES, counts.remoteFreesCollected + pendingTotal);
        b.set(Statistic.REALLOCS, reallocs);
        b.set(Statistic.LARGE_MALLOCS, largeNow[4]);
        b.set(Statistic.DOUBLE_FREES_DETECTED, counts.doubleFreesDetected);
        b.set(Statistic.HEAP_COUNT, b.heaps.size());
        final long arenaBytes = b.arenas.size() * arenas.arenaSize;
        b.set(Statistic.ARENAS_CURRENT, b.arenas.size());
        b.set(Statistic.ARENA_BYTES, arenaBytes);
        b.set(Statistic.RESERVED, arenaBytes + largeNow[1]);
        return new AllocatorStats(b);
    }
}
