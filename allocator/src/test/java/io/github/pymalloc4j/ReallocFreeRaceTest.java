package io.github.pymalloc4j;

import static io.github.pymalloc4j.StressSupport.pendingRemoteFrees;
import static io.github.pymalloc4j.StressSupport.seedOf;
import static io.github.pymalloc4j.StressSupport.summary;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.fill;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.github.pymalloc4j.StressSupport.Workers;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
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
 * realloc(p, n) racing free(p), with n large enough that the block moves (to another pool, or to a large block). If
 * the free wins after realloc has made the new block, realloc fails, and the new block must not be leaked: once every
 * block the test still holds is freed, nothing may be in use, no large byte held, and the reservation limit's counter
 * must be back to the arenas alone. For every race exactly one of the two calls frees p: a call that fails throws
 * IllegalArgumentException, and each race where both return is one double free detected late.
 */
class ReallocFreeRaceTest {
    private static final long SEED = 0x5EED_0501L;

    /** What a run of races did; the last fields are filled in by {@link #checkEnd}. */
    static final class Figures {
        long races, reallocWon, freeWon, bothReturned, bothRefused, pooledMoves, largeMoves, inPlaceThenFreed;
        long verified;
        final List<String> failures = new ArrayList<>();

        void fail(String f) {
            if (failures.size() < 10) {
                failures.add(f);
            }
        }

        @Override
        public String toString() {
            return races + " races (" + pooledMoves + " pooled -> pooled, " + largeMoves
                    + " pooled -> large): realloc won "
                    + reallocWon + ", in place then freed " + inPlaceThenFreed + ", free won " + freeWon
                    + ", both returned " + bothReturned + ", both refused "
                    + bothRefused;
        }
    }

    private static boolean isRefusal(Throwable t) {
        return t instanceof IllegalArgumentException;
    }

    /** The outcome of one call: null if it returned normally, else what it threw. */
    private static Throwable attempt(ThrowingRunnable r) {
        try {
            r.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Throwable;
    }

    /**
     * Runs races until {@code races} are done or {@code deadline} (nanoTime) passes. Thread A allocates p (or takes
     * one that a third thread allocated, so neither racer owns it), fills it, and publishes it; A and B then call,
     * after a random spin each, one realloc(p, n) and the other free(p). The blocks the test holds afterwards (the
     * results of reallocs that returned) are freed at the end by {@link #checkEnd}.
     */
    static Figures run(Allocator a, long seed, long races, long deadline, boolean bVirtual) throws Exception {
        Figures f = new Figures();
        int n = (int) Math.min(races, 1_000_000);
        Random plan = new Random(seed);
        // per race: who reallocs (true: A), the new size, the old size, whether a third thread owns p, spins
        boolean[] aReallocs = new boolean[n], thirdOwner = new boolean[n];
        int[] newSize = new int[n], oldSize = new int[n], spinA = new int[n], spinB = new int[n];
        for (int k = 0; k < n; k++) {
            aReallocs[k] = plan.nextBoolean();
            thirdOwner[k] = plan.nextInt(3) == 0;
            oldSize[k] = 1 + plan.nextInt(256);
            int bs = SizeClass.blockSize(SizeClass.indexOf(oldSize[k]));
            newSize[k] = switch (plan.nextInt(3)) {
                case 0 -> 513 + plan.nextInt(3000); // moves to a large block
                case 1 -> 400 + plan.nextInt(113); // moves to another pool
                default -> bs * 3 / 4 + 1 + plan.nextInt(bs - bs * 3 / 4); // fits: in place for an owner
            };
            spinA[k] = plan.nextInt(64);
            spinB[k] = plan.nextInt(64);
        }
        AtomicLong slot = new AtomicLong();
        AtomicInteger go = new AtomicInteger(-1), done = new AtomicInteger(-1);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> bOutcome = new AtomicReference<>();
        AtomicLong bResult = new AtomicLong();
        List<long[]> held = new ArrayList<>(); // address, size, seed: blocks the test holds after the races
        ExecutorService third = Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name("rfr-third").unstarted(r));
        Workers w = new Workers(stop);
        Runnable bBody = () -> {
            try {
                for (int k = 0; k < n; k++) {
                    while (go.get() < k) {
                        if (stop.get()) {
                            return;
                        }
                        Thread.onSpinWait();
                    }
                    long p = slot.get();
                    for (int s = spinB[k]; s > 0; s--) {
                        Thread.onSpinWait();
                    }
                    final int kk = k;
                    if (aReallocs[k]) {
                        bOutcome.set(attempt(() -> a.free(p)));
                    } else {
                        bOutcome.set(attempt(() -> bResult.set(a.realloc(p, newSize[kk]))));
                    }
                    done.set(k);
                }
            } catch (Throwable e) {
                stop.set(true);
                bOutcome.set(e);
                done.set(Integer.MAX_VALUE);
            }
        };
        Thread b = bVirtual
                ? Thread.ofVirtual().name("rfr-B").start(bBody)
                : Thread.ofPlatform().name("rfr-B").start(bBody);
        try {
            w.start("rfr-A", 1, i -> {
                ArrayDeque<long[]> supply = new ArrayDeque<>();
                for (int k = 0; k < n && !stop.get() && System.nanoTime() < deadline; k++) {
                    long p, s = seedOf(seed, 1, k);
                    if (thirdOwner[k]) {
                        if (supply.isEmpty()) {
                            final int kk = k;
                            supply.addAll(third.submit(() -> {
                                        List<long[]> l = new ArrayList<>();
                                        for (int j = 0; j < 64; j++) {
                                            long sz = oldSize[Math.min(kk + j, n - 1)];
                                            long q = a.malloc(sz);
                                            l.add(new long[] {q, sz});
                                        }
                                        return l;
                                    })
                                    .get(30, TimeUnit.SECONDS));
                        }
                        long[] q = supply.poll();
                        p = q[0];
                        oldSize[k] = (int) q[1];
                    } else {
                        p = a.malloc(oldSize[k]);
                    }
                    fill(p, oldSize[k], s);
                    slot.set(p);
                    go.set(k);
                    for (int sp = spinA[k]; sp > 0; sp--) {
                        Thread.onSpinWait();
                    }
                    final int kk = k;
                    long[] aResult = new long[1];
                    Throwable aOutcome = aReallocs[k]
                            ? attempt(() -> aResult[0] = a.realloc(p, newSize[kk]))
                            : attempt(() -> a.free(p));
                    while (done.get() < k) {
                        if (stop.get()) {
                            return;
                        }
                        Thread.onSpinWait();
                    }
                    Throwable bo = bOutcome.get();
                    Throwable reallocOutcome = aReallocs[k] ? aOutcome : bo, freeOutcome = aReallocs[k] ? bo : aOutcome;
                    long moved = aReallocs[k] ? aResult[0] : bResult.get();
                    String ctx = "race " + k + " (p 0x" + Long.toHexString(p) + ", " + oldSize[k] + " -> " + newSize[k]
                            + " bytes, realloc by " + (aReallocs[k] ? "A" : "B") + ", free by "
                            + (aReallocs[k] ? "B" : "A")
                            + ", owner " + (thirdOwner[k] ? "a third thread" : "A") + ")";
                    f.races++;
                    if (newSize[k] > 512) {
                        f.largeMoves++;
                    } else {
                        f.pooledMoves++;
                    }
                    for (Throwable t : new Throwable[] {reallocOutcome, freeOutcome}) {
                        if (t != null && !isRefusal(t)) {
                            f.fail(ctx + ": a call threw " + t + " (only IllegalArgumentException may refuse it)");
                            stop.set(true);
                            return;
                        }
                    }
                    if (reallocOutcome == null && moved == p && freeOutcome == null) {
                        // in place (the owner's realloc), then the free freed the block at its unchanged address:
                        // one realloc and one free, in that order; nothing to hold, nothing to count
                        f.inPlaceThenFreed++;
                    } else if (reallocOutcome == null && moved == p) {
                        // in place frees nothing, so the free met a live block: it must not have been refused
                        f.fail(ctx + ": realloc stayed in place, yet the free of the live block was refused: "
                                + freeOutcome);
                        stop.set(true);
                        return;
                    } else if (reallocOutcome == null) {
                        // what realloc returns is the caller's live block, whatever the race did
                        long[] usable = new long[1];
                        Throwable u = attempt(() -> usable[0] = a.usableSize(moved));
                        if (u != null || usable[0] < newSize[k]) {
                            f.fail(ctx + ": realloc returned 0x" + Long.toHexString(moved)
                                    + ", which is not a live block"
                                    + " of " + newSize[k] + " bytes: " + (u != null ? u : "usable size " + usable[0])
                                    + (moved == p
                                            ? " (it has the old address: p's pool was given back and carved again"
                                                    + " for the new block, and realloc's free of the old address freed the new block)"
                                            : "")
                                    + "; the free " + (freeOutcome == null ? "returned too" : "threw " + freeOutcome));
                            stop.set(true);
                            return;
                        }
                        if (freeOutcome == null) {
                            f.bothReturned++;
                        } else {
                            f.reallocWon++;
                            // the free did nothing: the new block holds p's bytes (up to its old usable size)
                            long m = TestSupport.patternMismatch(moved, Math.min(oldSize[k], newSize[k]), s);
                            if (m >= 0) {
                                f.fail(ctx + ": realloc's new block 0x" + Long.toHexString(moved)
                                        + " does not hold the old contents, first bad byte at " + m);
                            }
                            f.verified++;
                        }
                        long qs = seedOf(seed, 2, k);
                        fill(moved, newSize[k], qs);
                        held.add(new long[] {moved, newSize[k], qs});
                    } else if (freeOutcome == null) {
                        f.freeWon++;
                        String msg = reallocOutcome.getMessage();
                        if (msg == null
                                || !msg.toLowerCase(Locale.ROOT).contains("double free")
                                        && !msg.toLowerCase(Locale.ROOT).contains("not allocated")) {
                            f.fail(ctx + ": the refused realloc does not say why: " + msg);
                        }
                    } else {
                        f.bothRefused++;
                        f.fail(ctx + ": both calls were refused: realloc " + reallocOutcome + ", free " + freeOutcome);
                    }
                }
                while (!supply.isEmpty()) { // blocks of the third thread not raced on
                    a.free(supply.poll()[0]);
                }
            });
            w.join(600_000);
        } finally {
            stop.set(true);
            w.abort();
            b.join(10_000);
            third.shutdownNow();
            third.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (done.get() == Integer.MAX_VALUE && bOutcome.get() != null) {
            throw new AssertionError("thread B failed", bOutcome.get());
        }
        for (long[] h : held) {
            assertPattern(h[0], h[1], h[2], () -> "a block realloc returned, before the final free");
            a.free(h[0]);
            f.verified++;
        }
        return f;
    }

    /**
     * The end state once every block the test held is freed: nothing in use or pending, no large block, the limit's
     * counter back to the arenas alone, each race where both calls returned counted as a double free detected.
     */
    static void checkEnd(Allocator a, Figures f, long doubleFreesBefore, String ctx) {
        a.trim();
        a.trim();
        var s = a.stats();
        String c = ctx + ": " + f + ": " + summary(s) + " largeAllocations=" + s.largeAllocations() + " largeBytes="
                + s.largeBytes() + " limitReserved=" + a.limitReservedBytes();
        if (!f.failures.isEmpty()) {
            throw new AssertionError(c + "\n  " + String.join("\n  ", f.failures));
        }
        long leakedBlocks = totalBlocksInUse(s), leakedBytes = s.bytesInAllocatedBlocks() + s.largeBytes();
        assertEquals(
                0,
                leakedBlocks + s.largeAllocations(),
                () -> c + ": blocks leaked by failed reallocs: " + leakedBlocks + " pooled, " + s.largeAllocations()
                        + " large, " + leakedBytes + " bytes");
        assertEquals(0, s.largeBytes(), c);
        assertEquals(0, pendingRemoteFrees(s), c);
        assertEquals(s.arenaBytes(), s.reservedBytes(), c);
        assertEquals(s.arenaBytes(), a.limitReservedBytes(), c + ": the limit's counter is back to the arenas alone");
        assertEquals(0, s.bytesRequested(), c + ": the requested bytes of the blocks in use add up to 0");
        assertEquals(
                f.bothReturned,
                s.doubleFreesDetected() - doubleFreesBefore,
                c + ": every race where both calls returned is one double free detected");
        assertConsistent(s, c);
        assertNull(a.checkInvariants(), c);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aReallocThatLosesTheRaceWithAFreeLeaksNothing() throws Exception {
        System.out.println("[ReallocFreeRaceTest] seed 0x" + Long.toHexString(SEED));
        // a long purge delay: pools stay where they are, the races are about realloc and free only
        try (Allocator a = Allocator.builder().purgeDelay(Duration.ofMinutes(1)).build()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            Figures f = run(a, SEED, 20_000, deadline, false);
            System.out.println("[ReallocFreeRaceTest] " + f);
            checkEnd(a, f, 0, "seed 0x" + Long.toHexString(SEED));
        }
    }
}
