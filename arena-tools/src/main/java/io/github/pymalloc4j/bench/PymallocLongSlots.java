package io.github.pymalloc4j.bench;

import io.github.pymalloc4j.Allocator;

/**
 * pymalloc4j's {@code long} API: {@link Allocator#malloc(long)} and {@link Allocator#free(long)}, one
 * {@link Allocator#create() default allocator} per trial, addresses kept in a {@code long[]}. At close it
 * fails if the allocator still counts live bytes ({@link BenchChecks#closeChecked}).
 */
final class PymallocLongSlots implements SlotAllocator {

    static final String NAME = "pymalloc4j";

    private Allocator heap;
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
        heap = Allocator.create();
        BenchChecks.warmUp(heap);
        blocks = new long[slots];
    }

    @Override
    public long allocate(int slot, long size) {
        long a = heap.malloc(size);
        blocks[slot] = a;
        return a;
    }

    @Override
    public void free(int slot) {
        heap.free(blocks[slot]);
        blocks[slot] = 0;
    }

    @Override
    public long address(int slot) {
        return blocks[slot];
    }

    @Override
    public void close() {
        try {
            BenchChecks.requireEmpty(blocks, NAME);
        } finally {
            BenchChecks.closeChecked(heap, NAME);
        }
    }
}
