package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.MiB;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertNoOverlap;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.assertZero;
import static io.github.pymalloc4j.TestSupport.fill;
import static io.github.pymalloc4j.TestSupport.roundUp16;
import static io.github.pymalloc4j.TestSupport.seg;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AllocatorBasicsTest {

    @Test
    void defaultsMatchTheContract() {
        try (Allocator a = Allocator.create()) {
            assertFalse(a.isClosed());
            var s = a.stats();
            assertEquals(MiB, s.arenaSize());
            assertEquals(16 * 1024, s.poolSize());
            assertEquals(Long.MAX_VALUE, s.maxReservedBytes());
            assertEquals(512, Allocator.SMALL_REQUEST_THRESHOLD);
            assertEquals(512, s.smallRequestThreshold());
            assertEquals(0, s.arenasCurrent());
            assertEquals(0, s.arenaBytes());
            assertEquals(0, s.mallocs());
            assertEquals(0, totalBlocksInUse(s));
            assertConsistent(s, "fresh allocator");
        }
    }

    @Test
    void everySmallSizeGetsAlignedDistinctNonOverlappingBlocks() {
        try (Allocator a = Allocator.create()) {
            int n = 512;
            long[] addr = new long[n];
            long[] len = new long[n];
            Set<Long> seen = new HashSet<>();
            for (int size = 1; size <= n; size++) {
                long p = a.malloc(size);
                final int sz = size;
                assertNotEquals(0L, p, () -> "malloc(" + sz + ") returned NULL");
                assertEquals(0, p & 15, () -> "malloc(" + sz + ") = 0x" + Long.toHexString(p) + " not 16-byte aligned");
                assertTrue(seen.add(p), () -> "malloc(" + sz + ") returned a live address again");
                assertEquals(roundUp16(size), a.usableSize(p), () -> "usableSize after malloc(" + sz + ")");
                addr[size - 1] = p;
                len[size - 1] = a.usableSize(p);
                // write every usable byte
                fill(p, len[size - 1], size);
            }
            assertNoOverlap(addr, len, n, "sizes 1..512");
            for (int size = 1; size <= n; size++) {
                final int sz = size;
                assertPattern(addr[size - 1], len[size - 1], size, () -> "block of malloc(" + sz + ")");
            }
            var s = a.stats();
            assertEquals(n, totalBlocksInUse(s));
            assertEquals(0, s.largeAllocations());
            assertEquals(n, s.mallocs());
            assertConsistent(s, "after 512 mallocs");
            for (int size = 1; size <= n; size++) {
                a.free(addr[size - 1]);
            }
            s = a.stats();
            assertEquals(0, totalBlocksInUse(s));
            assertEquals(n, s.frees());
            assertConsistent(s, "after freeing all");
        }
    }

    @Test
    void manyBlocksOfEachClassDoNotOverlapAndKeepTheirContents() {
        try (Allocator a = Allocator.create()) {
            int perClass = 300;
            int n = 32 * perClass;
            long[] addr = new long[n];
            long[] len = new long[n];
            int k = 0;
            for (int rep = 0; rep < perClass; rep++) {
                for (int c = 0; c < 32; c++) {
                    long size = 16L * c + 1 + (rep % 16);
                    long p = a.malloc(size);
                    addr[k] = p;
                    len[k] = a.usableSize(p);
                    fill(p, len[k], k);
                    k++;
                }
            }
            assertNoOverlap(addr, len, n, "32 classes x 300");
            for (int i = 0; i < n; i++) {
                final int id = i;
                assertPattern(addr[i], len[i], i, () -> "block #" + id);
            }
            assertConsistent(a.stats(), "32 classes x 300");
            for (int i = 0; i < n; i++) {
                a.free(addr[i]);
            }
            a.trim(); // empty memory goes back after the purge delay; trim does it now
            var s = a.stats();
            assertEquals(0, totalBlocksInUse(s));
            assertTrue(s.arenasCurrent() <= 1, "at most one (free) arena kept after freeing everything");
            assertConsistent(s, "after freeing all");
        }
    }

    @Test
    void largeRequestsGoToTheSystemAllocator() {
        try (Allocator a = Allocator.create()) {
            long[] sizes = {513, 4096, MiB};
            long[] ps = new long[sizes.length];
            long sum = 0;
            for (int i = 0; i < sizes.length; i++) {
                ps[i] = a.malloc(sizes[i]);
                final int ii = i;
                assertNotEquals(0L, ps[i]);
                assertEquals(0, ps[i] & 15, () -> "large block of " + sizes[ii] + " should be 16-byte aligned");
                assertEquals(sizes[i], a.usableSize(ps[i]), "usableSize of a large block is the requested size");
                fill(ps[i], sizes[i], 1000 + i);
                sum += sizes[i];
                var s = a.stats();
                assertEquals(i + 1, s.largeAllocations());
                assertEquals(i + 1, s.largeMallocs());
                assertEquals(sum, s.largeBytes());
                assertEquals(0, totalBlocksInUse(s), "large blocks are not in pools");
                assertEquals(0, s.arenasCurrent(), "large requests need no arena");
                assertEquals(sum, s.reservedBytes());
                assertConsistent(s, "large #" + i);
            }
            assertNoOverlap(ps, sizes, sizes.length, "large blocks");
            for (int i = 0; i < sizes.length; i++) {
                assertPattern(ps[i], sizes[i], 1000 + i);
            }
            for (int i = 0; i < sizes.length; i++) {
                a.free(ps[i]);
            }
            var s = a.stats();
            assertEquals(0, s.largeAllocations());
            assertEquals(0, s.largeBytes());
            assertEquals(3, s.largeMallocs(), "largeMallocs is a cumulative counter");
            assertEquals(3, s.mallocs());
            assertEquals(3, s.frees());
            assertConsistent(s, "after freeing large blocks");
        }
    }

    @Test
    void boundaryBetweenSmallAndLarge() {
        try (Allocator a = Allocator.create()) {
            long p512 = a.malloc(512);
            long p513 = a.malloc(513);
            var s = a.stats();
            assertEquals(1, s.sizeClasses().get(31).blocksInUse());
            assertEquals(1, s.largeAllocations());
            assertEquals(513, s.largeBytes());
            assertEquals(512, a.usableSize(p512));
            assertEquals(513, a.usableSize(p513));
            a.free(p512);
            a.free(p513);
        }
    }

    @Test
    void callocReturnsZeroedMemory() {
        try (Allocator a = Allocator.create()) {
            long[][] cases = {
                {1, 1}, {1, 16}, {3, 5}, {7, 33}, {1, 512}, {2, 256}, {4, 128}, {1, 513}, {10, 1000}, {1, 3 * MiB}
            };
            List<Long> live = new ArrayList<>();
            for (long[] c : cases) {
                long p = a.calloc(c[0], c[1]);
                assertNotEquals(0L, p);
                assertEquals(0, p & 15);
                long total = c[0] * c[1];
                assertTrue(a.usableSize(p) >= total);
                assertZero(p, total, () -> "calloc(" + c[0] + ", " + c[1] + ")");
                live.add(p);
            }
            long p0 = a.calloc(0, 8);
            assertNotEquals(0L, p0, "calloc(0, n) gives a unique block like malloc(0)");
            live.add(p0);
            long p1 = a.calloc(8, 0);
            assertNotEquals(0L, p1);
            live.add(p1);
            assertEquals(cases.length + 2, a.stats().mallocs(), "calloc counts as an allocation");
            for (long p : live) {
                a.free(p);
            }
            assertConsistent(a.stats());
        }
    }

    @Test
    void callocZeroesReusedDirtyBlocksOfEveryClass() {
        try (Allocator a = Allocator.create()) {
            int k = 40;
            for (int c = 0; c < 32; c++) {
                long size = 16L * (c + 1);
                long pin = a.malloc(size); // keeps the first pool of the class in use, so freed blocks get reused
                for (int round = 0; round < 3; round++) {
                    long[] ps = new long[k];
                    for (int i = 0; i < k; i++) {
                        ps[i] = a.malloc(size);
                        seg(ps[i], size).fill((byte) 0xFF);
                    }
                    for (int i = 0; i < k; i++) {
                        a.free(ps[i]);
                    }
                    Set<Long> dirty = new HashSet<>();
                    for (long p : ps) {
                        dirty.add(p);
                    }
                    int reused = 0;
                    for (int i = 0; i < k; i++) {
                        // mix calloc shapes that land in the same class
                        long q = (i % 2 == 0) ? a.calloc(1, size) : a.calloc(size / 16, 16);
                        if (dirty.contains(q)) {
                            reused++;
                        }
                        final int cc = c, ii = i;
                        assertZero(q, size, () -> "calloc in class " + cc + " (call " + ii + ")");
                        ps[i] = q;
                    }
                    final int cc = c;
                    final int r = reused;
                    assertTrue(r > 0, () -> "class " + cc + ": calloc should have reused freed blocks, reused " + r);
                    for (int i = 0; i < k; i++) {
                        seg(ps[i], size).fill((byte) 0xFF);
                        a.free(ps[i]);
                    }
                }
                a.free(pin);
            }
            // a smaller request inside a dirty block of the same class is zero over the whole requested range
            long p = a.malloc(100);
            seg(p, 112).fill((byte) 0xFF);
            a.free(p);
            long q = a.calloc(1, 99);
            assertZero(q, 99, () -> "calloc(1, 99) after dirty 112-byte block");
            a.free(q);
            assertConsistent(a.stats());
        }
    }

    @Test
    void callocZeroesPoolsRecarvedFromDirtyMemory() {
        try (Allocator a = Allocator.create()) {
            // dirty whole pools of one class, give them back to the arena, then carve them for other classes
            int n = 2000; // ~ 4 pools of 512-byte blocks
            long[] ps = new long[n];
            for (int i = 0; i < n; i++) {
                ps[i] = a.malloc(512);
                seg(ps[i], 512).fill((byte) 0xFF);
            }
            for (long p : ps) {
                a.free(p);
            }
            assertEquals(0, totalBlocksInUse(a.stats()));
            for (long size : new long[] {16, 48, 200, 512}) {
                long[] qs = new long[(int) (n * 512 / size / 2)];
                for (int i = 0; i < qs.length; i++) {
                    qs[i] = a.calloc(1, size);
                    final int ii = i;
                    assertZero(qs[i], size, () -> "calloc(1, " + size + ") #" + ii + " in a recarved pool");
                }
                for (long q : qs) {
                    seg(q, size).fill((byte) 0xFF);
                    a.free(q);
                }
            }
            assertConsistent(a.stats());
        }
    }

    @Test
    void mallocZeroGivesAUniqueFreeableBlock() {
        try (Allocator a = Allocator.create()) {
            Set<Long> seen = new HashSet<>();
            long[] ps = new long[100];
            for (int i = 0; i < ps.length; i++) {
                ps[i] = a.malloc(0);
                assertNotEquals(0L, ps[i], "malloc(0) must not return NULL");
                assertTrue(seen.add(ps[i]), "malloc(0) blocks are unique");
                assertEquals(0, ps[i] & 15);
                assertEquals(16, a.usableSize(ps[i]), "malloc(0) is served as a 16-byte block");
                seg(ps[i], 16).fill((byte) i); // a 16-byte block is usable
            }
            var s = a.stats();
            assertEquals(100, s.sizeClasses().get(0).blocksInUse());
            assertEquals(0, s.sizeClasses().get(0).bytesRequested(), "malloc(0) requests 0 bytes");
            assertEquals(100, s.mallocs());
            assertConsistent(s);
            for (long p : ps) {
                a.free(p);
            }
            assertEquals(0, totalBlocksInUse(a.stats()));
        }
    }

    @Test
    void freeOfNullIsANoOp() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(10);
            var before = TestSupport.fingerprint(a.stats());
            a.free(0L);
            TestSupport.assertSameFingerprint(before, TestSupport.fingerprint(a.stats()), "free(0)");
            a.free(p);
        }
    }

    @Test
    void freedBlocksAreReused() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(64);
            long keep = a.malloc(64);
            a.free(p);
            long q = a.malloc(64);
            assertEquals(p, q, "LIFO: the block just freed is handed out again");
            a.free(q);
            a.free(keep);
        }
    }
}
