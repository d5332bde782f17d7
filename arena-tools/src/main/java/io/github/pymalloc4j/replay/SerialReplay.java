package io.github.pymalloc4j.replay;

/**
 * Replays a trace on the calling thread, in trace order, whatever thread made each event.
 */
final class SerialReplay {

    private SerialReplay() {}

    /**
     * Replays every event, timed, with nothing else in the loop.
     *
     * @param executor performs the events.
     * @param events   the trace's events.
     * @return elapsed nanoseconds.
     */
    static long timed(EventExecutor executor, int events) {
        long start = System.nanoTime();
        executor.run(0, events);
        return System.nanoTime() - start;
    }

    /**
     * Replays every event in stretches between the recorder's points, sampling at each (the end sample is the
     * caller's).
     *
     * @param executor performs the events.
     * @param events   the trace's events.
     * @param recorder samples the target.
     */
    static void measured(EventExecutor executor, int events, FootprintRecorder recorder) {
        int from = 0;
        for (int point = recorder.nextPoint(); point < events; point = recorder.nextPoint()) {
            executor.run(from, point);
            recorder.sample(point);
            from = point;
        }
        executor.run(from, events);
    }
}
