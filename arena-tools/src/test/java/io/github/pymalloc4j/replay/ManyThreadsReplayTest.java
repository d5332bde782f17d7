package io.github.pymalloc4j.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Traces with more threads than the machine has cores by far: a worker exists only while its trace thread
 * does, and waiting workers park instead of spinning, so a trace of thousands of threads replays in seconds
 * on two cores.
 */
class ManyThreadsReplayTest {

    @TempDir
    Path dir;

    /** 2 000 threads one after another, each freeing a block its predecessor made (a cross-thread free). */
    private Trace relay(int threads) throws IOException {
        TraceFileWriter w = new TraceFileWriter();
        int previous = -1;
        for (int t = 0; t < threads; t++) {
            int a = w.create(Trace.MALLOC, t, 16 + t % 400, 0);
            int b = w.create(Trace.MALLOC, t, 64, 0);
            if (previous >= 0) {
                w.record(Trace.FREE, t, previous, 16 + (t - 1) % 400, 0);
            }
            w.record(Trace.FREE, t, b, 64, 0);
            previous = a;
        }
        w.record(Trace.FREE, threads - 1, previous, 16 + (threads - 1) % 400, 0);
        return Trace.read(w.write(dir.resolve("relay.trc.gz")), Long.MAX_VALUE);
    }

    /** 300 threads all alive at once, taking turns event by event (every event hands over to another thread). */
    private Trace roundRobin(int threads, int rounds) throws IOException {
        TraceFileWriter w = new TraceFileWriter();
        int[] live = new int[threads];
        for (int t = 0; t < threads; t++) {
            live[t] = w.create(Trace.MALLOC, t, 32, 0);
        }
        for (int r = 0; r < rounds; r++) {
            for (int t = 0; t < threads; t++) {
                int owner = (t + 1) % threads; // free the neighbour's block, make a new one
                w.record(Trace.FREE, t, live[owner], 32, 0);
                live[owner] = w.create(Trace.MALLOC, t, 32, 0);
            }
        }
        for (int t = 0; t < threads; t++) {
            w.record(Trace.FREE, t, live[t], 32, 0);
        }
        return Trace.read(w.write(dir.resolve("rr.trc.gz")), Long.MAX_VALUE);
    }

    private static void replay(Trace trace, ReplayMode mode, ReplayTarget target, int maxAlive) {
        long[] handles = new long[trace.objectCount()];
        TraceEventExecutor ex = new TraceEventExecutor(trace, handles, target, true, true);
        ThreadedReplay replay = new ThreadedReplay(trace);
        try {
            replay.run(ex, mode, null, null, null);
        } finally {
            target.close();
        }
        for (long h : handles) {
            assertEquals(0, h, "every object of the trace ended");
        }
        assertTrue(
                replay.mostAlive() <= maxAlive,
                mode + ": " + replay.mostAlive() + " workers alive at once, the trace has at most " + maxAlive);
        assertTrue(replay.mostAlive() >= 1);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void twoThousandShortLivedThreadsNeverLiveAtOnce() throws IOException {
        Trace t = relay(2_000);
        assertEquals(2_000, t.threadCount());
        for (ReplayMode mode : new ReplayMode[] {ReplayMode.THREADS, ReplayMode.THREADS_STRICT}) {
            replay(t, mode, new GlibcTarget(), 3);
            replay(t, mode, new PymallocTarget(), 3);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void threeHundredThreadsTakingTurnsDoNotSpin() throws IOException {
        Trace t = roundRobin(300, 20);
        long cpuBefore = processCpuNanos();
        long wallBefore = System.nanoTime();
        replay(t, ReplayMode.THREADS_STRICT, new PymallocTarget(), 300);
        replay(t, ReplayMode.THREADS, new GlibcTarget(), 300);
        long wall = System.nanoTime() - wallBefore;
        long cpu = processCpuNanos() - cpuBefore;
        // Spinning or yielding waiters would keep both cores busy for the whole run; parked ones do not.
        assertTrue(
                cpu < 1.6 * wall + TimeUnit.SECONDS.toNanos(1),
                "CPU " + cpu / 1_000_000 + " ms in " + wall / 1_000_000 + " ms of wall time");
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
