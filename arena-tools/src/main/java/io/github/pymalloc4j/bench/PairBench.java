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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Single thread, one {@code malloc} immediately followed by its {@code free}: the fast path with a
 * hot free list. Score = ns per malloc+free pair.
 *
 * <p>{@code impl=pymalloc4j} uses {@link Allocator#malloc(long)} / {@link Allocator#free(long)};
 * {@code impl=malloc} uses the C library through {@link LibcBaseline}. For {@code size=mix} the
 * requests cycle through 1024 sizes drawn uniformly from 1..512 with a fixed seed.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PairBench {

    private static final int SEQUENCE = 1024; // power of two

    @Param({"16", "64", "256", "512", "mix"})
    public String size;

    @Param({"pymalloc4j", "malloc"})
    public String impl;

    private boolean pymalloc;
    private Allocator heap;
    private long[] sizes;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        pymalloc = Workloads.isPymalloc(impl);
        heap = pymalloc ? Allocator.create() : null;
        sizes = Workloads.sizes(size, SEQUENCE);
        next = 0;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (heap != null) {
            heap.close();
        }
    }

    @Benchmark
    public long pair() {
        long s = sizes[next];
        next = (next + 1) & (SEQUENCE - 1);
        long a;
        if (pymalloc) {
            a = heap.malloc(s);
            heap.free(a);
        } else {
            a = LibcBaseline.malloc(s);
            LibcBaseline.free(a);
        }
        return a;
    }
}
