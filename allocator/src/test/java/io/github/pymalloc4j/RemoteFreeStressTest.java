package io.github.pymalloc4j;

import static io.github.pymalloc4j.StressSupport.awaitStats;
import static io.github.pymalloc4j.StressSupport.checkAndFree;
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
import io.github.pymalloc4j.StressSupport.Workers;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Producer/consumer with 100 % remote frees: producers only allocate, consumers (which never allocate, so own no
 * pool) verify each block's pattern and free it. Then the same with an idle producer, where only the maintenance
 * thread can collect the remote frees and give the memory back.
 */
class RemoteFreeStressTest {
    private static final long SEED = 0x5EED_0001L;
    private static final String CTX = "seed 0x" + Long.toHexString(SEED);

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void everyFreeIsRemote() throws Exception {
        int producers = 2, consumers = 2, perProducer = 100_000;
        long total = (long) producers * perProducer;
        try (Allocator a = Allocator.create()) {
            ArrayBlockingQueue<Block> q = new ArrayBlockingQueue<>(4096);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger producersDone = new AtomicInteger();
            AtomicLong consumed = new AtomicLong();
            Workers w = new Workers(stop);
            try {
                w.start("producer", producers, p -> {
                    Random r = new Random(SEED + p);
                    try {
                        for (int i = 0; i < perProducer && !stop.get(); i++) {
                            Block b = mallocFilled(a, 16 + r.nextInt(512 - 16 + 1), seedOf(SEED, p, i));
                            while (!q.offer(b, 10, TimeUnit.MILLISECONDS)) {
                                if (stop.get()) {
                                    return;
                                }
                            }
                        }
                    } finally {
                        producersDone.incrementAndGet();
                    }
                });
                w.start("consumer", consumers, c -> {
                    while (!stop.get()) {
                        Block b = q.poll(10, TimeUnit.MILLISECONDS);
                        if (b == null) {
                            if (producersDone.get() == producers && q.isEmpty()) {
                                return;
                            }
                            continue;
                        }
                        checkAndFree(a, b, () -> CTX + ": consumer " + c + " block seed " + b.seed());
                        consumed.incrementAndGet();
                    }
                });
                w.join(50_000);
            } finally {
                w.abort();
            }
            assertEquals(total, consumed.get(), CTX + ": every produced block was consumed");

            a.trim(); // the producers are dead: their heaps are abandoned, their pools collected and returned
            var s = a.stats();
            assertConsistent(s, CTX + ": after trim");
            String sum = CTX + ": " + summary(s);
            assertEquals(0, totalBlocksInUse(s), sum);
            assertEquals(0, pendingRemoteFrees(s), sum);
            assertEquals(0, s.bytesRequested(), sum);
            assertTrue(s.arenasCurrent() <= 1, sum);
            assertEquals(total, s.mallocs(), sum);
            assertEquals(total, s.frees(), sum);
            assertEquals(total, s.remoteFrees(), "100 % of the frees were remote; " + sum);
            assertEquals(0, s.doubleFreesDetected(), sum);
            assertEquals(0, s.orphanPools(), sum);
            for (var h : s.heaps()) {
                assertTrue(h.shared(), () -> CTX + ": the dead producers' heaps are gone, found " + h);
            }
            assertNull(a.checkInvariants(), CTX);
        }
    }

    /**
     * The producer allocates, then parks (alive, idle, outside any allocator call) while consumers free everything.
     * No trim(): only the maintenance thread can collect the remote frees (handshake with the idle owner), hand the
     * empty pools back, decommit them and unmap the arenas.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void maintenanceCollectsRemoteFreesOfAnIdleProducer() throws Exception {
        int blocks = 30_000, consumers = 2;
        try (Allocator a = Allocator.create()) {
            Block[] all = new Block[blocks];
            CountDownLatch allocated = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean stop = new AtomicBoolean();
            Workers producer = new Workers(stop);
            Workers consumer = new Workers(stop);
            try {
                producer.start("idle-producer", 1, p -> {
                    Random r = new Random(SEED ^ 0xABCDL);
                    for (int i = 0; i < blocks; i++) {
                        all[i] = mallocFilled(a, 16 + r.nextInt(512 - 16 + 1), seedOf(SEED, 7, i));
                    }
                    allocated.countDown();
                    release.await(); // parked: alive, holds its heap, makes no allocator call
                });
                assertTrue(allocated.await(30, TimeUnit.SECONDS), CTX + ": producer finished allocating");
                var before = a.stats();
                assertConsistent(before, CTX + ": before the frees");
                assertEquals(blocks, totalBlocksInUse(before), CTX + ": " + summary(before));
                assertTrue(
                        before.arenasCurrent() >= 4, CTX + ": ~8 MB of blocks need several arenas: " + summary(before));
                long roundsBefore = before.maintenanceRounds();

                consumer.start("consumer", consumers, c -> {
                    for (int i = c; i < blocks; i += consumers) {
                        final int ii = i;
                        checkAndFree(a, all[i], () -> CTX + ": consumer " + c + " block " + ii);
                    }
                });
                consumer.join(30_000);

                long t0 = System.nanoTime();
                var s = awaitStats(
                        a,
                        3_000,
                        x -> totalBlocksInUse(x) == 0
                                && pendingRemoteFrees(x) == 0
                                && x.arenasCurrent() <= 1
                                && x.freeNotReturnedBytes() == 0);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                String sum = CTX + ": after " + ms + " ms without trim: " + summary(s) + "; before: " + summary(before);
                System.out.println("[RemoteFreeStressTest] idle producer: memory returned by maintenance in " + ms
                        + " ms; before: " + summary(before) + "; after: " + summary(s));
                assertConsistent(s, sum);
                assertTrue(producer.threads().get(0).isAlive(), "the producer is still alive (idle)");
                assertEquals(0, totalBlocksInUse(s), sum);
                assertEquals(0, pendingRemoteFrees(s), "maintenance collected the remote frees: " + sum);
                assertEquals(0, s.bytesRequested(), sum);
                assertTrue(s.arenasCurrent() <= 1, "arenas unmapped by maintenance: " + sum);
                assertTrue(s.arenasCurrent() < before.arenasCurrent(), sum);
                assertEquals(0, s.freeNotReturnedBytes(), "empty pools decommitted by maintenance: " + sum);
                assertTrue(s.freeNotReturnedBytes() < before.committedBytes(), sum);
                assertTrue(s.maintenanceRounds() > roundsBefore, sum);
                assertEquals(blocks, s.mallocs(), sum);
                assertEquals(blocks, s.frees(), sum);
                assertEquals(blocks, s.remoteFrees(), sum);
                assertEquals(0, s.orphanPools(), "nothing was orphaned: the owner is alive; " + sum);
                var h = heapOf(s, "idle-producer-0");
                assertNotNull(h, "the idle producer's heap is still live (not abandoned): " + s.heaps());
                assertEquals(0, h.pools(), "its empty pools were handed back: " + h);
                assertEquals(0, h.pendingRemoteFrees(), h.toString());
                assertEquals(blocks, h.mallocs(), h.toString());
                assertEquals(blocks, h.frees(), "it took every block back (collected remote frees): " + h);
                assertNull(s.maintenanceFailure(), sum);
            } finally {
                release.countDown();
                consumer.abort();
                producer.join(10_000);
            }
            a.trim();
            var end = a.stats();
            assertConsistent(end, CTX + ": end");
            assertEquals(0, totalBlocksInUse(end));
        }
    }
}
