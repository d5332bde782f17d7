package io.github.pymalloc4j;

import static io.github.pymalloc4j.StressSupport.summary;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pymalloc4j.StressSupport.Block;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random concurrent workloads with every block's contents verified: generations of platform and virtual threads
 * that malloc, calloc, mallocAligned, realloc and free their own blocks, hand blocks to each other for remote
 * frees, and die holding blocks that others free later, while trim and maintenance run and a reservation limit
 * refuses some requests. Every block carries a pattern checked before it is freed or moved; at the end every
 * block is freed and the allocator must hold no block, no large block and no byte against its limit beyond its
 * arenas.
 */
@Tag("adversarial")
class ConcurrentWorkloadAdversarialTest {
    private static final long SEED = 0xC0FFEE5EEDL;
    private static final long LIMIT = 24L << 20;

    @Test
    @Timeout(value = 900, unit = TimeUnit.SECONDS)
    void generationsOfThreadsNeverCorruptOrLeak() throws Exception {
        long deadline = AdversarialSupport.deadline();
        SplittableRandom random = new SplittableRandom(SEED);
        AtomicLong ops = new AtomicLong();
        AtomicLong verified = new AtomicLong();
        AtomicLong remote = new AtomicLong();
        AtomicLong reallocs = new AtomicLong();
        AtomicLong refusedByLimit = new AtomicLong();
        AtomicLong ids = new AtomicLong();
        long generations = 0;
        long threads = 0;
        String ctx = "seed 0x" + Long.toHexString(SEED);
        try (Allocator a = Allocator.builder()
                .purgeDelay(Duration.ofMillis(random.nextInt(3) * 5))
                .maxReservedBytes(LIMIT)
                .build()) {
            ConcurrentLinkedQueue<Block> exchange = new ConcurrentLinkedQueue<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            do {
                List<Thread> group = new ArrayList<>();
                int platform = 2 + random.nextInt(3);
                int virtual = random.nextInt(4) == 0 ? 200 : 0;
                for (int t = 0; t < platform + virtual; t++) {
                    long seed = random.nextLong();
                    long millis = t < platform ? 50 + random.nextInt(200) : 1 + random.nextInt(5);
                    Runnable body = () -> {
                        try {
                            work(
                                    a,
                                    new SplittableRandom(seed),
                                    millis,
                                    exchange,
                                    ids,
                                    ops,
                                    verified,
                                    remote,
                                    reallocs,
                                    refusedByLimit,
                                    ctx);
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    };
                    group.add(
                            t < platform
                                    ? Thread.ofPlatform().start(body)
                                    : Thread.ofVirtual().start(body));
                }
                if (random.nextBoolean()) {
                    a.trim();
                }
                for (Thread t : group) {
                    t.join(TimeUnit.SECONDS.toMillis(120));
                    assertTrue(!t.isAlive(), ctx + ": a worker hangs");
                }
                threads += group.size();
                generations++;
                if (failure.get() != null) {
                    throw new AssertionError(ctx + ", generation " + generations + ": " + failure.get(), failure.get());
                }
                AllocatorStats s = a.stats();
                assertConsistent(s, ctx);
                assertTrue(s.reservedBytes() <= LIMIT, ctx + ": over the limit: " + summary(s));
            } while (System.nanoTime() < deadline);
            Block b;
            while ((b = exchange.poll()) != null) {
                b.check(() -> ctx + ": left by a dead thread");
                a.free(b.address());
                verified.incrementAndGet();
            }
            a.trim();
            AllocatorStats s = a.stats();
            String figures = ctx + ": " + generations + " generations, " + AdversarialSupport.figure(threads)
                    + " threads, " + AdversarialSupport.figure(ops.get()) + " calls, "
                    + AdversarialSupport.figure(verified.get()) + " blocks verified, "
                    + AdversarialSupport.figure(remote.get()) + " remote frees, "
                    + AdversarialSupport.figure(reallocs.get()) + " reallocs, "
                    + AdversarialSupport.figure(refusedByLimit.get()) + " refused by the limit";
            System.out.println("[ConcurrentWorkloadAdversarialTest] " + figures);
            assertConsistent(s, figures);
            assertEquals(0, totalBlocksInUse(s), figures + "; " + summary(s));
            assertEquals(0, s.largeAllocations(), figures + "; " + summary(s));
            assertEquals(s.mallocs(), s.frees(), figures + "; " + summary(s));
            assertEquals(
                    s.reservedBytes(),
                    a.limitReservedBytes(),
                    "the limit counts exactly the arenas once every block is freed: " + figures + "; " + summary(s));
            assertNull(a.checkInvariants(), figures);
        }
    }

    private static void work(
            Allocator a,
            SplittableRandom r,
            long millis,
            ConcurrentLinkedQueue<Block> exchange,
            AtomicLong ids,
            AtomicLong ops,
            AtomicLong verified,
            AtomicLong remote,
            AtomicLong reallocs,
            AtomicLong refusedByLimit,
            String ctx) {
        long stopAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        List<Block> mine = new ArrayList<>();
        long n = 0;
        while (System.nanoTime() < stopAt) {
            n++;
            int op = r.nextInt(16);
            try {
                if (op < 6 && mine.size() < 3000) {
                    long size =
                            r.nextInt(40) == 0 ? 513 + r.nextInt(r.nextInt(8) == 0 ? 4 << 20 : 8192) : r.nextInt(513);
                    long seed = ids.incrementAndGet();
                    long p = switch (r.nextInt(4)) {
                        case 0 -> a.calloc(1, size);
                        case 1 -> a.mallocAligned(size, 1L << r.nextInt(13));
                        default -> a.malloc(size);
                    };
                    mine.add(new Block(p, a.usableSize(p), seed).fill());
                } else if (op < 10 && !mine.isEmpty()) {
                    Block b = take(mine, r);
                    b.check(() -> ctx + ": before free");
                    verified.incrementAndGet();
                    a.free(b.address());
                } else if (op < 12 && !mine.isEmpty()) {
                    Block b = take(mine, r);
                    b.check(() -> ctx + ": before realloc");
                    long newSize = r.nextInt(8) == 0 ? 513 + r.nextInt(20_000) : r.nextInt(513);
                    long q;
                    try {
                        q = a.realloc(b.address(), newSize);
                    } catch (OutOfMemoryError limit) {
                        b.check(() -> ctx + ": a realloc the limit refused left its block as it was");
                        mine.add(b);
                        throw limit;
                    }
                    long u = a.usableSize(q);
                    assertPattern(
                            q,
                            Math.min(b.size(), Math.min(newSize, u)),
                            b.seed(),
                            () -> ctx + ": the bytes realloc kept");
                    verified.incrementAndGet();
                    reallocs.incrementAndGet();
                    mine.add(new Block(q, u, ids.incrementAndGet()).fill());
                } else if (op < 14 && !mine.isEmpty()) {
                    exchange.add(take(mine, r)); // someone else frees it
                } else {
                    Block b = exchange.poll();
                    if (b != null) {
                        b.check(() -> ctx + ": handed over");
                        verified.incrementAndGet();
                        a.free(b.address());
                        remote.incrementAndGet();
                    }
                }
                ops.incrementAndGet();
            } catch (OutOfMemoryError limit) {
                refusedByLimit.incrementAndGet(); // the limit said no: nothing changed, carry on
            }
        }
        // dies holding some blocks: others free them
        for (Block b : mine) {
            if (r.nextBoolean()) {
                exchange.add(b);
            } else {
                b.check(() -> ctx + ": at thread end");
                verified.incrementAndGet();
                a.free(b.address());
            }
        }
    }

    private static Block take(List<Block> blocks, SplittableRandom r) {
        int i = r.nextInt(blocks.size());
        Block b = blocks.get(i);
        blocks.set(i, blocks.getLast());
        blocks.removeLast();
        return b;
    }
}
