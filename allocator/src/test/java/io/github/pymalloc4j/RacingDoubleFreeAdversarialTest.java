package io.github.pymalloc4j;

import static io.github.pymalloc4j.StressSupport.isDoubleFree;
import static io.github.pymalloc4j.StressSupport.summary;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pymalloc4j.StressSupport.Block;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Racing double frees of every kind while pools empty, go back and are carved again for other classes: two
 * non-owner threads free the same block at once, or the owner and a non-owner do. The owner holds only the raced
 * block, so its pool empties at every race and (purge delay zero, maintenance collecting from the idle owner)
 * can retire in the middle of it; between races a churning thread that allocates every class carves it again.
 * The churning thread holds its allocations back while a race is in flight: a free that first looks at its
 * block after the block was handed out again is, as in C, a free of the new block (docs/architecture.md). Per race one free must succeed; the other throws "double free" or,
 * when it raced past every check, returns and is counted in {@code doubleFreesDetected}, exactly once. The churning
 * thread's blocks carry patterns that are checked before every free and in sweeps, and no address may be live
 * twice: a late free that freed someone else's block shows as a corrupt pattern or a duplicate address.
 */
@Tag("adversarial")
class RacingDoubleFreeAdversarialTest {
    private static final long SEED = 0xD0B1EF7EEL;
    private static final long[] SIZES = {16, 48, 96, 208, 512};

    @Test
    @Timeout(value = 900, unit = TimeUnit.SECONDS)
    void racingDoubleFreesNeverFreeAnotherBlockAndAreCountedWhenTheyReturn() throws Exception {
        long deadline = AdversarialSupport.deadline();
        String ctx = "seed 0x" + Long.toHexString(SEED);
        try (Allocator a = Allocator.builder().purgeDelay(Duration.ZERO).build()) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<String> failure = new AtomicReference<>();
            AtomicLong target = new AtomicLong();
            AtomicInteger go = new AtomicInteger();
            AtomicInteger kind = new AtomicInteger(); // 0: the two racers; 1: the owner and racer 1
            AtomicInteger[] done = {new AtomicInteger(), new AtomicInteger()};
            AtomicInteger[] returned = {new AtomicInteger(), new AtomicInteger()};
            AtomicLong churnChecked = new AtomicLong();
            AtomicBoolean racing = new AtomicBoolean(); // set by the owner from before go until both racers are done
            AtomicBoolean churnInMalloc = new AtomicBoolean();
            long[] figures = new long[4]; // races, both returned, owner-remote races, recarves seen

            List<Thread> threads = new ArrayList<>();
            for (int id = 0; id < 2; id++) {
                int me = id;
                threads.add(Thread.ofPlatform().name("racer-" + id).start(() -> {
                    for (int r = 1; ; r++) {
                        while (go.get() < r) {
                            if (stop.get()) {
                                return;
                            }
                            Thread.onSpinWait();
                        }
                        if (me == 0 || kind.get() == 0) {
                            try {
                                a.free(target.get());
                                returned[me].incrementAndGet();
                            } catch (IllegalArgumentException e) {
                                if (!isDoubleFree(e)) {
                                    failure.compareAndSet(null, "racer " + me + ": " + e);
                                }
                            } catch (Throwable t) {
                                failure.compareAndSet(null, "racer " + me + ": " + t);
                            }
                        }
                        done[me].set(r);
                    }
                }));
            }
            threads.add(Thread.ofPlatform().name("churn").start(() -> {
                SplittableRandom rnd = new SplittableRandom(SEED ^ 1);
                Map<Long, Block> live = new HashMap<>();
                List<Block> order = new ArrayList<>();
                long n = 0;
                try {
                    while (!stop.get()) {
                        boolean grow = order.size() < 1500 && (order.isEmpty() || rnd.nextInt(3) != 0);
                        if (grow) {
                            churnInMalloc.set(true); // Dekker with the owner's racing flag: no malloc during a race
                            if (racing.get()) {
                                churnInMalloc.set(false);
                                grow = false;
                                if (order.isEmpty()) {
                                    Thread.yield();
                                    continue;
                                }
                            }
                        }
                        if (grow) {
                            long size = rnd.nextInt(50) == 0 ? 600 + rnd.nextInt(3000) : 1 + rnd.nextInt(512);
                            Block b;
                            try {
                                b = StressSupport.mallocFilled(a, size, SEED ^ ++n);
                            } finally {
                                churnInMalloc.set(false);
                            }
                            Block was = live.put(b.address(), b);
                            if (was != null) {
                                failure.compareAndSet(
                                        null,
                                        "0x" + Long.toHexString(b.address())
                                                + " handed out while still live (a racing double free freed it)");
                                return;
                            }
                            order.add(b);
                        } else {
                            Block b = order.set(rnd.nextInt(order.size()), order.getLast());
                            order.removeLast();
                            live.remove(b.address());
                            b.check(() -> ctx + ": churn block before free");
                            a.free(b.address());
                            churnChecked.incrementAndGet();
                        }
                        if (n % 4096 == 0) {
                            for (Block b : order) {
                                b.check(() -> ctx + ": churn sweep");
                            }
                            churnChecked.addAndGet(order.size());
                        }
                    }
                    for (Block b : order) {
                        b.check(() -> ctx + ": churn block at the end");
                        a.free(b.address());
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, "churn: " + t);
                }
            }));

            long poolSize = a.stats().poolSize();
            Thread owner = Thread.ofPlatform().name("owner").start(() -> {
                SplittableRandom rnd = new SplittableRandom(SEED);
                int[] seen = {0, 0};
                long lastPool = 0;
                long lastSize = 0;
                try {
                    for (int r = 1; System.nanoTime() < deadline && failure.get() == null; r++) {
                        long size = SIZES[rnd.nextInt(SIZES.length)];
                        Block x = StressSupport.mallocFilled(a, size, SEED ^ -r);
                        long pool = x.address() & -poolSize;
                        if (pool == lastPool && size != lastSize) {
                            figures[3]++; // the pool of the last race came back carved for another class
                        }
                        lastPool = pool;
                        lastSize = size;
                        int k = rnd.nextInt(2);
                        kind.set(k);
                        target.set(x.address());
                        racing.set(true);
                        while (churnInMalloc.get()) {
                            Thread.onSpinWait();
                        }
                        go.set(r);
                        boolean mine = false;
                        if (k == 1) {
                            try {
                                a.free(x.address());
                                mine = true;
                            } catch (IllegalArgumentException e) {
                                if (!isDoubleFree(e)) {
                                    failure.compareAndSet(null, "owner: " + e);
                                }
                            }
                        }
                        while (done[0].get() < r || done[1].get() < r) {
                            if (failure.get() != null) {
                                return;
                            }
                            Thread.onSpinWait();
                        }
                        racing.set(false);
                        int theirs = returned[0].get() + returned[1].get() - seen[0] - seen[1];
                        seen[0] = returned[0].get();
                        seen[1] = returned[1].get();
                        int frees = theirs + (mine ? 1 : 0);
                        figures[0]++;
                        figures[2] += k;
                        if (frees == 0) {
                            failure.compareAndSet(
                                    null,
                                    "race " + r + ": every free of 0x" + Long.toHexString(x.address())
                                            + " was refused");
                        } else if (frees == 2) {
                            figures[1]++;
                        }
                        if (r % 64 == 0) {
                            a.trim();
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, "owner: " + t);
                }
            });
            owner.join();
            stop.set(true);
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(60));
            }
            String summary = ctx + ": " + AdversarialSupport.figure(figures[0]) + " racing double frees ("
                    + AdversarialSupport.figure(figures[2]) + " owner against remote), "
                    + AdversarialSupport.figure(figures[1]) + " where both frees returned, "
                    + AdversarialSupport.figure(figures[3]) + " races in a pool carved again for another class, "
                    + AdversarialSupport.figure(churnChecked.get()) + " churn blocks verified";
            System.out.println("[RacingDoubleFreeAdversarialTest] " + summary);
            assertNull(failure.get(), summary);
            assertTrue(figures[0] > 0, summary);
            a.trim();
            var s = a.stats();
            assertConsistent(s, summary);
            assertEquals(0, totalBlocksInUse(s), summary + "; " + summary(s));
            assertEquals(0, s.largeAllocations(), summary + "; " + summary(s));
            assertEquals(
                    figures[1],
                    s.doubleFreesDetected(),
                    "every double free that returned is counted once: " + summary + "; " + summary(s));
            assertNull(a.checkInvariants(), summary);
        }
    }
}
