package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.assertSameFingerprint;
import static io.github.pymalloc4j.TestSupport.fingerprint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The explicit per-thread handle keeps every guarantee of the allocator's own calls: the same blocks, the
 * same refusals of bad input with nothing changed, correct (general-path) behaviour from another thread or
 * a virtual thread, and after close.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ThreadHeapTest {

    @Test
    void mallocAndFreeMatchTheAllocatorAndMix() {
        long seed = 0x7ead;
        try (Allocator a = Allocator.create()) {
            ThreadHeap h = a.threadHeap();
            assertEquals(a, h.allocator());
            SplittableRandom r = new SplittableRandom(seed);
            List<long[]> live = new ArrayList<>();
            for (int i = 0; i < 50_000; i++) {
                if (live.isEmpty() || r.nextInt(3) > 0) {
                    long size = r.nextInt(3) == 0 ? 513 + r.nextInt(2000) : r.nextInt(513);
                    long p = r.nextBoolean() ? h.malloc(size) : a.malloc(size);
                    TestSupport.fill(p, size, i);
                    live.add(new long[] {p, size, i});
                } else {
                    long[] b = live.remove(r.nextInt(live.size()));
                    TestSupport.assertPattern(b[0], b[1], b[2], () -> "seed " + seed);
                    if (r.nextBoolean()) {
                        h.free(b[0]);
                    } else {
                        a.free(b[0]);
                    }
                }
            }
            for (long[] b : live) {
                h.free(b[0]);
            }
            AllocatorStats s = a.stats();
            assertEquals(0, s.bytesInAllocatedBlocks() + s.largeBytes(), "seed " + seed);
            assertEquals(s.mallocs(), s.frees(), "seed " + seed);
        }
    }

    @Test
    void badFreesThroughTheHandleChangeNothing() {
        try (Allocator a = Allocator.create()) {
            ThreadHeap h = a.threadHeap();
            long p = h.malloc(48);
            long q = h.malloc(48);
            h.free(q);
            Map<String, String> before = fingerprint(a.stats());
            assertThrows(IllegalArgumentException.class, () -> h.free(q), "double free");
            assertThrows(IllegalArgumentException.class, () -> h.free(p + 16), "interior");
            assertThrows(IllegalArgumentException.class, () -> h.free(p + 8), "misaligned");
            assertThrows(IllegalArgumentException.class, () -> h.free(0x1000), "foreign");
            assertThrows(IllegalArgumentException.class, () -> h.free(-16), "negative");
            assertThrows(IllegalArgumentException.class, () -> h.free(p + (1L << 20) * 64), "in the range, no arena");
            assertThrows(IllegalArgumentException.class, () -> h.malloc(-1), "negative size");
            assertSameFingerprint(before, fingerprint(a.stats()), "bad calls through a thread heap");
            h.free(0);
            h.free(p);
            assertEquals(0, a.stats().bytesInAllocatedBlocks() + a.stats().largeBytes());
        }
    }

    @Test
    void anotherThreadUsesTheGeneralPath() throws Exception {
        try (Allocator a = Allocator.create()) {
            ThreadHeap mine = a.threadHeap();
            long p = mine.malloc(100);
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                long q = other.submit(() -> {
                            mine.free(p); // a remote free of a block of this thread's pool
                            long b = mine.malloc(100); // served from the other thread's own heap
                            assertThrows(IllegalArgumentException.class, () -> mine.free(p));
                            return b;
                        })
                        .get();
                assertNotEquals(0, q);
                mine.free(q); // a remote free back
                assertThrows(IllegalArgumentException.class, () -> mine.free(q));
            } finally {
                other.shutdown();
            }
            a.trim();
            assertEquals(0, a.stats().bytesInAllocatedBlocks() + a.stats().largeBytes());
        }
    }

    @Test
    void aVirtualThreadsHandleWorks() throws Exception {
        try (Allocator a = Allocator.create()) {
            long[] got = new long[1];
            Thread t = Thread.ofVirtual().start(() -> {
                ThreadHeap h = a.threadHeap();
                long p = h.malloc(64);
                TestSupport.fill(p, 64, 7);
                TestSupport.assertPattern(p, 64, 7);
                h.free(p);
                assertThrows(IllegalArgumentException.class, () -> h.free(p));
                got[0] = h.malloc(32);
            });
            t.join();
            assertTrue(got[0] != 0);
            a.free(got[0]);
            assertEquals(0, a.stats().bytesInAllocatedBlocks() + a.stats().largeBytes());
        }
    }

    @Test
    void callsAfterCloseThrow() {
        Allocator a = Allocator.create();
        ThreadHeap h = a.threadHeap();
        long p = h.malloc(32);
        a.close();
        assertThrows(IllegalStateException.class, () -> h.malloc(32));
        assertThrows(IllegalStateException.class, () -> h.free(p));
        assertThrows(IllegalStateException.class, a::threadHeap);
    }
}
