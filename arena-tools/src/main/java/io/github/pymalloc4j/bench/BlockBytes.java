package io.github.pymalloc4j.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Writes and checks the bytes of a native block by address, through one segment that spans the address
 * space (created once), so every adapter touches its blocks with the same code and no Java object is
 * created per block.
 */
final class BlockBytes {

    @SuppressWarnings("restricted")
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final long BYTES_TO_LONG = 0x0101_0101_0101_0101L;

    private BlockBytes() {}

    /**
     * The byte a slot's block is filled with: differs between neighbouring slots and is never 0, so a
     * zeroed or another slot's block does not pass {@link #firstMismatch}.
     */
    static byte patternOf(int slot) {
        return (byte) (0x80 | (slot & 0x7F));
    }

    /** Writes {@code value} to the {@code size} bytes at {@code address}: 8 at a time, then the tail. */
    static void fill(long address, long size, byte value) {
        long word = (value & 0xFFL) * BYTES_TO_LONG;
        long end = address + size;
        long a = address;
        for (; a + 8 <= end; a += 8) {
            ALL.set(LONG, a, word);
        }
        for (; a < end; a++) {
            ALL.set(ValueLayout.JAVA_BYTE, a, value);
        }
    }

    /**
     * The offset of the first of the {@code size} bytes at {@code address} that is not {@code value}, or
     * -1 if all are.
     */
    static long firstMismatch(long address, long size, byte value) {
        for (long i = 0; i < size; i++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, address + i) != value) {
                return i;
            }
        }
        return -1;
    }
}
