package io.github.pymalloc4j;

import org.agrona.collections.Long2LongHashMap;

import java.util.concurrent.locks.ReentrantLock;

/**
 * Blocks of more than 512 bytes (or with an alignment pools cannot give), obtained from the system
 * allocator. Each live one is recorded with its requested size, so a free or realloc of an address we
 * never returned is refused without touching the C heap. Agrona's open-addressing
 * {@link Long2LongHashMap} keeps this allocation-free after warm-up.
 *
 * <p>The records are split into {@value #STRIPES} stripes by a hash of the address, each with its own
 * lock, so threads working on different large blocks rarely meet. No lock is held across a call into the
 * C library or into {@link ArenaSet#reserve} (which may unmap arenas): an address is recorded only after
 * {@code malloc} returned it and unrecorded before {@code free} or {@code realloc} gets it, so while it
 * is unrecorded no other caller can know it, and a concurrent double free of it finds no record and is
 * refused. A failed {@code realloc} records the old block again.
 *
 * <p>{@link #snapshot()} sums the stripes one after the other: while other threads allocate or resize
 * large blocks, a block being resized may be counted in neither or (moving between stripes) in both, so
 * the large-block figures are exact only in a snapshot taken while no large-block call runs.
 */
final class LargeBlocks
{
    private static final long MISSING = -1;
    /** Number of stripes, a power of two. */
    static final int STRIPES = 16;

    /** One lock and the records of the addresses that hash to it. */
    private static final class Stripe
    {
        final ReentrantLock lock = new ReentrantLock();
        final Long2LongHashMap sizes = new Long2LongHashMap(16, 0.6f, MISSING);
        long bytes;
        /** Counted allocations (malloc-like calls) and frees (free calls), and every system allocation. */
        long mallocs;
        long frees;
        long systemAllocations;

        long liveSize(final long address)
        {
            final long size = sizes.get(address);
            if (size < 0)
            {
                throw new IllegalArgumentException("0x" + Long.toHexString(address) +
                    " was not allocated by this allocator (a foreign pointer, or a double free of a large block)");
            }
            return size;
        }

        /**
         * Records a live block.
         *
         * @param counted   a user allocation (counted in {@link #mallocs}).
         * @param newSystem a block the system allocator just handed out (counted in {@link #systemAllocations}).
         */
        void record(final long address, final long size, final boolean counted, final boolean newSystem)
        {
            lock.lock();
            try
            {
                sizes.put(address, size);
                bytes += size;
                if (newSystem)
                {
                    systemAllocations++;
                }
                if (counted)
                {
                    mallocs++;
                }
            }
            finally
            {
                lock.unlock();
            }
        }
    }

    private final Stripe[] stripes = new Stripe[STRIPES];
    private final ReservationLimit limit;
    private final ArenaSet arenas;

    LargeBlocks(final ReservationLimit limit, final ArenaSet arenas)
    {
        this.limit = limit;
        this.arenas = arenas;
        for (int i = 0; i < STRIPES; i++)
        {
            stripes[i] = new Stripe();
        }
    }

    private Stripe stripe(final long address)
    {
        // Addresses from malloc are 16-aligned: mix the bits above so that neighbours spread.
        return stripes[(int)(((address >>> 4) * 0x9E3779B97F4A7C15L) >>> (64 - 4))];
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
        arenas.reserve(size, ReservationLimit.LARGE_BLOCK);
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
        stripe(address).record(address, size, counted, true);
        return address;
    }

    /**
     * The requested size of a live large block.
     *
     * @throws IllegalArgumentException if {@code address} is not one.
     */
    long sizeOf(final long address)
    {
        final Stripe s = stripe(address);
        s.lock.lock();
        try
        {
            return s.liveSize(address);
        }
        finally
        {
            s.lock.unlock();
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
        final Stripe s = stripe(address);
        final long size;
        s.lock.lock();
        try
        {
            size = s.liveSize(address);
            s.sizes.remove(address);
            s.bytes -= size;
            if (counted)
            {
                s.frees++;
            }
        }
        finally
        {
            s.lock.unlock();
        }
        Libc.free(address);
        limit.release(size);
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
        final Stripe s = stripe(address);
        final long oldSize;
        s.lock.lock();
        try
        {
            oldSize = s.liveSize(address);
            if (newSize <= oldSize && 4 * newSize > 3 * oldSize)
            {
                s.sizes.put(address, newSize);
                s.bytes += newSize - oldSize;
                limit.release(oldSize - newSize);
                return address;
            }
            // Unrecorded while this call works on it: a concurrent free of the old address is refused.
            s.sizes.remove(address);
            s.bytes -= oldSize;
        }
        finally
        {
            s.lock.unlock();
        }
        final long growth = newSize - oldSize;
        final long moved;
        try
        {
            if (growth > 0)
            {
                arenas.reserve(growth, ReservationLimit.LARGE_BLOCK_GROWTH); // no lock held: may unmap arenas
            }
            try
            {
                moved = Libc.realloc(address, Math.max(newSize, 1));
            }
            catch (final RuntimeException | Error e)
            {
                limit.release(Math.max(growth, 0));
                throw e;
            }
            if (moved == 0)
            {
                limit.release(Math.max(growth, 0));
                throw new OutOfMemoryError("pymalloc4j: the system allocator refused to resize a large block to " +
                    newSize + " bytes");
            }
        }
        catch (final RuntimeException | Error e)
        {
            s.record(address, oldSize, false, false); // nothing happened: the old block is untouched and live
            throw e;
        }
        if (growth < 0)
        {
            limit.release(-growth);
        }
        stripe(moved).record(moved, newSize, false, moved != address);
        return moved;
    }

    /** {count, bytes, mallocs, frees, systemAllocations}, summed over the stripes (each read under its lock). */
    long[] snapshot()
    {
        final long[] sum = new long[5];
        for (final Stripe s : stripes)
        {
            s.lock.lock();
            try
            {
                sum[0] += s.sizes.size();
                sum[1] += s.bytes;
                sum[2] += s.mallocs;
                sum[3] += s.frees;
                sum[4] += s.systemAllocations;
            }
            finally
            {
                s.lock.unlock();
            }
        }
        return sum;
    }

    long heapBytes()
    {
        long sum = 16 + 16L * STRIPES;
        for (final Stripe s : stripes)
        {
            s.lock.lock();
            try
            {
                sum += 64 + 48 + 16 + 16L * s.sizes.capacity();
            }
            finally
            {
                s.lock.unlock();
            }
        }
        return sum;
    }

    /** Frees every live large block. */
    void releaseAll()
    {
        for (final Stripe s : stripes)
        {
            s.lock.lock();
            try
            {
                final Long2LongHashMap.KeyIterator it = s.sizes.keySet().iterator();
                while (it.hasNext())
                {
                    Libc.free(it.nextValue());
                }
                limit.release(s.bytes);
                s.sizes.clear();
                s.bytes = 0;
            }
            finally
            {
                s.lock.unlock();
            }
        }
    }
}
