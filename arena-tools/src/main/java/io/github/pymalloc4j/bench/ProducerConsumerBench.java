package io.github.pymalloc4j.bench;

import io.github.pymalloc4j.Allocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
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
import org.openjdk.jmh.infra.Control;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

/**
 * xmalloc-style producer/consumer: one thread allocates {@value #BLOCK} B blocks and pushes their
 * addresses into a bounded single-producer/single-consumer ring of {@value #CAPACITY} entries; another
 * thread pops them and frees them. Every free is a cross-thread free (for pymalloc4j: a remote free, one
 * atomic OR, and the producer's heap takes the blocks back). Score to read: {@code xmalloc:consume},
 * blocks freed per microsecond ({@code xmalloc:produce} is the same in steady state, the group total
 * {@code xmalloc} is their sum).
 *
 * <p>Both sides spin ({@link Thread#onSpinWait()}) on a full or empty ring: on a 2-core machine parking
 * would measure the scheduler. A spin gives up when JMH sets {@link Control#stopMeasurement}, so the
 * last invocation of an iteration cannot hang when the other side has stopped; such an invocation
 * allocates or frees nothing and returns 0. The producer allocates only once it has room, so no block is
 * lost; blocks still in the ring at the end are freed in the teardown.
 *
 * <p>The ring: {@code long[]} of addresses, indices {@code head} (consumer) and {@code tail} (producer)
 * in their own cache lines of a control array, published with release stores and read with acquire
 * loads; each side caches the other's index and re-reads it only when the ring looks full or empty.
 * No Java object is allocated per operation.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ProducerConsumerBench {

    /** Bytes per block. */
    static final long BLOCK = 64;
    /** Ring entries (power of two). */
    static final int CAPACITY = 4096;
    static final int MASK = CAPACITY - 1;

    // Indices into the control array: producer's line and consumer's line, 128 bytes apart (and away
    // from the array header), so that neither side writes a line the other polls except to publish.
    static final int TAIL = 16;
    static final int HEAD_SEEN_BY_PRODUCER = 17;
    static final int HEAD = 32;
    static final int TAIL_SEEN_BY_CONSUMER = 33;
    static final int CONTROL_LENGTH = 48;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    /** The allocator and the ring, shared by the producer and the consumer of one group. */
    @State(Scope.Group)
    public static class Ring {

        @Param({"pymalloc4j", "malloc"})
        public String impl;

        boolean pymalloc;
        Allocator heap;
        final long[] entries = new long[CAPACITY];
        final long[] control = new long[CONTROL_LENGTH];

        @Setup(Level.Trial)
        public void setUp() {
            pymalloc = Workloads.isPymalloc(impl);
            heap = pymalloc ? Allocator.create() : null;
            if (heap != null) {
                BenchChecks.warmUp(heap);
            }
        }

        /** Frees the blocks still in the ring, then closes. Both threads have stopped by now. */
        @TearDown(Level.Trial)
        public void tearDown() {
            long tail = (long) LONGS.getAcquire(control, TAIL);
            for (long h = (long) LONGS.getAcquire(control, HEAD); h < tail; h++) {
                free(entries[(int) h & MASK]);
            }
            LONGS.setRelease(control, HEAD, tail);
            if (heap != null) {
                BenchChecks.closeChecked(heap, "ProducerConsumerBench", impl);
            }
        }

        void free(long address) {
            if (pymalloc) {
                heap.free(address);
            } else {
                LibcBaseline.free(address);
            }
        }
    }

    /** Producer: waits for room, allocates one block, publishes its address. */
    @Benchmark
    @Group("xmalloc")
    @GroupThreads(1)
    public long produce(Ring ring, Control control) {
        long[] c = ring.control;
        long tail = c[TAIL]; // only this thread writes it
        if (tail - c[HEAD_SEEN_BY_PRODUCER] >= CAPACITY) {
            long head;
            while (tail - (head = (long) LONGS.getAcquire(c, HEAD)) >= CAPACITY) {
                if (control.stopMeasurement) {
                    return 0;
                }
                Thread.onSpinWait();
            }
            c[HEAD_SEEN_BY_PRODUCER] = head;
        }
        long block = ring.pymalloc ? ring.heap.malloc(BLOCK) : LibcBaseline.malloc(BLOCK);
        ring.entries[(int) tail & MASK] = block;
        LONGS.setRelease(c, TAIL, tail + 1);
        return block;
    }

    /** Consumer: waits for an entry, takes it, frees the block. */
    @Benchmark
    @Group("xmalloc")
    @GroupThreads(1)
    public long consume(Ring ring, Control control) {
        long[] c = ring.control;
        long head = c[HEAD]; // only this thread writes it
        if (head == c[TAIL_SEEN_BY_CONSUMER]) {
            long tail;
            while ((tail = (long) LONGS.getAcquire(c, TAIL)) == head) {
                if (control.stopMeasurement) {
                    return 0;
                }
                Thread.onSpinWait();
            }
            c[TAIL_SEEN_BY_CONSUMER] = tail;
        }
        long block = ring.entries[(int) head & MASK];
        LONGS.setRelease(c, HEAD, head + 1); // the entry was read before: the slot may be reused now
        if (ring.pymalloc) {
            ring.heap.free(block);
        } else {
            LibcBaseline.free(block);
        }
        return block;
    }
}
