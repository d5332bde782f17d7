package io.github.pymalloc4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The JDK's own per-object native memory: one {@link Arena#ofConfined()} per block, {@code allocate(size)}
 * from it, and {@code close()} of the arena as the free. Arenas and segments kept in an {@code Arena[]}
 * and a {@code MemorySegment[]}. What one block costs here: the arena and its session (Java objects), a
 * {@code malloc} by the JDK, zeroing of the block (an arena's segments are always zeroed), and on close a
 * {@code free}. A confined arena can only be closed by the thread that created it, so this adapter cannot
 * run the workloads that free a block in another thread ({@link #crossThreadFree()} is false).
 */
final class ConfinedArenaSlots implements SlotAllocator {

    static final String NAME = "arena-confined";

    private Arena[] arenas;
    private MemorySegment[] segments;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean crossThreadFree() {
        return false;
    }

    @Override
    public void open(int slots) {
        arenas = new Arena[slots];
        segments = new MemorySegment[slots];
    }

    @Override
    public long allocate(int slot, long size) {
        Arena arena = Arena.ofConfined();
        MemorySegment s = arena.allocate(size);
        arenas[slot] = arena;
        segments[slot] = s;
        return s.address();
    }

    @Override
    public void free(int slot) {
        arenas[slot].close();
        arenas[slot] = null;
        segments[slot] = null;
    }

    @Override
    public long address(int slot) {
        return segments[slot].address();
    }

    @Override
    public void close() {
        BenchChecks.requireEmpty(arenas, NAME);
    }
}
