package io.github.pymalloc4j;

import org.agrona.collections.Long2LongHashMap;

import java.util.concurrent.locks.ReentrantLock;

/**
 * Blocks of more than 512 bytes (or with an alignment pools cannot give), obtained from the system
 * allocator. Each live one is recorded with its requested size, so a free or realloc of an address we
 * never returned is refused without touching the C heap. Agrona's open-addressing
 * {@link Long2LongHashMap} keeps this allocation-free after warm-up. Every method takes this set's own
 * lock: large blocks are the slow path by definition.
 */
final class LargeBlocks
{
    private static final long MISSING = -1;

    private final Long2LongHashMap sizes = new Long2LongHashMap(64, 0.6f, MISSING);
    private final ReentrantLock lock = new ReentrantLock();
    private final ReservationLimit limit;
    private final ArenaSet arenas;
    private long bytes;
    /** Counted allocations (malloc-like calls) and frees (free calls), and every system allocation. */
    private long mallocs;
    private long frees;
    private long systemAllocations;

    LargeBlocks(final ReservationLimit limit, final ArenaSet arenas)
    {
        this.limit = limit;
        this.arenas = arenas;
    }

    private void reserve(final long bytes, final String what)
    {
        arenas.reserve(bytes, what);
    }

    /**
     * Allocates from the system allocator.
     *
     * @param size      requested bytes.
     * @param alignment 0 or up to 16 for malloc's alignment, else a power of two.
     * @param zeroed    whether the memory must be zeroed.
     * @param counted   whether this is a user allocation (not the inside of a realloc).
     * @throws OutOfMemoryError if the limit or the system allocator refuses.
     */
    long allocate(final long size, final long alignment, final boolean zeroed, final boolean counted)
    {
        lock.lock();
        try
        {
            reserve(size, "a " + size + "-byte large block");
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
            systemAllocations++;
            if (counted)
            {
                mallocs++;
            }
            return address;
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * The requested size of a live large block.
     *
     * @throws IllegalArgumentException if {@code address} is not one.
     */
    long sizeOf(final long address)
    {
        lock.lock();
        try
        {
            return liveSize(address);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Frees a live large block.
     *
     * @param counted whether this is a user free (not the inside of a realloc).
     * @throws IllegalArgumentException if {@code address} is not one; nothing changes then.
     */
    void free(final long address, final boolean counted)
    {
        lock.lock();
        try
        {
            final long size = liveSize(address);
            sizes.remove(address);
            Libc.free(address);
            bytes -= size;
            limit.release(size);
            if (counted)
            {
                frees++;
            }
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Resizes a live large block: in place when it shrinks by less than 25 %, else with the system
     * {@code realloc}.
     *
     * @throws IllegalArgumentException if {@code address} is not a live large block.
     * @throws OutOfMemoryError         if the limit or the system allocator refuses; the block is unchanged then.
     */
    long resize(final long address, final long newSize)
    {
        lock.lock();
        try
        {
            final long oldSize = liveSize(address);
            final long growth = newSize - oldSize;
            if (newSize <= oldSize && 4 * newSize > 3 * oldSize)
            {
                sizes.put(address, newSize);
                bytes += growth;
                limit.release(-growth);
                return address;
            }
            if (growth > 0)
            {
                reserve(growth, "growing a large block to " + newSize + " bytes");
            }
            final long moved = Libc.realloc(address, Math.max(newSize, 1));
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
            if (moved != address)
            {
                systemAllocations++;
            }
            return moved;
        }
        finally
        {
            lock.unlock();
        }
    }

    private long liveSize(final long address)
    {
        final long size = sizes.get(address);
        if (size < 0)
        {
            throw new IllegalArgumentException("0x" + Long.toHexString(address) +
                " was not allocated by this allocator (a foreign pointer, or a double free of a large block)");
        }
        return size;
    }

    /** {count, bytes, mallocs, frees, systemAllocations}, read together. */
    long[] snapshot()
    {
        lock.lock();
        try
        {
            return new long[] {sizes.size(), bytes, mallocs, frees, systemAllocations};
        }
        finally
        {
            lock.unlock();
        }
    }

    long heapBytes()
    {
        lock.lock();
        try
        {
            return 64 + 16 + 16L * sizes.capacity();
        }
        finally
        {
            lock.unlock();
        }
    }

    /** Frees every live large block. */
    void releaseAll()
    {
        lock.lock();
        try
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
        finally
        {
            lock.unlock();
        }
    }
}
