package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.KiB;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.freePools;
import static io.github.pymalloc4j.TestSupport.poolsInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** pymalloc's placement rules: new pools come from the fullest arena; a pool that regains room is used first. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PlacementPolicyTest {

    private static final long ARENA = 64 * KiB;
    private static final long POOL = 4 * KiB;

    private static String occupancy(AllocatorStats s) {
        StringBuilder b = new StringBuilder();
        for (var a : s.arenas()) {
            b.append(String.format("%n  arena 0x%x: %d/%d pools in use", a.address(), poolsInUse(a), a.poolsTotal()));
        }
        return b.toString();
    }

    @Test
    void newPoolsComeFromTheFullestArena() {
        try (Allocator a = Allocator.builder()
                .arenaSize(ARENA)
                .poolSize(POOL)
                .purgeDelay(Duration.ZERO)
                .build()) {
            // learn the geometry
            long probe = a.malloc(512);
            var s0 = a.stats();
            int poolsPerArena = s0.arenas().get(0).poolsTotal();
            int cap = s0.arenas().get(0).pools().stream()
                    .filter(p -> p.sizeClass() == 31)
                    .findFirst()
                    .orElseThrow()
                    .capacity();
            a.free(probe);

            // exactly 4 full arenas of 512-byte blocks
            int arenas = 4;
            int n = arenas * poolsPerArena * cap;
            long[] ps = new long[n];
            for (int i = 0; i < n; i++) {
                ps[i] = a.malloc(512);
            }
            var s1 = a.stats();
            assertConsistent(s1, "4 full arenas");
            assertEquals(arenas, s1.arenasCurrent(), "n blocks fill exactly 4 arenas");
            for (var ar : s1.arenas()) {
                assertEquals(ar.poolsTotal(), poolsInUse(ar), "every pool in use");
            }
            var g = new TestSupport.Geometry(s1);
            // group blocks: arena -> pool -> blocks
            List<Map<Long, List<Integer>>> byArena = new ArrayList<>();
            for (int i = 0; i < arenas; i++) {
                byArena.add(new TreeMap<>());
            }
            for (int i = 0; i < n; i++) {
                int ai = g.arenaIndexOf(ps[i]);
                byArena.get(ai)
                        .computeIfAbsent(g.poolOf(ps[i]), k -> new ArrayList<>())
                        .add(i);
            }
            for (var m : byArena) {
                assertEquals(poolsPerArena, m.size(), "pools per arena as seen from block addresses");
            }
            // free whole pools: arena k gets wholePools[k] free pools; plus scattered single blocks elsewhere
            int[] wholePools = {
                Math.min(6, poolsPerArena - 3), 2, Math.min(9, poolsPerArena - 3), Math.min(4, poolsPerArena - 3)
            };
            List<Integer> stillLive = new ArrayList<>();
            for (int ai = 0; ai < arenas; ai++) {
                // scattered choice of pool positions: odd ones first, then even ones from the top
                List<Integer> order = new ArrayList<>();
                for (int k = 1; k < poolsPerArena; k += 2) {
                    order.add(k);
                }
                for (int k = poolsPerArena - 1 - (poolsPerArena - 1) % 2; k > 0; k -= 2) {
                    order.add(k);
                }
                var chosen = new java.util.HashSet<>(order.subList(0, wholePools[ai]));
                int k = 0;
                for (var pool : byArena.get(ai).values()) {
                    boolean wholly = chosen.contains(k);
                    for (int j = 0; j < pool.size(); j++) {
                        int idx = pool.get(j);
                        if (wholly) {
                            a.free(ps[idx]);
                            ps[idx] = 0;
                        } else {
                            stillLive.add(idx);
                        }
                    }
                    k++;
                }
            }
            // scattered single frees inside pools that stay in use: they do not change the free pool counts
            for (int j = 0; j < stillLive.size(); j += 5) {
                int idx = stillLive.get(j);
                a.free(ps[idx]);
                ps[idx] = 0;
            }
            var s2 = a.stats();
            assertConsistent(s2, "after scattered frees");
            int fullest = -1;
            int fewest = Integer.MAX_VALUE;
            for (int ai = 0; ai < s2.arenas().size(); ai++) {
                int f = freePools(s2.arenas().get(ai));
                assertTrue(f < s2.arenas().get(ai).poolsTotal(), "no arena became wholly free");
                if (f > 0 && f < fewest) {
                    fewest = f;
                    fullest = ai;
                }
            }
            final int expectedArena = fullest;
            final String occ = occupancy(s2);
            assertEquals(2, fewest, () -> "test setup: the fullest arena with room has 2 free pools" + occ);

            // a class with no pool yet needs a fresh pool: it must come from the fullest arena (with room)
            List<Long> sixteen = new ArrayList<>();
            long q = a.malloc(16);
            sixteen.add(q);
            var s3 = a.stats();
            assertEquals(
                    expectedArena,
                    new TestSupport.Geometry(s3).arenaIndexOf(q),
                    () -> "first 16-byte block should be in the fullest arena (index " + expectedArena + ")" + occ);
            // more new classes: each needs a new pool, and the fullest arena is always preferred
            for (int cls = 1; cls < 31; cls++) {
                var before = a.stats();
                int want = -1;
                int least = Integer.MAX_VALUE;
                for (int ai = 0; ai < before.arenas().size(); ai++) {
                    int f = freePools(before.arenas().get(ai));
                    if (f > 0 && f < least) {
                        least = f;
                        want = ai;
                    }
                }
                if (want < 0) {
                    break;
                }
                long p = a.malloc(16L * (cls + 1));
                sixteen.add(p);
                var after = a.stats();
                int got = new TestSupport.Geometry(after).arenaIndexOf(p);
                final int w = want, c = cls;
                final String o = occupancy(before);
                // ties: any arena with the same (least) number of free pools is acceptable
                assertEquals(
                        least,
                        freePools(before.arenas().get(got)),
                        () -> "class " + c + " new pool went to arena " + got + " instead of the fullest (" + w + ")"
                                + o);
            }
            for (long p : sixteen) {
                a.free(p);
            }
            for (long p : ps) {
                if (p != 0) {
                    a.free(p);
                }
            }
            assertTrue(a.stats().arenasCurrent() <= 1);
        }
    }

    @Test
    void aPoolThatRegainsRoomIsReusedBeforeFreshPools() {
        // Duration.ZERO: memory goes back in the freeing call, no maintenance round in between
        try (Allocator a = Allocator.builder().purgeDelay(Duration.ZERO).build()) {
            long first = a.malloc(256);
            var s0 = a.stats();
            int cap = s0.arenas().get(0).pools().stream()
                    .filter(p -> p.sizeClass() == 15)
                    .findFirst()
                    .orElseThrow()
                    .capacity();
            // exactly 3 full pools of class 15 (256 bytes)
            List<Long> blocks = new ArrayList<>();
            blocks.add(first);
            for (int i = 1; i < 3 * cap; i++) {
                blocks.add(a.malloc(256));
            }
            // a carved pool of another class that becomes empty again (a fresh-pool candidate that is already carved)
            List<Long> other = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                other.add(a.malloc(64));
            }
            for (long p : other) {
                a.free(p);
            }
            var s1 = a.stats();
            assertEquals(3, s1.sizeClasses().get(15).pools());
            assertEquals(0, s1.sizeClasses().get(15).blocksAvailable(), "all 3 pools full");
            var g = new TestSupport.Geometry(s1);
            // the middle pool regains one block
            long victim = blocks.get(cap + cap / 2);
            long pool = g.poolOf(victim);
            a.free(victim);
            long p = a.malloc(256);
            assertEquals(pool, g.poolOf(p), "the next 256-byte block comes from the pool that regained room");
            assertEquals(victim, p);
            assertEquals(3, a.stats().sizeClasses().get(15).pools(), "no fresh pool was carved");

            // several pools regain room: all of that room is used before a 4th pool is carved
            int freed = 0;
            for (int k = 0; k < 3; k++) {
                for (int j = 0; j < 3; j++) {
                    int idx = k * cap + 1 + 5 * j;
                    long b = blocks.get(idx);
                    if (b == victim) {
                        continue;
                    }
                    a.free(b);
                    blocks.set(idx, 0L);
                    freed++;
                }
            }
            for (int i = 0; i < freed; i++) {
                long r = a.malloc(256);
                blocks.add(r);
                assertEquals(
                        3, a.stats().sizeClasses().get(15).pools(), "room in used pools is used before fresh pools");
            }
            long r = a.malloc(256);
            blocks.add(r);
            assertEquals(4, a.stats().sizeClasses().get(15).pools(), "only now a 4th pool");
            for (long b : blocks) {
                if (b != 0) {
                    a.free(b);
                }
            }
            assertConsistent(a.stats());
        }
    }

    @Test
    void emptiedPoolIsReturnedToItsArenaAndCanServeAnotherClass() {
        try (Allocator a = Allocator.builder()
                .arenaSize(ARENA)
                .poolSize(POOL)
                .purgeDelay(Duration.ZERO)
                .build()) {
            long keep = a.malloc(16); // keeps the arena alive
            long p = a.malloc(100);
            var g = new TestSupport.Geometry(a.stats());
            long pool = g.poolOf(p);
            a.free(p);
            var s = a.stats();
            assertEquals(0, s.sizeClasses().get(6).pools(), "empty pool left its class");
            // fill every free pool with other classes: the old pool must be among the ones carved again
            List<Long> ps = new ArrayList<>();
            boolean reused = false;
            for (int i = 0; i < 2000 && !reused; i++) {
                long q = a.malloc(480);
                ps.add(q);
                reused = g.poolOf(q) == pool;
            }
            assertTrue(reused, "the emptied pool serves another class again");
            for (long q : ps) {
                a.free(q);
            }
            a.free(keep);
        }
    }
}
