package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.sizeClass;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SizeClassRoutingTest {

    @Test
    void thirtyTwoClassesOfSixteenBytes() {
        try (Allocator a = Allocator.create()) {
            var classes = a.stats().sizeClasses();
            assertEquals(32, classes.size());
            for (int i = 0; i < 32; i++) {
                assertEquals(i, classes.get(i).index());
                assertEquals(16 * (i + 1), classes.get(i).blockSize());
                assertEquals(0, classes.get(i).pools());
                assertEquals(0, classes.get(i).blocksInUse());
            }
        }
    }

    @Test
    void everySizeLandsInClassSizeMinusOneShiftFour() {
        try (Allocator a = Allocator.create()) {
            for (int size = 0; size <= 512; size++) {
                var before = a.stats();
                long p = a.malloc(size);
                var after = a.stats();
                int cls = sizeClass(size);
                for (int i = 0; i < 32; i++) {
                    long delta = after.sizeClasses().get(i).blocksInUse()
                            - before.sizeClasses().get(i).blocksInUse();
                    long reqDelta = after.sizeClasses().get(i).bytesRequested()
                            - before.sizeClasses().get(i).bytesRequested();
                    final int sz = size, ii = i;
                    assertEquals(i == cls ? 1 : 0, delta, () -> "malloc(" + sz + ") blocksInUse delta of class " + ii);
                    assertEquals(
                            i == cls ? size : 0,
                            reqDelta,
                            () -> "malloc(" + sz + ") bytesRequested delta of class " + ii);
                }
                assertEquals(16L * (cls + 1), a.usableSize(p));
                assertEquals(0, after.largeAllocations());
                a.free(p);
            }
            assertEquals(0, totalBlocksInUse(a.stats()));
            assertConsistent(a.stats());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {513, 514, 520, 1000, 4096, 65536, 1 << 20})
    void largerThan512IsLarge(long size) {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(size);
            var s = a.stats();
            assertEquals(1, s.largeAllocations());
            assertEquals(1, s.largeMallocs());
            assertEquals(size, s.largeBytes());
            assertEquals(0, totalBlocksInUse(s));
            assertEquals(size, a.usableSize(p));
            a.free(p);
            assertEquals(0, a.stats().largeAllocations());
        }
    }

    @Test
    void callocRoutesByProduct() {
        try (Allocator a = Allocator.create()) {
            long p = a.calloc(2, 256); // 512 -> class 31
            long q = a.calloc(3, 171); // 513 -> large
            long r = a.calloc(17, 1); // 17 -> class 1
            var s = a.stats();
            assertEquals(1, s.sizeClasses().get(31).blocksInUse());
            assertEquals(512, s.sizeClasses().get(31).bytesRequested());
            assertEquals(1, s.sizeClasses().get(1).blocksInUse());
            assertEquals(17, s.sizeClasses().get(1).bytesRequested());
            assertEquals(1, s.largeAllocations());
            assertEquals(513, s.largeBytes());
            a.free(p);
            a.free(q);
            a.free(r);
        }
    }

    @Test
    void alignedRequestsRouteByAlignedUpSize() {
        try (Allocator a = Allocator.create()) {
            // alignUp(max(size,1), alignment) <= 512 -> pools
            long[][] small = {{500, 32}, {480, 256}, {257, 512}, {0, 512}, {1, 512}, {100, 64}, {16, 16}, {1, 1}};
            // > 512 -> system
            long[][] large = {{1, 1024}, {513, 16}, {300, 1024}, {0, 4096}, {500, 1024}};
            long[] ps = new long[small.length + large.length];
            int k = 0;
            for (long[] c : small) {
                ps[k++] = a.mallocAligned(c[0], c[1]);
            }
            var s = a.stats();
            assertEquals(
                    small.length, totalBlocksInUse(s), "aligned requests with alignUp(size, align) <= 512 use pools");
            assertEquals(0, s.largeAllocations());
            for (long[] c : large) {
                ps[k++] = a.mallocAligned(c[0], c[1]);
            }
            s = a.stats();
            assertEquals(small.length, totalBlocksInUse(s));
            assertEquals(
                    large.length, s.largeAllocations(), "aligned requests with alignUp(size, align) > 512 go large");
            assertEquals(small.length + large.length, s.mallocs());
            assertConsistent(s);
            for (long p : ps) {
                a.free(p);
            }
            assertEquals(0, totalBlocksInUse(a.stats()));
            assertEquals(0, a.stats().largeAllocations());
        }
    }
}
