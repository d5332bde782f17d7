package io.github.pymalloc4j.replay;

import java.util.List;

/**
 * The memory a replay added at one point, as differences from the moment its {@link MemoryMeter} was made.
 *
 * @param events               events replayed when the sample was taken.
 * @param footprintBytes       bytes the implementation holds from the OS for the replay: the growth of glibc's
 *                             arenas of the replay threads plus its {@code mmap}ed chunks ({@code glibcHeldBytes});
 *                             for pymalloc4j plus its committed arena bytes (its blocks over 512 bytes live in glibc).
 * @param inUseBytes           bytes handed out: glibc's chunks in use in those arenas plus {@code mmap}ed chunks
 *                             (headers included); for pymalloc4j plus its bytes in allocated pooled blocks.
 * @param rssBytes             growth of the process's resident anonymous memory ({@code RssAnon}), the JVM's own
 *                             included (JIT, metadata); -1 if unknown.
 * @param glibcHeldBytes       the replay's glibc part of the footprint alone.
 * @param glibcInUseBytes      the replay's glibc part of the bytes in use alone.
 * @param processGlibcHeldBytes growth of glibc's whole heap ({@code mallinfo2()} {@code arena + hblkhd}), the JVM's
 *                             {@code malloc}s included.
 * @param pools                pymalloc4j's own figures; null for {@code malloc}.
 */
public record MemorySample(
        long events,
        long footprintBytes,
        long inUseBytes,
        long rssBytes,
        long glibcHeldBytes,
        long glibcInUseBytes,
        long processGlibcHeldBytes,
        PoolUse pools) {

    /**
     * The share of the footprint not handed out: free chunks, free blocks, empty pools.
     *
     * @return {@code 1 - inUse / footprint}; 0 when the footprint is not positive.
     */
    public double freeShare() {
        return footprintBytes <= 0 ? 0.0 : 1.0 - (double) inUseBytes / footprintBytes;
    }

    /**
     * pymalloc4j's accounting at one point ({@code AllocatorStats}).
     *
     * @param arenaBytes            bytes of mapped arenas (reserved address space, committed or not).
     * @param committedBytes        arena bytes that may be resident: pools in use and empty ones not decommitted.
     * @param bytesInBlocks         bytes in live pooled blocks (block sizes).
     * @param bytesRequested        bytes requested for those blocks.
     * @param bytesPendingRemoteFree bytes freed by other threads, not yet collected by the pools' owners.
     * @param largeBytes            requested bytes of live blocks over 512 bytes (held in glibc).
     * @param externalFragmentation the share of arena bytes not in live blocks.
     * @param heapMetadataBytes     estimated Java-heap bytes of the allocator's metadata (not in the footprint).
     * @param classes               per size class, when the sample was detailed; else empty.
     */
    public record PoolUse(
            long arenaBytes,
            long committedBytes,
            long bytesInBlocks,
            long bytesRequested,
            long bytesPendingRemoteFree,
            long largeBytes,
            double externalFragmentation,
            long heapMetadataBytes,
            List<SizeClassUse> classes) {

        /** @return internal fragmentation: {@code bytesInBlocks - bytesRequested}. */
        public long internalFragmentationBytes() {
            return bytesInBlocks - bytesRequested;
        }
    }

    /**
     * One pymalloc4j size class.
     *
     * @param blockSize      bytes per block.
     * @param pools          pools serving it.
     * @param blocksInUse    live blocks.
     * @param capacity       blocks its pools hold.
     * @param bytesRequested bytes requested for the live blocks.
     * @param utilisation    live blocks over capacity (jemalloc's {@code util}).
     */
    public record SizeClassUse(
            int blockSize, int pools, long blocksInUse, long capacity, long bytesRequested, double utilisation) {

        /** @return bytes handed out beyond the requests. */
        public long internalWasteBytes() {
            return blocksInUse * blockSize - bytesRequested;
        }
    }
}
