package io.github.pymalloc4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The floor: what a small-block allocator costs from Java with every guarantee taken away. One
 * {@code long[]} free stack per 16-byte size class, blocks cut from 1 MiB chunks of one shared
 * {@link Arena}, no statistics, no validation, no thread safety; a request above 512 bytes goes to the
 * C library's {@code malloc} (outside what the floor models). The size class of each slot is kept with the
 * slot, like a sized {@code free(address, size)}. Every run of the benchmarks keeps it, so the distance of
 * pymalloc4j's fast path to the floor stays visible.
 *
 * <p>Single thread only: {@link #threadSafe()} and {@link #crossThreadFree()} are false, and the
 * multi-threaded workloads refuse it.
 */
final class FloorSlots extends AddressSlots {

    static final String NAME = "floor";

    private static final int CLASSES = 33; // index (size + 15) >>> 4: 1..32 for 1..512 bytes
    private static final long CHUNK = 1 << 20;

    /** Free blocks of each class, a stack; {@code tops[c]} entries are used. */
    private final long[][] stacks = new long[CLASSES][];

    private final int[] tops = new int[CLASSES];
    /** The class of the block in each slot; 0 for a block from {@code malloc}. */
    private byte[] classes;

    private final List<Arena> chunks = new ArrayList<>();
    private long bump;
    private long bumpEnd;

    FloorSlots() {
        super(NAME);
    }

    @Override
    public boolean crossThreadFree() {
        return false;
    }

    @Override
    public boolean threadSafe() {
        return false;
    }

    @Override
    public void open(int slots) {
        super.open(slots);
        classes = new byte[slots];
        for (int c = 0; c < CLASSES; c++) {
            stacks[c] = new long[64];
        }
    }

    @Override
    public long allocate(int slot, long size) {
        if (size > 512) {
            classes[slot] = 0;
            return store(slot, LibcBaseline.malloc(size), size);
        }
        int c = (int) ((size + 15) >>> 4);
        classes[slot] = (byte) c;
        int top = tops[c];
        if (top > 0) {
            tops[c] = top - 1;
            return blocks[slot] = stacks[c][top - 1];
        }
        return blocks[slot] = carve(c);
    }

    @Override
    public void free(int slot) {
        long a = blocks[slot];
        blocks[slot] = 0;
        int c = classes[slot];
        if (c == 0) {
            LibcBaseline.free(a);
            return;
        }
        int top = tops[c];
        long[] stack = stacks[c];
        if (top == stack.length) {
            stack = stacks[c] = java.util.Arrays.copyOf(stack, 2 * top);
        }
        stack[top] = a;
        tops[c] = top + 1;
    }

    /** A block never handed out: the next {@code 16 c} bytes of the current chunk, or of a new one. */
    private long carve(int c) {
        long size = 16L * c;
        if (bump + size > bumpEnd) {
            Arena chunk = Arena.ofShared();
            MemorySegment s = chunk.allocate(CHUNK, 4096);
            chunks.add(chunk);
            bump = s.address();
            bumpEnd = bump + CHUNK;
        }
        long a = bump;
        bump += size;
        return a;
    }

    @Override
    public void close() {
        try {
            super.close();
        } finally {
            for (Arena chunk : chunks) {
                chunk.close();
            }
            chunks.clear();
        }
    }
}
