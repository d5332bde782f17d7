package io.github.pymalloc4j.replay;

import java.util.List;

/**
 * The outcome of replaying one trace (in one size selection and mode) against each implementation.
 *
 * @param trace         the trace's name.
 * @param sizes         {@code all}, or {@code small} (only objects created with at most 512 bytes).
 * @param filter        what the {@code small} filter changed; null for {@code all}.
 * @param window        where {@code --skip} and {@code --limit} cut the trace, and what that changed; null if whole.
 * @param profile       the replayed trace's live bytes, op counts, threads.
 * @param options       how it was replayed.
 * @param impls         each implementation's figures, in the order they alternated.
 * @param seconds       wall time of the whole comparison (verification, warm-up, measurement, timed replays).
 */
public record ComparisonResult(
        String trace,
        String sizes,
        SmallObjectFilter.Counts filter,
        TraceWindow.Counts window,
        TraceProfile profile,
        ReplayOptions options,
        List<ImplResult> impls,
        double seconds) {}
