package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertThrowsWithMessage;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SegmentAllocatorTest {

    @Test
    void allocateReturnsANativeSegmentOfExactlyTheRequestedSize() {
        try (Allocator a = Allocator.create()) {
            for (long size : new long[] {1, 3, 16, 17, 100, 512, 513, 4096, 100_000}) {
                MemorySegment s = a.allocate(size, 8);
                assertTrue(s.isNative());
                assertEquals(size, s.byteSize(), "byteSize is the request, not the block size");
                assertEquals(0, s.address() % 8);
                assertTrue(s.scope().isAlive());
                s.fill((byte) 7);
                assertEquals(size <= 512 ? 1 : 0, totalBlocksInUse(a.stats()));
                a.free(s);
                assertEquals(0, totalBlocksInUse(a.stats()));
                assertEquals(0, a.stats().largeAllocations());
            }
            assertConsistent(a.stats());
        }
    }

    @Test
    void allocateZeroBytes() {
        try (Allocator a = Allocator.create()) {
            MemorySegment s = a.allocate(0, 1);
            assertEquals(0, s.byteSize());
            assertTrue(s.isNative());
            assertNotEquals(0L, s.address(), "a zero-size allocation is a unique block, not NULL");
            a.free(s);
            assertEquals(0, totalBlocksInUse(a.stats()));
        }
    }

    @Test
    void defaultMethodsOfSegmentAllocatorWork() {
        try (Allocator a = Allocator.create()) {
            SegmentAllocator sa = a;
            MemorySegment ints = sa.allocateFrom(ValueLayout.JAVA_INT, 1, 2, 3);
            assertEquals(12, ints.byteSize());
            assertEquals(0, ints.address() % ValueLayout.JAVA_INT.byteAlignment());
            assertArrayEquals(new int[] {1, 2, 3}, ints.toArray(ValueLayout.JAVA_INT));

            MemorySegment str = sa.allocateFrom("hello, pymalloc4j");
            assertEquals("hello, pymalloc4j", str.getString(0));

            MemorySegment one = sa.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, one.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(8, one.byteSize());

            MemoryLayout point = MemoryLayout.structLayout(
                    ValueLayout.JAVA_DOUBLE.withName("x"), ValueLayout.JAVA_DOUBLE.withName("y"));
            MemorySegment pts = sa.allocate(point, 10);
            assertEquals(160, pts.byteSize());
            assertEquals(0, pts.address() % 8);

            MemorySegment big = sa.allocate(ValueLayout.JAVA_BYTE, 10_000);
            assertEquals(10_000, big.byteSize());

            MemorySegment aligned = sa.allocate(64, 4096);
            assertEquals(0, aligned.address() % 4096);

            var s = a.stats();
            assertEquals(6, s.mallocs(), "allocate counts as an allocation");
            // 10 000 bytes is large, and so is allocate(64, 4096): alignUp(64, 4096) > 512
            assertEquals(2, s.largeAllocations(), "large segments");
            assertEquals(2, s.largeMallocs(), "large segments");
            for (MemorySegment m : new MemorySegment[] {ints, str, one, pts, big, aligned}) {
                a.free(m);
            }
            assertEquals(0, totalBlocksInUse(a.stats()));
            assertEquals(0, a.stats().largeAllocations());
            assertEquals(6, a.stats().frees());
            assertConsistent(a.stats());
        }
    }

    @Test
    void segmentsHaveTheAllocatorsSharedLifetimeAndWorkFromOtherThreads() throws Exception {
        MemorySegment kept;
        try (Allocator a = Allocator.create()) {
            MemorySegment s = a.allocate(64, 16);
            CompletableFuture.runAsync(() -> s.set(ValueLayout.JAVA_LONG, 8, 42L))
                    .get(10, TimeUnit.SECONDS);
            assertEquals(42L, s.get(ValueLayout.JAVA_LONG, 8));
            assertNotSame(MemorySegment.NULL.scope().getClass(), s.scope().getClass(), "not global scope");
            assertTrue(s.scope().isAlive());
            assertSame(s.scope(), a.allocate(16, 8).scope(), "one lifetime for every segment");
            CompletableFuture.runAsync(() -> a.free(s)).get(10, TimeUnit.SECONDS);
            assertEquals(1, totalBlocksInUse(a.stats()));
            kept = a.allocate(32, 8);
        }
        assertFalse(kept.scope().isAlive(), "closing the allocator ends its segments' lifetime");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> kept.get(ValueLayout.JAVA_LONG, 0));
        assertNotNull(e.getMessage());
        assertThrows(IllegalStateException.class, () -> kept.set(ValueLayout.JAVA_LONG, 0, 1L));
    }

    @Test
    void freeOfASegmentReturnsTheBlockAndAddressFreeWorksToo() {
        try (Allocator a = Allocator.create()) {
            MemorySegment s = a.allocate(40, 8);
            assertEquals(48, a.usableSize(s.address()));
            a.free(s.address()); // segments and addresses are interchangeable
            MemorySegment t = a.allocate(40, 8);
            long p = a.malloc(40);
            a.free(MemorySegment.ofAddress(p)); // a zero-length view of the block's address frees it too
            a.free(t);
            assertEquals(0, totalBlocksInUse(a.stats()));
        }
    }

    @Test
    void freeOfNullSegmentIsANoOp() {
        try (Allocator a = Allocator.create()) {
            var before = TestSupport.fingerprint(a.stats());
            a.free(MemorySegment.NULL);
            TestSupport.assertSameFingerprint(before, TestSupport.fingerprint(a.stats()), "free(NULL)");
        }
    }

    @Test
    void badSegments() {
        try (Allocator a = Allocator.create();
                Arena arena = Arena.ofConfined()) {
            MemorySegment live = a.allocate(32, 8);
            var before = TestSupport.fingerprint(a.stats());
            assertThrowsWithMessage(
                    IllegalArgumentException.class,
                    () -> a.free(MemorySegment.ofArray(new byte[16])),
                    "native",
                    "heap");
            assertThrowsWithMessage(
                    IllegalArgumentException.class,
                    () -> a.free(arena.allocate(16)),
                    "not allocated by this allocator");
            assertThrowsWithMessage(IllegalArgumentException.class, () -> a.free(live.asSlice(8)), "interior pointer");
            TestSupport.assertSameFingerprint(before, TestSupport.fingerprint(a.stats()), "bad segments");
            a.free(live);
            assertThrowsWithMessage(IllegalArgumentException.class, () -> a.free(live), "double free");
            assertThrowsWithMessage(IllegalArgumentException.class, () -> a.allocate(-1, 8), "size", "negative");
            assertThrowsWithMessage(IllegalArgumentException.class, () -> a.allocate(8, 3), "align");
        }
    }

    @Test
    void usableAsAnArgumentForOtherAllocatorsUsers() {
        // the contract: Allocator can be handed to APIs that take a SegmentAllocator
        try (Allocator a = Allocator.create()) {
            MemorySegment copy = copyInto(a, new long[] {5, 6, 7});
            assertArrayEquals(new long[] {5, 6, 7}, copy.toArray(ValueLayout.JAVA_LONG));
            a.free(copy);
        }
    }

    private static MemorySegment copyInto(SegmentAllocator sa, long[] values) {
        return sa.allocateFrom(ValueLayout.JAVA_LONG, values);
    }
}
