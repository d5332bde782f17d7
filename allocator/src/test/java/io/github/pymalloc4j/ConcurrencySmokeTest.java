package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.fill;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Several threads on one shared Allocator; bounded by operation counts, not by time. The allocator is only closed once
 * every worker has stopped (a worker touching an unmapped arena after close would crash the test JVM).
 */
class ConcurrencySmokeTest {

    private static long seedOf(int thread, long id) {
        return ((long) thread << 40) | id;
    }

    private static long randomSize(Random r) {
        int k = r.nextInt(100);
        if (k == 0) {
            return 513 + r.nextInt(4096 - 512);
        }
        if (k == 1) {
            return 0;
        }
        return 1 + r.nextInt(512);
    }

    /** Counters of one worker: mallocs, frees, reallocs. */
    private record Counts(long mallocs, long frees, long reallocs, int ops) {}

    /** Runs the tasks on their own threads; on the first failure stops the others, waits for all, rethrows. */
    private static <T> List<T> runAll(List<Callable<T>> tasks, AtomicBoolean stop) throws Exception {
        ExecutorService ex = Executors.newFixedThreadPool(tasks.size());
        List<Future<T>> fs = new ArrayList<>();
        try {
            for (Callable<T> t : tasks) {
                fs.add(ex.submit(() -> {
                    try {
                        return t.call();
                    } catch (Throwable e) {
                        stop.set(true);
                        throw e;
                    }
                }));
            }
            List<T> out = new ArrayList<>();
            Throwable first = null;
            for (var f : fs) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    if (first == null) {
                        first = e.getCause();
                    }
                }
            }
            if (first instanceof Error err) {
                throw err;
            }
            if (first instanceof Exception exc) {
                throw exc;
            }
            return out;
        } finally {
            stop.set(true);
            ex.shutdownNow();
            if (!ex.awaitTermination(60, TimeUnit.SECONDS)) {
                throw new AssertionError("workers did not stop");
            }
        }
    }

    private static Counts privateWorker(Allocator a, int t, int ops, CountDownLatch start, AtomicBoolean stop)
            throws InterruptedException {
        Random r = new Random(1000 + t);
        int cap = 1500;
        long[] addr = new long[cap];
        long[] req = new long[cap];
        long[] usable = new long[cap];
        long[] seed = new long[cap];
        int n = 0;
        long id = 0, mallocs = 0, frees = 0, reallocs = 0;
        start.await();
        for (int op = 0; op < ops; op++) {
            if ((op & 1023) == 0 && stop.get()) {
                return new Counts(mallocs, frees, reallocs, op); // another worker failed
            }
            int k = r.nextInt(100);
            final int o = op;
            if (n == 0 || (k < 48 && n < cap)) {
                long s = randomSize(r);
                long p = (k % 7 == 0) ? a.calloc(1, s) : a.malloc(s);
                mallocs++;
                long u = a.usableSize(p);
                assertTrue(u >= s, "usable >= size");
                addr[n] = p;
                req[n] = s;
                usable[n] = u;
                seed[n] = seedOf(t, ++id);
                fill(p, u, seed[n]);
                n++;
            } else if (k < 58) {
                int i = r.nextInt(n);
                final long p0 = addr[i];
                assertPattern(addr[i], usable[i], seed[i], () -> "thread " + t + " op " + o + ": before realloc");
                long ns = 1 + r.nextInt(700);
                long p = a.realloc(addr[i], ns);
                reallocs++;
                // only the requested prefix is checked here: ReallocTest/RandomizedModelTest check the usable one
                long keep = Math.min(ns, req[i]);
                assertPattern(
                        p,
                        keep,
                        seed[i],
                        () -> "thread " + t + " op " + o + ": after realloc of 0x" + Long.toHexString(p0));
                long u = a.usableSize(p);
                addr[i] = p;
                req[i] = ns;
                usable[i] = u;
                seed[i] = seedOf(t, ++id);
                fill(p, u, seed[i]);
            } else {
                int i = r.nextInt(n);
                assertPattern(addr[i], usable[i], seed[i], () -> "thread " + t + " op " + o + ": before free");
                a.free(addr[i]);
                frees++;
                n--;
                addr[i] = addr[n];
                req[i] = req[n];
                usable[i] = usable[n];
                seed[i] = seed[n];
            }
        }
        for (int i = 0; i < n; i++) {
            final int ii = i;
            assertPattern(addr[i], usable[i], seed[i], () -> "thread " + t + ": final free #" + ii);
            a.free(addr[i]);
            frees++;
        }
        return new Counts(mallocs, frees, reallocs, ops);
    }

    private static void assertEmptyAndConsistent(Allocator a, long mallocs, long frees, long reallocs) {
        a.trim(); // collect remote frees of the (now idle) worker heaps and give empty memory back
        var s = a.stats();
        assertConsistent(s, "after concurrent run");
        assertEquals(0, totalBlocksInUse(s), "blocksInUse == 0");
        assertEquals(0, s.largeAllocations());
        assertEquals(0, s.largeBytes());
        assertEquals(0, s.bytesRequested());
        assertTrue(s.arenasCurrent() <= 1, () -> "arenasCurrent <= 1, was " + s.arenasCurrent());
        assertEquals(mallocs, s.mallocs(), "mallocs");
        assertEquals(frees, s.frees(), "frees");
        assertEquals(reallocs, s.reallocs(), "reallocs");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void fourThreadsWithPrivateLiveSets() throws Exception {
        int threads = 4, ops = 200_000;
        try (Allocator a = Allocator.create()) {
            CountDownLatch start = new CountDownLatch(1);
            AtomicBoolean stop = new AtomicBoolean();
            List<Callable<Counts>> tasks = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int tt = t;
                tasks.add(() -> privateWorker(a, tt, ops, start, stop));
            }
            start.countDown();
            long m = 0, f = 0, r = 0;
            for (Counts c : runAll(tasks, stop)) {
                assertEquals(ops, c.ops(), "every worker ran all its operations");
                m += c.mallocs();
                f += c.frees();
                r += c.reallocs();
            }
            assertEquals(m, f, "every block was freed");
            assertEmptyAndConsistent(a, m, f, r);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void blocksFreedByAnotherThread() throws Exception {
        int producers = 2, consumers = 2, perProducer = 100_000;
        try (Allocator a = Allocator.create()) {
            ConcurrentLinkedQueue<long[]> q = new ConcurrentLinkedQueue<>(); // {address, usable, seed, producer}
            AtomicInteger queued = new AtomicInteger();
            AtomicInteger consumed = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong localFrees = new AtomicLong();
            int total = producers * perProducer;
            CountDownLatch start = new CountDownLatch(1);
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < producers; t++) {
                final int tt = t;
                tasks.add(() -> {
                    Random r = new Random(77 + tt);
                    start.await();
                    // some blocks stay with the producer for a while, interleaving local frees with remote ones
                    long[] mine = new long[64];
                    long[] mineLen = new long[64];
                    long[] mineSeed = new long[64];
                    int nMine = 0;
                    for (int i = 0; i < perProducer && !stop.get(); i++) {
                        while (queued.get() > 20_000 && !stop.get()) {
                            Thread.yield(); // back pressure
                        }
                        long s = randomSize(r);
                        long p = a.malloc(s);
                        long u = a.usableSize(p);
                        long seed = seedOf(tt + 1, i);
                        fill(p, u, seed);
                        q.add(new long[] {p, u, seed, tt});
                        queued.incrementAndGet();
                        if (r.nextInt(4) == 0) {
                            if (nMine == mine.length) {
                                int v = r.nextInt(nMine);
                                final int vv = v;
                                assertPattern(
                                        mine[v],
                                        mineLen[v],
                                        mineSeed[v],
                                        () -> "producer " + tt + " local block " + vv);
                                a.free(mine[v]);
                                localFrees.incrementAndGet();
                                nMine--;
                                mine[v] = mine[nMine];
                                mineLen[v] = mineLen[nMine];
                                mineSeed[v] = mineSeed[nMine];
                            }
                            long lp = a.malloc(1 + r.nextInt(256));
                            long lu = a.usableSize(lp);
                            long ls = seedOf(100 + tt, i);
                            fill(lp, lu, ls);
                            mine[nMine] = lp;
                            mineLen[nMine] = lu;
                            mineSeed[nMine] = ls;
                            nMine++;
                        }
                    }
                    for (int v = 0; v < nMine; v++) {
                        assertPattern(mine[v], mineLen[v], mineSeed[v]);
                        a.free(mine[v]);
                        localFrees.incrementAndGet();
                    }
                    return null;
                });
            }
            for (int t = 0; t < consumers; t++) {
                final int tt = t;
                tasks.add(() -> {
                    start.await();
                    while (consumed.get() < total && !stop.get()) {
                        long[] b = q.poll();
                        if (b == null) {
                            Thread.onSpinWait();
                            Thread.yield();
                            continue;
                        }
                        queued.decrementAndGet();
                        assertPattern(b[0], b[1], b[2], () -> "consumer " + tt + ": block from producer " + b[3]);
                        a.free(b[0]);
                        consumed.incrementAndGet();
                    }
                    return null;
                });
            }
            start.countDown();
            runAll(tasks, stop);
            assertEquals(total, consumed.get(), "every produced block was consumed");
            long frees = total + localFrees.get();
            assertEmptyAndConsistent(a, frees, frees, 0);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void statsSnapshotsTakenDuringConcurrentUseAreConsistent() throws Exception {
        int threads = 3, ops = 60_000;
        try (Allocator a = Allocator.create()) {
            CountDownLatch start = new CountDownLatch(1);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger workersLeft = new AtomicInteger(threads);
            AtomicInteger snapshots = new AtomicInteger();
            AtomicLong m = new AtomicLong(), f = new AtomicLong(), r = new AtomicLong();
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int tt = t;
                tasks.add(() -> {
                    try {
                        Counts c = privateWorker(a, tt, ops, start, stop);
                        assertEquals(ops, c.ops());
                        m.addAndGet(c.mallocs());
                        f.addAndGet(c.frees());
                        r.addAndGet(c.reallocs());
                    } finally {
                        workersLeft.decrementAndGet();
                    }
                    return null;
                });
            }
            tasks.add(() -> {
                start.await();
                while (workersLeft.get() > 0 && !stop.get() && snapshots.get() < 3000) {
                    var s = a.stats();
                    // a snapshot is atomic: every relation between its numbers holds
                    assertConsistent(s, "snapshot " + snapshots.get());
                    s.toJson();
                    snapshots.incrementAndGet();
                }
                return null;
            });
            start.countDown();
            runAll(tasks, stop);
            assertTrue(snapshots.get() > 0);
            assertEmptyAndConsistent(a, m.get(), f.get(), r.get());
        }
    }
}
