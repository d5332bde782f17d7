package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.MiB;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.assertThrowsWithMessage;
import static io.github.pymalloc4j.TestSupport.fill;
import static io.github.pymalloc4j.TestSupport.patternMismatch;
import static io.github.pymalloc4j.TestSupport.roundUp16;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReallocTest {

    /** In place iff newSize <= blockSize && 4*newSize > 3*blockSize. */
    private static boolean staysInPlace(long blockSize, long newSize) {
        return newSize <= blockSize && 4 * newSize > 3 * blockSize;
    }

    @Test
    void smallReallocFollowsTheTwentyFivePercentRuleForEveryClassAndSize() {
        try (Allocator a = Allocator.create()) {
            long id = 0;
            for (int cls = 0; cls < 32; cls++) {
                long blockSize = 16L * (cls + 1);
                for (long newSize = 1; newSize <= 512; newSize++) {
                    long p = a.malloc(blockSize);
                    fill(p, blockSize, ++id);
                    long q = a.realloc(p, newSize);
                    final long bs = blockSize, ns = newSize;
                    if (staysInPlace(blockSize, newSize)) {
                        assertEquals(p, q, () -> "realloc of a " + bs + "-byte block to " + ns + " must stay in place");
                        assertEquals(blockSize, a.usableSize(q), "in place keeps the block");
                    } else {
                        assertNotEquals(p, q, () -> "realloc of a " + bs + "-byte block to " + ns + " must move");
                        assertEquals(roundUp16(newSize), a.usableSize(q), () -> "moved to the class of " + ns);
                    }
                    assertPattern(q, Math.min(blockSize, newSize), id, () -> "realloc " + bs + " -> " + ns);
                    a.free(q);
                }
            }
            var s = a.stats();
            assertEquals(0, totalBlocksInUse(s));
            assertEquals(32 * 512, s.reallocs());
            assertEquals(32 * 512, s.mallocs(), "moving reallocs do not count as mallocs");
            assertEquals(32 * 512, s.frees(), "realloc's internal free is not counted");
            assertConsistent(s);
        }
    }

    @Test
    void exactBoundaryOfTheInPlaceRule() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(100); // 112-byte block
            assertEquals(112, a.usableSize(p));
            fill(p, 112, 7);
            assertEquals(p, a.realloc(p, 112), "same size: in place");
            assertEquals(p, a.realloc(p, 85), "4*85=340 > 336: in place");
            assertPattern(p, 85, 7);
            long q = a.realloc(p, 84); // 4*84=336, not > 336: moves
            assertNotEquals(p, q, "4*84 == 3*112: must move");
            assertEquals(96, a.usableSize(q));
            assertPattern(q, 84, 7);
            a.free(q);
        }
    }

    @Test
    void inPlaceReallocUpdatesRequestedBytes() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(100);
            assertEquals(100, a.stats().sizeClasses().get(6).bytesRequested());
            assertEquals(p, a.realloc(p, 90));
            assertEquals(90, a.stats().sizeClasses().get(6).bytesRequested(), "bytesRequested follows the new request");
            assertEquals(p, a.realloc(p, 112));
            assertEquals(112, a.stats().sizeClasses().get(6).bytesRequested());
            assertConsistent(a.stats());
            a.free(p);
            assertEquals(0, a.stats().bytesRequested());
        }
    }

    @Test
    void moveKeepsTheWholeOldUsableSizeNotOnlyTheRequestedBytes() {
        // contract: "contents up to min(old usable, new) preserved"; usableSize() bytes are the caller's to use
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(20);
            assertEquals(32, a.usableSize(p));
            fill(p, 32, 21);
            long q = a.realloc(p, 100); // moves to the 112-byte class
            assertNotEquals(p, q);
            assertPattern(q, 32, 21, () -> "malloc(20), 32 usable bytes written, realloc(p, 100)");
            a.free(q);

            long z = a.malloc(0); // 16 usable bytes
            fill(z, 16, 22);
            long z2 = a.realloc(z, 40);
            assertPattern(z2, 16, 22, () -> "malloc(0), 16 usable bytes written, realloc(p, 40)");
            a.free(z2);
        }
    }

    @Test
    void largeBlockStaysInPlaceOnlyWhileItUsesMoreThanThreeQuartersOfWhatCHolds() {
        // contract: in place whenever the new size fits the block and 4*newSize > 3*blockSize; for a large block
        // the block size is what the C library holds (malloc_usable_size), not the requested size
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(648);
            long held = LargeBlockRealSizeLimitTest.cUsable(p);
            fill(p, 648, 31);
            long q = a.realloc(p, 512);
            assertEquals(staysInPlace(held, 512), q == p, () -> "realloc(large 648 holding " + held + ", 512)");
            assertPattern(q, 512, 31);
            a.free(q);

            long r = a.mallocAligned(127, 1024); // large (alignUp(127, 1024) > 512), usable 127 requested
            long rHeld = LargeBlockRealSizeLimitTest.cUsable(r);
            assertTrue(rHeld >= 1024, "aligned_alloc was asked for 1024 bytes");
            fill(r, 127, 32);
            assertEquals(r, a.realloc(r, 1000), "1000 of 1024+ bytes: in place, though more than the 127 requested");
            assertEquals(1000, a.usableSize(r));
            assertEquals(1000, a.stats().largeBytes(), "the statistics count the requested size");
            long t = a.realloc(r, 122); // a quarter of the 1024 aligned bytes would not be used: into a pool
            assertNotEquals(r, t, "realloc(aligned large block, 122) moves into a pool");
            assertEquals(128, a.usableSize(t));
            assertPattern(t, 122, 32);
            assertEquals(0, a.stats().largeAllocations());
            a.free(t);
        }
    }

    @Test
    void reallocOfAnAlignedSmallBlockKeepsStatsExact() {
        try (Allocator a = Allocator.create()) {
            long keep = a.malloc(500);
            long p = a.mallocAligned(100, 512); // 512-byte block, 100 requested
            fill(p, 100, 41);
            long q = a.realloc(p, 1000); // moves to large
            assertPattern(q, 100, 41);
            var s = a.stats();
            assertEquals(
                    500, s.sizeClasses().get(31).bytesRequested(), "requested bytes after the aligned block moved out");
            assertConsistent(s);
            a.free(q);
            a.free(keep);
        }
    }

    /** Child-JVM scenario: realloc of a pool-served aligned block that ends exactly at its arena's end. */
    public static final class AlignedBlockAtArenaEnd {
        public static void main(String[] args) {
            try (Allocator a =
                    Allocator.builder().arenaSize(64 * 1024).poolSize(4 * 1024).build()) {
                // 128 blocks of 512 bytes fill one 64 KiB arena; the highest one ends where the arena ends
                long last = 0;
                long seedOfLast = -1;
                for (int i = 0; i < 128; i++) {
                    long p = a.mallocAligned(100, 512);
                    fill(p, 100, i);
                    if (Long.compareUnsigned(p, last) > 0) {
                        last = p;
                        seedOfLast = i;
                    }
                }
                long arenaEnd = a.stats().arenas().get(0).address() + 64 * 1024;
                System.out.println("last block ends at arena end: " + (last + 512 == arenaEnd));
                long q = a.realloc(last, 1000); // must copy at most 512 bytes (the block), here 100 requested
                System.out.println("pattern kept: " + (patternMismatch(q, 100, seedOfLast) < 0));
                System.out.println("OK");
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void reallocOfAnAlignedBlockAtTheEndOfAnArenaDoesNotReadPastIt() throws Exception {
        var r = TestSupport.runInChildJvm(AlignedBlockAtArenaEnd.class);
        assertTrue(
                r.exitCode() == 0 && r.output().contains("OK"),
                () -> "child JVM exit code " + r.exitCode()
                        + " (non-zero: crashed or failed); realloc(mallocAligned(100, 512) at arena end, 1000) must not read beyond the "
                        + "512-byte block. Output:\n"
                        + r.output().lines().limit(12).reduce("", (x, y) -> x + y + "\n"));
        assertTrue(r.output().contains("pattern kept: true"), r.output());
    }

    @Test
    void growingSmallMovesAndPreservesContents() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(16);
            fill(p, 16, 1);
            long q = a.realloc(p, 17);
            assertNotEquals(p, q);
            assertEquals(32, a.usableSize(q));
            assertPattern(q, 16, 1);
            fill(q, 32, 2);
            long r = a.realloc(q, 512);
            assertNotEquals(q, r);
            assertPattern(r, 32, 2);
            var s = a.stats();
            assertEquals(1, totalBlocksInUse(s), "the old blocks were released");
            assertEquals(1, s.sizeClasses().get(31).blocksInUse());
            assertEquals(512, s.bytesRequested());
            a.free(r);
        }
    }

    @Test
    void movedReallocReleasesTheOldBlock() {
        try (Allocator a = Allocator.create()) {
            long keep = a.malloc(64); // keeps the pool alive
            long p = a.malloc(64);
            long q = a.realloc(p, 300);
            assertNotEquals(p, q);
            assertEquals(1, a.stats().sizeClasses().get(3).blocksInUse());
            assertThrowsWithMessage(IllegalArgumentException.class, () -> a.free(p), "double free", "not allocated");
            a.free(q);
            a.free(keep);
        }
    }

    @Test
    void smallToLarge() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(300); // 304-byte block
            fill(p, 304, 11);
            long q = a.realloc(p, 5000);
            assertNotEquals(p, q);
            assertEquals(5000, a.usableSize(q));
            assertPattern(q, 304, 11, () -> "small -> large keeps min(old usable, new) bytes");
            var s = a.stats();
            assertEquals(0, totalBlocksInUse(s));
            assertEquals(1, s.largeAllocations());
            assertEquals(5000, s.largeBytes());
            assertEquals(1, s.largeMallocs(), "a realloc move to large counts as a large malloc");
            assertEquals(1, s.mallocs());
            assertEquals(1, s.reallocs());
            assertConsistent(s);
            a.free(q);
        }
    }

    @Test
    void largeToSmall() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(4096);
            fill(p, 4096, 12);
            long q = a.realloc(p, 100);
            assertNotEquals(p, q, "4*100 <= 3*4096: must move");
            assertEquals(112, a.usableSize(q));
            assertPattern(q, 100, 12);
            var s = a.stats();
            assertEquals(0, s.largeAllocations());
            assertEquals(0, s.largeBytes());
            assertEquals(1, s.sizeClasses().get(6).blocksInUse());
            assertEquals(100, s.sizeClasses().get(6).bytesRequested());
            assertConsistent(s);
            a.free(q);
        }
    }

    @Test
    void largeToLarge() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(4096);
            fill(p, 4096, 13);
            long q = a.realloc(p, 100_000);
            assertEquals(100_000, a.usableSize(q));
            assertPattern(q, 4096, 13, () -> "grow 4096 -> 100000");
            fill(q, 100_000, 14);
            long r = a.realloc(q, 80_000); // 320000 > 300000: fits and shrinks by < 25 %
            assertEquals(q, r, "large shrink by < 25 % stays in place");
            assertTrue(a.usableSize(r) >= 80_000);
            assertPattern(r, 80_000, 14);
            long t = a.realloc(r, 2 * MiB);
            assertPattern(t, 80_000, 14, () -> "grow 80000 -> 2 MiB");
            fill(t, 2 * MiB, 15);
            long u = a.realloc(t, 600_000);
            assertPattern(u, 600_000, 15, () -> "shrink 2 MiB -> 600000");
            var s = a.stats();
            assertEquals(1, s.largeAllocations());
            assertEquals(a.usableSize(u), s.largeBytes());
            assertEquals(4, s.reallocs());
            assertEquals(1, s.mallocs());
            assertEquals(0, s.frees());
            assertConsistent(s);
            a.free(u);
            assertEquals(0, a.stats().largeAllocations());
            assertEquals(0, a.stats().largeBytes());
        }
    }

    @Test
    void reallocOfNullActsLikeMalloc() {
        try (Allocator a = Allocator.create()) {
            long p = a.realloc(0, 40);
            assertNotEquals(0L, p);
            assertEquals(48, a.usableSize(p));
            assertEquals(1, a.stats().sizeClasses().get(2).blocksInUse());
            assertEquals(40, a.stats().sizeClasses().get(2).bytesRequested());
            fill(p, 48, 3);
            long q = a.realloc(0, 1000);
            assertNotEquals(0L, q);
            assertEquals(1000, a.usableSize(q));
            assertEquals(1, a.stats().largeAllocations());
            fill(q, 1000, 4);
            long r = a.realloc(0, 0);
            assertNotEquals(0L, r, "realloc(0, 0) == malloc(0): a unique block");
            assertEquals(16, a.usableSize(r));
            assertPattern(p, 48, 3);
            a.free(p);
            a.free(q);
            a.free(r);
            var s = a.stats();
            assertEquals(0, totalBlocksInUse(s));
            assertEquals(0, s.largeAllocations());
            assertConsistent(s);
        }
    }

    @Test
    void reallocPreservesContentsAcrossManyMoves() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(1);
            long size = 1;
            fill(p, 1, 99);
            long[] path = {2, 17, 100, 50, 500, 513, 4000, 700, 300, 8000, 12, 1, 512, 100_000, 3};
            for (long n : path) {
                long q = a.realloc(p, n);
                long keep = Math.min(size, n);
                final long from = size, to = n;
                assertPattern(q, keep, 99, () -> "realloc " + from + " -> " + to);
                fill(q, n, 99); // same seed: the pattern is a prefix-stable function of the offset
                p = q;
                size = n;
            }
            a.free(p);
            var s = a.stats();
            assertEquals(0, totalBlocksInUse(s));
            assertEquals(0, s.largeAllocations());
            assertEquals(path.length, s.reallocs());
            assertConsistent(s);
        }
    }
}
