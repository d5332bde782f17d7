package io.github.pymalloc4j.replay;

/**
 * What one measurement replay of an implementation found: samples every {@code sampleEvery} events, right
 * after the live peak, and at the end before and after trimming.
 *
 * @param impl             the implementation's name.
 * @param largestFootprint the sample with the largest footprint (the end sample included).
 * @param largestRss       the sample with the largest resident growth.
 * @param atLivePeak       the sample right after the trace's peak of live requested bytes (detailed).
 * @param end              after the last event, before trimming (objects the trace never frees still live).
 * @param trimmed          after {@code trim()} / {@code malloc_trim(0)} at the end, the same objects live.
 * @param samples          samples taken.
 * @param process          {@code child} if measured in a fresh JVM, {@code here} if in the timing process.
 * @param replayArenas     glibc arenas the replay threads used.
 * @param reusedArenas     of those, arenas that existed before the measurement (possibly holding free memory of
 *                         earlier use, which the replay then reused without growing them).
 */
public record Measurement(
        String impl,
        MemorySample largestFootprint,
        MemorySample largestRss,
        MemorySample atLivePeak,
        MemorySample end,
        MemorySample trimmed,
        int samples,
        String process,
        int replayArenas,
        int reusedArenas) {

    /**
     * Bytes of the largest footprint given back by the end: the largest footprint minus the trimmed one.
     *
     * @return bytes returned to the OS, by the allocator's accounting.
     */
    public long returnedBytes() {
        return largestFootprint.footprintBytes() - trimmed.footprintBytes();
    }

    /**
     * Resident bytes given back by the end: the largest resident growth minus the growth after trimming.
     *
     * @return bytes, or -1 if resident memory is unknown.
     */
    public long returnedRssBytes() {
        return largestRss.rssBytes() < 0 || trimmed.rssBytes() < 0 ? -1 : largestRss.rssBytes() - trimmed.rssBytes();
    }
}
