package io.github.pymalloc4j.bench;

/**
 * The slots of an adapter whose handle is the block's native address: a {@code long[]}, 0 for an empty
 * slot. Subclasses say how a block is allocated and freed; each is its own final class, so that in a JMH
 * fork the calls through {@link SlotAllocator} stay monomorphic and the downcall handles constants.
 */
abstract class AddressSlots implements SlotAllocator {

    private final String name;
    /** The address in each slot, 0 when empty. */
    protected long[] blocks;

    /**
     * @param name the adapter's name, as {@link SlotAllocator#of(String)} takes it.
     */
    AddressSlots(String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public boolean crossThreadFree() {
        return true;
    }

    @Override
    public void open(int slots) {
        blocks = new long[slots];
    }

    @Override
    public final long address(int slot) {
        return blocks[slot];
    }

    @Override
    public void close() {
        BenchChecks.requireEmpty(blocks, name);
    }

    /**
     * Stores an address the allocator returned, refusing a null one.
     *
     * @return the address.
     * @throws OutOfMemoryError if {@code address} is 0.
     */
    final long store(int slot, long address, long size) {
        if (address == 0) {
            throw new OutOfMemoryError(name + ": allocating " + size + " bytes returned NULL");
        }
        blocks[slot] = address;
        return address;
    }

    /**
     * Empties a slot and returns the address it held.
     *
     * @return the address to free.
     */
    final long take(int slot) {
        long a = blocks[slot];
        blocks[slot] = 0;
        return a;
    }
}
