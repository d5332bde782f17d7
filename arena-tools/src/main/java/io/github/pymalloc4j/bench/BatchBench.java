package io.github.pymalloc4j.bench;

import io.github.pymalloc4j.Allocator;
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

import java.util.concurrent.TimeUnit;

/**
 * Single thread, allocate {@value #N} blocks, then free all of them in allocation order: free lists
 * are walked and refilled, pools fill up and empty. Score = ns per block (one malloc + one free),
 * via {@code @OperationsPerInvocation}, so it is comparable to {@link PairBench}.
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

    @Param({"16", "64", "256", "512", "mix"})
    public String size;

    @Param({"pymalloc4j", "malloc"})
    public String impl;

    private boolean pymalloc;
    private Allocator heap;
    private long[] sizes;
    private long[] addresses;

    @Setup(Level.Trial)
    public void setUp() {
        pymalloc = Workloads.isPymalloc(impl);
        heap = pymalloc ? Allocator.create() : null;
        sizes = Workloads.sizes(size, N);
        addresses = new long[N];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (heap != null) {
            heap.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public long batch() {
        long[] a = addresses;
        long[] s = sizes;
        if (pymalloc) {
            Allocator h = heap;
            for (int i = 0; i < N; i++) {
                a[i] = h.malloc(s[i]);
            }
            for (int i = 0; i < N; i++) {
                h.free(a[i]);
            }
        } else {
            for (int i = 0; i < N; i++) {
                a[i] = LibcBaseline.malloc(s[i]);
            }
            for (int i = 0; i < N; i++) {
                LibcBaseline.free(a[i]);
            }
        }
        return a[0] ^ a[N - 1];
    }
}
