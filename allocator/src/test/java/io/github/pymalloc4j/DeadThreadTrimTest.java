package io.github.pymalloc4j;

import static io.github.pymalloc4j.StressSupport.awaitStats;
import static io.github.pymalloc4j.StressSupport.heapOf;
import static io.github.pymalloc4j.StressSupport.pendingRemoteFrees;
import static io.github.pymalloc4j.StressSupport.summary;
import static io.github.pymalloc4j.TestSupport.KiB;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * With {@code purgeDelay(Duration.ZERO)} a wholly free arena is unmapped in the call that frees it, if another
 * wholly free one is kept. When a thread dies whose last blocks another thread freed (pending remote frees, so the
 * dead heap still holds its pools), abandoning that heap collects them, its pools empty, and its arena becomes wholly
 * free in the middle of the walk over the arenas: trim() must not fail then, nor maintenance, and the memory must go
 * back (one wholly free arena kept, decommitted, nothing else).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeadThreadTrimTest {

    private static ExecutorService thread(String name) {
        return Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name(name).unstarted(r));
    }

    private static <T> T on(ExecutorService ex, Callable<T> task) throws Exception {
        return ex.submit(task).get(30, TimeUnit.SECONDS);
    }

    /** Runs {@code task} on a new platform thread named {@code name} and returns once that thread is dead. */
    static <T> T onThreadThatDies(String name, Callable<T> task) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name(name).start(() -> {
            try {
                result.set(task.call());
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join(30_000);
        if (t.isAlive()) {
            throw new AssertionError(name + " did not end");
        }
        if (failure.get() != null) {
            throw new AssertionError(name + " failed", failure.get());
        }
        return result.get();
    }

    static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    /**
     * The state in which abandoning the dead heap empties arenas in the middle of the walk: arena X wholly free
     * (kept), the dying thread's blocks in the other arenas, all freed by another thread and not collected, the dying
     * thread dead. Returns the number of arenas that hold the dead thread's pools.
     *
     * @param blocksPerClass blocks the dying thread allocates per class, in classes {@code 0..classes-1}
     */
    static int deadOwnerWithRemotelyFreedBlocks(Allocator a, String dyingName, int classes, int blocksPerClass)
            throws Exception {
        ExecutorService filler = thread(dyingName + "-filler"), freer = thread(dyingName + "-freer");
        try {
            var s0 = a.stats();
            long arenaSize = s0.arenaSize(), poolSize = s0.poolSize();
            // the filler takes every pool of a first arena with 512-byte blocks, so the next pool is in a new arena
            int fill = (int) (arenaSize / poolSize * (poolSize / 512));
            List<Long> filled = on(filler, () -> {
                List<Long> l = new ArrayList<>();
                for (int i = 0; i < fill; i++) {
                    l.add(a.malloc(512));
                }
                return l;
            });
            var s1 = a.stats();
            assertEquals(1, s1.arenasCurrent(), "test premise: the filler fills exactly one arena: " + summary(s1));
            int[] arenasOfTheDying = new int[1];
            onThreadThatDies(dyingName, () -> {
                List<Long> l = new ArrayList<>();
                for (int c = 0; c < classes; c++) {
                    for (int i = 0; i < blocksPerClass; i++) {
                        l.add(a.malloc(16L * (c + 1)));
                    }
                }
                // its blocks are freed by another thread while it is alive: its heap keeps its pools
                on(freer, () -> {
                    for (long p : l) {
                        a.free(p);
                    }
                    return null;
                });
                on(filler, () -> {
                    for (long p : filled) {
                        a.free(p); // the filled arena is now wholly free, and kept
                    }
                    return null;
                });
                var s2 = a.stats();
                int wholly = 0;
                for (var ar : s2.arenas()) {
                    wholly += TestSupport.poolsInUse(ar) == 0 ? 1 : 0;
                }
                assertEquals(1, wholly, "test premise: one wholly free arena is kept: " + summary(s2));
                var h = heapOf(s2, dyingName);
                assertEquals(
                        classes,
                        h == null ? -1 : h.pools(),
                        "test premise: the dying thread's heap holds its pools, one per class: " + summary(s2));
                assertEquals(0, h.blocksInUse(), "test premise: all its blocks were freed: " + summary(s2));
                arenasOfTheDying[0] = (int) s2.arenasCurrent() - 1;
                return null; // and the thread dies
            });
            return arenasOfTheDying[0];
        } finally {
            filler.shutdownNow();
            freer.shutdownNow();
            filler.awaitTermination(10, TimeUnit.SECONDS);
            freer.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** What the documentation promises once everything is free and trimmed: one wholly free arena, decommitted. */
    static void assertMemoryGivenBack(Allocator a, String dyingName, String ctx) {
        var s = a.stats();
        String c = ctx + ": " + summary(s);
        assertNull(s.maintenanceFailure(), c);
        assertNull(heapOf(s, dyingName), c + ": the dead thread's heap is gone");
        assertEquals(0, totalBlocksInUse(s), c);
        assertEquals(0, pendingRemoteFrees(s), c);
        assertEquals(0, s.orphanPools(), c);
        assertEquals(1, s.arenasCurrent(), c + ": one wholly free arena is kept, the others are unmapped");
        assertEquals(0, s.committedBytes(), c + ": the kept arena is decommitted");
        assertEquals(s.arenaSize(), s.reservedBytes(), c);
        assertEquals(s.arenaSize(), a.limitReservedBytes(), c + ": the limit's own counter");
        assertConsistent(s, c);
        assertNull(a.checkInvariants(), c);
    }

    @Test
    void trimAfterTheOwnerDiedGivesBackTheArenaOfItsRemotelyFreedBlocks() throws Exception {
        try (Allocator a = Allocator.builder().purgeDelay(Duration.ZERO).build()) {
            deadOwnerWithRemotelyFreedBlocks(a, "dies-then-trim", 3, 100);
            try {
                a.trim();
            } catch (Throwable t) {
                fail("trim() after the owner died threw " + t + "\n" + stackTrace(t));
            }
            assertMemoryGivenBack(a, "dies-then-trim", "after trim()");
            a.trim();
            assertMemoryGivenBack(a, "dies-then-trim", "after a second trim()");
        }
    }

    @Test
    void trimAfterTheOwnerDiedGivesBackEveryArenaItsPoolsWereIn() throws Exception {
        // 4 pools per arena: the dead thread's 10 pools (one per class) span three arenas
        try (Allocator a = Allocator.builder()
                .arenaSize(64 * KiB)
                .poolSize(16 * KiB)
                .purgeDelay(Duration.ZERO)
                .build()) {
            int arenas = deadOwnerWithRemotelyFreedBlocks(a, "dies-in-3-arenas", 10, 7);
            assertEquals(3, arenas, "test premise");
            try {
                a.trim();
            } catch (Throwable t) {
                fail("trim() after the owner died threw " + t + "\n" + stackTrace(t));
            }
            assertMemoryGivenBack(a, "dies-in-3-arenas", "after trim()");
        }
    }

    @Test
    void maintenanceAfterTheOwnerDiedGivesBackTheArenaWithoutFailing() throws Exception {
        try (Allocator a = Allocator.builder().purgeDelay(Duration.ZERO).build()) {
            deadOwnerWithRemotelyFreedBlocks(a, "dies-then-waits", 3, 100);
            // no trim: the maintenance thread finds the dead heap within a few periods of 10 ms
            var s = awaitStats(
                    a,
                    3_000,
                    x -> heapOf(x, "dies-then-waits") == null && x.arenasCurrent() == 1
                            || x.maintenanceFailure() != null);
            assertNull(s.maintenanceFailure(), "maintenance failed after the owner died: " + summary(s));
            assertMemoryGivenBack(a, "dies-then-waits", "after maintenance");
        }
    }

    @Test
    void maintenanceFailureDoesNotStayAfterTheOwnerDiedInSeveralArenas() throws Exception {
        try (Allocator a = Allocator.builder()
                .arenaSize(64 * KiB)
                .poolSize(16 * KiB)
                .purgeDelay(Duration.ZERO)
                .build()) {
            deadOwnerWithRemotelyFreedBlocks(a, "dies-waits-3-arenas", 10, 7);
            var s = awaitStats(a, 3_000, x -> heapOf(x, "dies-waits-3-arenas") == null && x.arenasCurrent() == 1);
            a.trim(); // whatever maintenance left undone
            assertMemoryGivenBack(
                    a, "dies-waits-3-arenas", "after maintenance and trim() (before trim: " + summary(s) + ")");
        }
    }
}
