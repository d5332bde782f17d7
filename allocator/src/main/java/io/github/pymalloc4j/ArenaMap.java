package io.github.pymalloc4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The address range every arena of an allocator lives in, and the flat tables from an address to its
 * arena and its pool. "Is this address ours?" is one subtract and one unsigned compare; its pool is one
 * array load; nothing at the address is read, so a foreign pointer is recognised without touching it.
 *
 * <pre>
 *  base (aligned to arenaSize)                                             base + rangeBytes
 *   | slot 0 | slot 1 | slot 2 | slot 3 | ...... never committed ...... |
 *    arena    arena    (free)   arena
 *  reserved once: mmap(PROT_NONE, MAP_NORESERVE), which holds no memory
 *  an arena is committed into a slot with mmap(MAP_FIXED, read-write) and decommitted with
 *  mmap(MAP_FIXED, PROT_NONE): its pages go back to the OS and its addresses fault again
 *
 *  arenas[(a - base) &gt;&gt;&gt; arenaShift] -&gt; NativeArena, or null
 *  pools [(a - base) &gt;&gt;&gt; poolShift]  -&gt; Pool, or null (a pool never carved, an arena not in the map)
 * </pre>
 *
 * <h2>Laws</h2>
 * <ol>
 *   <li>New arenas take the lowest free slot, so both tables only cover slots {@code [0, peak)}; a table
 *       grows by copying, under the arena lock, and is published with a volatile store.</li>
 *   <li>Entries are written under the arena lock. A pool entry is written before any block of the pool
 *       is handed out and stays until its arena leaves the map, which it does only when wholly free.</li>
 *   <li>{@link #poolOfPlain} reads an entry with a plain load. That is exact for every valid free: the
 *       block was handed out after its entry was written, and whoever frees it got the address through a
 *       happens-before chain from that malloc. A bad address may see a stale entry; callers that cannot
 *       prove ownership from what they read (the owner check: the pool's heap has the caller as its final
 *       owner) take the slow path, which reads the arena ({@link #arenaOfAcquire}) and its pool with acquire loads.</li>
 * </ol>
 */
final class ArenaMap {
    private static final VarHandle ARENAS = MethodHandles.arrayElementVarHandle(NativeArena[].class);
    private static final VarHandle POOLS = MethodHandles.arrayElementVarHandle(Pool[].class);

    /** The default size of the range: room for 32 GiB of arenas. */
    static final long DEFAULT_RANGE_BYTES = 32L << 30;

    /** First byte of the range, aligned to the arena size. */
    final long base;
    /** Bytes in the range: a multiple of the arena size. */
    final long rangeBytes;

    private final int arenaShift;
    private final int poolShift;
    private final int poolsPerArena;
    private final int slots;
    /** Start of the raw mapping (the range plus its alignment slack), for {@link #release()}. */
    private final long rawBase;

    private final long rawBytes;

    private volatile NativeArena[] arenas = new NativeArena[1];
    private volatile Pool[] pools;
    /** Slots in use; guarded by the arena lock. */
    private int used;

    private boolean released;

    /**
     * Reserves the range.
     *
     * @param rangeBytes bytes wanted.
     * @param shrinkable whether a smaller range will do when the OS refuses this one (the default range:
     *                   a process limited in address space, {@code ulimit -v}, gets what it can, at least
     *                   16 arenas); false for a range the user chose.
     * @throws OutOfMemoryError if the OS refuses the reservation.
     */
    ArenaMap(final long arenaSize, final int poolSize, final long rangeBytes, final boolean shrinkable) {
        this.arenaShift = Long.numberOfTrailingZeros(arenaSize);
        this.poolShift = Integer.numberOfTrailingZeros(poolSize);
        this.poolsPerArena = (int) (arenaSize / poolSize);
        long slotCount = Math.max(1, rangeBytes / arenaSize);
        if (slotCount > Integer.MAX_VALUE / poolsPerArena) {
            throw new IllegalArgumentException("address range of " + rangeBytes + " bytes holds too many pools");
        }
        long raw = Libc.mmapReserve((slotCount + 1) * arenaSize);
        while ((raw == Libc.MAP_FAILED || raw == 0) && shrinkable && slotCount > 16) {
            slotCount = Math.max(16, slotCount / 2);
            raw = Libc.mmapReserve((slotCount + 1) * arenaSize);
        }
        if (raw == Libc.MAP_FAILED || raw == 0) {
            throw new OutOfMemoryError("pymalloc4j: cannot reserve " + (slotCount + 1) * arenaSize
                    + " bytes of address space for arenas (Allocator.Builder.addressRange sets the size)");
        }
        this.slots = (int) slotCount;
        this.rangeBytes = slotCount * arenaSize;
        this.rawBytes = this.rangeBytes + arenaSize;
        this.rawBase = raw;
        this.base = (rawBase + arenaSize - 1) & -arenaSize;
        this.pools = new Pool[poolsPerArena];
    }

    // ------------------------------------------------------------------ lookups (any thread, lock-free)

    /**
     * The pool whose memory holds {@code address}, or null. A plain read: see the class comment (law 3).
     *
     * @param address any address.
     */
    Pool poolOfPlain(final long address) {
        final Pool[] table = pools;
        final long k = (address - base) >>> poolShift;
        return k < table.length ? table[(int) k] : null;
    }

    /**
     * The arena containing {@code address}, or null (acquire).
     *
     * @param address any address.
     */
    NativeArena arenaOfAcquire(final long address) {
        final NativeArena[] table = arenas;
        final long k = (address - base) >>> arenaShift;
        return k < table.length ? (NativeArena) ARENAS.getAcquire(table, (int) k) : null;
    }

    // ------------------------------------------------------------------ slots (arena lock held)

    /**
     * Commits the lowest free slot as a new arena's memory (zero-filled, read-write).
     *
     * @return the slot's address.
     * @throws OutOfMemoryError if the range is full or the OS refuses.
     */
    long commitSlot() {
        final NativeArena[] table = arenas;
        int slot = 0;
        while (slot < used && table[slot] != null) {
            slot++;
        }
        if (slot == slots) {
            throw new OutOfMemoryError("pymalloc4j: the address range for arenas (" + rangeBytes
                    + " bytes) is full; Allocator.Builder.addressRange reserves a larger one");
        }
        final long address = base + ((long) slot << arenaShift);
        if (Libc.mmapFixed(address, 1L << arenaShift, Libc.PROT_READ | Libc.PROT_WRITE) != address) {
            throw new OutOfMemoryError("pymalloc4j: mmap of " + (1L << arenaShift) + " bytes for a new arena failed");
        }
        return address;
    }

    /**
     * Gives a slot's memory back to the OS and makes its addresses fault. The arena must be out of the map.
     *
     * @return 0 on success, -1 if the OS refused.
     */
    int decommitSlot(final long address) {
        return Libc.mmapFixed(address, 1L << arenaShift, Libc.PROT_NONE) == address ? 0 : -1;
    }

    /** Enters an arena and its carved pools into the tables. Arena lock held. */
    void put(final NativeArena arena) {
        final int slot = (int) ((arena.base - base) >>> arenaShift);
        if (slot >= arenas.length) {
            grow(slot + 1);
        }
        for (int i = 0; i < arena.carved; i++) {
            publish(arena.pool(i));
        }
        ARENAS.setRelease(arenas, slot, arena);
        used = Math.max(used, slot + 1);
    }

    /** Enters a newly carved pool of a mapped arena. Arena lock held. */
    void publish(final Pool pool) {
        POOLS.setRelease(pools, (int) ((pool.base - base) >>> poolShift), pool);
    }

    /** Takes an arena and its pools out of the tables. Arena lock held. */
    void remove(final NativeArena arena) {
        final int slot = (int) ((arena.base - base) >>> arenaShift);
        ARENAS.setRelease(arenas, slot, null);
        final Pool[] table = pools;
        for (int i = 0; i < poolsPerArena; i++) {
            POOLS.setRelease(table, slot * poolsPerArena + i, null);
        }
        while (used > 0 && arenas[used - 1] == null) {
            used--;
        }
    }

    private void grow(final int minSlots) {
        final int n = (int) Math.min(slots, Math.max(minSlots, 2L * arenas.length));
        pools = java.util.Arrays.copyOf(pools, n * poolsPerArena);
        arenas = java.util.Arrays.copyOf(arenas, n);
    }

    /** Unmaps the whole range. Every arena must be out of the map and no call may be in flight. */
    void release() {
        if (!released) {
            released = true;
            Libc.munmap(rawBase, rawBytes);
        }
    }

    /** Bytes of on-heap metadata (estimate, compressed oops). */
    long heapBytes() {
        return 64 + 16 + 4L * arenas.length + 16 + 4L * pools.length;
    }
}
