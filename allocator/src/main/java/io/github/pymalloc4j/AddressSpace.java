package io.github.pymalloc4j;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain (non-atomic, unordered) reads and writes of native memory by address, through one
 * segment that spans the whole address space. The JIT turns each access into a single
 * load or store; the allocator uses it only on memory it owns (free-list links in free blocks,
 * zeroing, copying).
 */
final class AddressSpace {
    /** The whole address space as one native segment (a restricted operation: needs native access). */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private AddressSpace() {}

    /**
     * Plain read of a 64-bit value.
     *
     * @param address native address, 8-byte aligned or not.
     * @return the value stored there.
     */
    static long getLongPlain(final long address) {
        return ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address);
    }

    /**
     * Plain write of a 64-bit value.
     *
     * @param address native address.
     * @param value   value to store.
     */
    static void putLongPlain(final long address, final long value) {
        ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address, value);
    }

    /**
     * Sets {@code length} bytes at {@code address} to zero.
     *
     * @param address first byte.
     * @param length  byte count.
     */
    static void zero(final long address, final long length) {
        ALL.asSlice(address, length).fill((byte) 0);
    }

    /**
     * Copies {@code length} bytes; the ranges must not overlap.
     *
     * @param from   source address.
     * @param to     destination address.
     * @param length byte count.
     */
    static void copy(final long from, final long to, final long length) {
        MemorySegment.copy(ALL, from, ALL, to, length);
    }
}
