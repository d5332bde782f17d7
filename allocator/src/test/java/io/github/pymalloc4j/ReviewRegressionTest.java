package io.github.pymalloc4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Regressions for two findings of the code review: a lock-order deadlock between stats() and a large
 * allocation refused by the limit, and an owner's double free racing maintenance.
 */
class ReviewRegressionTest
{
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void statsAndLargeAllocationsAtTheLimitDoNotDeadlock() throws Exception
    {
        try (Allocator allocator = Allocator.builder().maxReservedBytes(2L << 20).build())
        {
            final long keep = allocator.malloc(64); // one arena exists, so the limit path tries to reclaim
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Thread large = Thread.ofPlatform().start(() ->
            {
                while (!stop.get())
                {
                    try
                    {
                        allocator.malloc(8L << 20);
                        failure.compareAndSet(null, new AssertionError("8 MiB allocated under a 2 MiB limit"));
                    }
                    catch (final OutOfMemoryError expected)
                    {
                        // the limit refuses, after trying to reclaim free arenas under the arena lock
                    }
                }
            });
            final Thread stats = Thread.ofPlatform().start(() ->
            {
                while (!stop.get())
                {
                    allocator.stats();
                }
            });
            try
            {
                for (int i = 0; i < 20; i++) // 2 s; the deadlock took ~100 ms to appear
                {
                    Thread.sleep(100);
                    final long[] deadlocked = ManagementFactory.getThreadMXBean().findDeadlockedThreads();
                    if (deadlocked != null)
                    {
                        fail("deadlock between stats() and a large allocation at the limit after " + (i + 1) * 100 + " ms");
                    }
                }
            }
            finally
            {
                stop.set(true);
                large.join(5_000);
                stats.join(5_000);
            }
            assertNull(failure.get());
            allocator.free(keep);
        }
    }

    private static volatile long shared;
    private static volatile int go;
    private static volatile int done;

    /**
     * The owner frees a block that another thread has just freed (a double free) while trim() runs
     * constantly: maintenance may collect the remote free and return the pool, or another heap may own
     * it, before the owner's free reads the pool's heap. The owner must get IllegalArgumentException,
     * never a NullPointerException or a free into a heap that is not its own.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void ownerDoubleFreeRacingMaintenanceIsRefused() throws Exception
    {
        final int iterations = 60_000; // spin handoffs: keep it short on a contended 2-core machine
        try (Allocator allocator = Allocator.builder().purgeDelay(Duration.ofMillis(1)).build())
        {
            final AtomicBoolean stop = new AtomicBoolean();
            final Thread remote = Thread.ofPlatform().start(() ->
            {
                for (int i = 1; i <= iterations; i++)
                {
                    while (go != i)
                    {
                        Thread.onSpinWait();
                    }
                    allocator.free(shared); // the legitimate free, from another thread
                    done = i;
                }
            });
            final Thread trimmer = Thread.ofPlatform().start(() ->
            {
                while (!stop.get())
                {
                    allocator.trim();
                }
            });
            long refused = 0;
            try
            {
                for (int i = 1; i <= iterations; i++)
                {
                    final long block = allocator.malloc(16);
                    shared = block;
                    go = i;
                    while (done != i)
                    {
                        Thread.onSpinWait();
                    }
                    try
                    {
                        allocator.free(block); // the double free, by the owner
                    }
                    catch (final IllegalArgumentException expected)
                    {
                        refused++;
                    }
                }
            }
            finally
            {
                stop.set(true);
                trimmer.join(10_000);
                remote.join(10_000);
            }
            allocator.trim();
            final AllocatorStats stats = allocator.stats();
            assertTrue(refused + stats.doubleFreesDetected() >= iterations,
                "every double free refused or counted: refused " + refused + ", counted " + stats.doubleFreesDetected());
            TestSupport.assertConsistent(stats, "after the races");
            assertEquals(0, TestSupport.totalBlocksInUse(stats), "nothing left in use");
        }
    }
}
