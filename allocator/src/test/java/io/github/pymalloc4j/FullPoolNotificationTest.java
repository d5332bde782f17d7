package io.github.pymalloc4j;

import static io.github.pymalloc4j.StressSupport.closeAfter;
import static io.github.pymalloc4j.StressSupport.heapOf;
import static io.github.pymalloc4j.StressSupport.mallocFilled;
import static io.github.pymalloc4j.StressSupport.pendingRemoteFrees;
import static io.github.pymalloc4j.StressSupport.seedOf;
import static io.github.pymalloc4j.StressSupport.summary;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pymalloc4j.StressSupport.Block;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * mimalloc's "delayed free": an owner fills whole pools of one class (they leave its lists, armed), another thread
 * frees a few blocks of each; the owner's next allocations must come back from exactly those blocks, not from new
 * pools.
 */
class FullPoolNotificationTest {
    private static final long SEED = 0x5EED_0002L;
    private static final int CLASS = 31;
    private static final int BLOCK = 512;
    private static final int POOLS = 30;
    private static final int PER_POOL = 32; // 16 KiB / 512 B, no tail
    private static final int FREED_PER_POOL = 3;
    private static final int CYCLES = 4;

    /** Runs tasks on one named platform thread, so the same thread (heap) runs every step. */
    private static ExecutorService thread(String name) {
        return Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name(name).unstarted(r));
    }

    private static <T> T on(ExecutorService ex, Callable<T> task) throws Exception {
        return ex.submit(task).get(30, TimeUnit.SECONDS);
    }

    /** Purge delay of one minute: the maintenance thread never runs, so only the owner can collect. */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void ownerTakesBackRemotelyFreedBlocksOfFullPoolsThroughNotifications() throws Exception {
        run(Allocator.builder().purgeDelay(Duration.ofMinutes(1)).build(), true);
    }

    /** Default purge delay: the maintenance thread may drain the notifications first; the outcome is the same. */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void sameWithTheMaintenanceThreadRunning() throws Exception {
        run(Allocator.create(), false);
    }

    /**
     * The owner fills 512-byte pools (32 blocks each) as fast as it can while another thread frees every block as soon
     * as it gets it: arming a full pool races with remote frees into it all the time. A lost notification would leave
     * a full, detached pool with pending remote frees that nobody collects (maintenance only looks at listed pools):
     * after the run, with the owner alive and idle, trim() must find nothing pending and nothing in use.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void armingAFullPoolRacesWithRemoteFreesWithoutLosingNotifications() throws Exception {
        int n = 200_000;
        ExecutorService owner = thread("arm-owner");
        ExecutorService freer = thread("arm-freer");
        String ctx = "seed 0x" + Long.toHexString(SEED) + ": arming race";
        Allocator a = Allocator.builder().purgeDelay(Duration.ofMinutes(1)).build();
        try {
            java.util.concurrent.ArrayBlockingQueue<Block> q = new java.util.concurrent.ArrayBlockingQueue<>(64);
            java.util.concurrent.Future<?> f = freer.submit(() -> {
                for (int i = 0; i < n; i++) {
                    Block b = q.poll(20, TimeUnit.SECONDS);
                    if (b == null) {
                        throw new AssertionError(ctx + ": producer stalled at block " + i);
                    }
                    b.check(() -> ctx + ": block seed " + b.seed());
                    a.free(b.address());
                }
                return null;
            });
            on(owner, () -> {
                for (int i = 0; i < n; i++) {
                    Block b = mallocFilled(a, BLOCK, seedOf(SEED, 5, i));
                    if (!q.offer(b, 20, TimeUnit.SECONDS)) {
                        throw new AssertionError(ctx + ": consumer stalled at block " + i);
                    }
                }
                return null;
            });
            f.get(30, TimeUnit.SECONDS);
            var before = a.stats();
            assertConsistent(before, ctx);
            assertEquals(0, totalBlocksInUse(before), ctx + ": every block was freed: " + summary(before));
            a.trim(); // the owner is idle: its listed and notified pools are collected and handed back
            var s = a.stats();
            String sum = ctx + ": " + summary(s) + " (before trim: " + summary(before) + ")";
            assertConsistent(s, sum);
            assertEquals(0, pendingRemoteFrees(s), "no pool kept remote frees nobody collects: " + sum);
            assertEquals(0, s.sizeClasses().get(CLASS).pools(), sum);
            assertEquals(n, s.mallocs(), sum);
            assertEquals(n, s.frees(), sum);
            assertEquals(n, s.remoteFrees(), sum);
            var h = heapOf(s, "arm-owner");
            assertNotNull(h, sum);
            assertEquals(0, h.pools(), sum);
            assertTrue(s.arenasCurrent() <= 1, sum);
        } finally {
            closeAfter(a, owner, freer);
        }
    }

    private void run(Allocator allocator, boolean ownerOnly) throws Exception {
        String ctx0 = "seed 0x" + Long.toHexString(SEED) + (ownerOnly ? " (no maintenance)" : " (maintenance running)");
        ExecutorService owner = thread("notify-owner");
        ExecutorService freer = thread("notify-freer");
        Allocator a = allocator;
        try {
            long poolSize = a.stats().poolSize();
            assertEquals(16 * 1024, poolSize);
            AtomicLong ids = new AtomicLong();
            // pool address -> its live blocks (owner's view)
            Map<Long, List<Block>> byPool = on(owner, () -> {
                Map<Long, List<Block>> m = new TreeMap<>();
                for (int i = 0; i < POOLS * PER_POOL; i++) {
                    Block b = mallocFilled(a, BLOCK, seedOf(SEED, 0, ids.getAndIncrement()));
                    m.computeIfAbsent(b.pool(poolSize), k -> new ArrayList<>()).add(b);
                }
                return m;
            });
            assertEquals(
                    POOLS,
                    byPool.size(),
                    ctx0 + ": " + POOLS * PER_POOL + " blocks of 512 fill exactly " + POOLS + " pools");
            for (var e : byPool.entrySet()) {
                assertEquals(PER_POOL, e.getValue().size(), ctx0 + ": pool 0x" + Long.toHexString(e.getKey()));
            }
            Set<Long> pools = byPool.keySet();

            var s0 = a.stats();
            assertConsistent(s0, ctx0 + ": filled");
            var k0 = s0.sizeClasses().get(CLASS);
            assertEquals(POOLS, k0.pools(), ctx0 + ": " + k0);
            assertEquals(POOLS * PER_POOL, k0.blocksInUse(), ctx0 + ": " + k0);
            assertEquals(0, k0.blocksAvailable(), ctx0 + ": every pool full: " + k0);
            var h0 = heapOf(s0, "notify-owner");
            assertNotNull(h0, ctx0 + ": owner heap listed: " + s0.heaps());
            assertEquals(POOLS, h0.pools(), ctx0 + ": full pools stay owned by the heap while detached: " + h0);
            var geo0 = new TestSupport.Geometry(s0);
            for (long p : pools) {
                var ps = geo0.poolStats(p);
                assertNotNull(ps, ctx0);
                assertEquals(h0.id(), ps.heapId(), ctx0 + ": " + ps);
                assertEquals(PER_POOL, ps.blocksInUse(), ctx0 + ": " + ps);
            }

            Random r = new Random(SEED);
            for (int cycle = 0; cycle < CYCLES; cycle++) {
                final String ctx = ctx0 + ", cycle " + cycle;
                // another thread frees FREED_PER_POOL random blocks of each full pool
                List<Block> victims = new ArrayList<>();
                for (var e : byPool.entrySet()) {
                    List<Block> live = e.getValue();
                    Collections.shuffle(live, r);
                    for (int k = 0; k < FREED_PER_POOL; k++) {
                        victims.add(live.remove(live.size() - 1));
                    }
                }
                long freedCount = victims.size();
                on(freer, () -> {
                    for (Block b : victims) {
                        b.check(() -> ctx + ": block seed " + b.seed() + " before its remote free");
                        a.free(b.address());
                    }
                    return null;
                });
                Set<Long> freedAddresses = new HashSet<>();
                for (Block b : victims) {
                    freedAddresses.add(b.address());
                }

                var s1 = a.stats();
                assertConsistent(s1, ctx + ": after remote frees");
                var k1 = s1.sizeClasses().get(CLASS);
                String sum1 = ctx + ": " + k1 + " / " + summary(s1);
                assertEquals(POOLS, k1.pools(), sum1);
                assertEquals(POOLS * PER_POOL - freedCount, k1.blocksInUse(), sum1);
                assertEquals(freedCount, k1.pendingRemoteFrees() + k1.blocksAvailable(), sum1);
                if (ownerOnly) {
                    assertEquals(freedCount, k1.pendingRemoteFrees(), "nobody but the owner collects: " + sum1);
                    assertEquals(0, k1.blocksAvailable(), sum1);
                    var geo = new TestSupport.Geometry(s1);
                    for (long p : pools) {
                        var ps = geo.poolStats(p);
                        assertEquals(FREED_PER_POOL, ps.pendingRemoteFrees(), ctx + ": " + ps);
                        assertEquals(PER_POOL - FREED_PER_POOL, ps.blocksInUse(), ctx + ": " + ps);
                    }
                }

                // the owner allocates one block: its list of class 31 is empty, so it drains its notifications
                Block first = on(owner, () -> mallocFilled(a, BLOCK, seedOf(SEED, 0, ids.getAndIncrement())));
                assertTrue(
                        freedAddresses.contains(first.address()),
                        ctx + ": first malloc returned 0x" + Long.toHexString(first.address()) + ", not a freed block");
                var s2 = a.stats();
                assertConsistent(s2, ctx + ": after the first malloc");
                var k2 = s2.sizeClasses().get(CLASS);
                String sum2 = ctx + ": " + k2;
                assertEquals(POOLS, k2.pools(), "no new pool: " + sum2);
                assertEquals(freedCount - 1, k2.pendingRemoteFrees() + k2.blocksAvailable(), sum2);
                if (ownerOnly) {
                    // the owner drained its whole notified stack at once. (With maintenance running, maintenance may
                    // have relisted a pool after its first remote free; later frees into a listed pool wait until
                    // that pool fills up, so some may still be pending here.)
                    assertEquals(0, k2.pendingRemoteFrees(), "every notified pool was collected at once: " + sum2);
                }

                // the rest come from the same blocks
                List<Block> again = on(owner, () -> {
                    List<Block> out = new ArrayList<>();
                    for (int k = 1; k < freedCount; k++) {
                        out.add(mallocFilled(a, BLOCK, seedOf(SEED, 0, ids.getAndIncrement())));
                    }
                    return out;
                });
                again.add(first);
                Set<Long> got = new HashSet<>();
                for (Block b : again) {
                    assertTrue(
                            got.add(b.address()), ctx + ": 0x" + Long.toHexString(b.address()) + " handed out twice");
                    assertTrue(
                            pools.contains(b.pool(poolSize)),
                            ctx + ": 0x" + Long.toHexString(b.address()) + " is not in a previously full pool");
                    byPool.get(b.pool(poolSize)).add(b);
                }
                assertEquals(freedAddresses, got, ctx + ": exactly the remotely freed blocks came back");
                var s3 = a.stats();
                assertConsistent(s3, ctx + ": refilled");
                var k3 = s3.sizeClasses().get(CLASS);
                assertEquals(POOLS, k3.pools(), ctx + ": " + k3);
                assertEquals(POOLS * PER_POOL, k3.blocksInUse(), ctx + ": " + k3);
                assertEquals(0, k3.blocksAvailable(), ctx + ": full again (and armed again): " + k3);
                for (List<Block> l : byPool.values()) {
                    for (Block b : l) {
                        b.check(() -> ctx + ": block seed " + b.seed() + " after refill");
                    }
                }
                var h3 = heapOf(s3, "notify-owner");
                assertEquals(POOLS, h3.pools(), ctx + ": " + h3);
                assertEquals((long) POOLS * PER_POOL + (cycle + 1) * freedCount, h3.mallocs(), ctx + ": " + h3);
                assertEquals((cycle + 1) * freedCount, h3.frees(), ctx + ": collected remote frees: " + h3);
                assertEquals((cycle + 1) * freedCount, s3.remoteFrees(), ctx + ": " + summary(s3));
            }

            // every pool is full: the next block needs a new pool
            Block extra = on(owner, () -> mallocFilled(a, BLOCK, seedOf(SEED, 0, ids.getAndIncrement())));
            assertTrue(!pools.contains(extra.pool(poolSize)), ctx0 + ": the old pools are full");
            assertEquals(POOLS + 1, a.stats().sizeClasses().get(CLASS).pools(), ctx0);

            // the owner frees everything itself
            on(owner, () -> {
                for (List<Block> l : byPool.values()) {
                    for (Block b : l) {
                        b.check(() -> ctx0 + ": final free");
                        a.free(b.address());
                    }
                }
                a.free(extra.address());
                return null;
            });
            a.trim();
            var end = a.stats();
            assertConsistent(end, ctx0 + ": end");
            assertEquals(0, totalBlocksInUse(end), summary(end));
            assertEquals(0, pendingRemoteFrees(end), summary(end));
            assertEquals(end.mallocs(), end.frees(), summary(end));
            assertTrue(end.arenasCurrent() <= 1, summary(end));
            assertEquals(0, end.doubleFreesDetected(), summary(end));
            assertNull(a.checkInvariants(), ctx0);
        } finally {
            closeAfter(a, owner, freer);
        }
    }
}
