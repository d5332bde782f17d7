package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A write after free that overwrites a free-list link is detected when the link is followed, reported,
 * and repaired from the bitmap: the allocator goes on handing out only free blocks of the pool.
 */
class HeapCorruptionTest {
    @Test
    void overwrittenFreeListLinkIsDetectedAndRepaired() {
        for (final long bad : new long[] {0x1234_5678_0000L, 8, -1}) {
            try (Allocator allocator = Allocator.create()) {
                final long a = allocator.malloc(64);
                final long b = allocator.malloc(64);
                final long c = allocator.malloc(64);
                allocator.free(a);
                allocator.free(b);
                // b is the head of the free list, its first 8 bytes link to a. Corrupt the link.
                final long link =
                        b == 0 ? 0 : MemorySegment.ofAddress(b).reinterpret(8).get(ValueLayout.JAVA_LONG, 0);
                assertEquals(a, link, "free list links b -> a");
                MemorySegment.ofAddress(b).reinterpret(8).set(ValueLayout.JAVA_LONG, 0, bad == 8 ? c + 8 : bad);
                assertEquals(b, allocator.malloc(64), "the head itself is still valid");
                final IllegalStateException e = assertThrows(IllegalStateException.class, () -> allocator.malloc(64));
                assertTrue(e.getMessage().contains("heap corruption"), e.getMessage());
                // Repaired: the next allocations are a, then fresh blocks, never c or b (both live).
                final Set<Long> handedOut = new HashSet<>();
                for (int i = 0; i < 300; i++) {
                    final long p = allocator.malloc(64);
                    assertNotEquals(b, p);
                    assertNotEquals(c, p);
                    assertTrue(handedOut.add(p), "no block handed out twice");
                }
                assertTrue(handedOut.contains(a), "the lost free block is recovered");
                final AllocatorStats stats = allocator.stats();
                assertEquals(stats.arenaBytes(), stats.accountedBytes());
                assertEquals(302, stats.sizeClasses().get(3).blocksInUse());
            }
        }
    }

    @Test
    void cycleInFreeListIsDetected() {
        try (Allocator allocator = Allocator.create()) {
            final long a = allocator.malloc(32);
            allocator.malloc(32);
            allocator.free(a);
            // a links to itself: after a is popped, the head points at a live block.
            MemorySegment.ofAddress(a).reinterpret(8).set(ValueLayout.JAVA_LONG, 0, a);
            assertEquals(a, allocator.malloc(32));
            assertThrows(IllegalStateException.class, () -> allocator.malloc(32));
            final long next = allocator.malloc(32);
            assertNotEquals(a, next);
            allocator.free(next);
            allocator.free(a);
        }
    }
}
