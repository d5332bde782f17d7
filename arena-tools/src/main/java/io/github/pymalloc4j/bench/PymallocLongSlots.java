package io.github.pymalloc4j.bench;

import io.github.pymalloc4j.Allocator;

/**
 * pymalloc4j's {@code long} API: {@link Allocator#malloc(long)} and {@link Allocator#free(long)}, one
 * {@link Allocator#create() default allocator} per trial, addresses kept in a {@code long[]}. At close it
 * fails if the allocator still counts live bytes ({@link BenchChecks#closeChecked}).
 */
final class PymallocLongSlots extends AddressSlots {

    static final String NAME = "pymalloc4j";

    private Allocator heap;

    PymallocLongSlots() {
        super(NAME);
    }

    @Override
    public void open(int slots) {
        heap = Allocator.create();
        BenchChecks.warmUp(heap);
        super.open(slots);
    }

    @Override
    public long allocate(int slot, long size) {
        long a = heap.malloc(size);
        blocks[slot] = a;
        return a;
    }

    @Override
    public void free(int slot) {
        heap.free(take(slot));
    }

    @Override
    public void close() {
        try {
            super.close();
        } finally {
            BenchChecks.closeChecked(heap, NAME);
        }
    }
}
