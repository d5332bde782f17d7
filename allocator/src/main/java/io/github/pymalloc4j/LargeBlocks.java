package io.github.pymalloc4j;

import java.util.concurrent.locks.ReentrantLock;
import org.agrona.collections.Long2LongHashMap;

/**
 * Blocks of more than 512 bytes (or with an alignment pools cannot give), obtained from the system
 * allocator. Each live one is recorded with its requested size, so a free or realloc of an address we
 * never returned is refused without touching the C heap. Agrona's open-addressing
 * {@link Long2LongHashMap} keeps this allocation-free after warm-up.
 *
 * <p><b>What the limit counts.</b> Each block is also recorded with what the C library holds for it: its
 * {@code malloc_usable_size} (asked once C returned it) and whether it came from {@code aligned_alloc}
 * with an alignment above 16. The reservation limit counts its <em>charge</em>: the usable size, plus
 * the {@value #CHUNK_OVERHEAD}-byte chunk header, plus for an aligned block the alignment and a minimum
 * chunk (what {@code aligned_alloc} may keep before the aligned address), for as long as C holds the
 * block; a free releases exactly that. The real figure is known only after the C call, so an upper
 * bound ({@link #bound}) is reserved before it and the difference released after: the counter never
 * exceeds the maximum, not even while a call runs. A block resizes in place, keeping its charge, only
 * under realloc's in-place rule ({@link Allocator#REALLOC_IN_PLACE_QUARTERS}) of its usable size; otherwise it goes
 * through C {@code realloc} (or into a pool) and is charged anew, so a block shrunk step by step gives
 * its memory back to C. The statistics keep counting requested sizes.
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
final class LargeBlocks {
    private static final long MISSING = -1;
    /** Number of stripes, a power of two. */
    static final int STRIPES = 16;
    /** Bytes the C library keeps beside a block's usable size (glibc: the chunk header, at most 16). */
    static final long CHUNK_OVERHEAD = 16;
    /** glibc's smallest chunk: {@code aligned_alloc} asks for the alignment plus this much more. */
    private static final long MIN_CHUNK = 32;
    /** A record's low bits: the usable size; above: log2 of the alignment of an aligned block, else 0. */
    private static final int SHIFT_BITS = 58;

    private static final long USABLE_MASK = (1L << SHIFT_BITS) - 1;

    /** One lock and the records of the addresses that hash to it. */
    private static final class Stripe {
        final ReentrantLock lock = new ReentrantLock();
        /** Live blocks: address -> requested size. */
        final Long2LongHashMap sizes = new Long2LongHashMap(16, 0.6f, MISSING);
        /** Blocks held from C: address -> record. */
        final Long2LongHashMap held = new Long2LongHashMap(16, 0.6f, MISSING);
        /** Requested bytes of the live blocks. */
        long bytes;
        /** Counted allocations (malloc-like calls) and frees (free calls), and every system allocation. */
        long mallocs;

        long frees;
        long systemAllocations;

        /** Called with the lock held. */
        long liveSize(final long address) {
            final long size = sizes.get(address);
            if (size < 0) {
                throw new IllegalArgumentException(
                        "0x" + Long.toHexString(address)
                                + " was not allocated by this allocator (a foreign pointer, or a double free of a large block)");
            }
            return size;
        }

        /**
         * Records a live block.
         *
         * @param record    what C holds for it, see {@link #record(long, int)}.
         * @param counted   a user allocation (counted in {@link #mallocs}).
         * @param newSystem a block the system allocator just handed out (counted in {@link #systemAllocations}).
         */
        void record(
                final long address,
                final long size,
                final long record,
                final boolean counted,
                final boolean newSystem) {
            lock.lock();
            try {
                sizes.put(address, size);
                held.put(address, record);
                bytes += size;
                if (newSystem) {
                    systemAllocations++;
                }
                if (counted) {
                    mallocs++;
                }
            } finally {
                lock.unlock();
            }
        }

        /**
         * Resizes a live block in place if {@code newSize} fits it well enough, with the lock held.
         *
         * @return whether it did.
         */
        boolean resizedInPlace(final long address, final long oldSize, final long record, final long newSize) {
            final long usable = record & USABLE_MASK;
            if (Allocator.reallocStaysInPlace(newSize, usable)) {
                sizes.put(address, newSize);
                bytes += newSize - oldSize;
                return true;
            }
            return false;
        }
    }

    private final Stripe[] stripes = new Stripe[STRIPES];
    private final ReservationLimit limit;
    private final ArenaSet arenas;

    LargeBlocks(final ReservationLimit limit, final ArenaSet arenas) {
        this.limit = limit;
        this.arenas = arenas;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
    }

    private Stripe stripe(final long address) {
        // Addresses from malloc are 16-aligned: mix the bits above so that neighbours spread.
        return stripes[(int) (((address >>> 4) * 0x9E3779B97F4A7C15L) >>> (64 - 4))];
    }

    // ---------------------------------------------------------------- what C holds

    /** A record of what C holds for a block: its usable size, and log2 of its alignment if above 16, else 0. */
    private static long record(final long usable, final int alignmentShift) {
        return usable | (long) alignmentShift << SHIFT_BITS;
    }

    private static int alignmentShift(final long record) {
        return (int) (record >>> SHIFT_BITS);
    }

    /** What {@code aligned_alloc} may keep before a block of alignment {@code 1 << shift} (0: none). */
    private static long alignmentSlack(final int shift) {
        return shift == 0 ? 0 : (1L << shift) + MIN_CHUNK;
    }

    /** The bytes the limit counts for a block with this record. */
    static long charge(final long record) {
        return (record & USABLE_MASK) + CHUNK_OVERHEAD + alignmentSlack(alignmentShift(record));
    }

    /**
     * The most {@link #charge} can be for a C request of {@code cSize} bytes with glibc: it rounds a
     * request plus its 8-byte header up to 16 (at least 32), a block it maps on its own up to pages, and
     * {@code aligned_alloc} asks for the alignment plus a minimum chunk more, of which the usable size may
     * include what lies after the aligned block.
     */
    private static long bound(final long cSize, final int shift) {
        return cSize + 2 * alignmentSlack(shift) + 128 + Libc.PAGE_SIZE;
    }

    // ---------------------------------------------------------------- calls

    /**
     * Allocates from the system allocator.
     *
     * @param size      requested bytes.
     * @param alignment 0 or up to 16 for malloc's alignment, else a power of two.
     * @param zeroed    whether the memory must be zeroed.
     * @param counted   whether this is a user allocation (not the inside of a realloc).
     * @throws OutOfMemoryError if the limit or the system allocator refuses; nothing stays reserved then.
     */
    long allocate(final long size, final long alignment, final boolean zeroed, final boolean counted) {
        final int shift = alignment > 16 ? Long.numberOfTrailingZeros(alignment) : 0;
        final long cSize = shift == 0 ? Math.max(size, 1) : (Math.max(size, 1) + alignment - 1) & -alignment;
        final long reserved = bound(cSize, shift);
        arenas.reserve(reserved, ReservationLimit.LARGE_BLOCK);
        final long address;
        try {
            if (shift != 0) {
                address = Libc.alignedAlloc(alignment, cSize);
            } else {
                address = zeroed ? Libc.calloc(1, cSize) : Libc.malloc(cSize);
            }
        } catch (final RuntimeException | Error e) {
            limit.release(reserved);
            throw e;
        }
        if (address == 0) {
            limit.release(reserved);
            throw new OutOfMemoryError("pymalloc4j: the system allocator refused " + size + " bytes");
        }
        final long record = record(Libc.mallocUsableSize(address), shift);
        final long charge = charge(record);
        if (charge > reserved) // not with glibc
        {
            try {
                arenas.reserve(charge - reserved, ReservationLimit.LARGE_BLOCK);
            } catch (final OutOfMemoryError e) {
                Libc.free(address);
                limit.release(reserved);
                throw e;
            }
        } else {
            limit.release(reserved - charge);
        }
        if (shift != 0 && zeroed) {
            AddressSpace.zero(address, size);
        }
        stripe(address).record(address, size, record, counted, true);
        return address;
    }

    /**
     * The requested size of a live large block.
     *
     * @throws IllegalArgumentException if {@code address} is not one.
     */
    long sizeOf(final long address) {
        final Stripe s = stripe(address);
        s.lock.lock();
        try {
            return s.liveSize(address);
        } finally {
            s.lock.unlock();
        }
    }

    /**
     * Frees a live large block.
     *
     * @param counted whether this is a user free (not the inside of a realloc).
     * @throws IllegalArgumentException if {@code address} is not one; nothing changes then.
     */
    void free(final long address, final boolean counted) {
        final Stripe s = stripe(address);
        final long record;
        s.lock.lock();
        try {
            final long size = s.liveSize(address);
            s.sizes.remove(address);
            record = s.held.remove(address);
            s.bytes -= size;
            if (counted) {
                s.frees++;
            }
        } finally {
            s.lock.unlock();
        }
        Libc.free(address);
        limit.release(charge(record));
    }

    /**
     * Takes a live large block out of the records for a move to a pooled block: while it is out, a
     * concurrent free or realloc of the address is refused, and C cannot hand the address to anyone
     * else. Give it back with {@link #restore} or {@link #freeTaken}.
     *
     * @return {requested size, record}.
     * @throws IllegalArgumentException if {@code address} is not a live large block; nothing changes then.
     */
    long[] take(final long address) {
        final Stripe s = stripe(address);
        s.lock.lock();
        try {
            final long size = s.liveSize(address);
            s.sizes.remove(address);
            final long record = s.held.remove(address);
            s.bytes -= size;
            return new long[] {size, record};
        } finally {
            s.lock.unlock();
        }
    }

    /** Records a block {@link #take taken} out again, unchanged: the move failed. */
    void restore(final long address, final long[] taken) {
        stripe(address).record(address, taken[0], taken[1], false, false);
    }

    /** Gives a block {@link #take taken} out back to C: the move succeeded. Not a user free. */
    void freeTaken(final long address, final long[] taken) {
        Libc.free(address);
        limit.release(charge(taken[1]));
    }

    /**
     * Resizes a live large block: in place under {@link Allocator#REALLOC_IN_PLACE_QUARTERS} of its usable
     * size, else with the system {@code realloc}, charged anew.
     *
     * @throws IllegalArgumentException if {@code address} is not a live large block (also when another
     *                                  thread is freeing or resizing it); nothing changes then.
     * @throws OutOfMemoryError         if the limit or the system allocator refuses; the block is unchanged then.
     */
    long resize(final long address, final long newSize) {
        final Stripe s = stripe(address);
        final long oldSize;
        final long record;
        s.lock.lock();
        try {
            oldSize = s.liveSize(address);
            record = s.held.get(address);
            if (s.resizedInPlace(address, oldSize, record, newSize)) {
                return address;
            }
            // Unrecorded while this call works on it: a concurrent free or realloc of the old address is refused.
            // Not held either: once C realloc moved the block, C may hand the old address to another caller.
            s.sizes.remove(address);
            s.held.remove(address);
            s.bytes -= oldSize;
        } finally {
            s.lock.unlock();
        }
        final int shift = alignmentShift(record);
        final long oldCharge = charge(record);
        final long cSize = Math.max(newSize, 1);
        final long growth = Math.max(bound(cSize, shift) - oldCharge, 0);
        final long moved;
        try {
            if (growth > 0) {
                arenas.reserve(growth, ReservationLimit.LARGE_BLOCK_GROWTH); // no lock held: may unmap arenas
            }
            try {
                moved = Libc.realloc(address, cSize);
            } catch (final RuntimeException | Error e) {
                limit.release(growth);
                throw e;
            }
            if (moved == 0) {
                limit.release(growth);
                throw new OutOfMemoryError(
                        "pymalloc4j: the system allocator refused to resize a large block to " + newSize + " bytes");
            }
        } catch (final RuntimeException | Error e) {
            s.record(address, oldSize, record, false, false); // nothing happened: the old block is untouched and live
            throw e;
        }
        // A block moved by C realloc keeps the alignment slack in its charge: glibc keeps the space before
        // an aligned block it remaps.
        final long newRecord = record(Libc.mallocUsableSize(moved), shift);
        final long held = oldCharge + growth;
        final long charge = charge(newRecord);
        if (charge > held) {
            limit.add(charge - held); // not with glibc; C realloc cannot be undone
        } else {
            limit.release(held - charge);
        }
        stripe(moved).record(moved, newSize, newRecord, false, moved != address);
        return moved;
    }

    /** {count, bytes, mallocs, frees, systemAllocations}, summed over the stripes (each read under its lock). */
    long[] snapshot() {
        final long[] sum = new long[5];
        for (final Stripe s : stripes) {
            s.lock.lock();
            try {
                sum[0] += s.sizes.size();
                sum[1] += s.bytes;
                sum[2] += s.mallocs;
                sum[3] += s.frees;
                sum[4] += s.systemAllocations;
            } finally {
                s.lock.unlock();
            }
        }
        return sum;
    }

    long heapBytes() {
        long sum = 16 + 16L * STRIPES;
        for (final Stripe s : stripes) {
            s.lock.lock();
            try {
                sum += 64 + 2 * (48 + 16) + 16L * (s.sizes.capacity() + s.held.capacity());
            } finally {
                s.lock.unlock();
            }
        }
        return sum;
    }

    /** Frees every live large block. */
    void releaseAll() {
        for (final Stripe s : stripes) {
            s.lock.lock();
            try {
                final Long2LongHashMap.EntryIterator it = s.held.entrySet().iterator();
                while (it.hasNext()) {
                    it.next();
                    Libc.free(it.getLongKey());
                    limit.release(charge(it.getLongValue()));
                }
                s.sizes.clear();
                s.held.clear();
                s.bytes = 0;
            } finally {
                s.lock.unlock();
            }
        }
    }
}
