package io.github.pymalloc4j.replay;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Replays one trace against several implementations, alternating between them, and gathers their figures
 * ({@link ComparisonResult}). The sequence, each step once per implementation in turn:
 * <ol>
 *   <li>with {@code verify}: one replay writing and checking every object's contents;</li>
 *   <li>{@code warmup} untimed replays (the JIT compiles the replay loop and the implementations);</li>
 *   <li>one measurement replay: by default handed to a fresh process ({@link MeasurementProcess}, which runs
 *       {@link #measureFresh(Implementation)}), else here, after the warm-up;</li>
 *   <li>{@code reps} timed replays: nothing but the events in the timed stretch.</li>
 * </ol>
 * Every replay gets a fresh target (a fresh pymalloc4j allocator; the same process heap for {@code malloc}),
 * starts after {@code malloc_trim(0)} (a measurement replay also after {@code System.gc()}), and ends by freeing
 * the objects the trace left live, untimed.
 */
public final class ReplayComparison {

    /**
     * glibc's arena limit a measurement process should be started with ({@code MALLOC_ARENA_MAX}; glibc fixes
     * the limit once a process has a few arenas, so it cannot be raised later): enough for every thread to get
     * an arena of its own.
     */
    public static final int GLIBC_ARENAS = 64;

    private final Trace trace;
    private final TraceProfile profile;
    private final ReplayOptions options;
    private final Consumer<String> progress;
    private final long[] handles;
    private final ThreadedReplay threaded;

    /**
     * @param trace    the trace to replay (already filtered, if it is to be).
     * @param profile  its profile.
     * @param options  how to replay it.
     * @param progress receives a line before each step; may ignore them.
     */
    public ReplayComparison(Trace trace, TraceProfile profile, ReplayOptions options, Consumer<String> progress) {
        this.trace = trace;
        this.profile = profile;
        this.options = options;
        this.progress = progress;
        this.handles = new long[trace.objectCount()];
        this.threaded = options.mode() == ReplayMode.SERIAL ? null : new ThreadedReplay(trace);
    }

    /**
     * Runs the whole sequence.
     *
     * @param sizes   the size selection's name for the result ({@code all}, {@code small}).
     * @param filter  what the filter changed, or null.
     * @param window  where the trace was cut, or null.
     * @param impls   the implementations, in the order they alternate.
     * @param measure measures an implementation's memory (in a fresh process); null to measure here, after
     *                the warm-up (quicker, but see {@link MeasurementProcess} for why the figures are then biased).
     * @return the figures.
     * @throws ContentMismatchException if a verification replay found wrong contents.
     * @throws ReplayFailure            if an implementation threw or a measurement failed.
     */
    public ComparisonResult run(
            String sizes,
            SmallObjectFilter.Counts filter,
            TraceWindow.Counts window,
            List<Implementation> impls,
            Function<Implementation, Measurement> measure) {
        long start = System.nanoTime();
        int count = impls.size();
        if (options.verify()) {
            for (Implementation impl : impls) {
                verify(impl::create);
            }
        }
        for (int w = 0; w < options.warmup(); w++) {
            for (Implementation impl : impls) {
                timedOnce(impl, "warm-up " + (w + 1) + "/" + options.warmup());
            }
        }
        Measurement[] measured = new Measurement[count];
        for (int k = 0; k < count; k++) {
            Implementation impl = impls.get(k);
            if (measure == null) {
                measured[k] = measureOnce(impl, "here", false, -1);
            } else {
                progress.accept("measurement of " + impl.label() + " in a fresh process");
                measured[k] = measure.apply(impl);
            }
        }
        double[][] ns = new double[count][options.reps()];
        long[][] waits = new long[count][3];
        for (int r = 0; r < options.reps(); r++) {
            for (int k = 0; k < count; k++) {
                ThreadedReplay.Run run = timedOnce(impls.get(k), "timed " + (r + 1) + "/" + options.reps());
                ns[k][r] = trace.eventCount() == 0 ? 0 : (double) run.nanos() / trace.eventCount();
                waits[k][0] += run.waits();
                waits[k][1] += run.yields();
                waits[k][2] += run.parks();
            }
        }
        List<ImplResult> results = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            double[] sorted = ns[k].clone();
            Arrays.sort(sorted);
            int n = sorted.length;
            double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
            ImplResult.WaitCounts w = options.mode() == ReplayMode.SERIAL
                    ? null
                    : new ImplResult.WaitCounts(waits[k][0] / n, waits[k][1] / n, waits[k][2] / n);
            results.add(new ImplResult(impls.get(k).label(), ns[k], median, sorted[0], measured[k], w));
        }
        return new ComparisonResult(
                trace.name(),
                sizes,
                filter,
                window,
                profile,
                options,
                List.copyOf(results),
                (System.nanoTime() - start) / 1e9);
    }

    /**
     * One replay that writes every object's pattern at its creation and checks it before its end, in the
     * options' mode (threaded modes: across threads).
     *
     * @param target makes the target.
     * @throws ContentMismatchException if an object's contents were wrong.
     * @throws ReplayFailure            if the target threw.
     */
    public void verify(Supplier<? extends ReplayTarget> target) {
        try (ReplayTarget t = prepare(target, false)) {
            progress.accept("verification, " + t.name());
            EventExecutor ex = ExecutorCopies.create(trace, handles, t, false, true);
            replay(ex);
            ex.freeRemaining(trace.eventCount());
        } finally {
            Arrays.fill(handles, 0);
        }
    }

    /**
     * The measurement of a fresh process (see {@link MeasurementProcess}). First the warm-up: the same
     * measurement replay, serial, twice, each on a new thread that then stays alive (idle) until the end, so that
     * the JIT has compiled the replay, the implementation (also its first call on a new thread) and the sampling
     * before the measured replay, and the pages the warm-ups leave in glibc's heap stay in those threads' arenas.
     * Then threads are parked on glibc's free arenas ({@link GlibcArenas#holdFreeArenas(int)}), so that the
     * measured replay's threads get new arenas of their own; that needs glibc's arena limit raised when the
     * process starts ({@link #GLIBC_ARENAS}), which {@link MeasurementProcess} does. Arenas the replay had to
     * share or reuse anyway are counted in {@link Measurement#reusedArenas()}.
     *
     * @param impl the implementation.
     * @return what the measured replay found.
     * @throws ReplayFailure if the implementation threw.
     */
    public Measurement measureFresh(Implementation impl) {
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> warmups = new ArrayList<>();
        try {
            for (int pass = 1; pass <= 2; pass++) {
                Outcome warmed = new Outcome();
                warmups.add(Thread.ofPlatform().name("replay-warmup-" + pass).start(() -> {
                    warmed.run(() -> measureOnce(impl, "warm-up", true, -1));
                    ThreadedReplay.awaitQuietly(release);
                }));
                warmed.get();
            }
            try (GlibcArenas.ArenaHolders holders = GlibcArenas.holdFreeArenas(GLIBC_ARENAS / 2)) {
                progress.accept(holders.count() + " thread(s) parked on glibc's free arenas");
                Outcome measured = new Outcome();
                int arenas = GlibcArenas.snapshot().arenas().size();
                Thread.ofPlatform()
                        .name("replay-measurement")
                        .start(() -> measured.run(() -> measureOnce(impl, "child", false, arenas)))
                        .join();
                return measured.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReplayFailure("interrupted while measuring " + impl.label(), e);
        } finally {
            release.countDown();
            for (Thread t : warmups) {
                ThreadedReplay.joinQuietly(t);
            }
        }
    }

    /** The result of a measurement run on another thread, handed over once. */
    private static final class Outcome {
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile Measurement result;
        private volatile Throwable failure;

        void run(Supplier<Measurement> work) {
            try {
                result = work.get();
            } catch (Throwable t) {
                failure = t;
            } finally {
                done.countDown();
            }
        }

        Measurement get() {
            ThreadedReplay.awaitQuietly(done);
            if (failure instanceof RuntimeException r) {
                throw r;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            return result;
        }
    }

    private ThreadedReplay.Run timedOnce(Implementation impl, String step) {
        progress.accept(step + ", " + impl.label());
        try (ReplayTarget t = prepare(impl::create, false)) {
            EventExecutor ex = ExecutorCopies.create(trace, handles, t, options.touch(), false);
            ThreadedReplay.Run run = replay(ex);
            ex.freeRemaining(trace.eventCount());
            return run;
        } finally {
            Arrays.fill(handles, 0);
        }
    }

    private ThreadedReplay.Run replay(EventExecutor ex) {
        int n = trace.eventCount();
        if (threaded == null) {
            return new ThreadedReplay.Run(SerialReplay.timed(ex, n), 0, 0, 0);
        }
        return threaded.run(ex, options.mode(), null, null, null);
    }

    /**
     * One measurement replay on the calling thread (and its workers).
     *
     * @param freshFrom see {@link MemoryMeter#MemoryMeter(ReplayTarget, int)}.
     */
    private Measurement measureOnce(Implementation impl, String process, boolean serial, int freshFrom) {
        progress.accept((serial ? "warm-up (a serial measurement replay)" : "measurement") + ", " + impl.label());
        int n = trace.eventCount();
        try (ReplayTarget t = prepare(impl::create, true)) {
            MemoryMeter meter = new MemoryMeter(t, freshFrom);
            EventExecutor ex = ExecutorCopies.create(trace, handles, t, options.touch(), false);
            FootprintRecorder recorder = new FootprintRecorder(meter, n, options.sampleEvery(), profile.peakEvent());
            MemorySample[] endAndTrimmed = new MemorySample[2];
            Runnable atEnd = () -> {
                endAndTrimmed[0] = recorder.sampleEnd(n);
                t.trim();
                endAndTrimmed[1] = meter.sample(n, false);
            };
            if (threaded == null || serial) {
                meter.registerCallingThread();
                SerialReplay.measured(ex, n, recorder);
                atEnd.run();
            } else {
                threaded.run(ex, ReplayMode.THREADS_STRICT, recorder, meter::registerCallingThread, atEnd);
            }
            ex.freeRemaining(n);
            MemorySample peak = recorder.atLivePeak() != null ? recorder.atLivePeak() : endAndTrimmed[0];
            return new Measurement(
                    t.name(),
                    recorder.largestFootprint(),
                    recorder.largestRss(),
                    peak,
                    endAndTrimmed[0],
                    endAndTrimmed[1],
                    recorder.taken(),
                    process,
                    meter.replayArenaCount(),
                    meter.reusedArenaCount());
        } finally {
            Arrays.fill(handles, 0);
        }
    }

    /** Quiets the process's memory, then makes the target (which records the state as its zero). */
    private static ReplayTarget prepare(Supplier<? extends ReplayTarget> target, boolean collect) {
        if (collect) {
            System.gc();
        }
        Glibc.mallocTrim();
        return target.get();
    }
}
