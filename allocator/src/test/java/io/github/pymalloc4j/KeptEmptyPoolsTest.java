package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A heap keeps up to {@link Heap#MAX_KEPT_EMPTY} emptied pools listed (besides the last of each class), so a
 * batch that empties and refills pools carves nothing; the rest go back at once, maintenance and trim give the
 * kept ones back, and a request the limit refused because of them succeeds once the caller's are given back.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KeptEmptyPoolsTest {

    private static final int PER_POOL = 32; // 512-byte blocks in a 16 KiB pool

    /** Arena slot and pool index of every pool of class 31 that holds blocks or is kept, by its heap. */
    private static Set<String> class31Pools(Allocator a) {
        Set<String> pools = new TreeSet<>();
        AllocatorStats s = a.stats();
        for (var arena : s.arenas()) {
            for (var p : arena.pools()) {
                if (p.sizeClass() == 31) {
                    pools.add(arena.address() + ":" + p.index());
                }
            }
        }
        return pools;
    }

    private static long[] fill(Allocator a, int blocks) {
        long[] b = new long[blocks];
        for (int i = 0; i < blocks; i++) {
            b[i] = a.malloc(512);
        }
        return b;
    }

    @Test
    void aBatchRefillsTheSamePoolsAndTheCapHolds() {
        try (Allocator a = Allocator.builder().purgeDelay(Duration.ofMinutes(1)).build()) {
            long[] b = fill(a, PER_POOL * 10);
            Set<String> first = class31Pools(a);
            assertEquals(10, first.size());
            for (long x : b) {
                a.free(x);
            }
            assertEquals(first, class31Pools(a), "emptied pools are kept");
            b = fill(a, PER_POOL * 10);
            assertEquals(first, class31Pools(a), "the refill carved no pool");
            for (long x : b) {
                a.free(x);
            }

            long[] many = fill(a, PER_POOL * (Heap.MAX_KEPT_EMPTY + 20));
            for (long x : many) {
                a.free(x);
            }
            int kept = class31Pools(a).size();
            assertTrue(kept <= Heap.MAX_KEPT_EMPTY + 1, kept + " pools kept");
            assertTrue(kept >= Heap.MAX_KEPT_EMPTY, kept + " pools kept");
            a.trim();
            assertTrue(class31Pools(a).isEmpty(), "trim gives every empty pool back: " + class31Pools(a));
        }
    }

    @Test
    void maintenanceGivesKeptPoolsBack() throws InterruptedException {
        try (Allocator a = Allocator.builder().purgeDelay(Duration.ofMillis(5)).build()) {
            for (long x : fill(a, PER_POOL * 8)) {
                a.free(x);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!class31Pools(a).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(class31Pools(a).isEmpty(), "kept pools still held: " + class31Pools(a));
        }
    }

    @Test
    void aLargeBlockRefusedForKeptPoolsSucceedsOnceTheyAreGivenBack() {
        // Three arenas of 512-byte blocks, all freed: the heap keeps the first 64 emptied pools (the first
        // arena) and the last pool of the class (the third); the second is wholly free. 3 MiB fits under
        // the 5 MiB limit only if the kept pools' arena goes too.
        long limit = 5L << 20;
        try (Allocator a = Allocator.builder()
                .purgeDelay(Duration.ofMinutes(1))
                .maxReservedBytes(limit)
                .build()) {
            long[] b = fill(a, PER_POOL * 64 * 3);
            for (long x : b) {
                a.free(x);
            }
            assertEquals(3, a.stats().arenasCurrent());
            long big;
            try {
                big = a.malloc(3L << 20);
            } catch (OutOfMemoryError e) {
                throw new AssertionError("refused although kept pools could be given back: " + e.getMessage(), e);
            }
            a.free(big);
            assertEquals(0, class31Pools(a).size() > 1 ? 1 : 0, "the caller's kept pools were given back");
        }
    }
}
