package io.github.pymalloc4j.replay;

/** How a trace's events are spread over threads in a replay. */
public enum ReplayMode {
    /** One thread performs every event in trace order, whichever trace thread made it. */
    SERIAL("serial"),
    /**
     * One thread per trace thread, each performing its events in order; an event ending an object waits only
     * until the object's creation is done (see {@link ThreadedReplay}).
     */
    THREADS("threads"),
    /** One thread per trace thread, events handed over from thread to thread in exact trace order. */
    THREADS_STRICT("threads-strict");

    private final String label;

    ReplayMode(String label) {
        this.label = label;
    }

    /** @return the name in reports and JSON: {@code serial}, {@code threads}, {@code threads-strict}. */
    public String label() {
        return label;
    }
}
