package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.assertPattern;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Helpers of the concurrency stress tests: blocks carrying a pattern derived from their id, named platform threads
 * that end (die) when their task ends, failure propagation, and polling of statistics for the maintenance thread.
 */
final class StressSupport {
    private StressSupport() {}

    /** A block a test holds: address, bytes carrying the pattern (usable size), pattern seed. */
    record Block(long address, long size, long seed) {
        Block fill() {
            TestSupport.fill(address, size, seed);
            return this;
        }

        void check(Supplier<String> ctx) {
            assertPattern(address, size, seed, ctx);
        }

        long pool(long poolSize) {
            return address & -poolSize;
        }
    }

    /** Whether a refusal says "double free". */
    static boolean isDoubleFree(IllegalArgumentException e) {
        return e.getMessage() != null
                && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("double free");
    }

    /** Pattern seed of block {@code id} of worker {@code thread} in a test with seed {@code testSeed}. */
    static long seedOf(long testSeed, int thread, long id) {
        return (testSeed << 44) ^ ((long) thread << 32) ^ id;
    }

    /** Mallocs {@code size} bytes on the calling thread and fills the whole usable size with the id's pattern. */
    static Block mallocFilled(Allocator a, long size, long seed) {
        long p = a.malloc(size);
        long u = a.usableSize(p);
        if (u < size) {
            throw new AssertionError("usableSize " + u + " < requested " + size + " at 0x" + Long.toHexString(p));
        }
        return new Block(p, u, seed).fill();
    }

    /** Checks the pattern, then frees. */
    static void checkAndFree(Allocator a, Block b, Supplier<String> ctx) {
        b.check(ctx);
        a.free(b.address());
    }

    /** A worker body; {@code index} is its number within the group. */
    @FunctionalInterface
    interface Task {
        void run(int index) throws Exception;
    }

    /** A group of named platform threads, each ending (dying) when its task ends. */
    static final class Workers {
        private final List<Thread> threads = new ArrayList<>();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicBoolean stop;

        Workers(AtomicBoolean stop) {
            this.stop = stop;
        }

        /** Starts {@code count} threads named {@code name-i}; the first failure raises {@code stop}. */
        Workers start(String name, int count, Task task) {
            for (int i = 0; i < count; i++) {
                final int index = i;
                Thread t = Thread.ofPlatform().name(name + "-" + i).unstarted(() -> {
                    try {
                        task.run(index);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        stop.set(true);
                    }
                });
                threads.add(t);
                t.start();
            }
            return this;
        }

        List<Thread> threads() {
            return threads;
        }

        /**
         * Waits for every thread to end (interrupting them after {@code timeoutMs}), then rethrows the first failure.
         * After it returns normally, every thread is dead.
         */
        void join(long timeoutMs) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            for (Thread t : threads) {
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            }
            boolean hung = false;
            for (Thread t : threads) {
                if (t.isAlive()) {
                    hung = true;
                    stop.set(true);
                    t.interrupt();
                }
            }
            for (Thread t : threads) {
                t.join(10_000);
                if (t.isAlive()) {
                    throw new AssertionError(
                            "worker " + t.getName() + " does not end; the allocator cannot be closed safely");
                }
            }
            Throwable f = failure.get();
            if (f instanceof Error e) {
                throw e;
            }
            if (f instanceof Exception e) {
                throw e;
            }
            if (hung) {
                throw new AssertionError("workers did not finish within " + timeoutMs + " ms");
            }
        }

        /** Stops and joins without rethrowing (cleanup in finally blocks, before the allocator is closed). */
        void abort() {
            stop.set(true);
            for (Thread t : threads) {
                t.interrupt();
            }
            for (Thread t : threads) {
                try {
                    t.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * Stops the executors, waits for their threads, then closes the allocator. A task still running after the wait
     * could touch unmapped memory, so the allocator is then left open (leaked) rather than closed under it.
     */
    static void closeAfter(Allocator a, java.util.concurrent.ExecutorService... exs) throws InterruptedException {
        boolean quiet = true;
        for (var ex : exs) {
            ex.shutdownNow();
        }
        for (var ex : exs) {
            quiet &= ex.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (quiet) {
            a.close();
        } else {
            System.err.println("[StressSupport] a task is still running: allocator left open");
        }
    }

    /** Polls stats every few ms until {@code done} holds or {@code timeoutMs} passed; returns the last snapshot. */
    static AllocatorStats awaitStats(Allocator a, long timeoutMs, Predicate<AllocatorStats> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        AllocatorStats s = a.stats();
        while (!done.test(s) && System.nanoTime() < deadline) {
            Thread.sleep(5);
            s = a.stats();
        }
        return s;
    }

    static long pendingRemoteFrees(AllocatorStats s) {
        long n = 0;
        for (var c : s.sizeClasses()) {
            n += c.pendingRemoteFrees();
        }
        return n;
    }

    /** The heap owned by the thread named {@code name}, or null. */
    static AllocatorStats.HeapStats heapOf(AllocatorStats s, String name) {
        for (var h : s.heaps()) {
            if (name.equals(h.threadName())) {
                return h;
            }
        }
        return null;
    }

    /**
     * What AllocatorStats promises of every snapshot, even one taken while threads allocate: the byte identity and
     * its per-pool parts (each pool's used count is read once). Counts such as bytesRequested are only exact once
     * the threads are quiet, so the full {@link TestSupport#assertConsistent} is for quiescent snapshots.
     */
    static void assertIdentity(AllocatorStats s, String ctx) {
        long sum = s.bytesInAllocatedBlocks()
                + s.bytesPendingRemoteFree()
                + s.bytesInAvailableBlocks()
                + s.bytesInFreePools()
                + s.bytesLostToQuantization();
        org.junit.jupiter.api.Assertions.assertEquals(s.arenaBytes(), sum, () -> ctx + ": byte identity");
        org.junit.jupiter.api.Assertions.assertEquals(s.arenasCurrent() * s.arenaSize(), s.arenaBytes(), ctx);
        org.junit.jupiter.api.Assertions.assertEquals(s.arenaBytes() + s.largeBytes(), s.reservedBytes(), ctx);
        long pools = 0;
        for (var a : s.arenas()) {
            for (var p : a.pools()) {
                if (p.sizeClass() >= 0) {
                    pools++;
                    if (p.blocksInUse() < 0
                            || p.pendingRemoteFrees() < 0
                            || p.blocksInUse() + p.pendingRemoteFrees() > p.capacity()) {
                        throw new AssertionError(ctx + ": pool " + p);
                    }
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertEquals(pools, TestSupport.totalPools(s), ctx);
    }

    /** Short summary of a snapshot for assertion messages. */
    static String summary(AllocatorStats s) {
        return "arenas=" + s.arenasCurrent() + " reserved=" + s.reservedBytes() + " blocksInUse="
                + TestSupport.totalBlocksInUse(s) + " pending=" + pendingRemoteFrees(s) + " committed="
                + s.committedBytes() + " freeNotReturned=" + s.freeNotReturnedBytes() + " orphanPools="
                + s.orphanPools() + " orphanedBlocks=" + s.orphanedBlocksInUse() + " heaps="
                + s.heaps().size()
                + " mallocs=" + s.mallocs() + " frees=" + s.frees() + " remoteFrees=" + s.remoteFrees()
                + " doubleFreesDetected=" + s.doubleFreesDetected() + " decommitted=" + s.poolsDecommitted()
                + " rounds=" + s.maintenanceRounds() + " maintenanceFailure=" + s.maintenanceFailure();
    }
}
