/**
 * Replaying real programs' allocation traces ({@code ../shared/traces/FORMAT.md}) against pymalloc4j and glibc's
 * {@code malloc}: the trace ({@link io.github.pymalloc4j.replay.Trace}, {@link io.github.pymalloc4j.replay.SmallObjectFilter},
 * {@link io.github.pymalloc4j.replay.TraceWindow}, {@link io.github.pymalloc4j.replay.TraceProfile}), the replay
 * (serial or on threads, timed, verified) and the memory measurement
 * ({@link io.github.pymalloc4j.replay.ReplayComparison}, {@link io.github.pymalloc4j.replay.MeasurementProcess}),
 * and the reports ({@link io.github.pymalloc4j.replay.ReportText}, {@link io.github.pymalloc4j.replay.ReportJson}).
 * The command line is {@code io.github.pymalloc4j.tools.ArenaReplay}; {@code docs/arena-replay.md} defines every
 * figure.
 */
package io.github.pymalloc4j.replay;
