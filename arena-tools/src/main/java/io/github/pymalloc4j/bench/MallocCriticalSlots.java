package io.github.pymalloc4j.bench;

import java.lang.foreign.Linker;

/**
 * The C library's {@code malloc}/{@code free} through downcalls made with
 * {@link Linker.Option#critical(boolean) Linker.Option.critical(false)} ({@link LibcBaseline#mallocCritical},
 * {@link LibcBaseline#freeCritical}): the downcall skips the Java-to-native thread-state transition.
 * Addresses kept in a {@code long[]}.
 */
final class MallocCriticalSlots implements SlotAllocator {

    static final String NAME = "malloc-critical";

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
        long a = LibcBaseline.mallocCritical(size);
        if (a == 0) {
            throw new OutOfMemoryError("malloc(" + size + ") returned NULL");
        }
        blocks[slot] = a;
        return a;
    }

    @Override
    public void free(int slot) {
        LibcBaseline.freeCritical(blocks[slot]);
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
