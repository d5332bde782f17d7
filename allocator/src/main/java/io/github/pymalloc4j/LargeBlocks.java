package io.github.pymalloc4j;

import org.agrona.collections.Long2LongHashMap;

/**
 * Blocks of more than 512 bytes (or with an alignment pools cannot give), obtained from the system
 * allocator. Each live one is recorded with its requested size, so a free or realloc of an address we
 * never returned is refused without touching the C heap. Agrona's open-addressing
 * {@link Long2LongHashMap} keeps this allocation-free after warm-up. Not thread-safe: the allocator's
 * lock serialises access.
 */
final class LargeBlocks
{
    private static final long MISSING = -1;

    private final Long2LongHashMap sizes = new Long2LongHashMap(64, 0.6f, MISSING);
    private final ReservationLimit limit;
    private long bytes;

    LargeBlocks(final ReservationLimit limit)
    {
        this.limit = limit;
    }

    /**
     * Allocates from the system allocator.
     *
     * @param size      requested bytes (&gt; 0 after the caller's adjustments).
     * @param alignment 0 for malloc's default alignment, else a power of two.
     * @param zeroed    whether the memory must be zeroed.
     * @throws OutOfMemoryError if the limit or the system allocator refuses.
     */
    long allocate(final long size, final long alignment, final boolean zeroed)
    {
        limit.reserve(size, "a " + size + "-byte large block");
        final long address;
        if (alignment > 16)
        {
            address = Libc.alignedAlloc(alignment, Math.max(size, 1));
            if (address != 0 && zeroed)
            {
                AddressSpace.zero(address, size);
            }
        }
        else
        {
            address = zeroed ? Libc.calloc(1, Math.max(size, 1)) : Libc.malloc(Math.max(size, 1));
        }
        if (address == 0)
        {
            limit.release(size);
            throw new OutOfMemoryError("pymalloc4j: the system allocator refused " + size + " bytes");
        }
        sizes.put(address, size);
        bytes += size;
        return address;
    }

    /** The requested size of a live large block, or -1 if {@code address} is not one. */
    long sizeOf(final long address)
    {
        return sizes.get(address);
    }

    /** Frees a live large block ({@link #sizeOf} returned its size). */
    void free(final long address, final long size)
    {
        sizes.remove(address);
        Libc.free(address);
        bytes -= size;
        limit.release(size);
    }

    /**
     * Resizes a live large block with the system {@code realloc}.
     *
     * @throws OutOfMemoryError if the limit or the system allocator refuses; the block is unchanged then.
     */
    long resize(final long address, final long oldSize, final long newSize)
    {
        final long growth = newSize - oldSize;
        if (growth > 0)
        {
            limit.reserve(growth, "growing a large block to " + newSize + " bytes");
        }
        final long moved = Libc.realloc(address, newSize);
        if (moved == 0)
        {
            if (growth > 0)
            {
                limit.release(growth);
            }
            throw new OutOfMemoryError("pymalloc4j: the system allocator refused to resize to " + newSize + " bytes");
        }
        if (growth < 0)
        {
            limit.release(-growth);
        }
        sizes.remove(address);
        sizes.put(moved, newSize);
        bytes += growth;
        return moved;
    }

    /** Records a smaller requested size for a live large block that stays where it is. */
    void shrinkInPlace(final long address, final long oldSize, final long newSize)
    {
        sizes.put(address, newSize);
        bytes -= oldSize - newSize;
        limit.release(oldSize - newSize);
    }

    int count()
    {
        return sizes.size();
    }

    long bytes()
    {
        return bytes;
    }

    long heapBytes()
    {
        return 64 + 16 + 16L * sizes.capacity();
    }

    /** Frees every live large block. */
    void releaseAll()
    {
        final Long2LongHashMap.KeyIterator it = sizes.keySet().iterator();
        while (it.hasNext())
        {
            Libc.free(it.nextValue());
        }
        limit.release(bytes);
        sizes.clear();
        bytes = 0;
    }
}
