package io.github.pymalloc4j;

import static io.github.pymalloc4j.StressSupport.closeAfter;
import static io.github.pymalloc4j.StressSupport.isDoubleFree;
import static io.github.pymalloc4j.StressSupport.mallocFilled;
import static io.github.pymalloc4j.StressSupport.pendingRemoteFrees;
import static io.github.pymalloc4j.StressSupport.seedOf;
import static io.github.pymalloc4j.StressSupport.summary;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertNoOverlap;
import static io.github.pymalloc4j.TestSupport.assertSameFingerprint;
import static io.github.pymalloc4j.TestSupport.assertThrowsWithMessage;
import static io.github.pymalloc4j.TestSupport.fingerprint;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pymalloc4j.StressSupport.Block;
import io.github.pymalloc4j.StressSupport.Workers;
import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Double frees and bad pointers coming from threads other than the owner: they must throw (or, for a double free
 * that raced past the check, be counted in doubleFreesDetected) and never corrupt the allocator.
 */
class RemoteDoubleFreeTest {
    private static final long SEED = 0x5EED_0007L;
    private static final String CTX = "seed 0x" + Long.toHexString(SEED);

    private static ExecutorService thread(String name) {
        return Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name(name).unstarted(r));
    }

    private static <T> T on(ExecutorService ex, Callable<T> task) throws Exception {
        try {
            return ex.submit(task).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw (Error) e.getCause();
        }
    }

    /**
     * (a) Two non-owner threads free the same blocks at the same moment (CyclicBarrier), while a third thread trims in
     * a loop (so that remote frees get collected in the middle of the races). Per block: exactly one free succeeds and
     * the other throws "double free", or both return and the late one is counted in doubleFreesDetected when
     * collected. The owner is idle during the races and keeps an anchor block, so its pool stays in use.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void twoThreadsFreeTheSameBlocksConcurrently() throws Exception {
        int reps = 1000, k = 64;
        ExecutorService owner = thread("df-owner");
        Allocator a = Allocator.create();
        try {
            Block anchor = on(owner, () -> mallocFilled(a, 48, seedOf(SEED, 9, 0)));
            AtomicReference<List<Block>> current = new AtomicReference<>();
            AtomicIntegerArray ok = new AtomicIntegerArray(2 * k);
            AtomicInteger otherMessages = new AtomicInteger();
            AtomicReference<String> otherMessage = new AtomicReference<>();
            CyclicBarrier start = new CyclicBarrier(3), end = new CyclicBarrier(3);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicBoolean racing = new AtomicBoolean();
            AtomicLong trims = new AtomicLong();
            Workers racers = new Workers(stop);
            long successes = 0, both = 0, idSeq = 1;
            try {
                racers.start("df-racer", 2, t -> {
                    for (int rep = 0; rep < reps && !stop.get(); rep++) {
                        start.await(30, TimeUnit.SECONDS);
                        List<Block> blocks = current.get();
                        for (int i = 0; i < blocks.size(); i++) {
                            try {
                                a.free(blocks.get(i).address());
                                ok.set(t * k + i, 1);
                            } catch (IllegalArgumentException e) {
                                ok.set(t * k + i, 0);
                                if (!isDoubleFree(e)) {
                                    otherMessages.incrementAndGet();
                                    otherMessage.compareAndSet(null, e.getMessage());
                                }
                            }
                        }
                        end.await(30, TimeUnit.SECONDS);
                    }
                });
                racers.start("df-trimmer", 1, t -> {
                    while (!stop.get()) {
                        if (racing.get()) {
                            a.trim();
                            trims.incrementAndGet();
                        } else {
                            Thread.onSpinWait();
                        }
                    }
                });
                for (int rep = 0; rep < reps; rep++) {
                    final long base = idSeq;
                    List<Block> blocks = on(owner, () -> {
                        List<Block> l = new ArrayList<>();
                        for (int i = 0; i < k; i++) {
                            l.add(mallocFilled(a, 33 + (i % 16), seedOf(SEED, 1, base + i)));
                        }
                        return l;
                    });
                    idSeq += k;
                    for (Block b : blocks) {
                        b.check(() -> CTX + ": block before the race");
                    }
                    current.set(blocks);
                    racing.set(true);
                    start.await(30, TimeUnit.SECONDS);
                    end.await(30, TimeUnit.SECONDS);
                    racing.set(false);
                    // collect late remote bits while their blocks are still free (the owner is idle), before the owner
                    // allocates them again: see ownerAndAnotherThreadFreeTheSameBlockConcurrently for what happens if
                    // not
                    a.trim();
                    for (int i = 0; i < k; i++) {
                        int n = ok.get(i) + ok.get(k + i);
                        final int ii = i, rr = rep;
                        assertTrue(n >= 1, () -> CTX + ": rep " + rr + " block " + ii + ": both frees were refused");
                        successes += n;
                        if (n == 2) {
                            both++;
                        }
                    }
                }
            } finally {
                stop.set(true);
                racers.abort();
            }
            racers.join(10_000);
            assertEquals(0, otherMessages.get(), CTX + ": a refused free says \"double free\": " + otherMessage.get());
            a.trim(); // the owner is idle: every remote free, late ones included, is collected now
            var s = a.stats();
            String ctx = CTX + ": " + successes + " successful frees of " + (long) reps * k + " blocks, " + both
                    + " races where both returned, " + trims.get() + " trims: " + summary(s);
            System.out.println("[RemoteDoubleFreeTest] " + ctx);
            assertConsistent(s, ctx);
            assertEquals(1, totalBlocksInUse(s), "only the anchor is live: " + ctx);
            assertEquals(0, pendingRemoteFrees(s), ctx);
            assertEquals(both, s.doubleFreesDetected(), "every double free that returned was detected: " + ctx);
            assertEquals((long) reps * k, s.remoteFrees(), ctx);
            assertEquals((long) reps * k + 1, s.mallocs(), ctx);
            assertEquals((long) reps * k, s.frees(), ctx);

            // no corruption: the owner gets every block once
            int n = 400;
            List<Block> again = on(owner, () -> {
                List<Block> l = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    l.add(mallocFilled(a, 33 + (i % 16), seedOf(SEED, 2, i)));
                }
                return l;
            });
            again.add(anchor);
            long[] addr = new long[again.size()], len = new long[again.size()];
            Set<Long> distinct = new HashSet<>();
            for (int i = 0; i < again.size(); i++) {
                addr[i] = again.get(i).address();
                len[i] = again.get(i).size();
                distinct.add(addr[i]);
            }
            assertEquals(again.size(), distinct.size(), CTX + ": each block handed out once");
            assertNoOverlap(addr, len, addr.length, CTX);
            on(owner, () -> {
                for (Block b : again) {
                    b.check(() -> CTX + ": after the races, block seed " + b.seed());
                    a.free(b.address());
                }
                return null;
            });
            a.trim();
            var e = a.stats();
            assertConsistent(e, CTX + ": end");
            assertEquals(0, totalBlocksInUse(e), summary(e));
            assertEquals(e.mallocs(), e.frees(), summary(e));
            assertNull(a.checkInvariants(), CTX);
        } finally {
            closeAfter(a, owner);
        }
    }

    /**
     * (a) as it happens in practice: the owner frees a block while another thread frees the same block. One of the two
     * must be refused (or the double free counted), and the next block the owner allocates, which is that block again
     * (LIFO), must be a normal live block that the owner can free.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void ownerAndAnotherThreadFreeTheSameBlockConcurrently() throws Exception {
        int reps = 40_000; // spin handoffs: keep it short on a contended 2-core machine
        try (Allocator a = Allocator.builder().purgeDelay(Duration.ofMinutes(1)).build()) {
            AtomicLong slot = new AtomicLong();
            AtomicInteger go = new AtomicInteger(), done = new AtomicInteger();
            AtomicInteger racerOk = new AtomicInteger();
            AtomicReference<String> failure = new AtomicReference<>();
            AtomicBoolean stop = new AtomicBoolean();
            long[] result = new long[3]; // races, both returned, successes
            Workers w = new Workers(stop);
            try {
                w.start("race-racer", 1, t -> {
                    for (int r = 1; r <= reps && !stop.get(); r++) {
                        while (go.get() < r) {
                            if (stop.get()) {
                                return;
                            }
                            Thread.onSpinWait();
                        }
                        try {
                            a.free(slot.get());
                            racerOk.incrementAndGet();
                        } catch (IllegalArgumentException e) {
                            if (!isDoubleFree(e)) {
                                failure.compareAndSet(null, "racer: " + e);
                            }
                        }
                        done.set(r);
                    }
                });
                w.start("race-owner", 1, t -> {
                    long anchor = a.malloc(48); // keeps the pool in use
                    int prevOk = 0;
                    for (int r = 1; r <= reps && !stop.get(); r++) {
                        long x = a.malloc(48);
                        slot.set(x);
                        go.set(r);
                        boolean mine;
                        try {
                            a.free(x);
                            mine = true;
                        } catch (IllegalArgumentException e) {
                            mine = false;
                        }
                        while (done.get() < r) {
                            if (stop.get()) {
                                return;
                            }
                            Thread.onSpinWait();
                        }
                        int nowOk = racerOk.get();
                        boolean theirs = nowOk > prevOk;
                        prevOk = nowOk;
                        result[0]++;
                        result[2] += (mine ? 1 : 0) + (theirs ? 1 : 0);
                        if (!mine && !theirs) {
                            failure.compareAndSet(
                                    null, "rep " + r + ": both frees of 0x" + Long.toHexString(x) + " refused");
                        }
                        if (mine && theirs) {
                            result[1]++;
                        }
                        // a fresh block: nobody else knows it, so the owner's free must succeed
                        long y = a.malloc(48);
                        try {
                            a.free(y);
                        } catch (IllegalArgumentException e) {
                            failure.compareAndSet(
                                    null,
                                    "rep " + r + ": both frees of 0x" + Long.toHexString(x)
                                            + " returned=" + (mine && theirs)
                                            + "; then the owner's free of the freshly allocated"
                                            + " block 0x" + Long.toHexString(y) + (y == x ? " (the same address)" : "")
                                            + " was refused: " + e.getMessage() + "; " + summary(a.stats()));
                            stop.set(true);
                            return;
                        }
                    }
                    a.free(anchor);
                });
                w.join(50_000);
            } finally {
                w.abort();
            }
            String ctx = CTX + ": " + result[0] + " races, " + result[1] + " where both frees returned";
            System.out.println("[RemoteDoubleFreeTest] owner vs remote: " + ctx);
            assertNull(failure.get(), ctx);
            a.trim();
            var s = a.stats();
            assertConsistent(s, ctx);
            assertEquals(0, totalBlocksInUse(s), ctx + ": " + summary(s));
            assertEquals(0, pendingRemoteFrees(s), ctx + ": " + summary(s));
            assertEquals(result[1], s.doubleFreesDetected(), ctx + ": " + summary(s));
        }
    }

    /**
     * The interleaving by which the race above could hand a block out twice, step by step, with the same internal
     * calls Allocator.free makes for a remote free (Pool.liveBlockIndexAcquire, then Pool.freeRemote): thread B validates
     * block p, thread A frees p, the owner's pool is collected (trim), then B's atomic OR lands on p, which is free:
     * no exception, a remote bit is left on a free block. The owner's next malloc returns p with that bit set; the next collection frees it behind
     * the owner's back and p is handed out a second time while the owner still holds it.
     */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void lateRemoteBitOfARacingDoubleFreeDoesNotFreeTheBlocksNextOwner() throws Exception {
        ExecutorService owner = thread("late-owner"), racerA = thread("late-A"), racerB = thread("late-B");
        Allocator a = Allocator.builder().purgeDelay(Duration.ofMinutes(1)).build();
        try {
            var field = Allocator.class.getDeclaredField("arenas");
            field.setAccessible(true);
            ArenaSet arenas = (ArenaSet) field.get(a);
            long p = on(owner, () -> a.malloc(48));
            long q = on(owner, () -> a.malloc(48)); // keeps the pool in use
            Pool pool = arenas.arenaOfAcquire(p).poolAtAcquire(p);
            on(racerB, () -> pool.liveBlockIndexAcquire(p)); // B: free(p) validates p ...
            on(
                    racerA,
                    () -> { // A: free(p), a remote free
                        a.free(p);
                        return null;
                    });
            a.trim(); // the owner is idle: p is collected onto its free list
            boolean bRefused = false;
            try {
                on(racerB, () -> pool.freeRemote(p)); // ... B's atomic OR lands now
            } catch (IllegalArgumentException e) {
                bRefused = true; // also a correct outcome: the late free is refused
            }
            assertConsistent(a.stats(), CTX);

            long p2 = on(owner, () -> a.malloc(48)); // p again (LIFO)
            var s2 = a.stats();
            assertEquals(2, totalBlocksInUse(s2), "q and p2 are live, nothing is pending: " + summary(s2));
            assertEquals(0, pendingRemoteFrees(s2), "q and p2 are live, nothing is pending: " + summary(s2));
            a.trim();
            long p3 = on(owner, () -> a.malloc(48));
            assertNotEquals(p2, p3, "0x" + Long.toHexString(p2) + " handed out twice: " + summary(a.stats()));
            on(owner, () -> {
                a.free(p2);
                a.free(p3);
                a.free(q);
                return null;
            });
            a.trim();
            var end = a.stats();
            assertConsistent(end, CTX);
            assertEquals(0, totalBlocksInUse(end), summary(end));
            assertEquals(bRefused ? 0 : 1, end.doubleFreesDetected(), summary(end));
        } finally {
            closeAfter(a, owner, racerA, racerB);
        }
    }

    /**
     * The interleaving of the test above with a change of class: thread B validates block p (48 B) and reads the pool's
     * life, thread A frees p, the pool empties, goes back to the arena and is carved again for 16-byte blocks by
     * another thread, which gets a block at p's very address. B's free must now be refused (it is the late half of
     * a double free) and must leave the new 16-byte block at p, and every other block of that pool, untouched.
     */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void lateRemoteFreeAfterThePoolWasCarvedForAnotherClassIsRefusedAndFreesNothing() throws Exception {
        ExecutorService owner = thread("recarve-owner"),
                racerA = thread("recarve-A"),
                racerB = thread("recarve-B"),
                other = thread("recarve-other");
        Allocator a = Allocator.builder().purgeDelay(Duration.ofMinutes(1)).build();
        try {
            var field = Allocator.class.getDeclaredField("arenas");
            field.setAccessible(true);
            ArenaSet arenas = (ArenaSet) field.get(a);
            long p = on(owner, () -> a.malloc(48)); // the only block of its pool
            Pool pool = arenas.arenaOfAcquire(p).poolAtAcquire(p);
            long[] life = on(
                    racerB,
                    () -> { // B: free(p) validates p and reads the pool's life ...
                        pool.liveBlockIndexAcquire(p);
                        return pool.lifeAcquire();
                    });
            on(
                    racerA,
                    () -> { // A: free(p) wins
                        a.free(p);
                        return null;
                    });
            a.trim(); // collected: the pool is empty and goes back to the arena
            List<Block> small = on(
                    other,
                    () -> { // carved again for 16-byte blocks, until one is at p
                        List<Block> l = new ArrayList<>();
                        for (int i = 0; i < 100_000; i++) {
                            Block b = mallocFilled(a, 16, seedOf(SEED, 9, i));
                            l.add(b);
                            if (b.address() == p) {
                                return l;
                            }
                        }
                        throw new AssertionError("no 16-byte block was carved at 0x" + Long.toHexString(p));
                    });
            assertEquals(16, pool.blockSize, "the same pool, another class");
            var before = fingerprint(a.stats());
            IllegalArgumentException e = assertThrowsWithMessage(
                    IllegalArgumentException.class,
                    () -> on(racerB, () -> pool.freeRemote(p, life)),
                    "double free"); // ... B's free lands now
            assertTrue(e.getMessage().contains("freed it meanwhile"), e.getMessage());
            assertSameFingerprint(before, fingerprint(a.stats()), CTX);
            a.trim(); // a late bit, had one landed, would be collected here and free the block at p
            on(other, () -> {
                for (Block b : small) {
                    b.check(() -> CTX + ": the 16-byte blocks are intact");
                }
                for (Block b : small) {
                    a.free(b.address()); // every one still live: a stray free would make one of these throw
                }
                return null;
            });
            a.trim();
            var end = a.stats();
            assertConsistent(end, CTX);
            assertEquals(0, totalBlocksInUse(end), summary(end));
            assertEquals(0, end.doubleFreesDetected(), "refused in the caller, so not counted late: " + summary(end));
            assertNull(a.checkInvariants(), CTX);
        } finally {
            closeAfter(a, owner, racerA, racerB, other);
        }
    }

    /**
     * (b) The owner frees a block that another thread already freed (pending, not yet collected: no maintenance
     * runs with a one-minute purge delay): "double free", nothing changes.
     */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void ownerFreesABlockPendingFromARemoteFree() throws Exception {
        ExecutorService owner = thread("pending-owner"), other = thread("pending-other");
        Allocator a = Allocator.builder().purgeDelay(Duration.ofMinutes(1)).build();
        try {
            List<Block> blocks = on(owner, () -> {
                List<Block> l = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    l.add(mallocFilled(a, 1 + (i * 5) % 512, seedOf(SEED, 3, i)));
                }
                return l;
            });
            List<Block> victims = new ArrayList<>();
            for (int i = 0; i < blocks.size(); i += 10) {
                victims.add(blocks.get(i));
            }
            on(other, () -> {
                for (Block b : victims) {
                    a.free(b.address());
                }
                return null;
            });
            var before = a.stats();
            assertEquals(victims.size(), pendingRemoteFrees(before), CTX + ": " + summary(before));
            var fp = fingerprint(before);
            for (Block b : victims) {
                on(owner, () -> {
                    assertThrowsWithMessage(IllegalArgumentException.class, () -> a.free(b.address()), "double free");
                    return null;
                });
                // and again from the thread that freed it
                on(other, () -> {
                    assertThrowsWithMessage(IllegalArgumentException.class, () -> a.free(b.address()), "double free");
                    return null;
                });
            }
            var after = a.stats();
            assertSameFingerprint(fp, fingerprint(after), CTX);
            assertEquals(victims.size(), pendingRemoteFrees(after), CTX + ": " + summary(after));
            assertEquals(0, after.doubleFreesDetected(), CTX);
            on(owner, () -> {
                for (Block b : blocks) {
                    if (!victims.contains(b)) {
                        b.check(() -> CTX + ": intact after the refused frees");
                        a.free(b.address());
                    }
                }
                for (int i = 0; i < 200; i++) { // the pending blocks come back once each
                    a.free(mallocFilled(a, 1 + (i * 7) % 512, seedOf(SEED, 4, i))
                            .address());
                }
                return null;
            });
            a.trim();
            var end = a.stats();
            assertConsistent(end, CTX);
            assertEquals(0, totalBlocksInUse(end), summary(end));
            assertEquals(0, pendingRemoteFrees(end), summary(end));
            assertEquals(end.mallocs(), end.frees(), summary(end));
            assertEquals(0, end.doubleFreesDetected(), summary(end));
        } finally {
            closeAfter(a, owner, other);
        }
    }

    private static volatile long handedOver;
    private static volatile int handOverRound;
    private static volatile int remoteFreeRound;

    /**
     * (b) with maintenance racing: the owner frees a block that another thread has just freed while trim() runs
     * constantly, so maintenance may collect the remote free and give the pool back, or another heap may own it,
     * before the owner's free reads the pool's heap. The owner's free must be refused with IllegalArgumentException
     * (or the double free counted), never a NullPointerException or a free into a heap that is not its own, and the
     * allocator stays consistent with nothing left in use.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void ownerFreeOfARemotelyFreedBlockWhileMaintenanceRunsIsRefused() throws Exception {
        int iterations = 60_000; // spin handoffs: keep it short on a contended 2-core machine
        try (Allocator a = Allocator.builder().purgeDelay(Duration.ofMillis(1)).build()) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread remote = Thread.ofPlatform().start(() -> {
                for (int i = 1; i <= iterations; i++) {
                    while (handOverRound != i) {
                        Thread.onSpinWait();
                    }
                    a.free(handedOver); // the legitimate free, from another thread
                    remoteFreeRound = i;
                }
            });
            Thread trimmer = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    a.trim();
                }
            });
            long refused = 0;
            try {
                for (int i = 1; i <= iterations; i++) {
                    long block = a.malloc(16);
                    handedOver = block;
                    handOverRound = i;
                    while (remoteFreeRound != i) {
                        Thread.onSpinWait();
                    }
                    try {
                        a.free(block); // the double free, by the owner
                    } catch (IllegalArgumentException expected) {
                        refused++;
                    }
                }
            } finally {
                stop.set(true);
                trimmer.join(10_000);
                remote.join(10_000);
            }
            a.trim();
            var s = a.stats();
            assertTrue(
                    refused + s.doubleFreesDetected() >= iterations,
                    "every double free refused or counted: refused " + refused + ", counted "
                            + s.doubleFreesDetected());
            assertConsistent(s, "after the races");
            assertEquals(0, totalBlocksInUse(s), "nothing left in use");
        }
    }

    /** (c) Interior, foreign and never-handed-out pointers freed by a non-owner thread: refused, nothing changes. */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void remoteFreeOfInteriorOrForeignPointers() throws Exception {
        ExecutorService owner = thread("bad-owner"), other = thread("bad-other");
        Allocator a = Allocator.builder().purgeDelay(Duration.ofMinutes(1)).build();
        try (Arena foreign = Arena.ofShared()) {
            List<Block> blocks = on(owner, () -> {
                List<Block> l = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    l.add(mallocFilled(a, 64, seedOf(SEED, 5, i)));
                }
                l.add(mallocFilled(a, 2000, seedOf(SEED, 5, 99))); // a large block
                return l;
            });
            // an address in an empty carved pool: the owner's only pool of class 12 empties, trim hands it back
            long emptied = on(owner, () -> {
                long x = a.malloc(200);
                a.free(x);
                return x;
            });
            a.trim();
            var s0 = a.stats();
            var geo = new TestSupport.Geometry(s0);
            var arena0 = s0.arenas().get(geo.arenaIndexOf(blocks.get(0).address()));
            long poolSize = s0.poolSize();
            long neverCarved = arena0.address() + (long) (arena0.poolsTotal() - 1) * poolSize + 128;
            long pool0 = blocks.get(0).pool(poolSize);
            var ps0 = geo.poolStats(pool0);
            long neverHandedOut = pool0 + (long) (ps0.capacity() - 1) * ps0.blockSize();
            long foreignAddress = foreign.allocate(64).address();
            Block large = blocks.get(blocks.size() - 1);
            long[] bad = {
                blocks.get(3).address() + 8,
                blocks.get(5).address() + 1,
                blocks.get(7).address() + 63,
                large.address() + 16,
                neverCarved,
                neverHandedOut,
                foreignAddress,
                emptied,
                arena0.address() + s0.arenaSize() - 16,
            };
            var fp = fingerprint(s0);
            on(other, () -> {
                for (long x : bad) {
                    assertThrowsWithMessage(
                            IllegalArgumentException.class,
                            () -> a.free(x),
                            "interior",
                            "double free",
                            "not allocated",
                            "never handed out",
                            "tail");
                }
                return null;
            });
            assertSameFingerprint(fp, fingerprint(a.stats()), CTX);
            // the same from the owner
            on(owner, () -> {
                for (long x : bad) {
                    assertThrowsWithMessage(
                            IllegalArgumentException.class,
                            () -> a.free(x),
                            "interior",
                            "double free",
                            "not allocated",
                            "never handed out",
                            "tail");
                }
                return null;
            });
            assertSameFingerprint(fp, fingerprint(a.stats()), CTX);
            // intact: the other thread frees half of the blocks, the owner the rest
            on(other, () -> {
                for (int i = 0; i < blocks.size(); i += 2) {
                    Block b = blocks.get(i);
                    b.check(() -> CTX + ": intact");
                    a.free(b.address());
                }
                return null;
            });
            on(owner, () -> {
                for (int i = 1; i < blocks.size(); i += 2) {
                    Block b = blocks.get(i);
                    b.check(() -> CTX + ": intact");
                    a.free(b.address());
                }
                return null;
            });
            a.trim();
            var end = a.stats();
            assertConsistent(end, CTX);
            assertEquals(0, totalBlocksInUse(end), summary(end));
            assertEquals(0, end.largeAllocations(), summary(end));
            assertEquals(end.mallocs(), end.frees(), summary(end));
            assertNull(a.checkInvariants(), CTX);
        } finally {
            closeAfter(a, owner, other);
        }
    }
}
