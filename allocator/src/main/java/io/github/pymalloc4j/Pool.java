package io.github.pymalloc4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One pool: a {@code poolSize}-aligned slice of an arena that serves blocks of one size class, owned by
 * one {@link Heap} at a time. All metadata lives here, on the Java heap; the pool's native memory holds
 * only blocks, and a free block on the owner's list holds only the address of the next one.
 *
 * <pre>
 *  base                                   bumpNext        bumpEnd       base + poolSize
 *   |  b0  |  b1  |  b2  |  b3  |  b4  |  b5  |  b6  | ... | b(n-1) | tail |
 *   '---- handed out at least once ----' '-- never touched --'  '- quantization -'
 *   freeHead -> b3 -> b1 -> 0    owner's LIFO list, threaded through free blocks (owner only)
 *   bits[2w]:     live word w:   bit i set  &lt;=&gt;  block 64w+i was handed out and not yet collected (owner writes)
 *   bits[2w + 1]: remote word w: bit i set  &lt;=&gt;  block 64w+i was freed by another thread, not yet
 *                 collected (any thread ORs)
 *   (a live word and its remote word share a cache line: a free reads one 16-byte pair)
 *   slack[i]: blockSize - requested size of block i (written by whoever holds block i)
 * </pre>
 *
 * Invariants:
 * <ul>
 *   <li>{@code used} = number of set live bits; a remote bit on a block that is not live is a
 *       double free that raced past the checks: it is counted, never freed (see below);</li>
 *   <li>each {@link #init} gives the pool a new {@code bits} array: the array identifies the pool's life,
 *       so an OR that lands in an earlier life's array can never free a block of a later one, and a freer
 *       that read this life's array sees only this life's live bits;</li>
 *   <li>every block below {@code bumpNext} whose live bit is clear is on the owner's free list, once;</li>
 *   <li>{@code used + freeListLength + (bumpEnd - bumpNext) / blockSize == capacity}.</li>
 * </ul>
 *
 * <p>Threads. The owner (the heap's thread, or whoever holds the heap's lock) does everything except
 * set remote bits; any other thread frees with one atomic OR on a remote-bitmap word, which also tells
 * it at once whether the block was already freed. The owner <em>collects</em> remote bits when its own
 * list runs dry. A pool that fills up leaves its heap's list and is armed ({@link Notification}): the
 * first remote free into it claims the notification and pushes the pool on the heap's notified stack, so
 * the owner brings it back into use (mimalloc's "delayed free").
 *
 * <p>A remote free, and why a racing double free never frees another block:
 * <pre>
 *  r = remote (acquire: this life's array)    pre-check: boundary, handed out, live (for the message)
 *  old = r[w] |= bit (atomic)                 old has bit: double free, throw, nothing changed
 *  post-check: remote == r and block live?    yes: the free took effect at the OR; done
 *  no: take the bit back (atomic AND)         got it: nothing changed, throw;
 *                                             gone: a collection freed the block (this free took
 *                                             effect), or the owner counted it as a double free
 * </pre>
 * Every remote bit is consumed exactly once, by one atomic read-modify-write: by a collection (block
 * live: freed; not live: counted), by the owner handing the block out again (counted), by
 * {@link #markFree} (counted), or by the freer taking it back (thrown). Between a bit's OR and its
 * consumption the block cannot be freed by anyone else (the owner's free and other remote frees see the
 * bit and throw), so a collection frees the very allocation the freer saw live after its OR.
 */
final class Pool {
    /** {@link #sizeClass} of a pool that serves no class. */
    static final int FREE = -1;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle BITS;

    static {
        try {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            BITS = lookup.findVarHandle(Pool.class, "bits", long[].class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final NativeArena arena;
    final int index;
    final long base;
    private final int poolSize;

    // Set by init (under the arena lock, before any block is handed out); stable while a block is live.
    int sizeClass = FREE;
    int blockSize;
    int capacity;
    private long magic;
    /**
     * This life's live and remote words, interleaved ({@code [2w]} live, {@code [2w + 1]} remote): written
     * by {@link #init} with a release store, read by freers with acquire, by the owner plainly.
     */
    private long[] bits;

    private short[] slack;

    // Owner state: written by the owner inside a call (or by maintenance while it excludes the owner),
    // read by others only racily (statistics) or under the arena lock once the pool is free or orphaned.
    /** Live blocks: the number of set live bits. */
    int used;
    /** Sum of requested sizes of live blocks, as the owner knows them (remote frees not yet collected count). */
    private long requestedBytes;

    private long freeHead;
    private long bumpNext;
    private long bumpEnd;
    // The pool's state (package-info, "Pool states"): free (sizeClass FREE), listed, detached (owned and
    // not listed) or orphaned (heap null, on an orphan list). Read by Heap; written only by the methods below.
    /** On its heap's list of listed pools for its class. */
    boolean listed;
    /** Listed with no live block, kept by its heap beyond the last of its class (see {@link Heap}). */
    boolean keptEmpty;
    /** Neighbours in the heap's list. */
    Pool prev;

    Pool next;

    // Shared state.
    /** The heap that owns this pool, or null when ownerless (empty, or orphaned by a dead thread). */
    Heap heap;
    /** The notify state ({@link Notification}: touched by nothing else). */
    @SuppressWarnings("unused") // accessed through Notification's VarHandle
    volatile int notifyState;
    /**
     * Link in a heap's notified stack ({@link Notification}: touched by nothing else): written by the pusher
     * before its CAS, read by the owner after its swap.
     */
    Pool nextNotified;

    // Arena-lock state (see ArenaMapping).
    /** Memory may be resident: false once decommitted, true again when the pool is taken. */
    boolean committed;
    /** On the decommit queue of {@link ArenaMapping}. */
    private boolean decommitQueued;
    /** Maintenance round in which the pool became free. */
    private long freeSinceRound;
    /** Maintenance round in which a listed pool was first seen with no live block (-1: not seen). Owner state. */
    long seenEmptyRound = -1;

    Pool(final NativeArena arena, final int index, final long base, final int poolSize) {
        this.arena = arena;
        this.index = index;
        this.base = base;
        this.poolSize = poolSize;
    }

    /**
     * Makes this empty pool serve a size class for {@code owner}: no block handed out yet, the bump
     * pointer at the base. Called under the arena lock.
     */
    void init(final int classIndex, final Heap owner) {
        assert sizeClass == FREE && !listed && heap == null : "only a free pool is given a class";
        sizeClass = classIndex;
        blockSize = SizeClass.blockSize(classIndex);
        capacity = poolSize / blockSize;
        magic = SizeClass.divisionMagic(classIndex);
        used = 0;
        requestedBytes = 0;
        freeHead = 0;
        bumpNext = base;
        bumpEnd = base + (long) capacity * blockSize;
        final int words = (capacity + 63) >>> 6;
        if (slack == null || slack.length < capacity) {
            slack = new short[capacity];
        }
        committed = true;
        seenEmptyRound = -1;
        setOwnerPlain(owner);
        Notification.resetVolatile(this);
        BITS.setRelease(this, new long[2 * words]); // last: a freer that acquires it sees this life's fields
    }

    /**
     * Makes this pool free: it serves no class (it has no live block). Remote bits still set are double
     * frees that raced past every other check: they are taken (atomically, against a freer taking its own
     * back) and counted. Under the arena lock.
     */
    void markFree(final Counters counters) {
        assert used == 0 : "a pool with " + used + " live blocks made free";
        assert Notification.stateVolatile(this) != Notification.NOTIFIED
                : "a pool made free while its notification is in flight";
        if (sizeClass != FREE) {
            final long[] r = bits;
            for (int w = 1; w < r.length; w += 2) {
                if ((long) LONGS.getOpaque(r, w) != 0) {
                    counters.doubleFreesDetected += Long.bitCount((long) LONGS.getAndSet(r, w, 0L));
                }
            }
        }
        sizeClass = FREE;
        listed = false;
        keptEmpty = false;
        prev = null;
        next = null;
        setOwnerPlain(null);
    }

    /**
     * Gives the pool to {@code owner} (null: ownerless). A plain store: a freer that reads it racily checks
     * what it read (the owner check, then the heap's {@code enter}), see {@link ArenaMap}.
     */
    void setOwnerPlain(final Heap owner) {
        heap = owner;
    }

    // ------------------------------------------------------------------ list links (owner, or arena lock)

    /** Heap: lists this pool in front of {@code head} (null: an empty list); the heap moves its head. */
    void listBefore(final Pool head) {
        assert !listed && sizeClass != FREE : "listed twice, or free";
        assert used < capacity : "a listed pool is never full";
        prev = null;
        next = head;
        if (head != null) {
            head.prev = this;
        }
        listed = true;
    }

    /** Heap: takes this pool off its list; the heap moves its head when this was it. */
    void unlist() {
        assert listed : "not listed";
        if (prev != null) {
            prev.next = next;
        }
        if (next != null) {
            next.prev = prev;
        }
        prev = null;
        next = null;
        listed = false;
    }

    /** Thread death: forgets the links (the dead heap forgets its lists as a whole). */
    void forgetLinks() {
        listed = false;
        prev = null;
        next = null;
    }

    /** Heap: a listed empty pool is kept (true), or is in use again or leaves the list (false). */
    void setKeptEmpty(final boolean kept) {
        keptEmpty = kept;
    }

    /** Maintenance: the round in which this listed pool was first seen empty, -1 when it is not empty. */
    void setSeenEmptyRound(final long round) {
        seenEmptyRound = round;
    }

    // ------------------------------------------------------------------ memory state (arena lock)

    long freeSinceRound() {
        return freeSinceRound;
    }

    /** Records the maintenance round in which the pool became free. */
    void becameFree(final long round) {
        freeSinceRound = round;
    }

    boolean isDecommitQueued() {
        return decommitQueued;
    }

    void setDecommitQueued(final boolean queued) {
        decommitQueued = queued;
    }

    /** Its memory was given back ({@code madvise(MADV_DONTNEED)}). */
    void decommitted() {
        committed = false;
    }

    boolean isFull() {
        return used == capacity;
    }

    /**
     * Hands out one block. Owner only; the caller guarantees the pool is not full (a listed pool never is).
     *
     * @param size requested bytes, at most {@link #blockSize}.
     * @return the block's address.
     * @throws IllegalStateException if the free list was found corrupted (a write after free); the
     *                               pool is repaired first.
     */
    long allocate(final long size) {
        long block = freeHead;
        final long[] b = bits;
        final int i;
        if (block != 0) {
            final long offset = block - base;
            i = (int) ((offset * magic) >>> 32);
            final int w = (i >>> 6) << 1;
            if (Long.compareUnsigned(offset, bumpNext - base) >= 0
                    || (long) i * blockSize != offset
                    || (b[w] & (1L << i)) != 0) {
                throw corrupted(block);
            }
            if (((long) LONGS.getOpaque(b, w + 1) & (1L << i)) != 0) {
                clearStrayRemoteBit(i);
            }
            freeHead = AddressSpace.getLongPlain(block);
        } else {
            // Never handed out in this life: no freer can have passed the live check on it.
            block = bumpNext;
            bumpNext = block + blockSize;
            i = (int) (((block - base) * magic) >>> 32);
        }
        b[(i >>> 6) << 1] |= 1L << i;
        slack[i] = (short) (blockSize - size);
        requestedBytes += size;
        used++;
        return block;
    }

    /**
     * Validates that {@code address} is a block of this pool that the caller may free: handed out, not
     * freed by anyone since. Any thread; reads the owner's bitmap with opaque loads.
     *
     * @param address address inside this pool.
     * @return the block index.
     * @throws IllegalArgumentException with the reason otherwise.
     */
    int liveBlockIndexAcquire(final long address) {
        final int i = blockIndex(address);
        final long bit = 1L << i;
        final long[] b = (long[]) BITS.getAcquire(this);
        if (((long) LONGS.getOpaque(b, (i >>> 6) << 1) & bit) == 0) {
            throw notLive(address, i);
        }
        if (((long) LONGS.getOpaque(b, ((i >>> 6) << 1) + 1) & bit) != 0) {
            throw doubleFree(address);
        }
        return i;
    }

    /**
     * The index of the block at {@code address}, which must be a block boundary of this pool.
     *
     * @throws IllegalArgumentException for an address in the pool's tail or inside a block.
     */
    private int blockIndex(final long address) {
        final long offset = address - base;
        final int i = (int) ((offset * magic) >>> 32);
        if (i >= capacity || Long.compareUnsigned(offset, poolSize) >= 0) {
            throw new IllegalArgumentException("0x" + Long.toHexString(address) + " is in the tail of the " + blockSize
                    + "-byte pool at 0x" + Long.toHexString(base) + " (the " + (poolSize - (long) capacity * blockSize)
                    + " bytes after its last block, at offset " + (long) capacity * blockSize
                    + "): no block starts there");
        }
        if ((long) i * blockSize != offset) {
            throw new IllegalArgumentException(
                    "interior pointer 0x" + Long.toHexString(address) + ": " + (offset - (long) i * blockSize)
                            + " bytes into the " + blockSize + "-byte block at 0x"
                            + Long.toHexString(base + (long) i * blockSize));
        }
        return i;
    }

    /** Why a block validated earlier cannot be freed now: its pool emptied and was carved again. */
    IllegalArgumentException freedMeanwhile(final long address) {
        return new IllegalArgumentException("double free of 0x" + Long.toHexString(address)
                + ": another thread freed it meanwhile (its pool emptied and was carved again)");
    }

    /** Why block {@code i}, which is not live, cannot be freed: never handed out, or freed already. */
    private IllegalArgumentException notLive(final long address, final int i) {
        // Racy for another thread (the owner may move the bump pointer): the message, not the decision.
        if (base + (long) i * blockSize >= bumpNext) {
            return new IllegalArgumentException(
                    "0x" + Long.toHexString(address) + " was never handed out: the " + blockSize
                            + "-byte pool at 0x" + Long.toHexString(base) + " has handed out only its first "
                            + (bumpNext - base) / blockSize
                            + " blocks (a foreign or made-up pointer)");
        }
        return new IllegalArgumentException("double free of 0x" + Long.toHexString(address) + " (the " + blockSize
                + "-byte block is not allocated: it was freed already)");
    }

    /**
     * Owner's free onto its own list: validates like {@link #liveBlockIndexAcquire} (one load of the bitmap word
     * serves both the check and the update), then frees. Nothing changes on bad input.
     *
     * @throws IllegalArgumentException if {@code address} is not a live block of this pool.
     */
    void freeOwned(final long address) {
        final long offset = address - base;
        final int i = (int) ((offset * magic) >>> 32);
        final long bit = 1L << i;
        final long[] b = bits;
        final int w = (i >>> 6) << 1;
        if ((long) i * blockSize != offset
                || i >= capacity
                || (b[w] & bit) == 0
                || ((long) LONGS.getOpaque(b, w + 1) & bit) != 0) {
            liveBlockIndexAcquire(address); // throws with the precise reason
        }
        b[w] &= ~bit;
        requestedBytes -= blockSize - slack[i];
        used--;
        AddressSpace.putLongPlain(address, freeHead);
        freeHead = address;
    }

    /**
     * Another thread's free of the block at {@code address}: one atomic OR, then a check that the OR
     * landed on a live block of this life of the pool (see the class comment). Any thread.
     *
     * @return the heap to notify if this free must bring the (full) pool back into use, else null.
     * @throws IllegalArgumentException if the address is not a live block of this pool, or the block
     *                                  was already freed; nothing changes then.
     */
    Heap freeRemote(final long address) {
        return freeRemote(address, lifeAcquire());
    }

    /**
     * This life of the pool: its remote bitmap, which every carve replaces (acquire). A caller that
     * validated a block and must free it later (realloc's move) keeps it to tell that the pool was
     * carved again meanwhile, so the address may be someone else's block now.
     */
    long[] lifeAcquire() {
        return (long[]) BITS.getAcquire(this);
    }

    /**
     * {@link #freeRemote(long)} of a block of the given life of this pool.
     *
     * @param r the pool's {@link #lifeAcquire()} when the caller validated the block.
     * @throws IllegalArgumentException also when the pool is no longer in that life: the block was freed
     *                                  by another thread meanwhile.
     */
    Heap freeRemote(final long address, final long[] r) {
        if ((long[]) BITS.getAcquire(this) != r) {
            throw freedMeanwhile(address);
        }
        final int i = liveBlockIndexAcquire(address);
        final int w = ((i >>> 6) << 1) + 1;
        final long bit = 1L << i;
        if (w >= r.length) {
            throw notLive(address, i); // the pool changed class between the two reads: not this life's block
        }
        final long before = (long) LONGS.getAndBitwiseOr(r, w, bit);
        if ((before & bit) != 0) {
            throw doubleFree(address);
        }
        if ((long[]) BITS.getVolatile(this) != r || ((long) LONGS.getVolatile(r, w - 1) & bit) == 0) {
            // The block stopped being live between the check and the OR (another free won), or the pool
            // started a new life. Take the bit back; if the owner consumed it first, it counted it.
            if (((long) LONGS.getAndBitwiseAnd(r, w, ~bit) & bit) != 0) {
                throw doubleFree(address);
            }
            return null;
        }
        if (Notification.claim(this)) {
            // Read after the CAS: the owner armed the pool after it became its owner, and a NOTIFIED pool
            // changes hands only once its heap has drained it, so this is the heap to tell.
            return heap;
        }
        return null;
    }

    /**
     * Owner: moves every remotely freed block to the own free list.
     *
     * @param collector the heap whose counters get the collected blocks and the remote bits found on
     *                  blocks that are not live (a double free that raced past the caller's check).
     * @return blocks collected.
     */
    int collectRemote(final Counters collector) {
        int collected = 0;
        final long[] b = bits;
        final int words = (capacity + 63) >>> 6;
        for (int w = 0; w < words; w++) {
            if ((long) LONGS.getOpaque(b, 2 * w + 1) == 0) {
                continue;
            }
            long freed = (long) LONGS.getAndSet(b, 2 * w + 1, 0L);
            final long stray = freed & ~b[2 * w];
            if (stray != 0) {
                collector.doubleFreesDetected += Long.bitCount(stray);
            }
            freed &= b[2 * w];
            b[2 * w] &= ~freed;
            while (freed != 0) {
                final int i = (w << 6) + Long.numberOfTrailingZeros(freed);
                freed &= freed - 1;
                final long block = base + (long) i * blockSize;
                requestedBytes -= blockSize - slack[i];
                AddressSpace.putLongPlain(block, freeHead);
                freeHead = block;
                collected++;
            }
        }
        used -= collected;
        collector.remoteFreesCollected += collected;
        return collected;
    }

    /**
     * A free block about to be handed out carries a remote bit: a racing double free whose OR landed
     * after the block was freed by someone else (it passed its live check just before), possibly in an
     * earlier life of the pool. Clearing it before the block is handed out again stops a later
     * collection from freeing the new holder's block. Counted. (An OR that lands after the block was
     * handed out again cannot be told from a real free: as in C, a double free may free a reused block.)
     */
    private void clearStrayRemoteBit(final int i) {
        final long bit = 1L << i;
        if (((long) LONGS.getAndBitwiseAnd(bits, ((i >>> 6) << 1) + 1, ~bit) & bit)
                != 0) // unless its freer took it back
        {
            heap.counters.doubleFreesDetected++;
        }
    }

    /** Whether any remote bit is set (a hint; opaque reads). */
    boolean hasRemoteFreesOpaque() {
        final int words = (capacity + 63) >>> 6;
        for (int w = 0; w < words; w++) {
            if ((long) LONGS.getOpaque(bits, 2 * w + 1) != 0) {
                return true;
            }
        }
        return false;
    }

    /** Blocks freed by other threads and not yet collected (opaque reads). */
    int pendingRemoteFreesOpaque() {
        if (sizeClass == FREE) {
            return 0;
        }
        int n = 0;
        final int words = (capacity + 63) >>> 6;
        for (int w = 0; w < words; w++) {
            n += Long.bitCount((long) LONGS.getOpaque(bits, 2 * w + 1));
        }
        return n;
    }

    /**
     * Sum of requested sizes of the blocks that are live and not freed remotely: the owner's running sum
     * minus the blocks awaiting collection. Racy reads: exact when
     * the pool's threads are quiet.
     */
    long requestedBytesOpaque() {
        if (sizeClass == FREE) {
            return 0;
        }
        long sum = requestedBytes;
        final int words = (capacity + 63) >>> 6;
        for (int w = 0; w < words; w++) {
            long freed = (long) LONGS.getOpaque(bits, 2 * w + 1);
            while (freed != 0) {
                final int i = (w << 6) + Long.numberOfTrailingZeros(freed);
                freed &= freed - 1;
                sum -= blockSize - slack[i];
            }
        }
        return sum;
    }

    /**
     * Whether any remote bit of this life is set, read with volatile loads (the owner's half of the
     * notification's Dekker pair: a volatile store followed by opaque loads may be reordered on AArch64).
     */
    boolean hasRemoteBitVolatile() {
        final int words = (capacity + 63) >>> 6;
        for (int w = 0; w < words; w++) {
            if ((long) LONGS.getVolatile(bits, 2 * w + 1) != 0) {
                return true;
            }
        }
        return false;
    }

    /** Requested size of live block {@code i}. */
    long requestedSize(final int i) {
        return blockSize - slack[i];
    }

    /**
     * Owner, inside a call: records a new requested size for live block {@code i} (an in-place realloc).
     * Only the owner resizes in place (another thread's realloc moves the block), so the running sum and
     * the slack change together and a collection can never see one without the other.
     */
    void resizeOwned(final int i, final long size) {
        requestedBytes += size - requestedSize(i);
        slack[i] = (short) (blockSize - size);
    }

    /** Bytes of on-heap metadata this pool holds (estimate, compressed oops). */
    long heapBytes() {
        return 112 + (bits == null ? 0 : 16 + 8L * bits.length) + (slack == null ? 0 : 16 + 2L * slack.length);
    }

    /**
     * The full check of this pool's owner state (package-info, invariants 2 and 3): {@code used} is the
     * number of live bits, the free list holds every free block below the bump pointer exactly once, and
     * the counts add up to the capacity. Only while no one else can change the owner state (the owner
     * excluded, or the pool orphaned and the arena lock held); reads the free list's links in block memory.
     *
     * @return null when it holds, else what is wrong.
     */
    String check() {
        if (sizeClass == FREE) {
            return null;
        }
        final String at = "pool 0x" + Long.toHexString(base) + " (" + blockSize + "-byte blocks): ";
        final int words = (capacity + 63) >>> 6;
        if (bits.length != 2 * words) {
            return at + "bitmap of " + bits.length + " words for " + capacity + " blocks";
        }
        int live = 0;
        for (int w = 0; w < words; w++) {
            live += Long.bitCount(bits[2 * w]);
        }
        if (live != used) {
            return at + "used is " + used + " but " + live + " live bits are set";
        }
        final boolean[] seen = new boolean[capacity];
        int onList = 0;
        for (long block = freeHead; block != 0; block = AddressSpace.getLongPlain(block)) {
            final long offset = block - base;
            final int i = (int) ((offset * magic) >>> 32);
            if (Long.compareUnsigned(offset, bumpNext - base) >= 0 || (long) i * blockSize != offset) {
                return at + "free list leads to 0x" + Long.toHexString(block) + ", not a handed-out block boundary";
            }
            if (isLive(i)) {
                return at + "free list holds live block " + i;
            }
            if (seen[i]) {
                return at + "free list holds block " + i + " twice";
            }
            seen[i] = true;
            onList++;
        }
        final long neverHandedOut = (bumpEnd - bumpNext) / blockSize;
        if (used + onList + neverHandedOut != capacity) {
            return at + used + " live + " + onList + " on the free list + " + neverHandedOut
                    + " never handed out != capacity " + capacity;
        }
        return null;
    }

    private boolean isLive(final int i) {
        return (bits[(i >>> 6) << 1] & (1L << i)) != 0;
    }

    private static IllegalArgumentException doubleFree(final long address) {
        return new IllegalArgumentException(
                "double free of 0x" + Long.toHexString(address) + " (freed already by another thread)");
    }

    /**
     * Rebuilds the free list from the bitmap (the truth) and reports the corruption.
     */
    private IllegalStateException corrupted(final long badLink) {
        freeHead = 0;
        for (long b = bumpNext - blockSize; b >= base; b -= blockSize) {
            final int i = (int) (((b - base) * magic) >>> 32);
            if (!isLive(i)) {
                AddressSpace.putLongPlain(b, freeHead);
                freeHead = b;
            }
        }
        return new IllegalStateException(
                "heap corruption: free list of the " + blockSize + "-byte pool at 0x" + Long.toHexString(base)
                        + " led to 0x" + Long.toHexString(badLink)
                        + ", which is not a free block of that pool (a write after free?); the pool was repaired, retry");
    }
}
