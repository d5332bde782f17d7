package io.github.pymalloc4j;

/**
 * The 32 small size classes: requests of 1..512 bytes rounded up to a multiple of 16.
 *
 * <pre>
 *   request   1..16  17..32  33..48  ...  497..512
 *   class       0       1       2    ...     31
 *   block      16      32      48    ...    512
 * </pre>
 *
 * A request of 0 bytes is served from class 0 (a unique, freeable 16-byte block).
 */
final class SizeClass {
    /** Block alignment and the step between classes. */
    static final int ALIGNMENT = 16;
    /** log2 of {@link #ALIGNMENT}. */
    static final int ALIGNMENT_SHIFT = 4;
    /** Largest request served from pools. */
    static final int MAX_SMALL_SIZE = 512;
    /** Number of size classes. */
    static final int COUNT = MAX_SMALL_SIZE / ALIGNMENT;

    /** {@code ceil(2^32 / blockSize)} per class, see {@link #divisionMagic(int)}. */
    private static final long[] MAGIC = new long[COUNT];

    static {
        for (int i = 0; i < COUNT; i++) {
            MAGIC[i] = ((1L << 32) + blockSize(i) - 1) / blockSize(i);
        }
    }

    private SizeClass() {}

    /**
     * {@code m = ceil(2^32 / blockSize)}, so that {@code (offset * m) >>> 32 == offset / blockSize} for every
     * offset below 2^20 (the largest pool): the error term {@code offset * (m * blockSize - 2^32) / 2^32} stays
     * below {@code 2^-12}, less than the {@code 1 / blockSize >= 2^-9} gap to the next integer. Replaces a
     * division on the free path by a multiply and a shift.
     *
     * @param index class index.
     * @return the magic multiplier.
     */
    static long divisionMagic(final int index) {
        return MAGIC[index];
    }

    /**
     * Class index of a small request.
     *
     * @param size requested bytes, 0..512.
     * @return the class index, 0..31.
     */
    static int indexOf(final long size) {
        return size == 0 ? 0 : (int) ((size - 1) >>> ALIGNMENT_SHIFT);
    }

    /**
     * Block size of a class.
     *
     * @param index class index, 0..31.
     * @return block size in bytes, 16..512.
     */
    static int blockSize(final int index) {
        return (index + 1) << ALIGNMENT_SHIFT;
    }
}
