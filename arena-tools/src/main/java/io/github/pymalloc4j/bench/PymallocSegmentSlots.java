package io.github.pymalloc4j.bench;

import io.github.pymalloc4j.Allocator;
import java.lang.foreign.MemorySegment;

/**
 * pymalloc4j's {@code MemorySegment} API: {@link Allocator#allocate(long)} (the
 * {@link java.lang.foreign.SegmentAllocator} method a caller would use, alignment 1) and
 * {@link Allocator#free(MemorySegment)}, segments kept in a {@code MemorySegment[]}. The segment is a
 * Java object per block (escape analysis cannot remove it: it is stored in the slot), which
 * {@code -prof gc} shows. At close it fails if the allocator still counts live bytes.
 */
final class PymallocSegmentSlots implements SlotAllocator {

    static final String NAME = "pymalloc4j-segment";

    private Allocator heap;
    private MemorySegment[] segments;

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
        segments = new MemorySegment[slots];
    }

    @Override
    public long allocate(int slot, long size) {
        MemorySegment s = heap.allocate(size);
        segments[slot] = s;
        return s.address();
    }

    @Override
    public void free(int slot) {
        heap.free(segments[slot]);
        segments[slot] = null;
    }

    @Override
    public long address(int slot) {
        return segments[slot].address();
    }

    @Override
    public void close() {
        try {
            BenchChecks.requireEmpty(segments, NAME);
        } finally {
            BenchChecks.closeChecked(heap, NAME);
        }
    }
}
