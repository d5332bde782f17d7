package io.github.pymalloc4j.bench;

import java.util.List;

/**
 * One allocator under test, driven through numbered <em>slots</em>: a workload says "put a block of n
 * bytes in slot 7", "free slot 7", and the adapter keeps the handle of each slot in its own array
 * ({@code long[]} addresses, {@code MemorySegment[]}, {@code Arena[]}, {@code ByteBuf[]}). So every
 * workload runs unchanged against every allocator, and no handle is boxed or wrapped on the way.
 *
 * <p>The benchmarks pick the adapter by name ({@link #of(String)}, from a JMH {@code @Param impl}). A JMH
 * fork runs one parameter combination, so only one implementing class is loaded there and every call
 * through this interface stays monomorphic (inlined like a direct call).
 *
 * <p>Threads: a slot belongs to one thread at a time; the workload hands it to another thread with its
 * own happens-before edge (as {@link ProducerConsumerBench}'s ring does). Distinct slots may be used by
 * different threads at once. Whether a block may be freed by a thread other than the allocating one
 * depends on the allocator ({@link #crossThreadFree()}).
 */
public interface SlotAllocator {

    /** The names {@link #of(String)} accepts, in the order the reports show them. */
    List<String> NAMES = List.of(
            PymallocLongSlots.NAME,
            PymallocThreadHeapSlots.NAME,
            PymallocSegmentSlots.NAME,
            MallocSlots.NAME,
            MallocCriticalSlots.NAME,
            ConfinedArenaSlots.NAME,
            NettyPooledSlots.NAME,
            FloorSlots.NAME);

    /**
     * A new, unopened adapter. Only the chosen class is loaded.
     *
     * @param name one of {@link #NAMES}.
     * @return the adapter; call {@link #open(int)} before anything else.
     * @throws IllegalArgumentException for an unknown name.
     */
    static SlotAllocator of(String name) {
        return switch (name) {
            case PymallocLongSlots.NAME -> new PymallocLongSlots();
            case PymallocThreadHeapSlots.NAME -> new PymallocThreadHeapSlots();
            case PymallocSegmentSlots.NAME -> new PymallocSegmentSlots();
            case MallocSlots.NAME -> new MallocSlots();
            case MallocCriticalSlots.NAME -> new MallocCriticalSlots();
            case ConfinedArenaSlots.NAME -> new ConfinedArenaSlots();
            case NettyPooledSlots.NAME -> new NettyPooledSlots();
            case FloorSlots.NAME -> new FloorSlots();
            default -> throw new IllegalArgumentException("impl must be one of " + NAMES + ": " + name);
        };
    }

    /**
     * The adapter's name, as given to {@link #of(String)}.
     *
     * @return the name.
     */
    String name();

    /**
     * Whether a block may be freed by another thread than the one that allocated it.
     *
     * @return false for allocators whose blocks are confined to their allocating thread.
     */
    boolean crossThreadFree();

    /**
     * Whether several threads may use the adapter at once (on distinct slots).
     *
     * @return false for the single-threaded floor, which the multi-threaded workloads refuse.
     */
    default boolean threadSafe() {
        return true;
    }

    /**
     * Creates the allocator under test (if the adapter owns one) and {@code slots} empty slots. Runs once,
     * in setup; it may allocate Java objects and warm up statistics so that none of that is measured.
     *
     * @param slots number of slots, numbered 0 to {@code slots - 1}.
     */
    void open(int slots);

    /**
     * Allocates a block of {@code size} bytes into an empty slot.
     *
     * @param slot an empty slot.
     * @param size bytes, 1 or more.
     * @return the native address of the block (never 0), for the workload to return to JMH or to write.
     */
    long allocate(int slot, long size);

    /**
     * Frees the block of a slot and empties the slot.
     *
     * @param slot a slot holding a block.
     */
    void free(int slot);

    /**
     * The native address of the block in a slot.
     *
     * @param slot a slot holding a block.
     * @return its address.
     */
    long address(int slot);

    /**
     * Writes every byte of the block in a slot with {@link BlockBytes#patternOf(int) the slot's pattern}.
     * The same code for every adapter: {@link BlockBytes#fill} on the block's address.
     *
     * @param slot a slot holding a block.
     * @param size the size the block was allocated with.
     */
    default void touch(int slot, long size) {
        BlockBytes.fill(address(slot), size, BlockBytes.patternOf(slot));
    }

    /**
     * Checks that every slot is empty (the workload freed everything it allocated), runs the adapter's own
     * checks (e.g. no live bytes left in pymalloc4j) and releases the allocator under test.
     *
     * @throws IllegalStateException if a slot still holds a block or a check fails; the allocator is
     *                               released all the same where that is possible.
     */
    void close();
}
