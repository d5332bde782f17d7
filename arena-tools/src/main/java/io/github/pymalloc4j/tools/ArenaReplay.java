package io.github.pymalloc4j.tools;

import io.github.pymalloc4j.Allocator;
import io.github.pymalloc4j.replay.ComparisonResult;
import io.github.pymalloc4j.replay.ContentMismatchException;
import io.github.pymalloc4j.replay.Implementation;
import io.github.pymalloc4j.replay.Measurement;
import io.github.pymalloc4j.replay.MeasurementProcess;
import io.github.pymalloc4j.replay.ReplayComparison;
import io.github.pymalloc4j.replay.ReplayFailure;
import io.github.pymalloc4j.replay.ReplayMode;
import io.github.pymalloc4j.replay.ReplayOptions;
import io.github.pymalloc4j.replay.ReportJson;
import io.github.pymalloc4j.replay.ReportText;
import io.github.pymalloc4j.replay.SmallObjectFilter;
import io.github.pymalloc4j.replay.Trace;
import io.github.pymalloc4j.replay.TraceProfile;
import io.github.pymalloc4j.replay.TraceRun;
import io.github.pymalloc4j.replay.TraceWindow;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code arena-replay}: replays allocation traces ({@code ../shared/traces/FORMAT.md}) against pymalloc4j and
 * against glibc's {@code malloc} in one process, alternating, and reports time per event, footprint and resident
 * memory at the peak, fragmentation at the live peak and memory given back by the end. See
 * {@code docs/arena-replay.md}.
 *
 * <p>Exit codes: 0 ok; 1 a replay failed (an implementation threw, or with {@code --verify} an object's contents
 * were wrong); 2 usage error or unreadable, corrupt or unsupported trace. Errors are one line on stderr, prefixed
 * {@code arena-replay: }; never a stack trace.
 *
 * <p>{@link #run(String[], PrintStream, PrintStream)} is the whole tool without {@code System.exit}, for tests.
 */
public final class ArenaReplay {

    /** Exit code: done. */
    public static final int OK = 0;
    /** Exit code: a replay failed (an implementation threw, or contents were wrong). */
    public static final int FAILED = 1;
    /** Exit code: bad command line, or a trace that cannot be read. */
    public static final int BAD_INPUT = 2;

    /** The option that makes a process a measurement process (internal: {@link MeasurementProcess} runs it). */
    static final String MEASURE_CHILD = "--measure-child";

    /** System property naming the directory where a bare trace name is looked up (the launcher sets it). */
    public static final String TRACES_PROPERTY = "arena.replay.traces";

    static final String USAGE_TEXT = """
            Usage: arena-replay [OPTIONS] TRACE...

            Replays each allocation trace (a .trc.gz file, or a bare name such as py-compileall looked up in %s)
            against pymalloc4j and glibc malloc in this process, alternating between them, and reports for each:
            ns per event (median and min of the timed replays), peak footprint and peak resident-memory growth against
            the trace's peak of live requested bytes and against malloc, the free share of the footprint at the live
            peak, pymalloc4j's size-class utilisation there, and memory given back by the end (after trim).

            Options:
              --sizes all|small|both  replay every object, only objects created with <= 512 B (larger ones and their
                                      events dropped; see docs/arena-replay.md), or both (default: both)
              --threads               one real thread per trace thread; an event ending an object created by another
                                      thread waits for that creation (default: one thread, trace order)
              --strict                with --threads: hand the events over in exact trace order
              --impl pymalloc4j|malloc|both   which implementations (default: both)
              --reps N                timed replays per implementation (default 5)
              --warmup N              untimed replays per implementation first (default 1)
              --touch                 write every byte of each new block (default: only the allocator touches memory)
              --verify                first replay once per implementation writing a pattern into every block and
                                      checking it before every free and realloc (exit 1 on a mismatch)
              --limit N               replay only N events of each trace (the first N, or N from --skip)
              --skip N                start at event N: objects created before it are left out, their frees
                                      dropped, their reallocs turned into mallocs
              --sample-every N        memory samples every N events in the measurement replay (default 65536)
              --measure child|here    measure memory in a fresh JVM per implementation (default: child), or in this
                                      JVM after the warm-up (quicker; glibc's figures then depend on earlier replays)
              --json                  one JSON object (schema arena-replay/1) instead of the text report
              -v, --verbose           progress on stderr
              -h, --help              this help

            Exit codes: 0 ok, 1 a replay failed (an implementation threw, contents were wrong), 2 usage error or a
            trace that cannot be read. Run with --enable-native-access=ALL-UNNAMED (arena-tools/bin/arena-replay does).
            """;

    /** A failure with its exit code and a one-line message. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        final int code;

        Failure(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    private final PrintStream out;
    private final PrintStream err;

    private boolean json;
    private boolean verbose;
    private boolean threads;
    private boolean strict;
    private boolean touch;
    private boolean verify;
    private String sizes = "both";
    private String impl = "both";
    private int reps = 5;
    private int warmup = 1;
    private long limit = Long.MAX_VALUE;
    private int skip;
    private int sampleEvery = 65_536;
    private boolean measureHere;
    /** Set in a measurement process: the implementation to measure. */
    private Implementation measureChild;

    private final List<String> traces = new ArrayList<>();

    private ArenaReplay(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /**
     * Runs the tool and exits with its exit code.
     *
     * @param args command-line arguments.
     */
    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        System.out.flush();
        System.exit(code);
    }

    /**
     * Runs the tool.
     *
     * @param args command-line arguments.
     * @param out  where the report goes.
     * @param err  where progress and the error line go.
     * @return the exit code.
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            return new ArenaReplay(out, err).execute(args);
        } catch (Failure f) {
            err.println("arena-replay: " + ArenaDump.oneLine(f.getMessage()));
            return f.code;
        } catch (ContentMismatchException e) {
            err.println("arena-replay: verification failed: " + ArenaDump.oneLine(e.getMessage()));
            return FAILED;
        } catch (ReplayFailure e) {
            err.println("arena-replay: replay failed: " + ArenaDump.oneLine(e.getMessage()));
            return FAILED;
        } catch (OutOfMemoryError e) {
            err.println("arena-replay: out of Java heap (" + ArenaDump.oneLine(e.getMessage())
                    + "); give the JVM more with -Xmx, or use --limit");
            return FAILED;
        } catch (Throwable t) {
            err.println("arena-replay: internal error: " + ArenaDump.oneLine(t.toString()));
            return FAILED;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int execute(String[] args) throws Failure {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-h", "--help", "-help", "help" -> {
                    out.print(USAGE_TEXT.formatted(
                            tracesDirectory().map(Path::toString).orElse("$" + TRACES_PROPERTY)));
                    return OK;
                }
                case "--json" -> json = true;
                case "-v", "--verbose" -> verbose = true;
                case "--threads" -> threads = true;
                case "--strict" -> strict = true;
                case "--touch" -> touch = true;
                case "--verify" -> verify = true;
                case "--sizes" -> sizes = choice(value(args, ++i, a), a, "all", "small", "both");
                case "--impl" -> impl = choice(value(args, ++i, a), a, "pymalloc4j", "malloc", "both");
                case "--reps" -> reps = (int) number(value(args, ++i, a), a, 1, 1_000);
                case "--warmup" -> warmup = (int) number(value(args, ++i, a), a, 0, 1_000);
                case "--limit" -> limit = number(value(args, ++i, a), a, 1, Long.MAX_VALUE);
                case "--skip" -> skip = (int) number(value(args, ++i, a), a, 0, Integer.MAX_VALUE);
                case "--sample-every" -> sampleEvery = (int) number(value(args, ++i, a), a, 1, Integer.MAX_VALUE);
                case "--measure" ->
                    measureHere =
                            choice(value(args, ++i, a), a, "child", "here").equals("here");
                case MEASURE_CHILD ->
                    measureChild = Implementation.of(choice(value(args, ++i, a), a, "pymalloc4j", "malloc"));
                default -> {
                    if (a.startsWith("-") && a.length() > 1 && !a.equals("--")) {
                        throw new Failure(BAD_INPUT, "unknown option " + a + " (see arena-replay --help)");
                    }
                    if (!a.equals("--")) {
                        traces.add(a);
                    }
                }
            }
        }
        if (traces.isEmpty()) {
            throw new Failure(BAD_INPUT, "no TRACE given (see arena-replay --help)");
        }
        if (strict && !threads) {
            throw new Failure(BAD_INPUT, "--strict needs --threads");
        }
        List<Path> files = new ArrayList<>();
        for (String t : traces) {
            files.add(resolve(t));
        }
        ReplayMode mode = !threads ? ReplayMode.SERIAL : strict ? ReplayMode.THREADS_STRICT : ReplayMode.THREADS;
        ReplayOptions options = new ReplayOptions(mode, reps, warmup, touch, verify, sampleEvery);
        if (measureChild != null) {
            return measureAsChild(files, options);
        }
        List<Implementation> targets = new ArrayList<>();
        if (!impl.equals("malloc")) {
            targets.add(Implementation.PYMALLOC4J);
        }
        if (!impl.equals("pymalloc4j")) {
            targets.add(Implementation.MALLOC);
        }
        List<TraceRun> runs = new ArrayList<>();
        for (Path file : files) {
            TraceRun run = replay(file, options, targets);
            runs.add(run);
            if (!json) {
                printText(run);
            }
        }
        if (json) {
            out.println(ReportJson.render(runs, "arena-replay " + String.join(" ", args)));
        }
        return OK;
    }

    /** The measurement process: one measurement replay of one implementation, printed for the parent. */
    private int measureAsChild(List<Path> files, ReplayOptions options) throws Failure {
        if (files.size() != 1 || sizes.equals("both")) {
            throw new Failure(BAD_INPUT, MEASURE_CHILD + " needs one TRACE and --sizes all or small");
        }
        Trace t = readWindow(files.getFirst()).trace();
        if (sizes.equals("small")) {
            t = SmallObjectFilter.apply(t, Allocator.SMALL_REQUEST_THRESHOLD).trace();
        }
        String prefix = "[" + measureChild.label() + " measurement process] ";
        Consumer<String> progress = verbose ? line -> progress(prefix + line) : line -> {};
        Measurement m = new ReplayComparison(t, TraceProfile.of(t), options, progress).measureFresh(measureChild);
        out.print(MeasurementProcess.encode(m));
        return OK;
    }

    /** The command of a measurement process for one trace: this JVM's java and options, the same replay options. */
    private List<String> childCommand(Path file, String label) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(MeasurementProcess.JVM_OPTIONS);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(ArenaReplay.class.getName());
        cmd.add("--sizes");
        cmd.add(label);
        if (threads) {
            cmd.add("--threads");
        }
        if (strict) {
            cmd.add("--strict");
        }
        if (touch) {
            cmd.add("--touch");
        }
        if (verbose) {
            cmd.add("-v");
        }
        if (limit != Long.MAX_VALUE) {
            cmd.add("--limit");
            cmd.add(Long.toString(limit));
        }
        if (skip != 0) {
            cmd.add("--skip");
            cmd.add(Integer.toString(skip));
        }
        cmd.add("--sample-every");
        cmd.add(Integer.toString(sampleEvery));
        cmd.add(file.toAbsolutePath().toString());
        cmd.add(MEASURE_CHILD);
        return cmd;
    }

    /** The trace, or its window when --skip or --limit cut it. */
    private TraceWindow.Outcome readWindow(Path file) throws Failure {
        Trace t = read(file, limit == Long.MAX_VALUE ? Long.MAX_VALUE : skip + limit);
        if (skip == 0 && t.eventCount() == t.headerEventCount()) {
            return new TraceWindow.Outcome(t, null);
        }
        if (skip == 0) {
            return new TraceWindow.Outcome(t, new TraceWindow.Counts(0, t.eventCount(), 0, 0));
        }
        if (skip >= t.eventCount()) {
            throw new Failure(
                    BAD_INPUT, file + ": --skip " + skip + " is past the trace's " + t.eventCount() + " events");
        }
        return TraceWindow.of(t, skip, Integer.MAX_VALUE);
    }

    private Trace read(Path file, long events) throws Failure {
        try {
            return Trace.read(file, events);
        } catch (NoSuchFileException e) {
            throw new Failure(BAD_INPUT, "no such file: " + file);
        } catch (AccessDeniedException e) {
            throw new Failure(BAD_INPUT, "permission denied: " + file);
        } catch (IOException e) {
            throw new Failure(BAD_INPUT, String.valueOf(e.getMessage()));
        }
    }

    private TraceRun replay(Path file, ReplayOptions options, List<Implementation> targets) throws Failure {
        progress("reading " + file);
        long t0 = System.nanoTime();
        TraceWindow.Outcome cut = readWindow(file);
        Trace whole = cut.trace();
        double decode = (System.nanoTime() - t0) / 1e9;
        progress(String.format(
                Locale.ROOT, "%s: %,d events decoded in %.2f s", whole.name(), whole.eventCount(), decode));
        String name = whole.name();
        long fileEvents = whole.headerEventCount();
        List<ComparisonResult> comparisons = new ArrayList<>();
        if (!sizes.equals("small")) {
            comparisons.add(compare(file, whole, "all", null, cut.counts(), options, targets));
        }
        if (!sizes.equals("all")) {
            SmallObjectFilter.Outcome small = SmallObjectFilter.apply(whole, Allocator.SMALL_REQUEST_THRESHOLD);
            whole = null; // let the full trace go before the small one is replayed
            comparisons.add(compare(file, small.trace(), "small", small.counts(), cut.counts(), options, targets));
        }
        return new TraceRun(file.toString(), name, fileEvents, decode, List.copyOf(comparisons));
    }

    private ComparisonResult compare(
            Path file,
            Trace trace,
            String label,
            SmallObjectFilter.Counts filter,
            TraceWindow.Counts window,
            ReplayOptions options,
            List<Implementation> targets) {
        TraceProfile profile = TraceProfile.of(trace);
        String prefix = trace.name() + " " + label + " " + options.mode().label() + ": ";
        Consumer<String> progress = verbose ? line -> progress(prefix + line) : line -> {};
        MeasurementProcess child = new MeasurementProcess(childCommand(file, label), this::forward);
        return new ReplayComparison(trace, profile, options, progress)
                .run(label, filter, window, targets, measureHere ? null : child::measure);
    }

    private void printText(TraceRun run) {
        out.printf(
                Locale.ROOT,
                "%s: %s, %,d events in the file, decoded in %.2f s%n",
                run.name(),
                run.file(),
                run.fileEvents(),
                run.decodeSeconds());
        for (ComparisonResult c : run.comparisons()) {
            out.println();
            out.print(ReportText.render(c));
        }
        out.println();
        out.flush();
    }

    /** A measurement process's standard error line: shown with -v, and always if it is not progress. */
    private void forward(String line) {
        if (verbose || !line.contains("measurement process]")) {
            err.println(line);
            err.flush();
        }
    }

    private void progress(String line) {
        if (verbose) {
            err.println("arena-replay: " + line);
            err.flush();
        }
    }

    private Path resolve(String trace) throws Failure {
        Path p = Path.of(trace);
        if (!Files.exists(p) && !trace.contains("/")) {
            Path named =
                    tracesDirectory().map(d -> d.resolve(trace + ".trc.gz")).orElse(null);
            if (named != null && Files.exists(named)) {
                p = named;
            }
        }
        if (!Files.exists(p)) {
            throw new Failure(BAD_INPUT, "no such file: " + trace);
        }
        if (Files.isDirectory(p)) {
            throw new Failure(BAD_INPUT, trace + " is a directory, not a trace file");
        }
        if (!Files.isReadable(p)) {
            throw new Failure(BAD_INPUT, "permission denied: " + trace);
        }
        return p;
    }

    private static Optional<Path> tracesDirectory() {
        String d = System.getProperty(TRACES_PROPERTY);
        return d == null || d.isBlank() ? Optional.empty() : Optional.of(Path.of(d));
    }

    private static String value(String[] args, int i, String option) throws Failure {
        if (i >= args.length) {
            throw new Failure(BAD_INPUT, option + " needs a value");
        }
        return args[i];
    }

    private static String choice(String v, String option, String... allowed) throws Failure {
        for (String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        throw new Failure(BAD_INPUT, option + " must be one of " + String.join(", ", allowed) + ", not '" + v + "'");
    }

    private static long number(String v, String option, long min, long max) throws Failure {
        long n;
        try {
            n = Long.parseLong(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new Failure(BAD_INPUT, option + " needs a whole number, not '" + v + "'");
        }
        if (n < min || n > max) {
            throw new Failure(BAD_INPUT, option + " must be from " + min + " to " + max + ", not " + n);
        }
        return n;
    }
}
