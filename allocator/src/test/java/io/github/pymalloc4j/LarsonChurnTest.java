package io.github.pymalloc4j;

import static io.github.pymalloc4j.StressSupport.awaitStats;
import static io.github.pymalloc4j.StressSupport.pendingRemoteFrees;
import static io.github.pymalloc4j.StressSupport.seedOf;
import static io.github.pymalloc4j.StressSupport.summary;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.fill;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pymalloc4j.StressSupport.Workers;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Larson-style churn: each round starts fresh worker threads that inherit the previous round's live slots (blocks
 * allocated by threads that are now dead); every operation verifies and frees a random slot's block and allocates a
 * replacement (8..1000 bytes, so large blocks are mixed in); the threads die at the end of the round. The memory
 * held must stay proportional to the live bytes: dead threads' pools are adopted or returned.
 */
class LarsonChurnTest {
    private static final long SEED = 0x5EED_0003L;
    private static final String CTX = "seed 0x" + Long.toHexString(SEED);
    private static final int ROUNDS = 30;
    private static final int THREADS = 2;
    private static final int SLOTS = 4000; // SLOTS / THREADS per thread
    private static final int OPS = 20_000; // per thread per round

    /** Live pooled blocks per class as the test holds them vs. as a snapshot counts them. */
    static String perClassDiff(AllocatorStats s, long[] addr, long[] size) {
        long[] mine = new long[32];
        for (int i = 0; i < addr.length; i++) {
            if (addr[i] != 0 && size[i] <= Allocator.SMALL_REQUEST_THRESHOLD) {
                mine[(int) (size[i] / 16 - 1)]++;
            }
        }
        StringBuilder sb = new StringBuilder("per class (held by the test / blocksInUse in stats):");
        for (var c : s.sizeClasses()) {
            long theirs = c.blocksInUse();
            if (theirs != mine[c.index()]) {
                sb.append(" class ")
                        .append(c.index())
                        .append(": ")
                        .append(mine[c.index()])
                        .append('/')
                        .append(theirs);
            }
        }
        return sb.toString();
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void roundsOfThreadsInheritingLiveBlocksOfDeadThreads() throws Exception {
        long[] addr = new long[SLOTS];
        long[] size = new long[SLOTS]; // bytes carrying the pattern: usable size (pooled) or requested (large)
        long[] seed = new long[SLOTS];
        long[] counts = new long[THREADS * 2]; // per thread: mallocs, frees (of the last round that wrote it)
        long mallocs = 0, frees = 0;
        long maxArenaBytes = 0, peakLivePooled = 0, peakLiveLarge = 0;
        StringBuilder trace = new StringBuilder();
        try (Allocator a = Allocator.create()) {
            long arenaSize = a.stats().arenaSize();
            for (int round = 0; round < ROUNDS; round++) {
                final int rr = round;
                AtomicBoolean stop = new AtomicBoolean();
                Workers w = new Workers(stop);
                try {
                    w.start("larson-r" + round, THREADS, t -> {
                        Random r = new Random(SEED * 31 + rr * THREADS + t);
                        int lo = t * (SLOTS / THREADS), n = SLOTS / THREADS;
                        long m = 0, f = 0;
                        for (int op = 0; op < OPS && !stop.get(); op++) {
                            int i = lo + r.nextInt(n);
                            if (addr[i] != 0) {
                                final int ii = i, oo = op;
                                assertPattern(
                                        addr[i],
                                        size[i],
                                        seed[i],
                                        () -> CTX + ": round " + rr + " thread " + t + " op " + oo + " slot " + ii);
                                a.free(addr[i]);
                                f++;
                            }
                            long req = 8 + r.nextInt(1000 - 8 + 1);
                            long p = a.malloc(req);
                            m++;
                            long u = req <= Allocator.SMALL_REQUEST_THRESHOLD ? a.usableSize(p) : req;
                            assertTrue(u >= req, CTX);
                            addr[i] = p;
                            size[i] = u;
                            seed[i] = seedOf(SEED, rr * THREADS + t, op);
                            fill(p, u, seed[i]);
                        }
                        counts[2 * t] = m;
                        counts[2 * t + 1] = f;
                    });
                    w.join(60_000); // the threads are dead after this
                } finally {
                    w.abort();
                }
                for (int t = 0; t < THREADS; t++) {
                    mallocs += counts[2 * t];
                    frees += counts[2 * t + 1];
                }
                long livePooled = 0, liveLarge = 0, livePooledBlocks = 0, liveLargeBlocks = 0;
                for (int i = 0; i < SLOTS; i++) {
                    if (addr[i] == 0) {
                        continue;
                    }
                    if (size[i] <= Allocator.SMALL_REQUEST_THRESHOLD) {
                        livePooled += size[i];
                        livePooledBlocks++;
                    } else {
                        liveLarge += size[i];
                        liveLargeBlocks++;
                    }
                }
                var s = a.stats();
                String ctx = CTX + ": after round " + round + ": " + summary(s);
                assertConsistent(s, ctx);
                // blocks freed by this round's threads into pools of other (dead) heaps may still be pending
                assertTrue(
                        s.bytesInAllocatedBlocks() + s.bytesPendingRemoteFree() >= livePooled,
                        ctx + ": live + pending bytes cover the " + livePooled + " live bytes the test holds");
                assertEquals(liveLargeBlocks, s.largeAllocations(), ctx);
                assertEquals(liveLarge, s.largeBytes(), ctx);
                if (round % 5 == 4) {
                    // let maintenance abandon the dead heaps and collect everything pending: then counts are exact
                    final long lp = livePooled, lpb = livePooledBlocks, m = mallocs, f = frees;
                    var e = awaitStats(
                            a,
                            3_000,
                            x -> pendingRemoteFrees(x) == 0
                                    && totalBlocksInUse(x) == lpb
                                    && x.bytesInAllocatedBlocks() == lp
                                    && x.mallocs() == m
                                    && x.frees() == f);
                    String ectx = CTX + ": settled after round " + round + ": " + summary(e) + "\n"
                            + perClassDiff(e, addr, size);
                    assertConsistent(e, ectx);
                    assertEquals(0, pendingRemoteFrees(e), ectx);
                    assertEquals(livePooledBlocks, totalBlocksInUse(e), ectx);
                    assertEquals(livePooled, e.bytesInAllocatedBlocks(), ectx);
                    assertEquals(mallocs, e.mallocs(), ectx);
                    assertEquals(frees, e.frees(), ectx);
                }
                maxArenaBytes = Math.max(maxArenaBytes, s.arenaBytes());
                peakLivePooled = Math.max(peakLivePooled, livePooled);
                peakLiveLarge = Math.max(peakLiveLarge, liveLarge);
                trace.append(String.format(
                        "r%d: arenas=%d livePooled=%d orphans=%d heaps=%d%n",
                        round,
                        s.arenasCurrent(),
                        livePooled,
                        s.orphanPools(),
                        s.heaps().size()));
            }
            System.out.print("[LarsonChurnTest] " + CTX + ", per round:\n" + trace);
            long bound = 8 * peakLivePooled + 4 * arenaSize;
            System.out.println("[LarsonChurnTest] max arenaBytes " + maxArenaBytes + ", peak live pooled "
                    + peakLivePooled + ", bound " + bound);
            assertTrue(
                    maxArenaBytes < bound,
                    CTX + ": max arenaBytes " + maxArenaBytes + " over " + ROUNDS
                            + " rounds must stay below 8 x peak live pooled bytes (" + peakLivePooled + ") + 4 arenas\n"
                            + trace);

            // the main thread (no heap of its own) frees everything left: remote frees into orphans
            for (int i = 0; i < SLOTS; i++) {
                if (addr[i] != 0) {
                    final int ii = i;
                    assertPattern(addr[i], size[i], seed[i], () -> CTX + ": final free of slot " + ii);
                    a.free(addr[i]);
                    frees++;
                }
            }
            a.trim();
            var s = a.stats();
            String ctx = CTX + ": end: " + summary(s);
            assertConsistent(s, ctx);
            assertEquals(0, totalBlocksInUse(s), ctx);
            assertEquals(0, pendingRemoteFrees(s), ctx);
            assertEquals(0, s.largeAllocations(), ctx);
            assertEquals(0, s.largeBytes(), ctx);
            assertEquals(0, s.orphanPools(), "no orphan pool is left after trim: " + ctx);
            assertEquals(0, s.orphanedBlocksInUse(), ctx);
            assertTrue(s.arenasCurrent() <= 1, ctx);
            assertEquals(mallocs, s.mallocs(), ctx);
            assertEquals(frees, s.frees(), ctx);
            assertEquals(mallocs, s.frees(), ctx);
            assertEquals(0, s.doubleFreesDetected(), ctx);
            for (var h : s.heaps()) {
                assertTrue(h.shared(), () -> CTX + ": every worker is dead, its heap gone: " + h);
            }
            assertNull(s.maintenanceFailure(), ctx);
            assertNull(a.checkInvariants(), ctx);
        }
    }
}
