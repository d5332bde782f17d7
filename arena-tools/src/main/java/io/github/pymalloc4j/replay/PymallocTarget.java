package io.github.pymalloc4j.replay;

import io.github.pymalloc4j.Allocator;
import io.github.pymalloc4j.AllocatorStats;
import java.util.ArrayList;
import java.util.List;

/**
 * pymalloc4j: a fresh {@link Allocator} with the default builder settings for each replay. Its blocks over 512
 * bytes come from glibc.
 */
public final class PymallocTarget implements ReplayTarget {

    private final Allocator allocator;

    /** Creates the allocator (default builder settings). */
    public PymallocTarget() {
        allocator = Allocator.builder().build();
    }

    /** @return the allocator under test. */
    public Allocator allocator() {
        return allocator;
    }

    @Override
    public String name() {
        return "pymalloc4j";
    }

    @Override
    public long malloc(long size) {
        return allocator.malloc(size);
    }

    @Override
    public long calloc(long size) {
        return allocator.calloc(1, size);
    }

    @Override
    public long realloc(long address, long size) {
        return allocator.realloc(address, size);
    }

    @Override
    public long aligned(long size, long alignment) {
        return allocator.mallocAligned(size, alignment);
    }

    @Override
    public void free(long address) {
        allocator.free(address);
    }

    /** {@link Allocator#trim()} for the arenas, {@code malloc_trim(0)} for the large blocks in glibc. */
    @Override
    public void trim() {
        allocator.trim();
        Glibc.mallocTrim();
    }

    @Override
    public MemorySample.PoolUse poolUse(boolean detailed) {
        AllocatorStats s = allocator.stats();
        List<MemorySample.SizeClassUse> classes = new ArrayList<>();
        if (detailed) {
            for (AllocatorStats.SizeClassStats c : s.sizeClasses()) {
                if (c.pools() > 0) {
                    classes.add(new MemorySample.SizeClassUse(
                            c.blockSize(),
                            c.pools(),
                            c.blocksInUse(),
                            c.blocksInUse() + c.pendingRemoteFrees() + c.blocksAvailable(),
                            c.bytesRequested(),
                            c.utilisation()));
                }
            }
        }
        return new MemorySample.PoolUse(
                s.arenaBytes(),
                s.committedBytes(),
                s.bytesInAllocatedBlocks(),
                s.bytesRequested(),
                s.bytesPendingRemoteFree(),
                s.largeBytes(),
                s.externalFragmentation(),
                s.heapMetadataBytes(),
                List.copyOf(classes));
    }

    @Override
    public void close() {
        allocator.close();
    }
}
