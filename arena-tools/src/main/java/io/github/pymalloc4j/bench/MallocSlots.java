package io.github.pymalloc4j.bench;

/**
 * The C library's {@code malloc}/{@code free} through plain FFM downcalls ({@link LibcBaseline#malloc},
 * {@link LibcBaseline#free}), addresses kept in a {@code long[]}. The reference the reports divide by.
 */
final class MallocSlots extends AddressSlots {

    static final String NAME = "malloc";

    MallocSlots() {
        super(NAME);
    }

    @Override
    public long allocate(int slot, long size) {
        return store(slot, LibcBaseline.malloc(size), size);
    }

    @Override
    public void free(int slot) {
        LibcBaseline.free(take(slot));
    }
}
