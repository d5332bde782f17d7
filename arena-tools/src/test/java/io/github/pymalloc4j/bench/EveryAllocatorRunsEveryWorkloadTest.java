package io.github.pymalloc4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.openjdk.jmh.infra.Control;

/**
 * Runs the body of every benchmark once (a few hundred to a few thousand operations) against every
 * adapter, through {@link CheckedSlotAllocator}, so that an adapter or workload bug fails the build and
 * not only a benchmark run. The adapter's own close checks (every slot empty, pymalloc4j with no live
 * bytes, Netty with a thread cache) run at the end of each.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EveryAllocatorRunsEveryWorkloadTest {

    static final List<String> NAMES = SlotAllocator.NAMES;

    static CheckedSlotAllocator checked(String name) {
        return new CheckedSlotAllocator(SlotAllocator.of(name), true);
    }

    static void assertAllFreed(CheckedSlotAllocator a, long atLeast) {
        assertTrue(a.allocations() >= atLeast, a.name() + ": only " + a.allocations() + " allocations");
        assertEquals(a.allocations(), a.frees(), a.name() + ": allocations and frees differ");
    }

    @Test
    void namesAreTheBenchmarkParameters() {
        assertEquals(
                List.of(
                        "pymalloc4j",
                        "pymalloc4j-heap",
                        "pymalloc4j-segment",
                        "malloc",
                        "malloc-critical",
                        "arena-confined",
                        "netty",
                        "floor"),
                NAMES);
        for (String name : NAMES) {
            assertEquals(name, SlotAllocator.of(name).name());
        }
        assertThrows(IllegalArgumentException.class, () -> SlotAllocator.of("jemalloc"));
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void closeFailsWhileASlotHoldsABlock(String name) {
        SlotAllocator a = SlotAllocator.of(name);
        a.open(2);
        a.allocate(1, 32);
        assertThrows(IllegalStateException.class, a::close);
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void pair(String name) {
        for (String size : List.of("16", "mix")) {
            PairBench b = new PairBench();
            b.size = size;
            CheckedSlotAllocator a = checked(name);
            b.setUp(a);
            for (int i = 0; i < 2 * PairBench.SEQUENCE; i++) {
                assertNotEquals(0, b.pair());
            }
            b.tearDown();
            assertAllFreed(a, 2 * PairBench.SEQUENCE);
        }
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void batch(String name) {
        BatchBench b = new BatchBench();
        b.size = "mix";
        CheckedSlotAllocator a = checked(name);
        b.setUp(a);
        b.batch();
        b.batch();
        b.tearDown();
        assertAllFreed(a, 2 * BatchBench.N);
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void churn(String name) {
        ChurnBench b = new ChurnBench();
        b.size = "mix";
        CheckedSlotAllocator a = checked(name);
        b.setUp(a, 500);
        for (int i = 0; i < 5000; i++) {
            assertNotEquals(0, b.churn());
        }
        b.tearDown();
        assertAllFreed(a, 5500);
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void glibcSimple(String name) {
        GlibcSimpleBench b = new GlibcSimpleBench();
        b.size = "mix";
        CheckedSlotAllocator a = checked(name);
        b.setUp(a);
        b.glibcSimple();
        b.glibcSimple();
        b.tearDown();
        assertAllFreed(a, 2 * GlibcSimpleBench.N);
    }

    /** Two threads, each filling, churning and freeing its own range, as JMH's worker threads do. */
    @ParameterizedTest
    @FieldSource("NAMES")
    void larson(String name) throws Exception {
        LarsonBench.Shared shared = new LarsonBench.Shared();
        CheckedSlotAllocator a = checked(name);
        if (!a.threadSafe()) {
            assertThrows(IllegalArgumentException.class, () -> shared.open(a, 2));
            return;
        }
        shared.open(a, 2);
        List<Callable<Void>> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int index = t;
            threads.add(() -> {
                LarsonBench.Worker w = new LarsonBench.Worker();
                w.fill(shared, index);
                for (int i = 0; i < 2000; i++) {
                    LarsonBench.churn(shared, w);
                }
                w.tearDown(shared); // the second thread to get here closes the allocator
                return null;
            });
        }
        runConcurrently(threads);
        assertEquals(0, shared.rangesHeld.get());
        assertAllFreed(a, 2 * (LarsonBench.SLOTS + 2000));
    }

    /** A real producer thread and consumer thread, past several wrap-arounds of the ring. */
    @ParameterizedTest
    @FieldSource("NAMES")
    void producerConsumer(String name) throws Exception {
        CheckedSlotAllocator a = checked(name);
        ProducerConsumerBench.Ring ring = new ProducerConsumerBench.Ring();
        if (!a.crossThreadFree()) {
            assertThrows(IllegalArgumentException.class, () -> ring.open(a));
            return;
        }
        ring.open(a);
        ProducerConsumerBench bench = new ProducerConsumerBench();
        Control control = new Control();
        int blocks = 3 * ProducerConsumerBench.CAPACITY + 17;
        List<Callable<Void>> sides = List.of(
                () -> {
                    for (int i = 0; i < blocks; i++) {
                        assertNotEquals(0, bench.produce(ring, control));
                    }
                    return null;
                },
                () -> {
                    for (int i = 0; i < blocks - 100; i++) {
                        assertNotEquals(0, bench.consume(ring, control));
                    }
                    return null;
                });
        runConcurrently(sides);
        ring.tearDown(); // frees the 100 blocks left in the ring
        assertAllFreed(a, blocks);
    }

    /**
     * Two iterations of hand-out and re-allocation; the worker frees blocks the helper thread allocated.
     * The workload writes its own values into the blocks, so the pattern is not checked.
     */
    @ParameterizedTest
    @FieldSource("NAMES")
    void cacheScratch(String name) throws Exception {
        CheckedSlotAllocator a = new CheckedSlotAllocator(SlotAllocator.of(name), false);
        CacheScratchBench.Shared shared = new CacheScratchBench.Shared();
        if (!a.crossThreadFree()) {
            assertThrows(IllegalArgumentException.class, () -> shared.open(a, 2));
            return;
        }
        shared.open(a, 2);
        CacheScratchBench.Worker[] workers = {new CacheScratchBench.Worker(), new CacheScratchBench.Worker()};
        for (int iteration = 0; iteration < 2; iteration++) {
            shared.handOut();
            for (int t = 0; t < 2; t++) {
                workers[t].index = t;
                workers[t].takeBlock(shared);
            }
            assertNotEquals(shared.handoutSlots[0], shared.handoutSlots[1]);
            for (int i = 0; i < 2 * CacheScratchBench.REALLOC_EVERY + 1; i++) {
                for (CacheScratchBench.Worker w : workers) {
                    CacheScratchBench.scratch(shared, w);
                }
            }
            assertEquals(2, workers[0].reallocs);
        }
        shared.tearDown();
        assertAllFreed(a, 2 * CacheScratchBench.CANDIDATES);
    }

    private static void runConcurrently(List<Callable<Void>> tasks) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
        try {
            List<Future<Void>> done = new ArrayList<>();
            for (Callable<Void> task : tasks) {
                done.add(pool.submit(task));
            }
            for (Future<Void> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
