package io.github.pymalloc4j.replay;

/**
 * An allocator a trace is replayed against. Addresses are plain {@code long}s; the replay keeps them in a
 * {@code long[]} indexed by object id. Failures (the allocator refusing, a bad address) throw.
 * A target serves one replay.
 */
public interface ReplayTarget extends AutoCloseable {

    /** @return the name in reports: {@code pymalloc4j} or {@code malloc}. */
    String name();

    /**
     * {@code malloc(size)}.
     *
     * @param size requested bytes, may be 0.
     * @return the block's address, never 0.
     */
    long malloc(long size);

    /**
     * {@code calloc(1, size)}: zeroed.
     *
     * @param size requested bytes, may be 0.
     * @return the block's address, never 0.
     */
    long calloc(long size);

    /**
     * {@code realloc(address, size)}: the first {@code min(old size, size)} bytes keep their contents.
     *
     * @param address a live block of this target.
     * @param size    new requested bytes, may be 0 (the result is then a live 0-byte block).
     * @return the resized block's address, never 0; {@code address} is no longer live.
     */
    long realloc(long address, long size);

    /**
     * An aligned allocation ({@code posix_memalign} and relatives).
     *
     * @param size      requested bytes.
     * @param alignment a power of two.
     * @return the block's address, a multiple of {@code alignment}.
     */
    long aligned(long size, long alignment);

    /**
     * {@code free(address)}.
     *
     * @param address a live block of this target.
     */
    void free(long address);

    /** Gives free memory back to the OS now ({@code trim()}, {@code malloc_trim(0)}). */
    void trim();

    /**
     * The target's own accounting of its memory, for targets that have one.
     *
     * @param detailed also per size class (costs more).
     * @return pymalloc4j's figures; null for {@code malloc}, whose memory is all in glibc's heap.
     */
    MemorySample.PoolUse poolUse(boolean detailed);

    /** Releases what the target holds (pymalloc4j: closes the allocator); live blocks become invalid. */
    @Override
    void close();
}
