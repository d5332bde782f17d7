package io.github.pymalloc4j.replay;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Writes a pattern derived from an object's id over its whole block and finds where a block no longer holds
 * it: the replay's correctness check. Byte {@code k} of object {@code id} is byte {@code k % 8} of
 * {@link #word(int)}, least significant first, so a pattern never depends on the block's address.
 */
@SuppressWarnings("restricted")
public final class ContentCheck {

    /** The whole address space as one segment: plain accesses by address. */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ContentCheck() {}

    /**
     * The 8 bytes repeated over object {@code id}'s block; never 0, so a zeroed block never matches.
     *
     * @param id object id.
     * @return the pattern word.
     */
    public static long word(int id) {
        long w = (Integer.toUnsignedLong(id) + 1) * 0x9E3779B97F4A7C15L;
        return w ^ (w >>> 29) | 1L;
    }

    /**
     * The byte object {@code id}'s pattern has at {@code offset}.
     *
     * @param id     object id.
     * @param offset byte offset in the block.
     * @return the expected byte.
     */
    public static byte expected(int id, long offset) {
        return (byte) (word(id) >>> ((offset & 7) * 8));
    }

    /**
     * Writes object {@code id}'s pattern over {@code size} bytes at {@code address}.
     *
     * @param address the block.
     * @param size    bytes to write.
     * @param id      object id.
     */
    public static void write(long address, long size, int id) {
        long w = word(id);
        long k = 0;
        for (; k + 8 <= size; k += 8) {
            ALL.set(WORD, address + k, w);
        }
        for (; k < size; k++) {
            ALL.set(ValueLayout.JAVA_BYTE, address + k, (byte) (w >>> ((k & 7) * 8)));
        }
    }

    /**
     * Finds the first byte of the first {@code size} bytes at {@code address} that differs from object
     * {@code id}'s pattern.
     *
     * @param address the block.
     * @param size    bytes to check.
     * @param id      object id.
     * @return the offset of the first wrong byte, or -1 if all hold the pattern.
     */
    public static long firstMismatch(long address, long size, int id) {
        long w = word(id);
        long k = 0;
        for (; k + 8 <= size; k += 8) {
            long got = ALL.get(WORD, address + k);
            if (got != w) {
                return k + (Long.numberOfTrailingZeros(got ^ w) >>> 3);
            }
        }
        for (; k < size; k++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, address + k) != (byte) (w >>> ((k & 7) * 8))) {
                return k;
            }
        }
        return -1;
    }

    /**
     * Finds the first non-zero byte of {@code size} bytes at {@code address}.
     *
     * @param address the block.
     * @param size    bytes to check.
     * @return the offset of the first non-zero byte, or -1 if all are zero.
     */
    public static long firstNonZero(long address, long size) {
        long k = 0;
        for (; k + 8 <= size; k += 8) {
            long got = ALL.get(WORD, address + k);
            if (got != 0) {
                return k + (Long.numberOfTrailingZeros(got) >>> 3);
            }
        }
        for (; k < size; k++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, address + k) != 0) {
                return k;
            }
        }
        return -1;
    }

    /**
     * Reads one byte.
     *
     * @param address where.
     * @return the byte there.
     */
    static byte byteAt(long address) {
        return ALL.get(ValueLayout.JAVA_BYTE, address);
    }

    /**
     * Sets {@code size} bytes at {@code address} to {@code value} ({@code --touch}).
     *
     * @param address the block.
     * @param size    bytes.
     * @param value   the byte written.
     */
    public static void fill(long address, long size, byte value) {
        ALL.asSlice(address, size).fill(value);
    }
}
