package io.github.pymalloc4j.bench;

import io.github.pymalloc4j.Allocator;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Larson-style server churn. Every thread owns a disjoint range of {@value #SLOTS} slots of one shared
 * array, each holding a live block; one operation frees a random slot of the thread's range and puts a
 * new block of random size 16..512 in its place. Score = operations (one free + one malloc) per
 * microsecond, summed over the threads, so {@code larson2 / larson1} is the 2-thread scaling.
 *
 * <p>The slot index comes from a per-thread xorshift64 state, the size from a per-thread table of
 * {@value #SIZES} sizes precomputed from a fixed seed: no {@code Random} and no Java object in the
 * measured path. Each thread fills its own range in its trial setup, so every block it frees was
 * allocated by itself.
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
    /** Distance between two threads' ranges: 16 longs of padding, so no cache line is shared. */
    static final int STRIDE = SLOTS + 16;
    /** Length of the per-thread size table (power of two). */
    static final int SIZES = 4096;
    static final int MIN_SIZE = 16;
    static final int MAX_SIZE = 512;

    /** The allocator and the slots of all threads. */
    @State(Scope.Benchmark)
    public static class Shared {

        @Param({"pymalloc4j", "malloc"})
        public String impl;

        boolean pymalloc;
        Allocator heap;
        long[] slots;

        @Setup(Level.Trial)
        public void setUp(BenchmarkParams params) {
            pymalloc = Workloads.isPymalloc(impl);
            heap = pymalloc ? Allocator.create() : null;
            if (heap != null) {
                BenchChecks.warmUp(heap);
            }
            slots = new long[params.getThreads() * STRIDE];
        }

        /** Frees every live block (from this one thread; remote frees for pymalloc4j), then closes. */
        @TearDown(Level.Trial)
        public void tearDown() {
            for (int i = 0; i < slots.length; i++) {
                if (slots[i] != 0) {
                    free(slots[i]);
                    slots[i] = 0;
                }
            }
            if (heap != null) {
                BenchChecks.closeChecked(heap, "LarsonBench", impl);
            }
        }

        long malloc(long size) {
            return pymalloc ? heap.malloc(size) : LibcBaseline.malloc(size);
        }

        void free(long address) {
            if (pymalloc) {
                heap.free(address);
            } else {
                LibcBaseline.free(address);
            }
        }
    }

    /** One thread's range, random state and size table. */
    @State(Scope.Thread)
    public static class Worker {

        int base;
        long x;
        long[] sizes;

        /** Runs in the worker thread itself: it allocates the blocks of its own range. */
        @Setup(Level.Trial)
        public void setUp(Shared shared, ThreadParams thread) {
            int index = thread.getThreadIndex();
            base = index * STRIDE;
            x = 0x9E3779B97F4A7C15L * (index + 1); // nonzero xorshift seed, distinct per thread
            sizes = new long[SIZES];
            SplittableRandom rnd = new SplittableRandom(Workloads.MIX_SEED + index);
            for (int i = 0; i < SIZES; i++) {
                sizes[i] = MIN_SIZE + rnd.nextInt(MAX_SIZE - MIN_SIZE + 1);
            }
            for (int i = 0; i < SLOTS; i++) {
                shared.slots[base + i] = shared.malloc(sizes[i & (SIZES - 1)]);
            }
        }
    }

    @Benchmark
    @Threads(1)
    public long larson1(Shared shared, Worker worker) {
        return churn(shared, worker);
    }

    @Benchmark
    @Threads(2)
    public long larson2(Shared shared, Worker worker) {
        return churn(shared, worker);
    }

    private static long churn(Shared shared, Worker w) {
        long x = w.x;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        w.x = x;
        int slot = w.base + (int) (((x >>> 32) * SLOTS) >>> 32); // uniform in [0, SLOTS)
        long size = w.sizes[(int) x & (SIZES - 1)];
        long[] slots = shared.slots;
        long block;
        if (shared.pymalloc) {
            Allocator h = shared.heap;
            h.free(slots[slot]);
            block = h.malloc(size);
        } else {
            LibcBaseline.free(slots[slot]);
            block = LibcBaseline.malloc(size);
        }
        slots[slot] = block;
        return block;
    }
}
