package io.github.pymalloc4j.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

/**
 * Netty's pooled direct allocator ({@code io.netty:netty-buffer}, benchmark scope only): one
 * {@link PooledByteBufAllocator} per trial, built with Netty's defaults (arenas, page size, max order,
 * cache sizes) except {@code preferDirect = true} and {@code useCacheForAllThreads = true}, so every
 * thread, not only Netty's own {@code FastThreadLocalThread}s, gets a thread cache (Netty 4.2 turned that
 * default off). A block is {@code directBuffer(size, size)}, freed by {@code release()}; its address is
 * {@link ByteBuf#memoryAddress()}. Buffers kept in a {@code ByteBuf[]}. Each buffer is a Java object, so
 * the heap bytes per operation that {@code -prof gc} reports are Netty's own: on JMH's worker threads
 * (plain platform threads) Netty 4.2's {@code Recycler} does not reuse the buffer objects, and every
 * allocation costs 136 B of heap; on a Netty {@code FastThreadLocalThread} (an event loop) they are
 * recycled (0 B measured outside JMH). The benchmarks run every adapter on the same plain threads.
 *
 * <p>Configuration on JDK 25: Netty 4.2 does not use {@code sun.misc.Unsafe} on Java 25+ by default
 * ({@code io.netty.noUnsafe} defaults to true there); its direct buffers still have a memory address (the
 * chunks are allocated through the FFM API), so no {@code --add-opens} or Unsafe flag is needed and none
 * is set ({@code memoryAddress()} would throw if a buffer had none). The leak detector is switched off
 * ({@link ResourceLeakDetector#setLevel}), as in Netty's own microbenchmarks: its default, sampling one
 * allocation in 128 for tracking, is a debugging aid that would add allocation to the measured path.
 *
 * <p>At close it fails if the allocator reports no thread cache
 * ({@code metric().numThreadLocalCaches() == 0}; the allocator is new per trial and only the workload's
 * threads allocated from it): then the figures would not be those of the cached path.
 */
final class NettyPooledSlots implements SlotAllocator {

    static final String NAME = "netty";

    private PooledByteBufAllocator pool;
    private ByteBuf[] buffers;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean crossThreadFree() {
        return true;
    }

    @Override
    public void open(int slots) {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        pool = new PooledByteBufAllocator(
                true,
                0,
                PooledByteBufAllocator.defaultNumDirectArena(),
                PooledByteBufAllocator.defaultPageSize(),
                PooledByteBufAllocator.defaultMaxOrder(),
                PooledByteBufAllocator.defaultSmallCacheSize(),
                PooledByteBufAllocator.defaultNormalCacheSize(),
                true);
        if (pool.metric().numThreadLocalCaches() != 0) { // loads the metric classes before measuring
            throw new IllegalStateException(NAME + ": a thread cache before the first allocation");
        }
        buffers = new ByteBuf[slots];
    }

    @Override
    public long allocate(int slot, long size) {
        ByteBuf b = pool.directBuffer((int) size, (int) size);
        buffers[slot] = b;
        return b.memoryAddress();
    }

    @Override
    public void free(int slot) {
        buffers[slot].release();
        buffers[slot] = null;
    }

    @Override
    public long address(int slot) {
        return buffers[slot].memoryAddress();
    }

    @Override
    public void close() {
        BenchChecks.requireEmpty(buffers, NAME);
        int caches = pool.metric().numThreadLocalCaches();
        if (caches == 0) {
            throw new IllegalStateException(NAME + ": the allocator has no thread-local cache: the thread"
                    + " caches were off, so these are not the figures of Netty's cached path");
        }
    }
}
