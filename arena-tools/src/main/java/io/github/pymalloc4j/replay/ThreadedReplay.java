package io.github.pymalloc4j.replay;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Replays a trace on real threads: one platform thread per trace thread, each performing its own events in
 * trace order, so that an object freed by another thread than its creator is freed from another thread here
 * too (for pymalloc4j: a remote free).
 *
 * <p>Two orders:
 * <ul>
 *   <li>{@link ReplayMode#THREADS}: a worker runs ahead freely, except that an event ending an object (FREE,
 *       REALLOC) waits until the object's creation has been performed, by whichever thread: the creator
 *       publishes the address with release semantics, the ender reads it with acquire semantics. This keeps
 *       every dependency of the trace (an object is used only between its creation and its end) and lets the
 *       threads overlap as the program's did.</li>
 *   <li>{@link ReplayMode#THREADS_STRICT}: events are handed over in trace order: a worker waits until the previous event, by
 *       whichever thread, is done. Exactly the trace's interleaving, at the price of a thread hand-over at every
 *       change of thread in the trace. The measurement replay always uses it, so that samples are taken at exact
 *       event counts.</li>
 * </ul>
 * <p>Threads live as long as the program's did: a worker is started when its trace thread first appears (by the
 * worker that performs the event just before, in trace order) and ends after its last event. So a trace of a
 * thousand short-lived threads never has more workers than the program had threads at once.
 *
 * <p>Waiting is bounded, since the machines have far fewer cores than the traces have threads: a waiting worker
 * spins briefly ({@link Thread#onSpinWait()}), yields a few times, then parks. In the strict order the worker that
 * performs event i unparks the worker of event i + 1 if it is parked, so a parked worker sleeps until its turn
 * (its timeout, doubling up to {@value #PARK_MAX_NANOS} ns, only covers a lost wake-up); in the free order a
 * parked worker polls, every 20 us at first and less often the longer it waits (at most every
 * {@value #POLL_MAX_NANOS} ns), so a long wait costs at most a few percent more.
 */
final class ThreadedReplay {

    /**
     * How a run went.
     *
     * @param nanos   from the start signal to the last worker's last event.
     * @param waits   events that found their predecessor not done yet and had to wait.
     * @param yields  {@code Thread.yield()} calls while waiting.
     * @param parks   short parks while waiting.
     */
    record Run(long nanos, long waits, long yields, long parks) {}

    private static final VarHandle HANDLE = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle NEXT;
    private static final int SPINS = 128;
    private static final int YIELDS = 64;
    private static final long PARK_MIN_NANOS = 20_000;
    /** Longest park in the free order, where nobody unparks a waiter: it polls. */
    static final long POLL_MAX_NANOS = 1_000_000;
    /** Longest park in the strict order, where the previous event's worker unparks the waiter. */
    static final long PARK_MAX_NANOS = 20_000_000;

    private static final VarHandle PARKED = MethodHandles.arrayElementVarHandle(int[].class);

    static {
        try {
            NEXT = MethodHandles.lookup().findVarHandle(ThreadedReplay.class, "next", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Trace trace;
    private final int[][] eventsOfThread;
    /** Per thread: positions in its own event list after which it starts other workers, ascending. */
    private final int[][] launchAfter;
    /** Per thread: the workers it starts, matching {@link #launchAfter}. */
    private final int[][] launches;

    // one run's state
    /** STRICT: index of the next event to perform. */
    private volatile long next;

    private volatile boolean aborted;
    private Thread[] workers;
    /** STRICT: 1 while a worker is parked waiting for its turn. */
    private int[] parked;
    /** Workers alive now, and the most alive at once. */
    private final java.util.concurrent.atomic.AtomicInteger alive = new java.util.concurrent.atomic.AtomicInteger();

    private final java.util.concurrent.atomic.AtomicInteger mostAlive = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * @param trace the trace; its events are split by thread once, here.
     */
    ThreadedReplay(Trace trace) {
        this.trace = trace;
        int[] threads = trace.threads();
        int[] counts = new int[trace.threadCount()];
        for (int t : threads) {
            counts[t]++;
        }
        eventsOfThread = new int[counts.length][];
        for (int t = 0; t < counts.length; t++) {
            eventsOfThread[t] = new int[counts[t]];
        }
        int[] fill = new int[counts.length];
        int[] launchCount = new int[counts.length];
        int[] launcherOf = new int[counts.length];
        for (int i = 0; i < threads.length; i++) {
            int t = threads[i];
            if (fill[t] == 0 && i > 0) {
                launchCount[threads[i - 1]]++;
            }
            eventsOfThread[t][fill[t]++] = i;
        }
        launchAfter = new int[counts.length][];
        launches = new int[counts.length][];
        for (int t = 0; t < counts.length; t++) {
            launchAfter[t] = new int[launchCount[t]];
            launches[t] = new int[launchCount[t]];
        }
        java.util.Arrays.fill(fill, 0);
        java.util.Arrays.fill(launcherOf, 0);
        for (int i = 0; i < threads.length; i++) {
            int t = threads[i];
            if (fill[t] == 0 && i > 0) {
                int s = threads[i - 1];
                launchAfter[s][launcherOf[s]] = fill[s] - 1;
                launches[s][launcherOf[s]++] = t;
            }
            fill[t]++;
        }
    }

    /** The most workers that were alive at once in the last run. */
    int mostAlive() {
        return mostAlive.get();
    }

    /**
     * Replays the whole trace once.
     *
     * @param executor performs the events; its handles must be all 0.
     * @param order    the order between threads.
     * @param recorder samples at its points (needs {@link ReplayMode#THREADS_STRICT}); null for none.
     * @param atStart  run by each worker when it starts, before its first event; null for nothing.
     * @param atEnd    run by the calling thread after the last event, once every worker has ended; null for
     *                 nothing.
     * @return the timing and the waiting counts.
     * @throws ContentMismatchException if a worker found wrong contents.
     * @throws ReplayFailure            if a worker's target call threw.
     */
    Run run(EventExecutor executor, ReplayMode order, FootprintRecorder recorder, Runnable atStart, Runnable atEnd) {
        if (order == ReplayMode.SERIAL || recorder != null && order != ReplayMode.THREADS_STRICT) {
            throw new IllegalArgumentException(
                    "threaded replay in mode " + order + (recorder != null ? " with sampling" : ""));
        }
        int threads = eventsOfThread.length;
        next = 0;
        aborted = false;
        alive.set(0);
        mostAlive.set(0);
        parked = new int[threads];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int withEvents = 0;
        for (int[] events : eventsOfThread) {
            withEvents += events.length > 0 ? 1 : 0;
        }
        CountDownLatch done = new CountDownLatch(withEvents);
        long[] finished = new long[threads];
        long[][] counts = new long[threads][3];
        workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int th = t;
            if (eventsOfThread[t].length == 0) {
                continue; // a thread id the trace (or its window) never uses
            }
            workers[t] = Thread.ofPlatform()
                    .name("replay-" + executor.target().name() + "-t" + t)
                    .unstarted(() -> {
                        Waiting w = new Waiting();
                        mostAlive.accumulateAndGet(alive.incrementAndGet(), Math::max);
                        try {
                            if (atStart != null) {
                                atStart.run();
                            }
                            if (order == ReplayMode.THREADS_STRICT) {
                                strict(executor, th, recorder, w);
                            } else {
                                dependencies(executor, th, w);
                            }
                        } catch (Aborted e) {
                            // another worker failed
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                            aborted = true;
                            startRest(th); // every worker must start to count down, and then finds the run aborted
                        }
                        finished[th] = System.nanoTime();
                        counts[th][0] = w.waits;
                        counts[th][1] = w.yields;
                        counts[th][2] = w.parks;
                        alive.decrementAndGet();
                        done.countDown();
                    });
        }
        long start = System.nanoTime();
        if (trace.eventCount() > 0) {
            workers[trace.thread(0)].start();
        }
        awaitQuietly(done);
        for (Thread w : workers) {
            if (w != null) {
                joinQuietly(w);
            }
        }
        long end = start;
        for (long f : finished) {
            end = Math.max(end, f);
        }
        if (atEnd != null && failure.get() == null) {
            atEnd.run();
        }
        Throwable f = failure.get();
        if (f instanceof RuntimeException r) {
            throw r;
        }
        if (f instanceof Error e) {
            throw e;
        }
        long waits = 0;
        long yields = 0;
        long parks = 0;
        for (long[] c : counts) {
            waits += c[0];
            yields += c[1];
            parks += c[2];
        }
        return new Run(end - start, waits, yields, parks);
    }

    /** Starts the workers that thread {@code th} starts after its own event number {@code k}; returns the next index. */
    private int launch(int th, int k, int from) {
        int[] after = launchAfter[th];
        int l = from;
        while (l < after.length && after[l] == k) {
            workers[launches[th][l++]].start();
        }
        return l;
    }

    /** After a failure: starts every worker this one would still have started, so that all of them end. */
    private void startRest(int th) {
        for (int u : launches[th]) {
            if (workers[u].getState() == Thread.State.NEW) {
                try {
                    workers[u].start();
                } catch (IllegalThreadStateException raced) {
                    // started meanwhile
                }
            }
        }
    }

    private void dependencies(EventExecutor executor, int th, Waiting w) {
        int[] mine = eventsOfThread[th];
        int nextLaunch = 0;
        int[] after = launchAfter[th];
        byte[] ops = trace.ops();
        int[] ids = trace.ids();
        int[] oldIds = trace.oldIds();
        long[] handles = executor.handles();
        int k = 0;
        try {
            for (; k < mine.length; k++) {
                int i = mine[k];
                byte o = ops[i];
                if (o == Trace.FREE || o == Trace.REALLOC) {
                    int ended = o == Trace.FREE ? ids[i] : oldIds[i];
                    if ((long) HANDLE.getAcquire(handles, ended) == 0) {
                        awaitCreation(handles, ended, w);
                    }
                }
                executor.execute(i);
                if (nextLaunch < after.length && after[nextLaunch] == k) {
                    nextLaunch = launch(th, k, nextLaunch);
                }
            }
        } catch (ContentMismatchException | Aborted e) {
            throw e;
        } catch (RuntimeException | Error e) {
            throw executor.failure(mine[k], e);
        }
    }

    private void awaitCreation(long[] handles, int object, Waiting w) {
        w.waits++;
        for (int round = 0; (long) HANDLE.getAcquire(handles, object) == 0; round++) {
            w.backoff(round);
        }
    }

    private void strict(EventExecutor executor, int th, FootprintRecorder recorder, Waiting w) {
        int[] mine = eventsOfThread[th];
        int nextLaunch = 0;
        int[] after = launchAfter[th];
        int[] threadOf = trace.threads();
        int k = 0;
        try {
            for (; k < mine.length; k++) {
                int i = mine[k];
                if ((long) NEXT.getAcquire(this) != i) {
                    w.waits++;
                    for (int round = 0; (long) NEXT.getAcquire(this) != i; round++) {
                        w.backoffForTurn(th, i, round);
                    }
                }
                executor.execute(i);
                if (recorder != null && i + 1 == recorder.nextPoint()) {
                    recorder.sample(i + 1);
                }
                if (nextLaunch < after.length && after[nextLaunch] == k) {
                    nextLaunch = launch(th, k, nextLaunch); // before the hand-over: the next event may be its
                }
                NEXT.setVolatile(this, (long) i + 1);
                if (i + 1 < threadOf.length
                        && threadOf[i + 1] != th
                        && (int) PARKED.getVolatile(parked, threadOf[i + 1]) != 0) {
                    LockSupport.unpark(workers[threadOf[i + 1]]);
                }
            }
        } catch (ContentMismatchException | Aborted e) {
            throw e;
        } catch (RuntimeException | Error e) {
            throw executor.failure(mine[k], e);
        }
    }

    /** A worker's waiting state and counts. */
    private final class Waiting {
        long waits;
        long yields;
        long parks;

        void backoff(int round) {
            if (round < SPINS) {
                Thread.onSpinWait();
                return;
            }
            if (aborted) {
                throw new Aborted();
            }
            if (round < SPINS + YIELDS) {
                yields++;
                Thread.yield();
            } else {
                parks++;
                LockSupport.parkNanos(
                        Math.min(POLL_MAX_NANOS, PARK_MIN_NANOS << Math.min(20, (round - SPINS - YIELDS) / 8)));
            }
        }

        /** STRICT: waits for event {@code i}; parked, the worker of event i - 1 unparks it. */
        void backoffForTurn(int th, long i, int round) {
            if (round < SPINS + YIELDS) {
                backoff(round);
                return;
            }
            if (aborted) {
                throw new Aborted();
            }
            PARKED.setVolatile(parked, th, 1);
            if ((long) NEXT.getVolatile(ThreadedReplay.this) != i) {
                parks++;
                LockSupport.parkNanos(parkNanos(round)); // the timeout only covers a missed unpark
            }
            PARKED.setVolatile(parked, th, 0);
        }

        private long parkNanos(int round) {
            int doublings = Math.min(20, round - SPINS - YIELDS);
            return Math.min(PARK_MAX_NANOS, PARK_MIN_NANOS << doublings);
        }
    }

    /** Unwinds a worker when another one failed. */
    private static final class Aborted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Aborted() {
            super(null, null, false, false);
        }
    }

    static void awaitQuietly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    static void joinQuietly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
