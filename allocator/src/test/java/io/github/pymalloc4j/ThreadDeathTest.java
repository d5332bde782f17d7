package io.github.pymalloc4j;

import static io.github.pymalloc4j.StressSupport.awaitStats;
import static io.github.pymalloc4j.StressSupport.checkAndFree;
import static io.github.pymalloc4j.StressSupport.mallocFilled;
import static io.github.pymalloc4j.StressSupport.pendingRemoteFrees;
import static io.github.pymalloc4j.StressSupport.seedOf;
import static io.github.pymalloc4j.StressSupport.summary;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.pymalloc4j.StressSupport.Block;
import io.github.pymalloc4j.StressSupport.Workers;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * mstress-like: rounds of short-lived threads allocate, free some blocks themselves, keep some alive past their
 * death and hand some to the next round. After they die, maintenance abandons their heaps (their pools become
 * orphans), other threads free their blocks, and the orphans are adopted or returned: memory does not grow with the
 * number of rounds.
 */
class ThreadDeathTest {
    private static final long SEED = 0x5EED_0004L;
    private static final String CTX = "seed 0x" + Long.toHexString(SEED);
    private static final int ROUNDS = 30;
    private static final int THREADS = 4;
    private static final int BLOCKS = 1500; // per thread per round

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void roundsOfShortLivedThreads() throws Exception {
        List<Block> transfer = new ArrayList<>(); // allocated by the previous round, freed by the next one
        long[] reserved = new long[ROUNDS];
        long[] arenas = new long[ROUNDS];
        long mallocs = 0, frees = 0, adopted = 0, maxAbandonMs = 0;
        int[] takenOver = new int[ROUNDS];
        Set<Long> prevOrphans = new HashSet<>();
        StringBuilder trace = new StringBuilder();
        try (Allocator a = Allocator.create()) {
            long poolSize = a.stats().poolSize();
            for (int round = 0; round < ROUNDS; round++) {
                final int rr = round;
                final String rctx = CTX + ", round " + round;
                // this round's share of the previous round's blocks, per thread
                List<List<Block>> inherited = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    inherited.add(new ArrayList<>());
                }
                for (int k = 0; k < transfer.size(); k++) {
                    inherited.get(k % THREADS).add(transfer.get(k));
                }
                frees += transfer.size();
                @SuppressWarnings("unchecked")
                List<Block>[] nextTransfer = new List[THREADS];
                @SuppressWarnings("unchecked")
                List<Block>[] survivors = new List[THREADS];
                long[] localFrees = new long[THREADS];
                CyclicBarrier allocated = new CyclicBarrier(THREADS + 1);
                CyclicBarrier die = new CyclicBarrier(THREADS + 1);
                AtomicBoolean stop = new AtomicBoolean();
                Workers w = new Workers(stop);
                String name = "mstress-r" + round;
                try {
                    w.start(name, THREADS, t -> {
                        Random r = new Random(SEED * 1009 + rr * THREADS + t);
                        for (Block b : inherited.get(t)) { // remote frees of blocks of dead threads
                            checkAndFree(a, b, () -> rctx + ", thread " + t + ": inherited block seed " + b.seed());
                        }
                        List<Block> mine = new ArrayList<>();
                        for (int i = 0; i < BLOCKS; i++) {
                            mine.add(mallocFilled(a, 8 + r.nextInt(512 - 8 + 1), seedOf(SEED, rr * THREADS + t, i)));
                        }
                        Collections.shuffle(mine, r);
                        int half = BLOCKS / 2, threeQ = BLOCKS * 3 / 4;
                        for (int i = 0; i < half; i++) { // local frees
                            final int ii = i;
                            checkAndFree(a, mine.get(i), () -> rctx + ", thread " + t + ": local free " + ii);
                        }
                        localFrees[t] = half;
                        nextTransfer[t] = new ArrayList<>(mine.subList(half, threeQ));
                        survivors[t] = new ArrayList<>(mine.subList(threeQ, BLOCKS));
                        allocated.await(30, TimeUnit.SECONDS);
                        die.await(30, TimeUnit.SECONDS);
                    });
                    allocated.await(30, TimeUnit.SECONDS);
                    // all threads of the round are alive and idle: their heaps are listed, and hold pools that were
                    // orphans of the previous round (adopted, or emptied by the remote frees and taken again)
                    var alive = a.stats();
                    assertConsistent(alive, rctx + ": threads alive");
                    Set<Integer> ids = new HashSet<>();
                    for (var h : alive.heaps()) {
                        if (h.threadName() != null && h.threadName().startsWith(name + "-")) {
                            ids.add(h.id());
                        }
                    }
                    assertEquals(THREADS, ids.size(), rctx + ": a heap per live thread: " + alive.heaps());
                    int adoptedNow = 0;
                    var geo = new TestSupport.Geometry(alive);
                    for (long p : prevOrphans) {
                        var ps = geo.poolStats(p);
                        if (ps != null && ps.sizeClass() >= 0 && ids.contains(ps.heapId())) {
                            adoptedNow++;
                        }
                    }
                    adopted += adoptedNow;
                    takenOver[rr] = adoptedNow;
                    die.await(30, TimeUnit.SECONDS);
                    w.join(30_000); // dead now
                } finally {
                    w.abort();
                }
                transfer.clear();
                List<Block> keep = new ArrayList<>();
                long live = 0;
                for (int t = 0; t < THREADS; t++) {
                    transfer.addAll(nextTransfer[t]);
                    keep.addAll(survivors[t]);
                    frees += localFrees[t];
                }
                mallocs += (long) THREADS * BLOCKS;
                live = transfer.size() + keep.size();

                // maintenance abandons the dead threads' heaps: they leave stats().heaps(), their pools are orphans
                long t0 = System.nanoTime();
                var s = awaitStats(
                        a,
                        2_000,
                        x -> x.heaps().stream()
                                .noneMatch(h ->
                                        h.threadName() != null && h.threadName().startsWith(name + "-")));
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                maxAbandonMs = Math.max(maxAbandonMs, ms);
                String sctx = rctx + ": after the threads died (" + ms + " ms): " + summary(s);
                assertConsistent(s, sctx);
                for (var h : s.heaps()) {
                    assertTrue(
                            h.threadName() == null || !h.threadName().startsWith(name + "-"),
                            () -> sctx + ": heap of a dead thread still listed after 2 s: " + h);
                }
                assertTrue(s.orphanPools() > 0, sctx + ": the dead threads' live blocks are in orphan pools");
                // nobody allocates now and every heap that held pools is gone: every live block is in an orphan
                assertEquals(totalBlocksInUse(s), s.orphanedBlocksInUse(), sctx);
                var settled = awaitStats(a, 2_000, x -> pendingRemoteFrees(x) == 0);
                String tctx = rctx + ": settled: " + summary(settled);
                assertEquals(live, totalBlocksInUse(settled), tctx);
                assertEquals(live, settled.orphanedBlocksInUse(), tctx);
                assertEquals(mallocs, settled.mallocs(), tctx);
                assertEquals(frees, settled.frees(), tctx);
                prevOrphans.clear();
                for (var ar : settled.arenas()) {
                    for (var p : ar.pools()) {
                        if (p.sizeClass() >= 0) {
                            assertEquals(-1, p.heapId(), tctx + ": every pool is ownerless: " + p);
                            prevOrphans.add(new TestSupport.Geometry(settled).firstPool(ar) + p.index() * poolSize);
                        }
                    }
                }
                reserved[round] = settled.reservedBytes();
                arenas[round] = settled.arenasCurrent();

                // the survivors are freed by the main thread (remote frees into orphans)
                for (Block b : keep) {
                    checkAndFree(a, b, () -> rctx + ": survivor seed " + b.seed());
                }
                frees += keep.size();
                trace.append(String.format(
                        "r%d: reserved=%d arenas=%d orphanPools=%d takenOverFromPreviousOrphans=%d" + " abandonMs=%d%n",
                        round, reserved[round], arenas[round], settled.orphanPools(), takenOver[round], ms));
            }
            System.out.print(
                    "[ThreadDeathTest] " + CTX + ", max " + maxAbandonMs + " ms to abandon, per round:\n" + trace);
            assertTrue(adopted > 0, CTX + ": orphan pools are adopted by the next round's threads\n" + trace);
            long max10 = 0, maxLater = 0;
            for (int r = 0; r < ROUNDS; r++) {
                if (r < 10) {
                    max10 = Math.max(max10, reserved[r]);
                } else {
                    maxLater = Math.max(maxLater, reserved[r]);
                }
            }
            long arenaSize = a.stats().arenaSize();
            assertTrue(
                    reserved[ROUNDS - 1] <= reserved[9] + 2 * arenaSize,
                    CTX + ": reserved bytes at round 30 vs round 10 (no growth with the round number)\n" + trace);
            assertTrue(
                    maxLater <= max10 + 2 * arenaSize,
                    CTX + ": reserved bytes of rounds 11..30 stay within those of rounds 1..10\n" + trace);

            for (Block b : transfer) {
                checkAndFree(a, b, () -> CTX + ": last transfer block seed " + b.seed());
            }
            frees += transfer.size();
            a.trim();
            var end = a.stats();
            String ectx = CTX + ": end: " + summary(end);
            assertConsistent(end, ectx);
            assertEquals(0, totalBlocksInUse(end), ectx);
            assertEquals(0, pendingRemoteFrees(end), ectx);
            assertEquals(0, end.orphanPools(), ectx);
            assertTrue(end.arenasCurrent() <= 1, ectx);
            assertEquals(mallocs, end.mallocs(), ectx);
            assertEquals(frees, end.frees(), ectx);
            assertEquals(mallocs, end.frees(), ectx);
            for (var h : end.heaps()) {
                assertTrue(h.shared(), () -> ectx + ": only shared heaps remain: " + h);
            }
            assertNull(end.maintenanceFailure(), ectx);
            assertNull(a.checkInvariants(), ectx);
        }
    }

    /**
     * The counters of a thread that has ended must be in every later snapshot: stats() adds the counters of gone
     * heaps, then those of live heaps; a heap abandoned in between (by a maintenance round, here forced by trim())
     * must not drop out of both. Threads that malloc once and die; a spinner thread checks every snapshot against the
     * number of threads already joined.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void countersOfDeadThreadsNeverDropOutOfASnapshot() throws Exception {
        int batches = 400, perBatch = 4;
        try (Allocator a = Allocator.create()) {
            AtomicLong joined = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong snapshots = new AtomicLong();
            AtomicReference<String> first = new AtomicReference<>();
            Workers spinner = new Workers(stop).start("stats-spinner", 1, i -> {
                long last = 0;
                while (!stop.get()) {
                    long j = joined.get();
                    var s = a.stats();
                    snapshots.incrementAndGet();
                    if (s.mallocs() < j || s.mallocs() < last) {
                        first.compareAndSet(
                                null,
                                "snapshot " + snapshots.get() + ": mallocs " + s.mallocs()
                                        + " but " + j + " threads that malloc'd once have ended (previous snapshot: "
                                        + last
                                        + "); " + summary(s));
                        stop.set(true);
                    }
                    last = s.mallocs();
                }
            });
            try {
                for (int b = 0; b < batches && !stop.get(); b++) {
                    Workers w =
                            new Workers(new AtomicBoolean()).start("short-" + b, perBatch, t -> a.free(a.malloc(32)));
                    w.join(10_000);
                    joined.addAndGet(perBatch);
                    a.trim(); // a maintenance round: abandons the dead heaps while the spinner takes snapshots
                }
            } finally {
                stop.set(true);
                spinner.join(10_000);
            }
            if (first.get() != null) {
                fail("a dead thread's counters dropped out of a snapshot taken while its heap was abandoned: "
                        + first.get());
            }
            var s = a.stats();
            assertEquals(joined.get(), s.mallocs(), summary(s));
            assertEquals(joined.get(), s.frees(), summary(s));
            System.out.println("[ThreadDeathTest] counters: " + snapshots.get() + " snapshots, " + joined.get()
                    + " threads, no drop");
        }
    }
}
