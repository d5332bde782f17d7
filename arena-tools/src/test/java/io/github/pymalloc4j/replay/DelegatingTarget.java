package io.github.pymalloc4j.replay;

/** A target that passes every call on; tests override the calls they want to break or observe. */
class DelegatingTarget implements ReplayTarget {

    private final ReplayTarget inner;

    DelegatingTarget(ReplayTarget inner) {
        this.inner = inner;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public long malloc(long size) {
        return inner.malloc(size);
    }

    @Override
    public long calloc(long size) {
        return inner.calloc(size);
    }

    @Override
    public long realloc(long address, long size) {
        return inner.realloc(address, size);
    }

    @Override
    public long aligned(long size, long alignment) {
        return inner.aligned(size, alignment);
    }

    @Override
    public void free(long address) {
        inner.free(address);
    }

    @Override
    public void trim() {
        inner.trim();
    }

    @Override
    public MemorySample.PoolUse poolUse(boolean detailed) {
        return inner.poolUse(detailed);
    }

    @Override
    public void close() {
        inner.close();
    }
}
