package io.github.pymalloc4j.bench;

import java.lang.foreign.Linker;

/**
 * The C library's {@code malloc}/{@code free} through downcalls made with
 * {@link Linker.Option#critical(boolean) Linker.Option.critical(false)} ({@link LibcBaseline#mallocCritical},
 * {@link LibcBaseline#freeCritical}): the downcall skips the Java-to-native thread-state transition.
 * Addresses kept in a {@code long[]}.
 */
final class MallocCriticalSlots extends AddressSlots {

    static final String NAME = "malloc-critical";

    MallocCriticalSlots() {
        super(NAME);
    }

    @Override
    public long allocate(int slot, long size) {
        return store(slot, LibcBaseline.mallocCritical(size), size);
    }

    @Override
    public void free(int slot) {
        LibcBaseline.freeCritical(take(slot));
    }
}
