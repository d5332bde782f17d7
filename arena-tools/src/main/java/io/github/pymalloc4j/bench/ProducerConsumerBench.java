package io.github.pymalloc4j.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
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

/**
 * xmalloc-style producer/consumer: one thread allocates {@value #BLOCK} B blocks into the slots of a
 * bounded single-producer/single-consumer ring of {@value #CAPACITY} entries (entry i is slot i of the
 * {@link SlotAllocator}); another thread takes them and frees them. Every free is a cross-thread free (for
 * pymalloc4j: a remote free, one atomic OR, and the producer's heap takes the blocks back). Score to read:
 * {@code xmalloc:consume}, blocks freed per microsecond ({@code xmalloc:produce} is the same in steady
 * state, the group total {@code xmalloc} is their sum).
 *
 * <p>Not run for {@code arena-confined}: a confined arena can only be closed by the thread that created
 * it, so the consumer could not free the producer's blocks ({@code WrongThreadException}). A shared arena
 * ({@code Arena.ofShared()}) could, but it is another allocator with another cost (closing it is a
 * handshake with every thread), and it is not one of the compared adapters.
 *
 * <p>Both sides spin ({@link Thread#onSpinWait()}) on a full or empty ring: on a 2-core machine parking
 * would measure the scheduler. A spin gives up when JMH sets {@link Control#stopMeasurement}, so the
 * last invocation of an iteration cannot hang when the other side has stopped; such an invocation
 * allocates or frees nothing and returns 0. The producer allocates only once it has room, so no block is
 * lost; blocks still in the ring at the end are freed in the teardown.
 *
 * <p>The ring: the adapter's slots hold the blocks; indices {@code head} (consumer) and {@code tail} (producer)
 * in their own cache lines of a control array, published with release stores and read with acquire
 * loads; each side caches the other's index and re-reads it only when the ring looks full or empty.
 * The consumer frees its slot before it publishes the new head, so the producer never writes a slot the
 * consumer still reads. No Java object is allocated per operation (beyond what the allocator creates).
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

        /** The allocator under test, see {@link SlotAllocator#NAMES}; not arena-confined (see above). */
        @Param({"pymalloc4j", "pymalloc4j-segment", "malloc", "malloc-critical", "netty"})
        public String impl;

        SlotAllocator slots;
        final long[] control = new long[CONTROL_LENGTH];

        /** Opens the allocator named by {@link #impl}. */
        @Setup(Level.Trial)
        public void setUp() {
            open(SlotAllocator.of(impl));
        }

        /** Opens {@code allocator} (the benchmark's or a test's) with one slot per ring entry. */
        void open(SlotAllocator allocator) {
            if (!allocator.crossThreadFree()) {
                throw new IllegalArgumentException(allocator.name() + " cannot free a block in another thread");
            }
            slots = allocator;
            slots.open(CAPACITY);
        }

        /**
         * Frees the blocks still in the ring, then closes; it fails the trial if a check fails. Both
         * threads have stopped by now.
         */
        @TearDown(Level.Trial)
        public void tearDown() {
            long tail = (long) LONGS.getAcquire(control, TAIL);
            for (long h = (long) LONGS.getAcquire(control, HEAD); h < tail; h++) {
                slots.free((int) h & MASK);
            }
            LONGS.setRelease(control, HEAD, tail);
            slots.close();
        }
    }

    /**
     * Producer: waits for room, allocates one block into the tail slot, publishes it.
     *
     * @param ring    the allocator and the ring.
     * @param control JMH's control, to give up waiting when the iteration ends.
     * @return the block's address, or 0 if the iteration ended first.
     */
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
        long block = ring.slots.allocate((int) tail & MASK, BLOCK);
        LONGS.setRelease(c, TAIL, tail + 1);
        return block;
    }

    /**
     * Consumer: waits for an entry, frees its block, publishes the new head.
     *
     * @param ring    the allocator and the ring.
     * @param control JMH's control, to give up waiting when the iteration ends.
     * @return the freed block's address, or 0 if the iteration ended first.
     */
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
        int slot = (int) head & MASK;
        long block = ring.slots.address(slot);
        ring.slots.free(slot);
        LONGS.setRelease(c, HEAD, head + 1); // the slot is empty now: the producer may reuse it
        return block;
    }
}
