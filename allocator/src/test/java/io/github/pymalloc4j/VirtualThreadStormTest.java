package io.github.pymalloc4j;

import static io.github.pymalloc4j.StressSupport.assertIdentity;
import static io.github.pymalloc4j.StressSupport.checkAndFree;
import static io.github.pymalloc4j.StressSupport.pendingRemoteFrees;
import static io.github.pymalloc4j.StressSupport.seedOf;
import static io.github.pymalloc4j.StressSupport.summary;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.fill;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pymalloc4j.StressSupport.Block;
import io.github.pymalloc4j.StressSupport.Workers;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 100 000 virtual threads, each allocating a few blocks: they share the striped heaps, so the number of heaps stays
 * small; blocks are handed between virtual threads through a shared queue. Every free by a virtual thread is a
 * remote free (no virtual thread owns a pool).
 */
class VirtualThreadStormTest {
    private static final long SEED = 0x5EED_0005L;
    private static final String CTX = "seed 0x" + Long.toHexString(SEED);
    private static final int THREADS = 100_000;
    private static final int PER_THREAD = 4; // 2 freed by the thread itself, 2 handed to the queue

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void hundredThousandVirtualThreads() throws Exception {
        int expectedShared = Math.max(2, 2 * Runtime.getRuntime().availableProcessors());
        try (Allocator a = Allocator.create()) {
            ConcurrentLinkedQueue<Block> q = new ConcurrentLinkedQueue<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong frees = new AtomicLong();
            AtomicInteger finished = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger maxHeaps = new AtomicInteger();
            AtomicInteger snapshots = new AtomicInteger();
            // a platform thread watching the heap count while the storm runs (it never allocates)
            Workers monitor = new Workers(stop).start("storm-monitor", 1, i -> {
                while (!stop.get() && finished.get() < THREADS && snapshots.get() < 2_000) {
                    var s = a.stats();
                    snapshots.incrementAndGet();
                    // the identity holds in every snapshot (the full check is for the quiet snapshots below)
                    assertIdentity(s, CTX + ": snapshot during the storm");
                    maxHeaps.accumulateAndGet(s.heaps().size(), Math::max);
                    for (var h : s.heaps()) {
                        assertTrue(h.shared(), () -> CTX + ": no virtual thread gets a heap of its own: " + h);
                    }
                    Thread.sleep(2);
                }
            });
            try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int v = 0; v < THREADS; v++) {
                    final int vv = v;
                    ex.submit(() -> {
                        try {
                            SplittableRandom r = new SplittableRandom(SEED * 7919 + vv);
                            long[] p = new long[PER_THREAD];
                            long[] u = new long[PER_THREAD];
                            long[] sd = new long[PER_THREAD];
                            for (int k = 0; k < PER_THREAD; k++) {
                                long size = 8 + r.nextInt(512 - 8 + 1);
                                p[k] = a.malloc(size);
                                u[k] = a.usableSize(p[k]);
                                assertTrue(u[k] >= size);
                                sd[k] = seedOf(SEED, 0, (long) vv * PER_THREAD + k);
                                fill(p[k], u[k], sd[k]);
                            }
                            if ((vv & 15) == 0) {
                                Thread.yield(); // let others run while this one holds blocks
                            }
                            for (int k = 0; k < PER_THREAD; k++) {
                                Block b = new Block(p[k], u[k], sd[k]);
                                if (k < PER_THREAD / 2) {
                                    checkAndFree(a, b, () -> CTX + ": virtual thread " + vv + " own block");
                                    frees.incrementAndGet();
                                } else {
                                    q.add(b);
                                }
                            }
                            for (int k = 0; k < PER_THREAD / 2; k++) { // free blocks of other virtual threads
                                Block b = q.poll();
                                if (b == null) {
                                    break;
                                }
                                checkAndFree(a, b, () -> CTX + ": virtual thread " + vv + " block seed " + b.seed());
                                frees.incrementAndGet();
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        } finally {
                            finished.incrementAndGet();
                        }
                    });
                }
            } // close() waits for every task
            stop.set(true);
            monitor.join(10_000);
            if (failure.get() != null) {
                throw new AssertionError(CTX + ": a virtual thread failed", failure.get());
            }
            assertEquals(THREADS, finished.get());
            var mid = a.stats();
            assertConsistent(mid, CTX + ": after the storm");
            assertTrue(
                    mid.heaps().size() <= expectedShared && mid.heaps().size() < 64,
                    CTX + ": " + mid.heaps().size() + " heaps, shared heaps " + expectedShared);
            assertTrue(
                    maxHeaps.get() <= expectedShared && maxHeaps.get() < 64,
                    CTX + ": at most " + maxHeaps.get() + " heaps during the storm, shared heaps " + expectedShared);
            assertTrue(snapshots.get() > 0, CTX);

            Block b;
            while ((b = q.poll()) != null) { // the rest, from a platform thread without a heap
                final Block bb = b;
                checkAndFree(a, bb, () -> CTX + ": leftover block seed " + bb.seed());
                frees.incrementAndGet();
            }
            long total = (long) THREADS * PER_THREAD;
            assertEquals(total, frees.get(), CTX + ": every block was freed");
            a.trim();
            var s = a.stats();
            String ctx =
                    CTX + ": end (" + snapshots.get() + " snapshots, max heaps " + maxHeaps.get() + "): " + summary(s);
            System.out.println("[VirtualThreadStormTest] " + ctx);
            assertConsistent(s, ctx);
            assertEquals(0, totalBlocksInUse(s), ctx);
            assertEquals(0, pendingRemoteFrees(s), ctx);
            assertEquals(0, s.bytesRequested(), ctx);
            assertEquals(total, s.mallocs(), ctx);
            assertEquals(total, s.frees(), ctx);
            assertEquals(total, s.remoteFrees(), "a virtual thread owns no pool: all its frees are remote; " + ctx);
            assertTrue(s.arenasCurrent() <= 1, ctx);
            assertTrue(s.heaps().size() <= expectedShared, ctx);
            assertEquals(0, s.doubleFreesDetected(), ctx);
            assertNull(s.maintenanceFailure(), ctx);
            assertNull(a.checkInvariants(), ctx);
        }
    }
}
