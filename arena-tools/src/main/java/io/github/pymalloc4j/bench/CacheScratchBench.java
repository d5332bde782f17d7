package io.github.pymalloc4j.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Passive false sharing, after Hoard's and mimalloc-bench's cache-scratch. Before every iteration a
 * "main thread" (a helper platform thread, not one of the benchmark threads) allocates {@value #SIZE} B
 * blocks in sequence and hands one to each benchmark thread, picking consecutive blocks that lie in one
 * 64-byte cache line, so every allocator starts from the same bad layout. Each operation writes the
 * thread's block {@value #WRITES} times; every {@value #REALLOC_EVERY} operations the thread frees its
 * block and allocates a new one of the same size, and writes that one from then on.
 *
 * <p>An allocator that gives a thread back the block it just freed, whoever allocated it (glibc's
 * tcache does), keeps the threads' blocks in one cache line, and every write of one thread invalidates
 * the other's copy of the line. pymalloc4j returns a foreign block to the heap that owns it (a remote
 * free) and allocates from the thread's own heap, so after the first re-allocation the blocks sit in
 * different pools. Score = operations (of {@value #WRITES} writes) per microsecond summed over the
 * threads; {@code scratch1} is the same loop on one thread, the no-sharing reference.
 *
 * <p>Writes are opaque stores through one {@link MemorySegment} spanning the address space, created in
 * setup, so the JIT keeps every store and no Java object is created per operation (not even on a
 * re-allocation). The first hand-out's addresses are printed; the auxiliary counters of {@link Worker}
 * ({@code reallocs}, {@code reallocsSharingLine}, per iteration, summed over the threads) show
 * whether re-allocated blocks still share a line with another thread's block.
 *
 * <p>The blocks live in the slots of a {@link SlotAllocator}: candidate k of a hand-out in slot
 * {@code k * }{@value #SLOT_STRIDE} (so the two threads' handles are not in one cache line either), and a
 * thread re-allocates into the slot it was handed. Not run for {@code arena-confined}: every thread frees
 * a block the helper thread allocated, and a confined arena can only be closed by the thread that created
 * it.
 *
 * <p>Why a helper thread: if a benchmark thread did the hand-out, its own free/malloc cycle would differ
 * from the other thread's (for glibc its tcache bin would be full of the unused candidates it freed, so
 * its first free would go to a fastbin and its malloc return some other block), and the benchmark would
 * measure that asymmetry instead of the allocator's policy for foreign blocks.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class CacheScratchBench {

    /** Bytes per block. */
    static final long SIZE = 16;
    /** Writes (of both longs of the block) per operation. */
    static final int WRITES = 1000;
    /** Operations between two re-allocations of a thread's block. */
    static final int REALLOC_EVERY = 100;

    static final int LINE_SHIFT = 6;
    /** Candidates allocated in setup to find blocks sharing a line. */
    static final int CANDIDATES = 256;
    /** Longs between two threads' entries of {@link Shared#current}: 128 bytes. */
    static final int CURRENT_STRIDE = 16;
    /** Slots between two candidates: 16 handles are 64 bytes or more in every adapter's handle array. */
    static final int SLOT_STRIDE = 16;

    @SuppressWarnings("restricted")
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /** The allocator, the handed-out blocks and every thread's current block. */
    @State(Scope.Benchmark)
    public static class Shared {

        /** The allocator under test, see {@link SlotAllocator#NAMES}; not arena-confined (see above). */
        @Param({"pymalloc4j", "pymalloc4j-segment", "malloc", "malloc-critical", "netty"})
        public String impl;

        SlotAllocator slots;
        int threads;
        /** Thread i's block and slot, as handed out (the slot stays thread i's for the iteration). */
        long[] handout;

        int[] handoutSlots;
        boolean handoutSharesLine;
        private long[] candidates;
        private boolean handedOut;
        /** The "main thread" of cache-scratch: a platform thread that is not a benchmark thread. */
        private ExecutorService mainThread;

        private Runnable handOutTask;
        /** Thread i's current block at {@code i * CURRENT_STRIDE}; written on re-allocation only. */
        long[] current;

        private boolean printed;

        /**
         * Opens the allocator named by {@link #impl} and starts the hand-out thread.
         *
         * @param params JMH's parameters, for the thread count.
         */
        @Setup(Level.Trial)
        public void setUp(BenchmarkParams params) {
            open(SlotAllocator.of(impl), params.getThreads());
        }

        /** Opens {@code allocator} (the benchmark's or a test's) for {@code threads} benchmark threads. */
        void open(SlotAllocator allocator, int threads) {
            if (!allocator.crossThreadFree()) {
                throw new IllegalArgumentException(allocator.name() + " cannot free a block in another thread");
            }
            slots = allocator;
            slots.open(CANDIDATES * SLOT_STRIDE);
            this.threads = threads;
            current = new long[threads * CURRENT_STRIDE];
            handout = new long[threads];
            handoutSlots = new int[threads];
            candidates = new long[CANDIDATES];
            handedOut = false;
            mainThread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "cache-scratch-main");
                t.setDaemon(true);
                return t;
            });
            handOutTask = this::handOutInMainThread;
        }

        /**
         * Before every iteration, before the workers' own iteration setup: the main thread frees the
         * blocks of the previous iteration and allocates every worker's first block. Little Java
         * allocation (a future per iteration): -prof gc counts the iteration setup in the iteration.
         *
         * @throws InterruptedException if interrupted while waiting for the hand-out.
         * @throws ExecutionException   if the hand-out failed.
         */
        @Setup(Level.Iteration)
        public void handOut() throws InterruptedException, ExecutionException {
            mainThread.submit(handOutTask).get();
            if (!printed || (threads > 1 && !handoutSharesLine)) {
                printed = true; // normally once, in the first warm-up iteration
                System.out.println(report());
            }
        }

        /** Picks the first run of consecutive blocks that lie in one cache line; frees the others. */
        private void handOutInMainThread() {
            freeCurrent();
            long[] c = candidates;
            for (int k = 0; k < CANDIDATES; k++) {
                c[k] = slots.allocate(k * SLOT_STRIDE, SIZE);
            }
            int first = 0;
            for (int k = 0; k + threads <= CANDIDATES; k++) {
                if (sameLine(c, k, threads)) {
                    first = k;
                    break;
                }
            }
            System.arraycopy(c, first, handout, 0, threads);
            handoutSharesLine = sameLine(handout, 0, threads);
            for (int k = 0; k < CANDIDATES; k++) {
                if (k < first || k >= first + threads) {
                    slots.free(k * SLOT_STRIDE);
                }
            }
            for (int i = 0; i < threads; i++) {
                handoutSlots[i] = (first + i) * SLOT_STRIDE;
                current[i * CURRENT_STRIDE] = handout[i];
            }
            handedOut = true;
        }

        /** Frees every thread's current block (they are in the slots handed out), if there are any. */
        private void freeCurrent() {
            if (handedOut) {
                for (int i = 0; i < threads; i++) {
                    slots.free(handoutSlots[i]);
                    current[i * CURRENT_STRIDE] = 0;
                }
                handedOut = false;
            }
        }

        /**
         * Frees the threads' blocks and closes the allocator; it fails the trial if a check fails (e.g.
         * pymalloc4j still counting live bytes).
         */
        @TearDown(Level.Trial)
        public void tearDown() {
            try {
                freeCurrent();
                slots.close();
            } finally {
                mainThread.shutdown();
            }
        }

        /** Does a block {@code fresh} of thread {@code self} share a line with another thread's block? */
        boolean sharesLineWithOthers(int self, long fresh) {
            for (int i = 0; i < threads; i++) {
                if (i != self && current[i * CURRENT_STRIDE] >>> LINE_SHIFT == fresh >>> LINE_SHIFT) {
                    return true;
                }
            }
            return false;
        }

        private String report() {
            StringBuilder s = new StringBuilder(System.lineSeparator());
            s.append("CacheScratchBench impl=")
                    .append(impl)
                    .append(" threads=")
                    .append(threads)
                    .append(": handed out ");
            return hex(s, handout)
                    .append(" (same 64-byte line: ")
                    .append(handoutSharesLine)
                    .append(')')
                    .toString();
        }

        /** Whether the {@code n > 1} blocks {@code blocks[from..from+n)} lie in one cache line. */
        private static boolean sameLine(long[] blocks, int from, int n) {
            for (int i = from + 1; i < from + n; i++) {
                if (blocks[i] >>> LINE_SHIFT != blocks[from] >>> LINE_SHIFT) {
                    return false;
                }
            }
            return n > 1;
        }

        private static StringBuilder hex(StringBuilder s, long[] blocks) {
            s.append('[');
            for (int i = 0; i < blocks.length; i++) {
                s.append(i == 0 ? "" : ", ").append("0x").append(Long.toHexString(blocks[i]));
            }
            return s.append(']');
        }
    }

    /**
     * One thread's block and re-allocation countdown. Its public fields are JMH auxiliary counters,
     * reported per iteration and summed over the threads: {@code reallocs}, and
     * {@code reallocsSharingLine}, the re-allocations whose new block lies in the same 64-byte line as
     * another thread's current block (read racily; exact enough for a count).
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Worker {

        /** Re-allocations in this iteration. */
        public long reallocs;
        /** Re-allocations whose new block shares a 64-byte line with another thread's current block. */
        public long reallocsSharingLine;

        int index;
        int slot;
        long block;
        int countdown;

        /**
         * Takes the thread index.
         *
         * @param thread JMH's thread parameters.
         */
        @Setup(Level.Trial)
        public void setUp(ThreadParams thread) {
            index = thread.getThreadIndex();
        }

        /**
         * Takes this iteration's handed-out block and slot (the shared state's iteration setup ran before).
         *
         * @param shared the hand-out.
         */
        @Setup(Level.Iteration)
        public void takeBlock(Shared shared) {
            slot = shared.handoutSlots[index];
            block = shared.handout[index];
            countdown = REALLOC_EVERY;
            reallocs = 0;
            reallocsSharingLine = 0;
        }
    }

    /**
     * One operation on one thread: the no-sharing reference.
     *
     * @param shared the allocator and the hand-out.
     * @param worker this thread's block.
     * @return a sum of the values read.
     */
    @Benchmark
    @Threads(1)
    public long scratch1(Shared shared, Worker worker) {
        return scratch(shared, worker);
    }

    /**
     * One operation on each of two threads whose first blocks share a cache line.
     *
     * @param shared the allocator and the hand-out.
     * @param worker this thread's block.
     * @return a sum of the values read.
     */
    @Benchmark
    @Threads(2)
    public long scratch2(Shared shared, Worker worker) {
        return scratch(shared, worker);
    }

    /** Re-allocates the thread's block every {@value #REALLOC_EVERY} calls, then writes it {@value #WRITES} times. */
    static long scratch(Shared shared, Worker w) {
        if (--w.countdown == 0) {
            w.countdown = REALLOC_EVERY;
            SlotAllocator a = shared.slots;
            a.free(w.slot);
            long fresh = a.allocate(w.slot, SIZE);
            w.block = fresh;
            shared.current[w.index * CURRENT_STRIDE] = fresh;
            w.reallocs++;
            if (shared.sharesLineWithOthers(w.index, fresh)) {
                w.reallocsSharingLine++;
            }
        }
        long a = w.block;
        long sum = 0;
        for (int j = 0; j < WRITES; j++) {
            LONG.setOpaque(ALL, a, (long) j);
            LONG.setOpaque(ALL, a + 8, (long) j);
            sum += (long) LONG.getOpaque(ALL, a);
        }
        return sum;
    }
}
