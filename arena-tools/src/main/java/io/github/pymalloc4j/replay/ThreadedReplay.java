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
 * A waiting worker spins briefly ({@link Thread#onSpinWait()}), then yields, then parks for short periods: the
 * machines have fewer cores than the traces have threads.
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
    record Run(long nanos, long waits, long yields, long parks) {
    }

    private static final VarHandle HANDLE = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle NEXT;
    private static final int SPINS = 128;
    private static final int YIELDS = 4096;
    private static final long PARK_NANOS = 20_000;

    static {
        try {
            NEXT = MethodHandles.lookup().findVarHandle(ThreadedReplay.class, "next", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Trace trace;
    private final int[][] eventsOfThread;

    // one run's state
    /** STRICT: index of the next event to perform. */
    private volatile long next;
    private volatile boolean go;
    private volatile boolean aborted;

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
        for (int i = 0; i < threads.length; i++) {
            int t = threads[i];
            eventsOfThread[t][fill[t]++] = i;
        }
    }

    /**
     * Replays the whole trace once.
     *
     * @param executor performs the events; its handles must be all 0.
     * @param order    the order between threads.
     * @param recorder samples at its points (needs {@link ReplayMode#THREADS_STRICT}); null for none.
     * @param atStart  run by each worker when it starts, before the replay starts; null for nothing.
     * @param atEnd    run by the calling thread after the last event, while the workers are still alive
     *                 (idle); null for nothing.
     * @return the timing and the waiting counts.
     * @throws ContentMismatchException if a worker found wrong contents.
     * @throws ReplayFailure            if a worker's target call threw.
     */
    Run run(EventExecutor executor, ReplayMode order, FootprintRecorder recorder, Runnable atStart, Runnable atEnd) {
        if (order == ReplayMode.SERIAL || recorder != null && order != ReplayMode.THREADS_STRICT) {
            throw new IllegalArgumentException("threaded replay in mode " + order + (recorder != null ? " with sampling" : ""));
        }
        int threads = eventsOfThread.length;
        next = 0;
        go = false;
        aborted = false;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch done = new CountDownLatch(threads);
        CountDownLatch exit = new CountDownLatch(1);
        long[] finished = new long[threads];
        long[][] counts = new long[threads][3];
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int th = t;
            workers[t] = Thread.ofPlatform().name("replay-" + executor.target().name() + "-t" + t).unstarted(() -> {
                Waiting w = new Waiting();
                try {
                    try {
                        if (atStart != null) {
                            atStart.run();
                        }
                    } finally {
                        ready.countDown();
                    }
                    for (int round = 0; !go; round++) {
                        w.backoff(round);
                    }
                    if (order == ReplayMode.THREADS_STRICT) {
                        strict(executor, eventsOfThread[th], recorder, w);
                    } else {
                        dependencies(executor, eventsOfThread[th], w);
                    }
                } catch (Aborted e) {
                    // another worker failed
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    aborted = true;
                }
                finished[th] = System.nanoTime();
                counts[th][0] = w.waits;
                counts[th][1] = w.yields;
                counts[th][2] = w.parks;
                done.countDown();
                awaitQuietly(exit);
            });
            workers[t].start();
        }
        awaitQuietly(ready);
        long start = System.nanoTime();
        go = true;
        awaitQuietly(done);
        long end = start;
        for (long f : finished) {
            end = Math.max(end, f);
        }
        try {
            if (atEnd != null && failure.get() == null) {
                atEnd.run();
            }
        } finally {
            exit.countDown();
            for (Thread w : workers) {
                joinQuietly(w);
            }
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

    private void dependencies(EventExecutor executor, int[] mine, Waiting w) {
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

    private void strict(EventExecutor executor, int[] mine, FootprintRecorder recorder, Waiting w) {
        int k = 0;
        try {
            for (; k < mine.length; k++) {
                int i = mine[k];
                if ((long) NEXT.getAcquire(this) != i) {
                    w.waits++;
                    for (int round = 0; (long) NEXT.getAcquire(this) != i; round++) {
                        w.backoff(round);
                    }
                }
                executor.execute(i);
                if (recorder != null && i + 1 == recorder.nextPoint()) {
                    recorder.sample(i + 1);
                }
                NEXT.setRelease(this, (long) i + 1);
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
                LockSupport.parkNanos(PARK_NANOS);
            }
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
