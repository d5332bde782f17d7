package io.github.pymalloc4j.replay;

/**
 * The baseline: the C library's {@code malloc}, {@code calloc}, {@code realloc}, {@code aligned_alloc} and
 * {@code free} as FFM downcalls typed {@code long}. One process heap serves every replay.
 */
public final class GlibcTarget implements ReplayTarget {

    /** The process heap: nothing to set up. */
    public GlibcTarget() {}

    @Override
    public String name() {
        return "malloc";
    }

    @Override
    public long malloc(long size) {
        return checked(Glibc.malloc(size), "malloc", size);
    }

    @Override
    public long calloc(long size) {
        return checked(Glibc.calloc(1, size), "calloc", size);
    }

    /** {@code realloc(p, 0)} frees {@code p} in glibc and returns NULL; the trace wants a live object, so it is then {@code malloc(0)}. */
    @Override
    public long realloc(long address, long size) {
        long moved = Glibc.realloc(address, size);
        if (moved == 0 && size == 0) {
            return malloc(0);
        }
        return checked(moved, "realloc", size);
    }

    @Override
    public long aligned(long size, long alignment) {
        return checked(Glibc.alignedAlloc(alignment, size), "aligned_alloc", size);
    }

    @Override
    public void free(long address) {
        Glibc.free(address);
    }

    @Override
    public void trim() {
        Glibc.mallocTrim();
    }

    @Override
    public MemorySample.PoolUse poolUse(boolean detailed) {
        return null;
    }

    @Override
    public void close() {
        // the process heap stays; the replay freed its blocks
    }

    private static long checked(long address, String call, long size) {
        if (address == 0) {
            throw new OutOfMemoryError(call + "(" + size + ") returned NULL");
        }
        return address;
    }
}
