package io.github.pymalloc4j;

/**
 * One pool: a {@code poolSize}-aligned slice of an arena that serves blocks of one size class.
 * All metadata lives here, on the Java heap; the pool's native memory holds only blocks, and a
 * free block holds only the address of the next free block (its first 8 bytes).
 *
 * <pre>
 *  base                                   bumpNext        bumpEnd       base + poolSize
 *   |  b0  |  b1  |  b2  |  b3  |  b4  |  b5  |  b6  | ... | b(n-1) | tail |
 *   '---- handed out at least once ----' '-- never touched --'  '- quantization -'
 *   freeHead -> b3 -> b1 -> 0           (LIFO list threaded through free blocks)
 *   allocated bitmap: bit i set  &lt;=&gt;  block i is live
 *   slack[i]: blockSize - requested size of live block i (exact internal fragmentation)
 * </pre>
 *
 * Invariants (checked by the tests through the statistics):
 * <ul>
 *   <li>{@code used} = number of set bits in {@code allocated};</li>
 *   <li>every block on the free list is below {@code bumpNext} and has its bit clear, and every block
 *       below {@code bumpNext} with its bit clear is on the free list;</li>
 *   <li>{@code used + freeListLength + (bumpEnd - bumpNext) / blockSize == capacity};</li>
 *   <li>{@code requestedBytes} = sum over live blocks of {@code blockSize - slack[i]}.</li>
 * </ul>
 * A pool with {@code sizeClass == FREE} is empty and sits on its arena's free-pool stack.
 * Not thread-safe: the owning {@link Heap} serialises access.
 */
final class Pool
{
    /** {@link #sizeClass} of a pool that serves no class. */
    static final int FREE = -1;

    final NativeArena arena;
    final int index;
    final long base;
    private final int poolSize;

    int sizeClass = FREE;
    int blockSize;
    int capacity;
    int used;
    /** {@link SizeClass#divisionMagic}: {@code (offset * magic) >>> 32 == offset / blockSize}. */
    private long magic;
    private long freeHead;
    private long bumpNext;
    private long bumpEnd;
    long requestedBytes;
    private long[] allocated;
    /** Per block: blockSize - requested size, 0..511 (an over-aligned request can leave most of a block unused). */
    private short[] slack;

    /** Neighbours in the heap's list of used pools of this class. */
    Pool prev;
    Pool next;

    Pool(final NativeArena arena, final int index, final long base, final int poolSize)
    {
        this.arena = arena;
        this.index = index;
        this.base = base;
        this.poolSize = poolSize;
    }

    /**
     * Makes this empty pool serve a size class: no block handed out yet, the bump pointer at the base.
     *
     * @param classIndex size class.
     */
    void init(final int classIndex)
    {
        sizeClass = classIndex;
        blockSize = SizeClass.blockSize(classIndex);
        capacity = poolSize / blockSize;
        used = 0;
        magic = SizeClass.divisionMagic(classIndex);
        freeHead = 0;
        bumpNext = base;
        bumpEnd = base + (long)capacity * blockSize;
        requestedBytes = 0;
        final int words = (capacity + 63) >>> 6;
        if (allocated == null || allocated.length < words)
        {
            allocated = new long[words];
        }
        else
        {
            java.util.Arrays.fill(allocated, 0, words, 0L);
        }
        if (slack == null || slack.length < capacity)
        {
            slack = new short[capacity];
        }
    }

    /** Marks this pool as serving no class (it has no live block). */
    void retire()
    {
        sizeClass = FREE;
        prev = null;
        next = null;
    }

    boolean isFull()
    {
        return used == capacity;
    }

    /**
     * Hands out one block. The caller guarantees the pool is not full.
     *
     * @param size requested bytes, at most {@link #blockSize}.
     * @return the block's address.
     * @throws IllegalStateException if the free list was found corrupted (a write after free); the
     *                               pool is repaired first.
     */
    long allocate(final long size)
    {
        long block = freeHead;
        final int i;
        if (block != 0)
        {
            final long offset = block - base;
            i = (int)((offset * magic) >>> 32);
            if (Long.compareUnsigned(offset, bumpNext - base) >= 0 || (long)i * blockSize != offset || isLive(i))
            {
                throw corrupted(block);
            }
            freeHead = AddressSpace.getLongPlain(block);
        }
        else
        {
            block = bumpNext;
            bumpNext = block + blockSize;
            i = (int)(((block - base) * magic) >>> 32);
        }
        allocated[i >>> 6] |= 1L << i;
        slack[i] = (short)(blockSize - size);
        requestedBytes += size;
        used++;
        return block;
    }

    /**
     * Validates that {@code address} is a live block of this pool.
     *
     * @param address address inside this pool.
     * @return the block index.
     * @throws IllegalArgumentException with the reason otherwise.
     */
    int liveBlockIndex(final long address)
    {
        final long offset = address - base;
        final int i = (int)((offset * magic) >>> 32);
        if ((long)i * blockSize != offset)
        {
            throw new IllegalArgumentException("interior pointer 0x" + Long.toHexString(address) + ": " +
                (offset - (long)i * blockSize) + " bytes into a " + blockSize + "-byte block at 0x" +
                Long.toHexString(base + (long)i * blockSize));
        }
        if (address >= bumpNext)
        {
            throw new IllegalArgumentException("0x" + Long.toHexString(address) +
                " was not allocated by this allocator (never handed out)");
        }
        if (!isLive(i))
        {
            throw new IllegalArgumentException("double free of 0x" + Long.toHexString(address) +
                " (" + blockSize + "-byte block is not allocated)");
        }
        return i;
    }

    /**
     * Returns live block {@code i} (validated by {@link #liveBlockIndex}) to the free list.
     */
    void free(final int i, final long address)
    {
        allocated[i >>> 6] &= ~(1L << i);
        requestedBytes -= blockSize - slack[i];
        used--;
        AddressSpace.putLongPlain(address, freeHead);
        freeHead = address;
    }

    /** Requested size of live block {@code i}. */
    long requestedSize(final int i)
    {
        return blockSize - slack[i];
    }

    /** Records a new requested size for live block {@code i} (an in-place realloc). */
    void resize(final int i, final long size)
    {
        requestedBytes += size - requestedSize(i);
        slack[i] = (short)(blockSize - size);
    }

    /** Bytes of on-heap metadata this pool holds (estimate, compressed oops). */
    long heapBytes()
    {
        return 96 + (allocated == null ? 0 : 16 + 8L * allocated.length) + (slack == null ? 0 : 16 + 2L * slack.length);
    }

    private boolean isLive(final int i)
    {
        return (allocated[i >>> 6] & (1L << i)) != 0;
    }

    /**
     * Rebuilds the free list from the bitmap (the truth) and reports the corruption.
     */
    private IllegalStateException corrupted(final long badLink)
    {
        freeHead = 0;
        for (long b = bumpNext - blockSize; b >= base; b -= blockSize)
        {
            final int i = (int)(((b - base) * magic) >>> 32);
            if (!isLive(i))
            {
                AddressSpace.putLongPlain(b, freeHead);
                freeHead = b;
            }
        }
        return new IllegalStateException("heap corruption: free list of the " + blockSize + "-byte pool at 0x" +
            Long.toHexString(base) + " led to 0x" + Long.toHexString(badLink) +
            ", which is not a free block of that pool (a write after free?); the pool was repaired, retry");
    }
}
