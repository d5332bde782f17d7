package io.github.pymalloc4j.replay;

import java.util.List;

/**
 * Everything {@code arena-replay} did with one trace file.
 *
 * @param file          the file as given.
 * @param name          the trace's name.
 * @param fileEvents    events the file's header announces.
 * @param decodeSeconds time to read and decode it.
 * @param comparisons   one per size selection ({@code all}, {@code small}).
 */
public record TraceRun(
        String file, String name, long fileEvents, double decodeSeconds, List<ComparisonResult> comparisons) {}
