package io.github.pymalloc4j.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single thread, allocate {@value #N} blocks (slot i gets block i), then free all of them in a shuffled
 * order (a fixed permutation, seeded): free lists are walked and refilled out of order, pools fill up and
 * empty. Score = ns per block (one allocation + one free), via {@code @OperationsPerInvocation}, so it is
 * comparable to {@link PairBench}.
 *
 * <p>For {@code size=mix} block i has size i of a fixed 1..512 sequence (seeded, computed in setup).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class BatchBench {

    static final int N = 1000;

    /** Request size in bytes, or {@code mix}. */
    @Param({"16", "64", "256", "512", "mix"})
    public String size;

    /** The allocator under test, see {@link SlotAllocator#NAMES}. */
    @Param({
        "pymalloc4j",
        "pymalloc4j-heap",
        "pymalloc4j-segment",
        "malloc",
        "malloc-critical",
        "arena-confined",
        "netty",
        "floor"
    })
    public String impl;

    private SlotAllocator slots;
    private long[] sizes;
    private int[] freeOrder;

    /** Opens the allocator named by {@link #impl}. */
    @Setup(Level.Trial)
    public void setUp() {
        setUp(SlotAllocator.of(impl));
    }

    /** Opens {@code allocator} (the benchmark's or a test's) with {@value #N} slots; sizes and order. */
    void setUp(SlotAllocator allocator) {
        slots = allocator;
        slots.open(N);
        sizes = Workloads.sizes(size, N);
        freeOrder = Workloads.shuffledIndices(N);
    }

    /** Closes the allocator; it fails the trial if a check fails. */
    @TearDown(Level.Trial)
    public void tearDown() {
        slots.close();
    }

    /**
     * Allocates the batch, then frees it in the shuffled order.
     *
     * @return the first and last addresses, combined.
     */
    @Benchmark
    @OperationsPerInvocation(N)
    public long batch() {
        SlotAllocator a = slots;
        long[] s = sizes;
        int[] order = freeOrder;
        long first = a.allocate(0, s[0]);
        long last = first;
        for (int i = 1; i < N; i++) {
            last = a.allocate(i, s[i]);
        }
        for (int i = 0; i < N; i++) {
            a.free(order[i]);
        }
        return first ^ last;
    }
}
