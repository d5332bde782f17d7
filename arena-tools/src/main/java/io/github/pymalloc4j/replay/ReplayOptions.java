package io.github.pymalloc4j.replay;

/**
 * How {@link ReplayComparison} replays a trace.
 *
 * @param mode        serial, or on threads (dependencies only, or strict trace order).
 * @param reps        timed replays per implementation, alternating between implementations.
 * @param warmup      untimed replays per implementation before anything else (JIT warm-up).
 * @param touch       write every byte of each new block (else only the allocator touches memory).
 * @param verify      before the timed replays, one replay per implementation that writes a pattern into every
 *                    block and checks it before every free and realloc.
 * @param sampleEvery in the measurement replay, sample memory after every this many events.
 */
public record ReplayOptions(ReplayMode mode, int reps, int warmup, boolean touch, boolean verify, int sampleEvery) {

    /**
     * @throws IllegalArgumentException if a count is out of range.
     */
    public ReplayOptions {
        if (mode == null || reps < 1 || warmup < 0 || sampleEvery < 1) {
            throw new IllegalArgumentException("bad replay options: mode " + mode + ", reps " + reps + ", warmup "
                    + warmup + ", sample every " + sampleEvery);
        }
    }
}
