package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The sorted usable-arena list and its finger array stay consistent through random pool churn across
 * many small arenas (4 pools each, so arenas fill, drain and are unmapped often).
 */
class ArenaListInvariantTest {
    @Test
    void sortedArenaListSurvivesRandomChurn() {
        for (final long seed : new long[] {1, 2, 3, 42, 1234}) {
            churn(seed);
        }
    }

    private static void churn(final long seed) {
        final SplittableRandom random = new SplittableRandom(seed);
        try (Allocator allocator = Allocator.builder()
                .arenaSize(64 << 10)
                .poolSize(16 << 10)
                .purgeDelay(Duration.ZERO)
                .build()) {
            final List<Long> live = new ArrayList<>();
            for (int op = 0; op < 60_000; op++) {
                // Phases of growth and shrinkage make arenas fill up and empty out.
                final boolean grow = (op / 5_000) % 2 == 0;
                if (!live.isEmpty() && random.nextInt(100) < (grow ? 30 : 70)) {
                    final int k = random.nextInt(live.size());
                    allocator.free(live.get(k));
                    live.set(k, live.get(live.size() - 1));
                    live.remove(live.size() - 1);
                } else {
                    live.add(allocator.malloc(256 + random.nextInt(257)));
                }
                if (op % 97 == 0) {
                    assertNull(allocator.checkInvariants(), "seed " + seed + " op " + op);
                    final AllocatorStats stats = allocator.stats();
                    assertEquals(stats.arenaBytes(), stats.accountedBytes(), "seed " + seed + " op " + op);
                }
            }
            for (final long address : live) {
                allocator.free(address);
            }
            assertNull(allocator.checkInvariants(), "seed " + seed);
            final AllocatorStats stats = allocator.stats();
            assertEquals(1, stats.arenasCurrent(), "seed " + seed + ": one wholly free arena is kept");
            assertTrue(stats.arenasReclaimed() > 0, "seed " + seed + ": drained arenas were unmapped");
        }
    }

    @Test
    void newPoolsComeFromTheFullestArena() {
        try (Allocator allocator = Allocator.builder()
                .arenaSize(64 << 10)
                .poolSize(16 << 10)
                .purgeDelay(Duration.ZERO)
                .build()) {
            // Fill 3 arenas with 512-byte blocks: 32 per pool, 4 pools per arena.
            final List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 3 * 4 * 32; i++) {
                blocks.add(allocator.malloc(512));
            }
            assertEquals(3, allocator.stats().arenasCurrent());
            final List<AllocatorStats.ArenaStats> arenas = allocator.stats().arenas();
            // Empty one pool in arena 0 and three pools in arena 1: arena 0 is the fullest usable one.
            freePools(allocator, blocks, arenas.get(0).address(), 1);
            freePools(allocator, blocks, arenas.get(1).address(), 3);
            assertNull(allocator.checkInvariants());
            final long fresh = allocator.malloc(100);
            assertEquals(arenas.get(0).address(), fresh & -(64L << 10), "new pool taken from the fullest arena");
        }
    }

    private static void freePools(
            final Allocator allocator, final List<Long> blocks, final long arenaBase, final int pools) {
        final long end = arenaBase + pools * (16L << 10);
        blocks.removeIf(b -> {
            if (b >= arenaBase && b < end) {
                allocator.free(b);
                return true;
            }
            return false;
        });
    }
}
