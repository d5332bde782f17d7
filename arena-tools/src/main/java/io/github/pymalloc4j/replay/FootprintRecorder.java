package io.github.pymalloc4j.replay;

import java.util.Arrays;

/**
 * Samples a target's memory at chosen points of a measurement replay: every {@code every} events and exactly
 * after the trace's peak of live requested bytes (that sample is detailed: per size class). Keeps the sample
 * with the largest footprint, the one with the largest resident growth, and the one at the live peak.
 *
 * <p>Not thread-safe: the threaded replay calls it only in strict trace order, one thread at a time, with the
 * order's hand-over giving each call a happens-before edge to the previous one.
 */
final class FootprintRecorder {

    private final MemoryMeter meter;
    private final int[] points;
    private final int livePeakPoint;
    private int cursor;
    private int taken;
    private MemorySample largestFootprint;
    private MemorySample largestRss;
    private MemorySample atLivePeak;

    /**
     * @param meter     measures the target.
     * @param events    the trace's events.
     * @param every     sample after every this many events.
     * @param peakEvent the event after which the live bytes peak (-1 for none).
     */
    FootprintRecorder(MemoryMeter meter, int events, int every, int peakEvent) {
        this.meter = meter;
        this.livePeakPoint = peakEvent + 1;
        int count = events / every;
        int[] p = new int[count + 1];
        int k = 0;
        for (int e = every; e < events; e += every) {
            p[k++] = e;
        }
        if (livePeakPoint > 0 && livePeakPoint < events && livePeakPoint % every != 0) {
            p[k++] = livePeakPoint;
        }
        points = Arrays.copyOf(p, k);
        Arrays.sort(points);
    }

    /** @return the next point (events replayed) to sample at before the end, or {@link Integer#MAX_VALUE}. */
    int nextPoint() {
        return cursor < points.length ? points[cursor] : Integer.MAX_VALUE;
    }

    /**
     * Samples now, at the point {@link #nextPoint()} returned.
     *
     * @param events events replayed.
     */
    void sample(int events) {
        cursor++;
        record(events);
    }

    /**
     * Samples after the last event (counts towards the largest footprint).
     *
     * @param events the trace's events.
     * @return the sample.
     */
    MemorySample sampleEnd(int events) {
        return record(events);
    }

    private MemorySample record(int events) {
        MemorySample s = meter.sample(events, events == livePeakPoint);
        taken++;
        if (largestFootprint == null || s.footprintBytes() > largestFootprint.footprintBytes()) {
            largestFootprint = s;
        }
        if (largestRss == null || s.rssBytes() > largestRss.rssBytes()) {
            largestRss = s;
        }
        if (events == livePeakPoint) {
            atLivePeak = s;
        }
        return s;
    }

    /** @return samples taken. */
    int taken() {
        return taken;
    }

    /** @return the sample with the largest footprint. */
    MemorySample largestFootprint() {
        return largestFootprint;
    }

    /** @return the sample with the largest resident growth. */
    MemorySample largestRss() {
        return largestRss;
    }

    /** @return the sample right after the live peak; null if the trace is empty. */
    MemorySample atLivePeak() {
        return atLivePeak;
    }
}
