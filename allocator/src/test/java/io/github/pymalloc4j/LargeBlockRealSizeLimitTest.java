package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.MiB;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.assertThrowsWithMessage;
import static io.github.pymalloc4j.TestSupport.fill;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The reserved-bytes limit counts a large block at what the C allocation really takes, for as long as it
 * is held: at least {@code malloc_usable_size} of it (the test calls C itself, not the allocator's code),
 * whatever size was requested, an alignment asked for, or how often it was shrunk in place.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LargeBlockRealSizeLimitTest {

    private static final MethodHandle USABLE = Linker.nativeLinker()
            .downcallHandle(
                    Linker.nativeLinker()
                            .defaultLookup()
                            .find("malloc_usable_size")
                            .orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));

    /** What the C library says the block at {@code address} holds (a lower bound of what it takes). */
    static long cUsable(long address) {
        try {
            return (long) USABLE.invokeExact(address);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** The limit's counter minus the arenas: what it counts for the large blocks. */
    private static long largeCharged(Allocator a) {
        return a.limitReservedBytes() - a.stats().arenaBytes();
    }

    private static long sumUsable(List<Long> blocks) {
        long sum = 0;
        for (long p : blocks) {
            sum += cUsable(p);
        }
        return sum;
    }

    @Test
    void alignedBlocksCountWhatAlignedAllocTakesNotTheRequestedSize() {
        long limit = 8 * MiB;
        try (Allocator a = Allocator.builder().maxReservedBytes(limit).build()) {
            List<Long> live = new ArrayList<>();
            OutOfMemoryError oom = null;
            for (int i = 0; i < 64; i++) {
                try {
                    long p = a.mallocAligned(1, MiB);
                    assertEquals(0, p & (MiB - 1), "aligned to 1 MiB");
                    live.add(p);
                } catch (OutOfMemoryError e) {
                    oom = e;
                    break;
                }
                long usable = sumUsable(live);
                long charged = largeCharged(a);
                assertTrue(
                        charged >= usable,
                        () -> "after " + live.size() + " x mallocAligned(1, 1 MiB) the limit counts " + charged
                                + " bytes for blocks the C library holds " + usable + " usable bytes of");
                assertTrue(a.limitReservedBytes() <= limit, "the counter never exceeds the limit");
            }
            int n = live.size();
            assertTrue(
                    oom != null && n < 8,
                    () -> n + " x mallocAligned(1, 1 MiB) passed an 8 MiB limit: each takes "
                            + "at least 1 MiB from the C library");
            final String msg = oom.getMessage();
            assertTrue(msg.contains(Long.toString(limit)), () -> "the OOM names the limit: " + msg);
            for (long p : live) {
                a.free(p);
            }
            assertEquals(0, a.limitReservedBytes(), "every charged byte released on free");
            assertEquals(0, a.stats().largeBytes());
        }
    }

    @Test
    void aZeroByteBlockWithAHugeAlignmentIsRefusedBeyondTheLimit() {
        long limit = 256 * MiB;
        try (Allocator a = Allocator.builder().maxReservedBytes(limit).build()) {
            var before = TestSupport.fingerprint(a.stats());
            assertThrowsWithMessage(OutOfMemoryError.class, () -> a.mallocAligned(0, 1L << 30), Long.toString(limit));
            assertThrowsWithMessage(OutOfMemoryError.class, () -> a.mallocAligned(1, 512 * MiB), Long.toString(limit));
            assertThrowsWithMessage(OutOfMemoryError.class, () -> a.allocate(0, 1L << 30), Long.toString(limit));
            TestSupport.assertSameFingerprint(before, TestSupport.fingerprint(a.stats()), "refused aligned blocks");
            assertEquals(0, a.limitReservedBytes(), "nothing stays reserved after a refusal");
            // a big alignment that fits is fine, and counted at no less than its alignment
            long p = a.mallocAligned(0, 64 * MiB);
            assertEquals(0, p & (64 * MiB - 1));
            assertTrue(largeCharged(a) >= 64 * MiB, () -> "mallocAligned(0, 64 MiB) counted " + largeCharged(a));
            a.free(p);
            assertEquals(0, a.limitReservedBytes());
        }
    }

    /** Resident anonymous memory of this process, from /proc/self/status. */
    private static long rssAnonBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("RssAnon:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }

    @Test
    void aBlockShrunkInPlaceStepByStepIsCountedAtWhatItStillHolds() throws IOException {
        long limit = 100 * MiB;
        long start = 64 * MiB;
        long end = MiB;
        try (Allocator a = Allocator.builder().maxReservedBytes(limit).build()) {
            long rssBefore = rssAnonBytes();
            List<Long> live = new ArrayList<>();
            int sameAddress = 0;
            int steps = 0;
            for (int i = 0; i < 10; i++) {
                long p = a.malloc(start);
                fill(p, start, i); // resident
                long size = start;
                while (size > end) {
                    long next = Math.max(end, size - size / 5); // shrinks by 20 %: "in place" by the requested size
                    long q = a.realloc(p, next);
                    steps++;
                    if (q == p) {
                        sameAddress++;
                    }
                    p = q;
                    size = next;
                    List<Long> now = new ArrayList<>(live);
                    now.add(p);
                    long usable = sumUsable(now);
                    long charged = largeCharged(a);
                    final int block = i;
                    final long s = size;
                    assertTrue(
                            charged >= usable,
                            () -> "block " + block + " shrunk to " + s + ": the limit counts " + charged
                                    + " bytes for large blocks holding " + usable + " usable bytes in the C library");
                    final long held = cUsable(p);
                    assertTrue(
                            4 * s > 3 * held,
                            () -> "a block of " + s + " requested bytes keeps " + held
                                    + " bytes in C: more than a quarter unused");
                    assertTrue(a.limitReservedBytes() <= limit);
                }
                assertPattern(p, end, i);
                live.add(p);
            }
            long rssGrowth = rssAnonBytes() - rssBefore;
            System.out.println("LargeBlockRealSizeLimitTest: 10 x 64 MiB shrunk to 1 MiB in " + steps + " steps ("
                    + sameAddress
                    + " kept the address); the limit counts " + largeCharged(a) + " bytes, C usable " + sumUsable(live)
                    + ", anonymous RSS grew by " + rssGrowth);
            assertTrue(
                    rssGrowth < 256 * MiB,
                    () -> "10 blocks shrunk to 1 MiB still keep " + rssGrowth + " resident bytes");
            assertTrue(largeCharged(a) < 20 * MiB, () -> "10 blocks of about 1 MiB counted as " + largeCharged(a));
            for (int i = 0; i < live.size(); i++) {
                assertPattern(live.get(i), end, i);
                a.free(live.get(i));
            }
            var s = a.stats();
            assertEquals(0, s.largeAllocations());
            assertEquals(0, s.largeBytes());
            assertEquals(0, a.limitReservedBytes());
            assertConsistent(s, "end");
        }
    }

    @Test
    void plainLargeBlocksCountAtLeastTheirUsableSize() {
        try (Allocator a = Allocator.builder().maxReservedBytes(1L << 40).build()) {
            List<Long> live = new ArrayList<>();
            long[] sizes = {513, 600, 1000, 4000, 4096, 65_536, 100_000, 131_072, 200_000, MiB, 3 * MiB + 1};
            for (long size : sizes) {
                live.add(a.malloc(size));
                live.add(a.calloc(1, size));
                live.add(a.mallocAligned(size, 64));
                live.add(a.mallocAligned(size, 4096));
            }
            long usable = sumUsable(live);
            assertTrue(largeCharged(a) >= usable, () -> "counted " + largeCharged(a) + " < usable " + usable);
            long requested = a.stats().largeBytes();
            assertTrue(largeCharged(a) > requested, "the limit counts more than the requested bytes");
            for (long p : live) {
                a.free(p);
            }
            assertEquals(0, a.limitReservedBytes());
        }
    }

    @Test
    void aMoveIntoAPoolThatTheLimitRefusesLeavesTheLargeBlockAsItWas() {
        long arena = 64 * TestSupport.KiB;
        try (Allocator a = Allocator.builder()
                .arenaSize(arena)
                .poolSize(4 * TestSupport.KiB)
                .maxReservedBytes(2 * arena + 16 * TestSupport.KiB)
                .build()) {
            long p = a.malloc(8000);
            fill(p, 8000, 7);
            List<Long> smalls = new ArrayList<>();
            try {
                while (true) {
                    smalls.add(a.malloc(512)); // fills both arenas: no pool left for another class
                }
            } catch (OutOfMemoryError expected) {
                // at the limit
            }
            long counted = a.limitReservedBytes();
            var before = TestSupport.fingerprint(a.stats());
            assertThrowsWithMessage(OutOfMemoryError.class, () -> a.realloc(p, 16), "limit");
            TestSupport.assertSameFingerprint(before, TestSupport.fingerprint(a.stats()), "refused move into a pool");
            assertEquals(counted, a.limitReservedBytes());
            assertEquals(8000, a.usableSize(p), "the large block is live again");
            assertPattern(p, 8000, 7);
            for (long q : smalls) {
                a.free(q);
            }
            long q = a.realloc(p, 16); // now it moves
            assertPattern(q, 16, 7);
            assertThrowsWithMessage(IllegalArgumentException.class, () -> a.free(p), "not allocated");
            a.free(q);
            assertEquals(0, a.stats().largeAllocations());
            assertEquals(a.stats().arenaBytes(), a.limitReservedBytes());
        }
    }

    @Test
    void aReallocTheSystemAllocatorRefusesLeavesTheBlockAndTheCounterAsTheyWere() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(300_000);
            fill(p, 300_000, 8);
            long counted = a.limitReservedBytes();
            assertThrowsWithMessage(
                    OutOfMemoryError.class, () -> a.realloc(p, Allocator.MAX_REQUEST_SIZE), "system allocator");
            assertEquals(counted, a.limitReservedBytes());
            assertEquals(300_000, a.usableSize(p));
            assertPattern(p, 300_000, 8);
            a.free(p);
            assertEquals(0, a.limitReservedBytes());
        }
    }
}
