package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.alignUp;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertNoOverlap;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.assertThrowsWithMessage;
import static io.github.pymalloc4j.TestSupport.fill;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AlignmentTest {

    static final long[] SIZES = {0, 1, 7, 8, 15, 16, 17, 31, 100, 255, 256, 257, 500, 511, 512, 513, 1000, 4096, 10_000
    };

    @Test
    void mallocAlignedHonoursEveryPowerOfTwoUpTo4096() {
        try (Allocator a = Allocator.create()) {
            List<long[]> blocks = new ArrayList<>(); // {address, size, seed}
            long expectSmall = 0, expectLarge = 0;
            long seed = 0;
            for (long align = 1; align <= 4096; align <<= 1) {
                for (long size : SIZES) {
                    long p = a.mallocAligned(size, align);
                    final long al = align, sz = size;
                    assertNotEquals(0L, p);
                    assertEquals(
                            0,
                            p & (align - 1),
                            () -> "mallocAligned(" + sz + ", " + al + ") = 0x" + Long.toHexString(p) + " misaligned");
                    assertTrue(
                            a.usableSize(p) >= size,
                            () -> "usableSize >= size for mallocAligned(" + sz + ", " + al + ")");
                    if (alignUp(Math.max(size, 1), align) <= 512) {
                        expectSmall++;
                    } else {
                        expectLarge++;
                    }
                    fill(p, size, ++seed);
                    blocks.add(new long[] {p, size, seed});
                }
                var s = a.stats();
                final long al = align;
                assertEquals(expectSmall, totalBlocksInUse(s), () -> "pool blocks after align " + al);
                assertEquals(expectLarge, s.largeAllocations(), () -> "large blocks after align " + al);
                assertConsistent(s, "align " + align);
            }
            long[] addr = new long[blocks.size()];
            long[] len = new long[blocks.size()];
            for (int i = 0; i < blocks.size(); i++) {
                addr[i] = blocks.get(i)[0];
                len[i] = Math.max(1, blocks.get(i)[1]);
            }
            assertNoOverlap(addr, len, addr.length, "aligned blocks");
            for (long[] b : blocks) {
                assertPattern(b[0], b[1], b[2]);
                a.free(b[0]);
            }
            var s = a.stats();
            assertEquals(0, totalBlocksInUse(s));
            assertEquals(0, s.largeAllocations());
            assertEquals(blocks.size(), s.mallocs());
            assertEquals(blocks.size(), s.frees());
            assertConsistent(s);
        }
    }

    @Test
    void manySmallAlignedBlocksInOneClass() {
        // e.g. 48 bytes at alignment 32 -> 64-byte blocks; every one of them must be 32-aligned, not only the first
        try (Allocator a = Allocator.create()) {
            for (long align : new long[] {32, 64, 128, 256, 512}) {
                for (long size : new long[] {1, 48, 96, 200, 384}) {
                    if (alignUp(size, align) > 512) {
                        continue;
                    }
                    long[] ps = new long[600];
                    for (int i = 0; i < ps.length; i++) {
                        ps[i] = a.mallocAligned(size, align);
                        final long al = align, sz = size;
                        final int ii = i;
                        assertEquals(
                                0,
                                ps[i] & (align - 1),
                                () -> "#" + ii + " mallocAligned(" + sz + ", " + al + ") misaligned: 0x"
                                        + Long.toHexString(ps[ii]));
                    }
                    for (long p : ps) {
                        a.free(p);
                    }
                }
            }
            assertEquals(0, totalBlocksInUse(a.stats()));
            assertConsistent(a.stats());
        }
    }

    @Test
    void alignedAndUnalignedBlocksOfTheSameClassInterleave() {
        try (Allocator a = Allocator.create()) {
            List<Long> ps = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                ps.add(a.malloc(80)); // 80-byte class
                long q = a.mallocAligned(70, 32); // alignUp(70, 32) = 96
                assertEquals(0, q & 31, "aligned block among unaligned ones");
                ps.add(q);
                if (i % 3 == 0) {
                    a.free(ps.remove(ps.size() - 2));
                }
            }
            for (long p : ps) {
                a.free(p);
            }
            assertConsistent(a.stats());
        }
    }

    @Test
    void segmentAllocateHonoursAlignment() {
        try (Allocator a = Allocator.create()) {
            List<MemorySegment> segs = new ArrayList<>();
            for (long align = 1; align <= 4096; align <<= 1) {
                for (long size : SIZES) {
                    MemorySegment s = a.allocate(size, align);
                    final long al = align, sz = size;
                    assertTrue(s.isNative());
                    assertEquals(size, s.byteSize(), () -> "allocate(" + sz + ", " + al + ").byteSize()");
                    assertEquals(0, s.address() & (align - 1), () -> "allocate(" + sz + ", " + al + ") misaligned");
                    s.fill((byte) 0x5A);
                    segs.add(s);
                }
            }
            for (MemorySegment s : segs) {
                a.free(s);
            }
            var st = a.stats();
            assertEquals(0, totalBlocksInUse(st));
            assertEquals(0, st.largeAllocations());
            assertConsistent(st);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {3, 0, -8, 6, 12, 4095, -1, Long.MIN_VALUE, Long.MAX_VALUE})
    void alignmentThatIsNotAPositivePowerOfTwoIsRejected(long align) {
        try (Allocator a = Allocator.create()) {
            long live = a.malloc(32);
            var before = TestSupport.fingerprint(a.stats());
            assertThrowsWithMessage(IllegalArgumentException.class, () -> a.mallocAligned(16, align), "align");
            assertThrowsWithMessage(IllegalArgumentException.class, () -> a.allocate(16, align), "align");
            TestSupport.assertSameFingerprint(before, TestSupport.fingerprint(a.stats()), "bad alignment " + align);
            a.free(live);
        }
    }
}
