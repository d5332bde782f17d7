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
 * Single thread, modelled on glibc's malloc benchtest {@code bench-malloc-simple}: allocate {@value #N}
 * blocks, writing every byte of each right after its allocation ({@link SlotAllocator#touch}, the same
 * code for every allocator), then free the first half in allocation order (FIFO) and the second half in
 * reverse order (LIFO). Score = ns per block (allocation, writing its bytes, free), via
 * {@code @OperationsPerInvocation}. Writing the bytes costs the same for every allocator for a given size;
 * what differs is where the blocks are (how many cache lines and pages the batch spreads over).
 *
 * <p>For {@code size=mix} block i has size i of a fixed 1..512 sequence (seeded, computed in setup).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class GlibcSimpleBench {

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

    /** Opens the allocator named by {@link #impl}. */
    @Setup(Level.Trial)
    public void setUp() {
        setUp(SlotAllocator.of(impl));
    }

    /** Opens {@code allocator} (the benchmark's or a test's) with {@value #N} slots; computes the sizes. */
    void setUp(SlotAllocator allocator) {
        slots = allocator;
        slots.open(N);
        sizes = Workloads.sizes(size, N);
    }

    /** Closes the allocator; it fails the trial if a check fails. */
    @TearDown(Level.Trial)
    public void tearDown() {
        slots.close();
    }

    /**
     * Allocates and writes {@value #N} blocks, frees the first half FIFO and the second half LIFO.
     *
     * @return the first and last addresses, combined.
     */
    @Benchmark
    @OperationsPerInvocation(N)
    public long glibcSimple() {
        SlotAllocator a = slots;
        long[] s = sizes;
        long first = 0;
        long last = 0;
        for (int i = 0; i < N; i++) {
            last = a.allocate(i, s[i]);
            a.touch(i, s[i]);
            if (i == 0) {
                first = last;
            }
        }
        for (int i = 0; i < N / 2; i++) {
            a.free(i);
        }
        for (int i = N - 1; i >= N / 2; i--) {
            a.free(i);
        }
        return first ^ last;
    }
}
