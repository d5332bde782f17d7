package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.KiB;
import static io.github.pymalloc4j.TestSupport.MiB;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.fill;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Threads allocate, realloc and free large blocks (plain, zeroed and aligned up to 1 MiB) against a small
 * limit, so that many calls are refused. A sampling thread reads the limit's counter all along: it never
 * exceeds the limit. At checkpoints where every worker waits, the counter is at least what the C library
 * says the live blocks hold; at the end, with everything freed, it is 0.
 */
class LargeBlockLimitContentionTest {

    private static final long BASE_SEED = 0xC0_17E57L;
    private static final int THREADS = 3;
    private static final long LIMIT = 24 * MiB;
    private static final long[] ALIGNMENTS = {32, 64, 4096, 64 * KiB, MiB};

    private record Block(long address, long size, long seed) {}

    @Test
    @Tag("adversarial")
    void threadsRacingForALimitNeverPushItsCounterPastIt() throws Exception {
        long seconds = Long.getLong("pymalloc4j.adversarial.seconds", 2);
        System.out.println("LargeBlockLimitContentionTest seed " + Long.toHexString(BASE_SEED) + ", " + seconds + " s");
        try (Allocator a = Allocator.builder().maxReservedBytes(LIMIT).build()) {
            List<List<Block>> lists = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                lists.add(new ArrayList<>());
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicInteger epoch = new AtomicInteger();
            AtomicInteger completed = new AtomicInteger();
            AtomicLong checkpoints = new AtomicLong();
            CyclicBarrier barrier = new CyclicBarrier(THREADS, () -> {
                try {
                    long usable = 0;
                    long requested = 0;
                    for (List<Block> l : lists) {
                        for (Block b : l) {
                            usable += LargeBlockRealSizeLimitTest.cUsable(b.address());
                            requested += b.size();
                        }
                    }
                    long counted = a.limitReservedBytes();
                    AllocatorStats s = a.stats();
                    if (counted < usable || counted > LIMIT || s.largeBytes() != requested || s.arenaBytes() != 0) {
                        throw new AssertionError("checkpoint " + checkpoints.get() + ": the limit counts " + counted
                                + " bytes for large blocks of " + usable + " usable bytes in C (" + requested
                                + " requested, stats say " + s.largeBytes() + ", arenas " + s.arenaBytes() + ")");
                    }
                    checkpoints.incrementAndGet();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    completed.set(epoch.get());
                }
            });
            AtomicBoolean stop = new AtomicBoolean();
            long[] ops = new long[THREADS];
            long[] refused = new long[THREADS];
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                final int id = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        work(
                                a,
                                new SplittableRandom(BASE_SEED + id),
                                id,
                                lists.get(id),
                                stop,
                                epoch,
                                barrier,
                                ops,
                                refused);
                    } catch (Throwable e) {
                        failure.compareAndSet(
                                null,
                                new AssertionError(
                                        "thread " + id + ", seed " + Long.toHexString(BASE_SEED + id) + ": " + e, e));
                        barrier.reset();
                    }
                }));
            }
            AtomicLong samples = new AtomicLong();
            AtomicLong maxSeen = new AtomicLong();
            Thread sampler = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    long r = a.limitReservedBytes();
                    if (r > LIMIT || r < 0) {
                        failure.compareAndSet(
                                null, new AssertionError("the limit's counter read " + r + " > " + LIMIT));
                    }
                    maxSeen.accumulateAndGet(r, Math::max);
                    if ((samples.incrementAndGet() & 255) == 0) {
                        Thread.yield();
                    }
                }
            });
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < deadline && failure.get() == null) {
                Thread.sleep(Math.min(200, seconds * 100));
                int e = epoch.incrementAndGet();
                while (completed.get() != e && failure.get() == null) {
                    Thread.sleep(1);
                }
            }
            stop.set(true);
            for (Thread th : threads) {
                th.join();
            }
            sampler.join();
            if (failure.get() != null) {
                throw new AssertionError("seed " + Long.toHexString(BASE_SEED) + ": " + failure.get(), failure.get());
            }
            long totalOps = 0;
            long totalRefused = 0;
            for (int t = 0; t < THREADS; t++) {
                totalOps += ops[t];
                totalRefused += refused[t];
            }
            for (List<Block> l : lists) {
                for (Block b : l) {
                    assertPattern(b.address(), b.size(), b.seed());
                    a.free(b.address());
                }
            }
            AllocatorStats s = a.stats();
            System.out.println("LargeBlockLimitContentionTest: " + totalOps + " calls, " + totalRefused
                    + " refused with OutOfMemoryError; " + samples.get() + " samples of the counter, at most "
                    + maxSeen.get()
                    + " of " + LIMIT + "; " + checkpoints.get() + " checkpoints; counter at the end "
                    + a.limitReservedBytes());
            assertTrue(totalRefused > 0, "the limit was reached");
            assertTrue(checkpoints.get() > 0, "checkpoints were taken");
            assertEquals(0, a.limitReservedBytes(), "the counter is back to 0");
            assertEquals(0, s.largeAllocations());
            assertEquals(0, s.largeBytes());
        }
    }

    private static void work(
            Allocator a,
            SplittableRandom rnd,
            int id,
            List<Block> mine,
            AtomicBoolean stop,
            AtomicInteger epoch,
            CyclicBarrier barrier,
            long[] ops,
            long[] refused)
            throws Exception {
        int seen = 0;
        long n = 0;
        while (!stop.get()) {
            int e = epoch.get();
            if (e != seen) {
                seen = e;
                barrier.await(30, TimeUnit.SECONDS);
            }
            n++;
            int what = rnd.nextInt(10);
            try {
                if (what < 5 && mine.size() < 12 || mine.isEmpty()) {
                    long size = rnd.nextInt(3) == 0 ? 513 + rnd.nextInt(64 * 1024) : 513 + rnd.nextLong(2 * MiB);
                    long seed = (long) id << 40 | n;
                    int how = rnd.nextInt(3);
                    long p = how == 0
                            ? a.malloc(size)
                            : how == 1
                                    ? a.calloc(1, size)
                                    : a.mallocAligned(size, ALIGNMENTS[rnd.nextInt(ALIGNMENTS.length)]);
                    fill(p, size, seed);
                    mine.add(new Block(p, size, seed));
                } else if (what < 7) {
                    int k = rnd.nextInt(mine.size());
                    Block b = mine.get(k);
                    long size = what == 5 ? 513 + rnd.nextLong(3 * MiB) : Math.max(513, b.size() - b.size() / 8);
                    long q;
                    try {
                        q = a.realloc(b.address(), size);
                    } catch (OutOfMemoryError oom) {
                        assertPattern(
                                b.address(), b.size(), b.seed(), () -> "a refused realloc left the block as it was");
                        throw oom;
                    }
                    assertPattern(q, Math.min(size, b.size()), b.seed());
                    fill(q, size, b.seed());
                    mine.set(k, new Block(q, size, b.seed()));
                } else {
                    Block b = mine.remove(rnd.nextInt(mine.size()));
                    assertPattern(b.address(), b.size(), b.seed());
                    a.free(b.address());
                }
            } catch (OutOfMemoryError oom) {
                refused[id]++;
                if (!mine.isEmpty()) {
                    Block b = mine.remove(rnd.nextInt(mine.size()));
                    a.free(b.address());
                }
            }
        }
        ops[id] = n;
    }
}
