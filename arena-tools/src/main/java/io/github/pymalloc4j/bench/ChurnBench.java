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
 * Single thread, a working set of {@value #LIVE} live blocks (allocated in setup, one per slot); one
 * operation frees a random victim and allocates a replacement in its slot. Score = ns per free +
 * allocation. Unlike {@link PairBench} the freed block is not the next one handed out, and the free
 * touches cold metadata: at 512 B the working set is ~50 MB, far more than the caches.
 *
 * <p>The victim comes from an xorshift64 state, the replacement's size from a table of {@value #SIZES}
 * sizes computed in setup (for {@code size=mix}: uniform 1..512, seeded): no {@code Random} and no Java
 * object in the measured path (beyond what the allocator itself creates). The teardown frees the working
 * set.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ChurnBench {

    /** Live blocks. */
    static final int LIVE = 100_000;
    /** Length of the size table (power of two). */
    static final int SIZES = 4096;

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
    private int live;
    private long x;

    /** Opens the allocator named by {@link #impl} and fills the {@value #LIVE} slots. */
    @Setup(Level.Trial)
    public void setUp() {
        setUp(SlotAllocator.of(impl), LIVE);
    }

    /** Opens {@code allocator} (the benchmark's or a test's) with {@code live} slots and fills them. */
    void setUp(SlotAllocator allocator, int live) {
        slots = allocator;
        this.live = live;
        slots.open(live);
        sizes = Workloads.sizes(size, SIZES);
        x = 0x9E3779B97F4A7C15L; // nonzero xorshift seed
        for (int i = 0; i < live; i++) {
            slots.allocate(i, sizes[i & (SIZES - 1)]);
        }
    }

    /** Frees the working set and closes the allocator; it fails the trial if a check fails. */
    @TearDown(Level.Trial)
    public void tearDown() {
        for (int i = 0; i < live; i++) {
            slots.free(i);
        }
        slots.close();
    }

    /**
     * Frees a random live block and allocates a replacement in its slot.
     *
     * @return the replacement's address.
     */
    @Benchmark
    public long churn() {
        long r = x;
        r ^= r << 13;
        r ^= r >>> 7;
        r ^= r << 17;
        x = r;
        int victim = (int) (((r >>> 32) * live) >>> 32); // uniform in [0, live)
        slots.free(victim);
        return slots.allocate(victim, sizes[(int) r & (SIZES - 1)]);
    }
}
