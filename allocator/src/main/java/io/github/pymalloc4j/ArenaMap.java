package io.github.pymalloc4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Address to arena lookup: a two-level radix tree over the arena number ({@code address >>> arenaShift})
 * of a 48-bit user address space, as CPython's {@code arena_map}. A lookup is two dependent array loads
 * and never touches the memory at the address, so a foreign pointer is recognised without reading it.
 *
 * <pre>
 *  address:  | 0 ... 0 (16 bits) | root index | leaf index | offset in arena (arenaShift bits) |
 *  root[rootIndex] -&gt; leaf (NativeArena[]), created on first use, dropped when empty
 * </pre>
 * Written under the arena lock with release stores; read by any thread, lock-free, with acquire loads
 * (plain loads on x86).
 */
final class ArenaMap
{
    private static final VarHandle ROOT = MethodHandles.arrayElementVarHandle(NativeArena[][].class);
    private static final VarHandle LEAF = MethodHandles.arrayElementVarHandle(NativeArena[].class);

    /** Bits of user-space addresses covered (x86-64 and AArch64 with 4-level paging). */
    static final int ADDRESS_BITS = 48;

    private final int arenaShift;
    private final int leafBits;
    private final int leafMask;
    private final NativeArena[][] root;
    private final int[] leafCounts;

    ArenaMap(final int arenaShift)
    {
        this.arenaShift = arenaShift;
        final int keyBits = ADDRESS_BITS - arenaShift;
        this.leafBits = (keyBits + 1) / 2;
        this.leafMask = (1 << leafBits) - 1;
        this.root = new NativeArena[1 << (keyBits - leafBits)][];
        this.leafCounts = new int[root.length];
    }

    /**
     * The arena containing {@code address}, or null.
     *
     * @param address any address.
     */
    NativeArena get(final long address)
    {
        final long key = address >>> arenaShift;
        final long rootIndex = key >>> leafBits;
        if (rootIndex >= root.length)
        {
            return null;
        }
        final NativeArena[] leaf = (NativeArena[])ROOT.getAcquire(root, (int)rootIndex);
        return leaf == null ? null : (NativeArena)LEAF.getAcquire(leaf, (int)key & leafMask);
    }

    /** Whether {@code address} lies in the range this map can hold. */
    boolean covers(final long address)
    {
        return (address >>> arenaShift >>> leafBits) < root.length && address > 0;
    }

    void put(final NativeArena arena)
    {
        final long key = arena.base >>> arenaShift;
        final int rootIndex = (int)(key >>> leafBits);
        NativeArena[] leaf = root[rootIndex];
        if (leaf == null)
        {
            leaf = new NativeArena[1 << leafBits];
            ROOT.setRelease(root, rootIndex, leaf);
        }
        LEAF.setRelease(leaf, (int)key & leafMask, arena);
        leafCounts[rootIndex]++;
    }

    void remove(final NativeArena arena)
    {
        final long key = arena.base >>> arenaShift;
        final int rootIndex = (int)(key >>> leafBits);
        LEAF.setRelease(root[rootIndex], (int)key & leafMask, null);
        if (--leafCounts[rootIndex] == 0)
        {
            ROOT.setRelease(root, rootIndex, null);
        }
    }

    /** Bytes of on-heap metadata (estimate, compressed oops). */
    long heapBytes()
    {
        long bytes = 16 + 4L * root.length + 16 + 4L * leafCounts.length;
        for (final NativeArena[] leaf : root)
        {
            if (leaf != null)
            {
                bytes += 16 + 4L * leaf.length;
            }
        }
        return bytes;
    }
}
