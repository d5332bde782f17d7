package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.fill;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Large blocks are recorded in address-hashed stripes and the C library is called with no lock held.
 * Threads allocate, grow, shrink, hand over (another thread frees) and free large blocks at once, every
 * block filled with a pattern checked before each realloc and free, while a statistics thread takes
 * snapshots; frees and reallocs of interior pointers are refused meanwhile. At the end the counts and the
 * reservation limit's own counter must be back to the arenas alone, and a (quiet) double free is refused.
 */
class LargeBlockConcurrencyTest {

    private static final long SEED = 0x1A46EL;
    private static final int THREADS = 4;
    private static final int OPS = 20_000;

    private record Block(long address, long size, long seed) {}

    @Test
    void concurrentLargeTrafficKeepsContentsAndCounts() throws Exception {
        System.out.println("LargeBlockConcurrencyTest seed " + Long.toHexString(SEED));
        try (Allocator a =
                Allocator.builder().purgeDelay(java.time.Duration.ZERO).build()) {
            ConcurrentLinkedQueue<Block> handoff = new ConcurrentLinkedQueue<>();
            AtomicLong mallocCalls = new AtomicLong();
            AtomicLong refused = new AtomicLong();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                final int id = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        run(a, new SplittableRandom(SEED + id), id, handoff, mallocCalls, refused);
                    } catch (Throwable e) {
                        failures.add(
                                new AssertionError("thread " + id + ", seed " + Long.toHexString(SEED) + ": " + e, e));
                    }
                }));
            }
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            AtomicLong snapshots = new AtomicLong();
            Thread statsThread = Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    while (!done.get()) {
                        TestSupport.assertConsistent(a.stats(), "snapshot during large-block traffic");
                        snapshots.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            start.countDown();
            for (Thread th : threads) {
                th.join();
            }
            done.set(true);
            statsThread.join();
            if (!failures.isEmpty()) {
                throw new AssertionError(failures.get(0));
            }
            Block b;
            while ((b = handoff.poll()) != null) {
                assertPattern(b.address(), b.size(), b.seed());
                a.free(b.address());
            }
            assertTrue(refused.get() > 0, "the interior-pointer frees must have been tried and refused");
            AllocatorStats s = a.stats();
            assertEquals(0, s.largeAllocations(), "no large block is live at the end");
            assertEquals(0, s.largeBytes(), "no large byte is counted at the end");
            assertEquals(mallocCalls.get(), s.mallocs(), "every malloc counted once, reallocs not");
            assertEquals(mallocCalls.get(), s.frees(), "every block freed once, by whichever thread");
            assertTrue(s.largeMallocs() >= mallocCalls.get(), "system allocations include the moving reallocs");
            assertEquals(s.arenaBytes(), s.reservedBytes(), "the reservation is back to the arenas alone");
            assertEquals(s.arenaBytes(), a.limitReservedBytes(), "the limit's counter is back to the arenas alone");
            assertTrue(snapshots.get() > 0, "statistics were taken during the traffic");

            // Quiet now: a double free of a large block is refused and changes nothing.
            long x = a.malloc(4000);
            a.free(x);
            AllocatorStats before = a.stats();
            assertThrows(IllegalArgumentException.class, () -> a.free(x));
            assertEquals(before.largeAllocations(), a.stats().largeAllocations());
            assertEquals(before.reservedBytes(), a.stats().reservedBytes());
        }
    }

    private static void run(
            Allocator a,
            SplittableRandom rnd,
            int id,
            ConcurrentLinkedQueue<Block> handoff,
            AtomicLong mallocCalls,
            AtomicLong refused) {
        List<Block> mine = new ArrayList<>();
        for (int op = 0; op < OPS; op++) {
            int what = rnd.nextInt(10);
            if (what < 4 || mine.isEmpty()) {
                long size = 513 + rnd.nextInt(64 * 1024);
                long seed = (long) id << 40 | op;
                long address = a.malloc(size);
                mallocCalls.incrementAndGet();
                fill(address, size, seed);
                mine.add(new Block(address, size, seed));
            } else if (what < 6) {
                int k = rnd.nextInt(mine.size());
                Block b = mine.get(k);
                assertPattern(b.address(), b.size(), b.seed());
                long size = 513 + rnd.nextInt(128 * 1024);
                long moved = a.realloc(b.address(), size);
                long kept = Math.min(size, b.size());
                assertPattern(moved, kept, b.seed());
                fill(moved, size, b.seed());
                mine.set(k, new Block(moved, size, b.seed()));
            } else if (what < 7) {
                handoff.add(mine.remove(mine.size() - 1)); // freed by whichever thread polls it
            } else if (what < 8) {
                Block b = handoff.poll();
                if (b != null) {
                    assertPattern(b.address(), b.size(), b.seed());
                    a.free(b.address());
                }
            } else if (what < 9) {
                Block b = mine.remove(rnd.nextInt(mine.size()));
                assertPattern(b.address(), b.size(), b.seed());
                a.free(b.address());
            } else if (!mine.isEmpty()) {
                // An interior pointer of a live large block is recorded nowhere: free and realloc of it are
                // refused while the other threads' traffic goes on, and the block is untouched.
                Block b = mine.get(rnd.nextInt(mine.size()));
                long inside = b.address() + 16 * (1 + rnd.nextInt(16));
                assertThrows(IllegalArgumentException.class, () -> a.free(inside));
                assertThrows(IllegalArgumentException.class, () -> a.realloc(inside, 1000));
                assertPattern(b.address(), b.size(), b.seed());
                refused.incrementAndGet();
            }
        }
        for (Block b : mine) {
            assertPattern(b.address(), b.size(), b.seed());
            a.free(b.address());
        }
    }
}
