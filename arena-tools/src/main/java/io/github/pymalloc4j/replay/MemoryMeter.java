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
    /** Arenas from this stable index on were made for the replay's threads (see the constructor). */
    private final int freshFrom;
    /** Stable arena index to the arena's state when its thread registered. */
    private final Map<Integer, GlibcArenas.Arena> replayArenas = new TreeMap<>();
    private int reusedArenas;

    /**
     * Records the zero of every figure.
     *
     * @param target    the target under measurement.
     * @param freshFrom glibc's arena count before the replay's threads were started, if it is known that every
     *                  arena made since is one of theirs (the measurement process sees to it); else -1, and only
     *                  arenas made from now on count as the replay's own.
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
     * before it performs any. Threads sharing an arena count it once.
     */
    void registerCallingThread() {
        GlibcArenas.Snapshot before;
        int arena;
        synchronized (GlibcArenas.class) {
            before = GlibcArenas.snapshot();
            arena = GlibcArenas.arenaOfCallingThread(before);
        }
        // an arena made for the replay's threads counts whole; an older one from here on
        GlibcArenas.Arena zero = arena < freshFrom ? before.arenas().get(arena) : new GlibcArenas.Arena(0, 0);
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
