package io.github.pymalloc4j.replay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs one measurement replay in a fresh JVM and reads back its {@link Measurement}. A fresh process is what
 * makes the memory figures mean "what this replay needs": in the timing process, glibc's heap keeps resident
 * pages freed by earlier replays (measured: the peak resident growth of the same malloc replay falls from
 * 16.7 to 13.3 MiB over three replays) and the JIT's own {@code malloc}s land in the same heap. The child is
 * started with {@code MALLOC_ARENA_MAX} raised to {@link ReplayComparison#GLIBC_ARENAS}, so that each of its
 * replay threads gets a glibc arena of its own (see {@link ReplayComparison#measureFresh(Implementation)}).
 */
public final class MeasurementProcess {

    /**
     * JVM options for a measurement process, after the timing process's own: the code that takes the samples is
     * kept out of the JIT compilers. Measured: compiling and recompiling the sampling path (pymalloc4j's
     * {@code stats()} above all) made the JVM {@code malloc} up to 20 MiB more during a replay, and once 3.7 MiB
     * on the replay thread itself; interpreted, the whole process's glibc heap grows by about 1 MiB besides the
     * replay. The replay loop and the implementations are compiled as usual.
     */
    public static final List<String> JVM_OPTIONS = List.of(
            "-XX:CompileCommand=quiet",
            "-XX:CompileCommand=exclude,io.github.pymalloc4j.StatsSnapshot::*",
            "-XX:CompileCommand=exclude,io.github.pymalloc4j.replay.MemoryMeter::*",
            "-XX:CompileCommand=exclude,io.github.pymalloc4j.replay.GlibcArenas::*",
            "-XX:CompileCommand=exclude,io.github.pymalloc4j.replay.PymallocTarget::poolUse");

    private final List<String> command;
    private final Consumer<String> progress;

    /**
     * @param command  the command that measures, the implementation's name to be appended: a JVM running
     *                 {@code arena-replay --measure-child} with the trace and options.
     * @param progress receives the child's standard error lines (progress, warnings).
     */
    public MeasurementProcess(List<String> command, Consumer<String> progress) {
        this.command = List.copyOf(command);
        this.progress = progress;
    }

    /**
     * Measures one implementation.
     *
     * @param impl the implementation.
     * @return what the child measured.
     * @throws ReplayFailure if the child could not be started, failed, or printed no measurement.
     */
    public Measurement measure(Implementation impl) {
        List<String> cmd = new ArrayList<>(command);
        cmd.add(impl.label());
        Path errors = null;
        try {
            errors = Files.createTempFile("arena-replay-child", ".err");
            ProcessBuilder builder = new ProcessBuilder(cmd).redirectError(errors.toFile());
            builder.environment().put("MALLOC_ARENA_MAX", Integer.toString(ReplayComparison.GLIBC_ARENAS));
            Process p = builder.start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = p.waitFor();
            List<String> err = Files.readAllLines(errors, StandardCharsets.UTF_8);
            err.forEach(progress);
            if (code != 0) {
                String last = err.isEmpty() ? "(no message)" : err.getLast();
                throw new ReplayFailure(
                        "the measurement process for " + impl.label() + " exited with " + code + ": " + last, null);
            }
            return MeasurementCodec.decode(out);
        } catch (IOException e) {
            throw new ReplayFailure("cannot run the measurement process for " + impl.label() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReplayFailure("interrupted while measuring " + impl.label(), e);
        } catch (IllegalArgumentException e) {
            throw new ReplayFailure("the measurement process for " + impl.label() + ": " + e.getMessage(), e);
        } finally {
            if (errors != null) {
                try {
                    Files.deleteIfExists(errors);
                } catch (IOException ignored) {
                    // a temporary file left behind
                }
            }
        }
    }

    /**
     * Prints a measurement in the form {@link #measure(Implementation)} reads (the child's side).
     *
     * @param m the measurement.
     * @return the text.
     */
    public static String encode(Measurement m) {
        return MeasurementCodec.encode(m);
    }
}
