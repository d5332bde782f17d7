package io.github.pymalloc4j.bench;

import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single thread, one allocation immediately followed by its free: the fast path with a hot free list.
 * Score = ns per allocate + free pair.
 *
 * <p>{@code impl} names a {@link SlotAllocator}; the pair uses slot 0. For {@code size=mix} the requests
 * cycle through {@value #SEQUENCE} sizes drawn uniformly from 1..512 with a fixed seed.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PairBench {

    static final int SEQUENCE = 1024; // power of two

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
    private int next;

    /** Opens the allocator named by {@link #impl}. */
    @Setup(Level.Trial)
    public void setUp() {
        setUp(SlotAllocator.of(impl));
    }

    /** Opens {@code allocator} (the benchmark's or a test's) with one slot and computes the sizes. */
    void setUp(SlotAllocator allocator) {
        slots = allocator;
        slots.open(1);
        sizes = Workloads.sizes(size, SEQUENCE);
        next = 0;
    }

    /** Closes the allocator; it fails the trial if a check fails. */
    @TearDown(Level.Trial)
    public void tearDown() {
        slots.close();
    }

    /**
     * One allocate + free pair.
     *
     * @return the block's address.
     */
    @Benchmark
    public long pair() {
        long s = sizes[next];
        next = (next + 1) & (SEQUENCE - 1);
        long a = slots.allocate(0, s);
        slots.free(0);
        return a;
    }
}
