package io.github.pymalloc4j.bench;

/**
 * The C library's {@code malloc}/{@code free} through plain FFM downcalls ({@link LibcBaseline#malloc},
 * {@link LibcBaseline#free}), addresses kept in a {@code long[]}. The reference the reports divide by.
 */
final class MallocSlots implements SlotAllocator {

    static final String NAME = "malloc";

    private long[] blocks;

    @Override
    public String name() {
        return NAME;
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
    public long allocate(int slot, long size) {
        long a = LibcBaseline.malloc(size);
        if (a == 0) {
            throw new OutOfMemoryError("malloc(" + size + ") returned NULL");
        }
        blocks[slot] = a;
        return a;
    }

    @Override
    public void free(int slot) {
        LibcBaseline.free(blocks[slot]);
        blocks[slot] = 0;
    }

    @Override
    public long address(int slot) {
        return blocks[slot];
    }

    @Override
    public void close() {
        BenchChecks.requireEmpty(blocks, NAME);
    }
}
