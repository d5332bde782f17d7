package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.KiB;
import static io.github.pymalloc4j.TestSupport.MiB;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.assertSameFingerprint;
import static io.github.pymalloc4j.TestSupport.assertThrowsWithMessage;
import static io.github.pymalloc4j.TestSupport.fill;
import static io.github.pymalloc4j.TestSupport.fingerprint;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/** maxReservedBytes: arenas + live large blocks never exceed it; exceeding it is an OutOfMemoryError naming the limit. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MemoryLimitTest {

    /** A block glibc holds in at most 3 MiB: with its header, rounded to 16 bytes or (mapped on its own) to pages. */
    private static final long BIG = 3 * MiB - 2 * KiB;
    /** A block whose C allocation, bounded before the call, fits in 3 MiB: beside a 1 MiB arena under 4 MiB. */
    private static final long FITS_BESIDE_AN_ARENA = 3 * MiB - 8 * KiB;

    /** Expects an OOM naming the limit, and the allocator unchanged (same fingerprint, identity, patterns). */
    private static void expectOom(Allocator a, long limit, String what, Executable call, List<long[]> live) {
        var before = fingerprint(a.stats());
        try {
            assertThrowsWithMessage(OutOfMemoryError.class, call, Long.toString(limit));
        } catch (AssertionError e) {
            throw new AssertionError(what + ": " + e.getMessage(), e);
        }
        var after = a.stats();
        assertSameFingerprint(before, fingerprint(after), what);
        assertConsistent(after, what);
        assertTrue(after.reservedBytes() <= limit, what + ": reservedBytes <= limit");
        for (long[] b : live) {
            assertPattern(b[0], b[1], b[2], () -> what + ": live block");
        }
    }

    @Test
    void smallRequestsStopAtTwoArenas() {
        long arena = 64 * KiB;
        long limit = 2 * arena; // 131072
        try (Allocator a = Allocator.builder()
                .arenaSize(arena)
                .poolSize(4 * KiB)
                .maxReservedBytes(limit)
                .build()) {
            assertEquals(limit, a.stats().maxReservedBytes());
            List<long[]> live = new ArrayList<>();
            int n = 0;
            OutOfMemoryError oom = null;
            while (n < 10_000) {
                var before = fingerprint(a.stats());
                try {
                    long p = a.malloc(512);
                    fill(p, 512, n);
                    live.add(new long[] {p, 512, n});
                    n++;
                } catch (OutOfMemoryError e) {
                    oom = e;
                    assertSameFingerprint(before, fingerprint(a.stats()), "failed malloc(512)");
                    break;
                }
            }
            assertTrue(oom != null, "a 2-arena limit must stop small allocations");
            final String msg = oom.getMessage();
            assertTrue(
                    msg != null && msg.contains(Long.toString(limit)),
                    () -> "OOM message names the limit 131072: " + msg);
            var s = a.stats();
            assertEquals(2, s.arenasCurrent());
            assertEquals(limit, s.reservedBytes());
            assertEquals(n, s.sizeClasses().get(31).blocksInUse());
            assertEquals(s.sizeClasses().get(31).pools() * (long) capacityOf(s, 31), n, "both arenas completely used");
            assertConsistent(s, "at the limit");

            // other classes cannot get a pool either; realloc moving into a new pool fails; large requests fail
            expectOom(a, limit, "malloc(16) at the limit", () -> a.malloc(16), live);
            expectOom(a, limit, "calloc(1, 100) at the limit", () -> a.calloc(1, 100), live);
            expectOom(a, limit, "mallocAligned(16, 16) at the limit", () -> a.mallocAligned(16, 16), live);
            expectOom(a, limit, "malloc(600) at the limit", () -> a.malloc(600), live);
            expectOom(a, limit, "allocate(1000, 8) at the limit", () -> a.allocate(1000, 8), live);
            long victim = live.get(3)[0];
            expectOom(a, limit, "realloc(512 -> 16) at the limit", () -> a.realloc(victim, 16), live);
            expectOom(a, limit, "realloc(512 -> 5000) at the limit", () -> a.realloc(victim, 5000), live);
            expectOom(a, limit, "malloc(512) again", () -> a.malloc(512), live);

            // after the OOM the allocator still works: free one block, the next malloc succeeds
            long[] freed = live.remove(10);
            a.free(freed[0]);
            long p = a.malloc(512);
            assertEquals(freed[0], p, "the freed slot is reused");
            fill(p, 512, 999);
            live.add(new long[] {p, 512, 999});
            for (long[] b : live) {
                assertPattern(b[0], b[1], b[2]);
                a.free(b[0]);
            }
            var end = a.stats();
            assertEquals(0, totalBlocksInUse(end));
            assertConsistent(end, "end");
            // and with everything freed, other classes work again
            long q = a.malloc(16);
            a.free(q);
        }
    }

    private static int capacityOf(AllocatorStats s, int cls) {
        for (var ar : s.arenas()) {
            for (var p : ar.pools()) {
                if (p.sizeClass() == cls) {
                    return p.capacity();
                }
            }
        }
        return -1;
    }

    @Test
    void largeRequestsBeyondTheLimit() {
        long limit = 4 * MiB; // 4194304
        try (Allocator a = Allocator.builder().maxReservedBytes(limit).build()) {
            List<long[]> live = new ArrayList<>();
            expectOom(a, limit, "malloc(5 MiB)", () -> a.malloc(5 * MiB), live);
            expectOom(a, limit, "malloc(limit + 1)", () -> a.malloc(limit + 1), live);
            expectOom(a, limit, "calloc(1 MiB, 8)", () -> a.calloc(MiB, 8), live);
            expectOom(a, limit, "mallocAligned(5 MiB, 4096)", () -> a.mallocAligned(5 * MiB, 4096), live);
            expectOom(a, limit, "allocate(5 MiB, 8)", () -> a.allocate(5 * MiB, 8), live);

            long p = a.malloc(BIG);
            fill(p, BIG, 1);
            live.add(new long[] {p, BIG, 1});
            long small = a.malloc(100); // one 1 MiB arena: the limit counts at most 3 MiB + 1 MiB == limit
            fill(small, 100, 2);
            live.add(new long[] {small, 100, 2});
            long counted = a.limitReservedBytes();
            assertTrue(
                    counted <= limit && counted > limit - 4 * KiB,
                    () -> "the C allocation of the block and the arena "
                            + "leave less than a page below the limit: counted " + counted);
            assertEquals(BIG + MiB, a.stats().reservedBytes(), "the statistics count the requested size");
            expectOom(a, limit, "malloc(513) at the limit", () -> a.malloc(513), live);
            expectOom(a, limit, "realloc(3 MiB -> 3.5 MiB)", () -> a.realloc(p, 3 * MiB + MiB / 2), live);
            expectOom(a, limit, "realloc(small -> 1 MiB)", () -> a.realloc(small, MiB), live);

            // after the OOM the allocator still works
            a.free(p);
            live.remove(0);
            long q = a.malloc(2 * MiB);
            assertNotEquals(0L, q);
            fill(q, 2 * MiB, 3);
            assertPattern(q, 2 * MiB, 3);
            a.free(q);
            a.free(small);
            var s = a.stats();
            assertEquals(0, s.largeAllocations());
            assertConsistent(s, "end");
        }
    }

    @Test
    void exactlyTheLimitIsAllowed() {
        long limit = 4 * MiB;
        try (Allocator a = Allocator.builder().maxReservedBytes(limit).build()) {
            // the C allocation of limit bytes takes more than limit bytes (its header, rounded up)
            expectOom(a, limit, "malloc(limit)", () -> a.malloc(limit), List.of());
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 4 * 2048; i++) { // four 1 MiB arenas of 512-byte blocks: reserved == limit
                blocks.add(a.malloc(512));
            }
            assertEquals(limit, a.limitReservedBytes());
            assertEquals(limit, a.stats().reservedBytes());
            expectOom(a, limit, "malloc(16) needs an arena", () -> a.malloc(16), List.of());
            expectOom(a, limit, "malloc(600) needs a large block", () -> a.malloc(600), List.of());
            for (long p : blocks) {
                a.free(p);
            }
            long q = a.malloc(16);
            a.free(q);
        }
    }

    @Test
    void newArenaBeyondTheLimitBecauseOfLargeBlocks() {
        long limit = 3 * MiB; // 3145728
        try (Allocator a = Allocator.builder().maxReservedBytes(limit).build()) {
            long big = a.malloc(2 * MiB + 1);
            fill(big, 2 * MiB + 1, 5);
            List<long[]> live = List.of(new long[] {big, 2 * MiB + 1, 5});
            // a first arena would make 2 MiB + 1 + 1 MiB: one byte over the limit
            expectOom(a, limit, "malloc(64) needing an arena", () -> a.malloc(64), live);
            a.free(big);
            long p = a.malloc(64);
            a.free(p);
        }
    }

    @Test
    void limitCountsLiveLargeBlocksOnly() {
        long limit = 4 * MiB;
        try (Allocator a = Allocator.builder().maxReservedBytes(limit).build()) {
            for (int i = 0; i < 50; i++) {
                long p = a.malloc(3 * MiB); // repeated alloc/free never accumulates, at the real size either
                a.free(p);
            }
            assertEquals(0, a.stats().reservedBytes());
            assertEquals(0, a.limitReservedBytes());
            List<Long> smalls = new ArrayList<>();
            for (int i = 0; i < 3 * 2048 - 100; i++) { // fill ~3 arenas
                smalls.add(a.malloc(512));
            }
            assertTrue(a.stats().arenasCurrent() <= 3);
            for (long s : smalls) {
                a.free(s);
            }
            // without trim the wholly free arenas wait for the purge delay, but a request that hits the
            // limit reclaims them first: the large block fits
            long p = a.malloc(FITS_BESIDE_AN_ARENA);
            a.free(p);
            a.trim(); // arenas given back: at most one free arena is kept
            assertTrue(a.stats().reservedBytes() <= MiB);
            p = a.malloc(FITS_BESIDE_AN_ARENA);
            a.free(p);
        }
    }

    /**
     * A large request over the limit tries to reclaim wholly free arenas under the arena lock before it is refused,
     * and stats() reads the arenas and the large-block records: one thread asking for 8 MiB under a 2 MiB limit in a
     * loop and another taking stats() in a loop must never deadlock (checked every 100 ms for 2 s with the JVM's
     * deadlock detector), and every such request is refused.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void statsWhileLargeRequestsAreRefusedAtTheLimitNeverDeadlocks() throws Exception {
        try (Allocator a = Allocator.builder().maxReservedBytes(2 * MiB).build()) {
            long keep = a.malloc(64); // one arena exists, so the limit path tries to reclaim
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread large = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    try {
                        a.malloc(8 * MiB);
                        failure.compareAndSet(null, new AssertionError("8 MiB allocated under a 2 MiB limit"));
                    } catch (OutOfMemoryError expected) {
                        // the limit refuses, after trying to reclaim free arenas under the arena lock
                    }
                }
            });
            Thread stats = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    a.stats();
                }
            });
            try {
                for (int i = 0; i < 20; i++) { // 2 s; a lock-order inversion here shows within ~100 ms
                    Thread.sleep(100);
                    long[] deadlocked = ManagementFactory.getThreadMXBean().findDeadlockedThreads();
                    if (deadlocked != null) {
                        fail("deadlock between stats() and a large allocation at the limit after " + (i + 1) * 100
                                + " ms");
                    }
                }
            } finally {
                stop.set(true);
                large.join(5_000);
                stats.join(5_000);
            }
            assertNull(failure.get());
            a.free(keep);
        }
    }
}
