package io.github.pymalloc4j.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Larson-style server churn. Every thread owns a disjoint range of {@value #SLOTS} slots of one shared
 * {@link SlotAllocator}, each holding a live block; one operation frees a random slot of the thread's range
 * and puts a new block of random size 16..512 in its place. Score = operations (one free + one
 * allocation) per microsecond, summed over the threads, so {@code larson2 / larson1} is the 2-thread
 * scaling.
 *
 * <p>The slot index comes from a per-thread xorshift64 state, the size from a per-thread table of
 * {@value #SIZES} sizes precomputed from a fixed seed: no {@code Random} and no Java object in the
 * measured path (beyond what the allocator itself creates). Each thread fills its own range in its trial
 * setup and frees it in its trial teardown, in its own thread, so every block is freed by the thread that
 * allocated it: that is also why every adapter, {@code arena-confined} included, runs here. The last
 * thread to free its range closes the allocator, with the adapter's checks.
 *
 * <p>Unlike the original larson, JMH's worker threads live for the whole trial: there are no successor
 * threads that inherit (and free) a dead predecessor's blocks, hence no remote frees and no abandoned
 * heaps here. {@link ProducerConsumerBench} measures the cross-thread free.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LarsonBench {

    /** Live blocks per thread. */
    static final int SLOTS = 10_000;
    /** Distance between two threads' ranges: 16 slots of padding, so no cache line of handles is shared. */
    static final int STRIDE = SLOTS + 16;
    /** Length of the per-thread size table (power of two). */
    static final int SIZES = 4096;

    static final int MIN_SIZE = 16;
    static final int MAX_SIZE = 512;

    /** The allocator and the slots of all threads. */
    @State(Scope.Benchmark)
    public static class Shared {

        /** The allocator under test, see {@link SlotAllocator#NAMES}. */
        @Param({"pymalloc4j", "pymalloc4j-segment", "malloc", "malloc-critical", "arena-confined", "netty"})
        public String impl;

        SlotAllocator slots;
        /** Threads that have not freed their range yet; the last one to free it closes the allocator. */
        final AtomicInteger rangesHeld = new AtomicInteger();

        /**
         * Opens the allocator named by {@link #impl} with the slots of every thread.
         *
         * @param params JMH's parameters, for the thread count.
         */
        @Setup(Level.Trial)
        public void setUp(BenchmarkParams params) {
            open(SlotAllocator.of(impl), params.getThreads());
        }

        /** Opens {@code allocator} (the benchmark's or a test's) with the ranges of {@code threads}. */
        void open(SlotAllocator allocator, int threads) {
            if (threads > 1 && !allocator.threadSafe()) {
                throw new IllegalArgumentException(allocator.name() + " is for one thread only");
            }
            slots = allocator;
            slots.open(threads * STRIDE);
            rangesHeld.set(threads); // not counted up by the threads: one may end before another starts
        }

        /**
         * Called by each thread after it freed its range: the last one closes the allocator, which fails
         * the trial if a slot still holds a block or the adapter's check fails (e.g. pymalloc4j still
         * counting live bytes). Not a {@code @TearDown} of this state: JMH runs that before the threads'
         * own teardowns, when the ranges are still allocated.
         */
        void rangeFreed() {
            if (rangesHeld.decrementAndGet() == 0) {
                slots.close();
            }
        }
    }

    /** One thread's range, random state and size table. */
    @State(Scope.Thread)
    public static class Worker {

        int base;
        long x;
        long[] sizes;

        /**
         * Runs in the worker thread itself: it allocates the blocks of its own range.
         *
         * @param shared the allocator.
         * @param thread JMH's thread parameters, for the thread index.
         */
        @Setup(Level.Trial)
        public void setUp(Shared shared, ThreadParams thread) {
            fill(shared, thread.getThreadIndex());
        }

        /** Takes the range of thread {@code index} and allocates its blocks. */
        void fill(Shared shared, int index) {
            base = index * STRIDE;
            x = 0x9E3779B97F4A7C15L * (index + 1); // nonzero xorshift seed, distinct per thread
            sizes = new long[SIZES];
            SplittableRandom rnd = new SplittableRandom(Workloads.MIX_SEED + index);
            for (int i = 0; i < SIZES; i++) {
                sizes[i] = MIN_SIZE + rnd.nextInt(MAX_SIZE - MIN_SIZE + 1);
            }
            for (int i = 0; i < SLOTS; i++) {
                shared.slots.allocate(base + i, sizes[i & (SIZES - 1)]);
            }
        }

        /**
         * Runs in the worker thread itself, after every thread stopped measuring: frees the blocks of its
         * range; the last thread to get here closes the allocator ({@link Shared#rangeFreed()}).
         *
         * @param shared the allocator.
         */
        @TearDown(Level.Trial)
        public void tearDown(Shared shared) {
            for (int i = 0; i < SLOTS; i++) {
                shared.slots.free(base + i);
            }
            shared.rangeFreed();
        }
    }

    /**
     * One churn operation on one thread.
     *
     * @param shared the allocator.
     * @param worker this thread's range.
     * @return the new block's address.
     */
    @Benchmark
    @Threads(1)
    public long larson1(Shared shared, Worker worker) {
        return churn(shared, worker);
    }

    /**
     * One churn operation on each of two threads.
     *
     * @param shared the allocator.
     * @param worker this thread's range.
     * @return the new block's address.
     */
    @Benchmark
    @Threads(2)
    public long larson2(Shared shared, Worker worker) {
        return churn(shared, worker);
    }

    /** Frees a random slot of the worker's range and allocates a block of random size into it. */
    static long churn(Shared shared, Worker w) {
        long x = w.x;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        w.x = x;
        int slot = w.base + (int) (((x >>> 32) * SLOTS) >>> 32); // uniform in [0, SLOTS)
        SlotAllocator a = shared.slots;
        a.free(slot);
        return a.allocate(slot, w.sizes[(int) x & (SIZES - 1)]);
    }
}
