package io.github.pymalloc4j;

import static io.github.pymalloc4j.AdversarialSupport.figure;
import static io.github.pymalloc4j.StressSupport.checkAndFree;
import static io.github.pymalloc4j.StressSupport.mallocFilled;
import static io.github.pymalloc4j.StressSupport.pendingRemoteFrees;
import static io.github.pymalloc4j.StressSupport.seedOf;
import static io.github.pymalloc4j.StressSupport.summary;
import static io.github.pymalloc4j.TestSupport.KiB;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pymalloc4j.StressSupport.Block;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Threads that die in every state the heap of a dead thread can be left in, for as long as the adversarial run
 * lasts: their blocks freed by themselves, by another thread while they live (pending remote frees in pools they
 * still hold) or after they died (orphans); wholly free arenas kept or not; small arenas so that one thread's pools
 * span several; trim() right after the deaths, from another thread while they die, or maintenance alone; purge delay
 * zero (memory back in the freeing call) or the default. No trim() may throw, maintenance must never fail, and once
 * everything is free and trimmed only one decommitted arena may remain.
 */
@Tag("adversarial")
class DeadThreadTrimAdversarialTest {
    private static final long SEED = 0x5EED_0201L;

    @Test
    void threadsDyingWithPoolsFreedByOthersNeverBreakTrimOrMaintenance() throws Exception {
        System.out.println("[DeadThreadTrimAdversarialTest] seed 0x" + Long.toHexString(SEED) + ", "
                + AdversarialSupport.seconds() + " s");
        long deadline = AdversarialSupport.deadline();
        long[] figures = new long[4]; // trials, threads died, blocks verified, trims
        long trial = 0;
        Throwable failure = null;
        try {
            do {
                trial(SEED + trial, figures);
                trial++;
            } while (System.nanoTime() < deadline);
        } catch (Throwable t) {
            failure = t;
        }
        System.out.println("[DeadThreadTrimAdversarialTest] " + figure(figures[0]) + " allocators, "
                + figure(figures[1])
                + " threads died, " + figure(figures[2]) + " blocks verified, " + figure(figures[3]) + " trims, "
                + (failure == null ? "no failure" : "failed in trial seed 0x" + Long.toHexString(SEED + trial)));
        if (failure != null) {
            throw new AssertionError(
                    "trial seed 0x" + Long.toHexString(SEED + trial) + " (base seed 0x" + Long.toHexString(SEED) + "): "
                            + failure,
                    failure);
        }
    }

    private static void awaitOrFail(CyclicBarrier b, AtomicReference<Throwable> failure, String ctx) throws Exception {
        try {
            b.await(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.BrokenBarrierException e) {
            throw new AssertionError(ctx + ": a dying thread failed", failure.get() != null ? failure.get() : e);
        }
    }

    private static void trial(long seed, long[] figures) throws Exception {
        Random r = new Random(seed);
        long poolSize = 4 * KiB << r.nextInt(3); // 4, 8, 16 KiB
        long arenaSize = Math.max(64 * KiB, poolSize * (4L << r.nextInt(4))); // 4 to 32 pools, at least 64 KiB
        // a third of the trials in the state of the original failure: one dying thread, all its blocks freed by
        // another thread while it lives, a wholly free arena kept, purge delay zero
        boolean exact = r.nextInt(3) == 0;
        boolean zero = exact || r.nextInt(4) != 0;
        String ctx = "seed 0x" + Long.toHexString(seed) + " (arena " + arenaSize + ", pool " + poolSize
                + ", purge delay " + (zero ? "0" : "default") + (exact ? ", the original failure's state" : "") + ")";
        ExecutorService freer = Executors.newSingleThreadExecutor(
                x -> Thread.ofPlatform().name("dtt-freer").unstarted(x));
        ExecutorService filler = Executors.newSingleThreadExecutor(
                x -> Thread.ofPlatform().name("dtt-filler").unstarted(x));
        Allocator.Builder b = Allocator.builder().arenaSize(arenaSize).poolSize(poolSize);
        Allocator a = (zero ? b.purgeDelay(Duration.ZERO) : b).build();
        try {
            int rounds = 2 + r.nextInt(4);
            List<Block> orphaned = new ArrayList<>(); // live past their thread's death, freed afterwards
            for (int round = 0; round < rounds; round++) {
                final int rr = round;
                int dying = exact ? 1 : 1 + r.nextInt(3);
                long roundSeed = r.nextLong();
                // a filler holds an arena's worth of blocks while the threads work, freed just before they die
                boolean fill = exact || r.nextBoolean();
                List<Block> filled = !fill
                        ? List.of()
                        : filler.submit(() -> {
                                    List<Block> l = new ArrayList<>();
                                    for (long i = 0; i < arenaSize / 512; i++) {
                                        l.add(mallocFilled(a, 512, seedOf(seed, 99, rr * 1_000_000L + i)));
                                    }
                                    return l;
                                })
                                .get(30, TimeUnit.SECONDS);
                CyclicBarrier freedByOthers = new CyclicBarrier(dying + 1);
                CyclicBarrier die = new CyclicBarrier(dying + 1);
                ConcurrentLinkedQueue<Block> survivors = new ConcurrentLinkedQueue<>();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                AtomicLong verified = new AtomicLong();
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < dying; t++) {
                    final int tt = t;
                    threads.add(Thread.ofPlatform()
                            .name("dtt-dying-" + round + "-" + t)
                            .start(() -> {
                                try {
                                    Random tr = new Random(roundSeed + tt);
                                    int classes = 1 + tr.nextInt(12);
                                    List<Block> own = new ArrayList<>(), remote = new ArrayList<>();
                                    long id = 0;
                                    for (int c = 0; c < classes; c++) {
                                        long size = tr.nextInt(8) == 0 ? 513 + tr.nextInt(4000) : 1 + tr.nextInt(512);
                                        int n = 1 + tr.nextInt(tr.nextBoolean() ? 8 : 200);
                                        for (int i = 0; i < n; i++) {
                                            Block blk = mallocFilled(a, size, seedOf(seed, rr * 8 + tt, id++));
                                            switch (exact ? 2 : tr.nextInt(4)) {
                                                case 0 -> own.add(blk);
                                                case 1 -> survivors.add(blk);
                                                default -> remote.add(blk);
                                            }
                                        }
                                    }
                                    freer.submit(() -> {
                                                for (Block blk : remote) {
                                                    checkAndFree(
                                                            a,
                                                            blk,
                                                            () -> ctx
                                                                    + ": freed by another thread while its owner lives");
                                                }
                                                return null;
                                            })
                                            .get(30, TimeUnit.SECONDS);
                                    for (Block blk : own) {
                                        checkAndFree(a, blk, () -> ctx + ": freed by its owner");
                                    }
                                    verified.addAndGet(own.size() + remote.size());
                                    freedByOthers.await(30, TimeUnit.SECONDS);
                                    die.await(30, TimeUnit.SECONDS);
                                } catch (Throwable e) {
                                    failure.compareAndSet(null, e);
                                    freedByOthers.reset();
                                    die.reset();
                                }
                            }));
                }
                awaitOrFail(freedByOthers, failure, ctx);
                filler.submit(() -> {
                            for (Block blk : filled) {
                                checkAndFree(a, blk, () -> ctx + ": filler block");
                            }
                            return null;
                        })
                        .get(30, TimeUnit.SECONDS);
                verified.addAndGet(filled.size());
                int how = r.nextInt(3);
                Thread trimmer = null;
                AtomicReference<Throwable> trimFailure = new AtomicReference<>();
                if (how == 1) { // trim() from another thread while the threads die
                    trimmer = Thread.ofPlatform().name("dtt-trimmer").start(() -> {
                        try {
                            for (int k = 0; k < 20; k++) {
                                a.trim();
                                figures[3]++;
                            }
                        } catch (Throwable e) {
                            trimFailure.set(e);
                        }
                    });
                }
                awaitOrFail(die, failure, ctx);
                for (Thread t : threads) {
                    t.join(30_000);
                    assertTrue(!t.isAlive(), ctx + ": " + t.getName() + " does not end");
                }
                figures[1] += dying;
                if (failure.get() != null) {
                    throw new AssertionError(ctx + ": a dying thread failed", failure.get());
                }
                if (trimmer != null) {
                    trimmer.join(30_000);
                }
                try {
                    if (how == 0) {
                        a.trim(); // at once, racing the maintenance thread to the dead heaps
                        figures[3]++;
                    } else if (how == 2) {
                        Thread.sleep(r.nextInt(40)); // maintenance alone
                    }
                } catch (Throwable e) {
                    trimFailure.compareAndSet(null, e);
                }
                if (trimFailure.get() != null) {
                    throw new AssertionError(
                            ctx + ", round " + round + ": trim() after threads died threw " + trimFailure.get() + "\n"
                                    + DeadThreadTrimTest.stackTrace(trimFailure.get()),
                            trimFailure.get());
                }
                var s = a.stats();
                assertNull(s.maintenanceFailure(), ctx + ", round " + round + ": " + summary(s));
                StressSupport.assertIdentity(s, ctx + ", round " + round);
                orphaned.addAll(survivors);
                // some of the orphans are freed now, some in a later round (other threads adopt their pools meanwhile)
                Collections.shuffle(orphaned, r);
                int now = r.nextInt(orphaned.size() + 1);
                List<Block> free = new ArrayList<>(orphaned.subList(0, now));
                orphaned.subList(0, now).clear();
                (r.nextBoolean() ? freer : filler)
                        .submit(() -> {
                            for (Block blk : free) {
                                checkAndFree(a, blk, () -> ctx + ": block of a dead thread");
                            }
                            return null;
                        })
                        .get(30, TimeUnit.SECONDS);
                figures[2] += verified.get() + free.size();
            }
            for (Block blk : orphaned) {
                checkAndFree(a, blk, () -> ctx + ": block of a dead thread, at the end");
            }
            figures[2] += orphaned.size();
            for (int k = 0; k < 2; k++) {
                try {
                    a.trim();
                } catch (Throwable e) {
                    throw new AssertionError(
                            ctx + ": trim() at the end threw " + e + "\n" + DeadThreadTrimTest.stackTrace(e), e);
                }
                figures[3]++;
            }
            var s = a.stats();
            String c = ctx + ": at the end: " + summary(s);
            assertNull(s.maintenanceFailure(), c);
            assertEquals(0, totalBlocksInUse(s), c);
            assertEquals(0, pendingRemoteFrees(s), c);
            assertEquals(0, s.orphanPools(), c);
            assertEquals(0, s.largeAllocations(), c);
            assertTrue(s.arenasCurrent() <= 1, c + ": at most one wholly free arena is kept");
            assertEquals(0, s.committedBytes(), c + ": and it is decommitted");
            assertEquals(s.arenaBytes(), s.reservedBytes(), c);
            assertEquals(s.reservedBytes(), a.limitReservedBytes(), c + ": the limit's own counter");
            assertConsistent(s, c);
            assertNull(a.checkInvariants(), c);
            figures[0]++;
        } finally {
            StressSupport.closeAfter(a, freer, filler);
        }
    }
}
