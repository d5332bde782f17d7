package io.github.pymalloc4j.bench;

import java.util.Map;
import java.util.TreeMap;

/**
 * Wraps an adapter and checks what it hands out: every block is non-null, does not overlap a live block,
 * keeps its address, and holds the slot's pattern ({@link BlockBytes#patternOf}, written at allocation and
 * by {@link #touch}) until it is freed, so a block that is shared, too small, moved or written by someone
 * else fails the test. A workload that writes its blocks with its own data (cache-scratch) is checked
 * without the pattern. Thread-safe bookkeeping (one lock), for the two-thread workloads.
 */
final class CheckedSlotAllocator implements SlotAllocator {

    private final SlotAllocator inner;
    private final boolean patternChecked;
    /** Live blocks: start address to end address. */
    private final TreeMap<Long, Long> live = new TreeMap<>();

    private long[] addresses;
    private long[] sizes;
    private long allocations;
    private long frees;

    /** Checks {@code inner}, with the pattern check if the workload writes its blocks only by touch. */
    CheckedSlotAllocator(SlotAllocator inner, boolean patternChecked) {
        this.inner = inner;
        this.patternChecked = patternChecked;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public boolean crossThreadFree() {
        return inner.crossThreadFree();
    }

    @Override
    public boolean threadSafe() {
        return inner.threadSafe();
    }

    @Override
    public void open(int slots) {
        inner.open(slots);
        addresses = new long[slots];
        sizes = new long[slots];
    }

    @Override
    public long allocate(int slot, long size) {
        if (size < 1) {
            throw new AssertionError(name() + ": a workload asked for " + size + " bytes");
        }
        long a = inner.allocate(slot, size);
        if (a == 0) {
            throw new AssertionError(name() + ": allocate returned address 0");
        }
        if (inner.address(slot) != a) {
            throw new AssertionError(name() + ": address(slot) differs from what allocate returned");
        }
        synchronized (this) {
            if (addresses[slot] != 0) {
                throw new AssertionError(name() + ": slot " + slot + " allocated twice");
            }
            Map.Entry<Long, Long> below = live.floorEntry(a + size - 1);
            if (below != null && below.getValue() > a) {
                throw new AssertionError(name() + ": block [" + a + ", " + (a + size) + ") overlaps live block ["
                        + below.getKey() + ", " + below.getValue() + ")");
            }
            live.put(a, a + size);
            addresses[slot] = a;
            sizes[slot] = size;
            allocations++;
        }
        BlockBytes.fill(a, size, BlockBytes.patternOf(slot));
        return a;
    }

    @Override
    public void free(int slot) {
        long a;
        long size;
        synchronized (this) {
            a = addresses[slot];
            size = sizes[slot];
        }
        if (a == 0) {
            throw new AssertionError(name() + ": free of empty slot " + slot);
        }
        expectPattern(slot, a, size, "before free");
        if (inner.address(slot) != a) {
            throw new AssertionError(name() + ": slot " + slot + " moved from " + a + " to " + inner.address(slot));
        }
        synchronized (this) {
            live.remove(a);
            addresses[slot] = 0;
            frees++;
        }
        inner.free(slot);
    }

    @Override
    public long address(int slot) {
        return inner.address(slot);
    }

    @Override
    public void touch(int slot, long size) {
        inner.touch(slot, size);
        long a;
        synchronized (this) {
            a = addresses[slot];
        }
        expectPattern(slot, a, size, "after touch");
    }

    @Override
    public void close() {
        synchronized (this) {
            if (!live.isEmpty()) {
                throw new AssertionError(name() + ": " + live.size() + " blocks still live at close");
            }
        }
        inner.close();
    }

    /** Allocations so far. */
    synchronized long allocations() {
        return allocations;
    }

    /** Frees so far. */
    synchronized long frees() {
        return frees;
    }

    private void expectPattern(int slot, long a, long size, String when) {
        if (!patternChecked) {
            return;
        }
        long at = BlockBytes.firstMismatch(a, size, BlockBytes.patternOf(slot));
        if (at >= 0) {
            throw new AssertionError(
                    name() + ": slot " + slot + " block of " + size + " B changed at offset " + at + " " + when);
        }
    }
}
