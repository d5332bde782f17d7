package io.github.pymalloc4j.replay;

import java.util.Map;
import java.util.TreeMap;

/**
 * Measures what a replay adds to the process's memory, from the moment the meter is made: the target's own
 * accounting (pymalloc4j's arenas), the growth of the glibc arenas of the threads that registered as replay
 * threads plus glibc's {@code mmap}ed chunks ({@link GlibcArenas}), and, for the record, glibc's process-wide
 * {@code mallinfo2()} and the resident memory ({@link ResidentMemory}), which include the JVM's own.
 */
final class MemoryMeter {

    private final ReplayTarget target;
    private final MallocInfo mallocBefore;
    private final long rssBefore;
    private final long mmapBefore;
    /** Arenas from this stable index on were made after the replay's threads started (see the constructor). */
    private final int freshFrom;
    /** Stable arena index to its zero: the bytes in use in it when its thread registered. */
    private final Map<Integer, GlibcArenas.Arena> replayArenas = new TreeMap<>();

    private int reusedArenas;

    /**
     * Records the zero of every figure.
     *
     * @param target    the target under measurement.
     * @param freshFrom glibc's arena count before the replay's threads were started (the measurement process
     *                  knows it); -1 for the count now. A replay arena older than that is reported as reused: it
     *                  may hold free memory of its earlier use, which the replay then fills without growing it.
     */
    MemoryMeter(ReplayTarget target, int freshFrom) {
        this.target = target;
        GlibcArenas.Snapshot s = GlibcArenas.snapshot();
        mmapBefore = s.mmapBytes();
        this.freshFrom = freshFrom >= 0 ? freshFrom : s.arenas().size();
        mallocBefore = MallocInfo.now();
        rssBefore = ResidentMemory.anonymousBytes();
    }

    /**
     * Makes the calling thread's glibc arena one of the replay's; called by each thread that performs events
     * before it performs any. The arena counts whole, but for the bytes in use in it already (the JVM's): so
     * each replay thread's arena costs both implementations its initial heap (132 KiB), used or not. Threads
     * sharing an arena count it once.
     */
    void registerCallingThread() {
        GlibcArenas.Snapshot before;
        int arena;
        synchronized (GlibcArenas.class) {
            before = GlibcArenas.snapshot();
            arena = GlibcArenas.arenaOfCallingThread(before).index();
        }
        // The arena counts whole (its free memory too: glibc holds it for this thread, whichever allocator runs
        // on it) but for what the JVM had in use in it before.
        long jvmInUse =
                arena < before.arenas().size() ? before.arenas().get(arena).inUseBytes() : 0;
        GlibcArenas.Arena zero = new GlibcArenas.Arena(jvmInUse, 0);
        synchronized (this) {
            if (replayArenas.putIfAbsent(arena, zero) == null && arena < freshFrom) {
                reusedArenas++;
            }
        }
    }

    /** @return glibc arenas the replay threads use. */
    synchronized int replayArenaCount() {
        return replayArenas.size();
    }

    /** @return of those, arenas older than the replay's threads (they may hold free memory of earlier use). */
    synchronized int reusedArenaCount() {
        return reusedArenas;
    }

    /**
     * Measures now.
     *
     * @param events   events replayed so far.
     * @param detailed also per size class (pymalloc4j).
     * @return the sample.
     */
    MemorySample sample(long events, boolean detailed) {
        MemorySample.PoolUse pools = target.poolUse(detailed);
        GlibcArenas.Snapshot s = GlibcArenas.snapshot();
        long held = s.mmapBytes() - mmapBefore;
        long inUse = held;
        synchronized (this) {
            for (Map.Entry<Integer, GlibcArenas.Arena> e : replayArenas.entrySet()) {
                GlibcArenas.Arena now = s.arenas().get(e.getKey());
                held += now.systemBytes() - e.getValue().systemBytes();
                inUse += now.inUseBytes() - e.getValue().inUseBytes();
            }
        }
        long process = MallocInfo.now().heldBytes() - mallocBefore.heldBytes();
        long rss = ResidentMemory.anonymousBytes();
        long rssGrowth = rss < 0 || rssBefore < 0 ? -1 : rss - rssBefore;
        long footprint = held + (pools == null ? 0 : pools.committedBytes());
        long used = inUse + (pools == null ? 0 : pools.bytesInBlocks());
        return new MemorySample(events, footprint, used, rssGrowth, held, inUse, process, pools);
    }
}
