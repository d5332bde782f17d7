package io.github.pymalloc4j;

import java.lang.foreign.Arena;
import java.util.concurrent.locks.LockSupport;

/**
 * The real allocator objects the jcstress tests race on, built small enough to make one per sample:
 * a {@link Heap} and one {@link Pool} of 512-byte blocks, owned by that heap and in its class list.
 *
 * <p>A pool normally comes from an {@link ArenaSet}, which maps arenas; a sample cannot afford one.
 * Instead every pool here lies over the same small scratch block of native memory: the only native
 * writes a pool makes are the owner's free-list links (a collection threads collected blocks through
 * them), which no test reads back, so pools of different samples sharing the memory cannot disturb
 * each other. Every protocol under test acts on the pool's Java-heap state (bitmaps, notify state,
 * counts) and on the heap's handshake fields, exactly as in an allocator.
 */
final class StressFixtures {
    /** The class of 512-byte blocks: the largest, so a pool of a few blocks is small. */
    static final int CLASS = SizeClass.indexOf(SizeClass.MAX_SMALL_SIZE);

    static final int BLOCK = SizeClass.blockSize(CLASS);
    /** Most blocks a pool here may have. */
    static final int MAX_BLOCKS = 8;

    private static final long SCRATCH =
            Arena.global().allocate((long) MAX_BLOCKS * BLOCK, 4096).address();

    /**
     * The owner thread a heap names. Maintenance abandons a heap whose owner is not alive, so the heaps
     * here name a thread that lives as long as the JVM; which thread calls a heap is up to each test.
     */
    static final Thread OWNER = Thread.ofPlatform()
            .daemon()
            .name("stand-in heap owner")
            .start(() -> {
                while (true) {
                    LockSupport.park();
                }
            });

    /**
     * A shared arena set for tests that run a real maintenance round: the round locks it, counts its
     * rounds and purges it (nothing to purge: no pool here comes from it). One arena of address space.
     */
    static final ArenaSet ARENAS = new ArenaSet(
            1L << 20, 16 << 10, 1L << 20, false, new ReservationLimit(Long.MAX_VALUE), false, new InFlightCalls());

    private StressFixtures() {}

    /**
     * A platform thread's heap: empty pools kept (as with a non-zero purge delay), the
     * {@link ProcessBarrier} handshake on its calls when {@code asymmetric}.
     */
    static Heap heap(final boolean asymmetric) {
        return new Heap(0, OWNER, ARENAS, asymmetric, true);
    }

    /**
     * A pool of {@code blocks} blocks, carved for {@code heap} and in its class list with no block handed
     * out. It enters the list the way a full pool comes back after a remote free: pushed on the heap's
     * notified stack and drained, so no arena is needed.
     */
    static Pool listedPool(final Heap heap, final int blocks) {
        if (blocks < 1 || blocks > MAX_BLOCKS) {
            throw new IllegalArgumentException("blocks: " + blocks);
        }
        final Pool pool = new Pool(null, 0, SCRATCH, blocks * BLOCK);
        pool.init(CLASS, heap);
        Notification.push(heap, pool);
        heap.drainNotified();
        if (!pool.listed
                || Notification.hasNotifiedVolatile(heap)
                || Notification.stateVolatile(pool) != Notification.NONE) {
            throw new IllegalStateException("the pool did not enter its heap's list");
        }
        return pool;
    }

    /**
     * A remote free as {@code Allocator.free} makes it from a thread that does not own the pool: the
     * pool's atomic free, then the push if this free claimed the pool's notification.
     *
     * @return 1 if the free took effect, 0 if it was refused (IllegalArgumentException, nothing changed).
     */
    static int freeRemote(final Pool pool, final long address) {
        try {
            final Heap notify = pool.freeRemote(address);
            if (notify != null) {
                Notification.push(notify, pool);
            }
            return 1;
        } catch (final IllegalArgumentException refused) {
            return 0;
        }
    }
}
