package io.github.pymalloc4j;

/**
 * Small-block allocation: for each size class, the list of <em>used</em> pools (some blocks live, some
 * free) that allocation takes from. Full pools are on no list; a pool that regains room goes to the
 * front of its class list (it is the most likely to be in cache); a pool that empties goes back to
 * its arena.
 *
 * <pre>
 *  usedPools[c] -&gt; pool (front: allocated from) &lt;-&gt; pool &lt;-&gt; pool
 *  full pools:   on no list, found again through the arena map when a block is freed
 *  empty pools:  back in their arena ({@link ArenaSet#returnPool})
 * </pre>
 *
 * Fast path: {@link #allocate} = one array load, one pool pop; {@link #free} = one pool push.
 * Not thread-safe: the allocator's lock serialises access.
 */
final class Heap
{
    private final Pool[] usedPools = new Pool[SizeClass.COUNT];
    private final ArenaSet arenas;

    Heap(final ArenaSet arenas)
    {
        this.arenas = arenas;
    }

    /**
     * A block of class {@code classIndex} for a request of {@code size} bytes.
     *
     * @throws OutOfMemoryError if a new arena was needed and refused; nothing changed then.
     */
    long allocate(final int classIndex, final long size)
    {
        Pool pool = usedPools[classIndex];
        if (pool == null)
        {
            pool = newPool(classIndex);
        }
        final long block = pool.allocate(size);
        if (pool.isFull())
        {
            unlink(pool);
        }
        return block;
    }

    /**
     * Frees a live block (validated by {@link Pool#liveBlockIndex}).
     */
    void free(final Pool pool, final int blockIndex, final long address)
    {
        final boolean wasFull = pool.isFull();
        pool.free(blockIndex, address);
        if (pool.used == 0)
        {
            if (!wasFull)
            {
                unlink(pool);
            }
            arenas.returnPool(pool);
        }
        else if (wasFull)
        {
            linkFront(pool);
        }
    }

    private Pool newPool(final int classIndex)
    {
        final Pool pool = arenas.takePool();
        pool.init(classIndex);
        linkFront(pool);
        return pool;
    }

    private void linkFront(final Pool pool)
    {
        final Pool head = usedPools[pool.sizeClass];
        pool.prev = null;
        pool.next = head;
        if (head != null)
        {
            head.prev = pool;
        }
        usedPools[pool.sizeClass] = pool;
    }

    private void unlink(final Pool pool)
    {
        if (pool.prev != null)
        {
            pool.prev.next = pool.next;
        }
        else
        {
            usedPools[pool.sizeClass] = pool.next;
        }
        if (pool.next != null)
        {
            pool.next.prev = pool.prev;
        }
        pool.prev = null;
        pool.next = null;
    }
}
