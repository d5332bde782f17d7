package io.github.pymalloc4j.replay;

/**
 * One implementation's figures on one trace.
 *
 * @param impl       {@code pymalloc4j} or {@code malloc}.
 * @param nsPerEvent each timed replay's nanoseconds per event, in the order they ran.
 * @param medianNs   their median.
 * @param minNs      their minimum.
 * @param memory     the measurement replay's samples.
 * @param waits      threaded replays: mean waiting counts per timed replay; null when serial.
 */
public record ImplResult(
        String impl, double[] nsPerEvent, double medianNs, double minNs, Measurement memory, WaitCounts waits) {

    /**
     * How the threads of a threaded replay waited for each other, averaged over the timed replays.
     *
     * @param waits  events that had to wait for another thread.
     * @param yields {@code Thread.yield()} calls.
     * @param parks  short parks.
     */
    public record WaitCounts(long waits, long yields, long parks) {}
}
