package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.KiB;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.sizeClass;
import static io.github.pymalloc4j.TestSupport.totalBlocksInUse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
class StatsAccountingTest {

    /** Model of what the test allocated. */
    private static final class Model {
        final Map<Long, Long> small = new HashMap<>(); // address -> requested
        final Map<Long, Long> large = new HashMap<>(); // address -> requested
        long mallocs, frees, largeMallocs;

        long[] blocksPerClass() {
            long[] n = new long[32];
            for (long req : small.values()) {
                n[sizeClass(req)]++;
            }
            return n;
        }

        long[] requestedPerClass() {
            long[] n = new long[32];
            for (long req : small.values()) {
                n[sizeClass(req)] += req;
            }
            return n;
        }

        long largeBytes() {
            long s = 0;
            for (long v : large.values()) {
                s += v;
            }
            return s;
        }
    }

    private static void malloc(Allocator a, Model m, long size) {
        long p = a.malloc(size);
        m.mallocs++;
        if (size <= 512) {
            m.small.put(p, size);
        } else {
            m.large.put(p, size);
            m.largeMallocs++;
        }
    }

    private static void free(Allocator a, Model m, long p) {
        a.free(p);
        m.frees++;
        if (m.small.remove(p) == null && m.large.remove(p) == null) {
            fail("test bug: freeing unknown block");
        }
    }

    /** Model vs stats: counters, per-class blocks/requested bytes, pools = distinct pools holding live blocks. */
    private static void check(Allocator a, Model m, String ctx) {
        var s = a.stats();
        assertConsistent(s, ctx);
        assertEquals(m.mallocs, s.mallocs(), ctx + ": mallocs");
        assertEquals(m.frees, s.frees(), ctx + ": frees");
        assertEquals(m.largeMallocs, s.largeMallocs(), ctx + ": largeMallocs");
        assertEquals(m.large.size(), s.largeAllocations(), ctx + ": largeAllocations");
        assertEquals(m.largeBytes(), s.largeBytes(), ctx + ": largeBytes");
        long[] blocks = m.blocksPerClass();
        long[] req = m.requestedPerClass();
        var g = new TestSupport.Geometry(s);
        List<Set<Long>> pools = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            pools.add(new HashSet<>());
        }
        for (long p : m.small.keySet()) {
            pools.get(sizeClass(m.small.get(p))).add(g.poolOf(p));
            assertTrue(
                    g.arenaIndexOf(p) >= 0, () -> ctx + ": live small block 0x" + Long.toHexString(p) + " in no arena");
        }
        long reqTotal = 0;
        for (int i = 0; i < 32; i++) {
            var c = s.sizeClasses().get(i);
            final int ii = i;
            assertEquals(blocks[i], c.blocksInUse(), () -> ctx + ": class " + ii + " blocksInUse");
            assertEquals(req[i], c.bytesRequested(), () -> ctx + ": class " + ii + " bytesRequested");
            // one thread, one heap: besides the pools of live blocks, at most the heap's last empty pool
            // of the class is kept (until the purge delay passes)
            assertTrue(
                    c.pools() == pools.get(ii).size()
                            || c.pools() == pools.get(ii).size() + 1,
                    () -> ctx + ": class " + ii + " pools (" + c.pools() + ") == distinct pools of live blocks ("
                            + pools.get(ii).size() + "), or one kept empty pool");
            reqTotal += req[i];
            for (long pool : pools.get(i)) {
                var ps = g.poolStats(pool);
                assertNotNull(ps, () -> ctx + ": no PoolStats for pool 0x" + Long.toHexString(pool));
                assertEquals(i, ps.sizeClass(), () -> ctx + ": pool size class");
            }
        }
        assertEquals(reqTotal, s.bytesRequested(), ctx + ": bytesRequested");
        assertEquals(s.arenaBytes() + m.largeBytes(), s.reservedBytes(), ctx + ": reservedBytes");
    }

    @Test
    void freshAllocatorPoolsAndAvailableBlocksFollowCapacity() {
        try (Allocator a = Allocator.create()) {
            Random r = new Random(1);
            Model m = new Model();
            int[] n = new int[32];
            for (int i = 0; i < 32; i++) {
                n[i] = r.nextInt(700);
                for (int k = 0; k < n[i]; k++) {
                    malloc(a, m, 16L * i + 1 + r.nextInt(16));
                }
            }
            check(a, m, "after mallocs");
            var s = a.stats();
            for (int i = 0; i < 32; i++) {
                var c = s.sizeClasses().get(i);
                int cap = -1;
                for (var ar : s.arenas()) {
                    for (var p : ar.pools()) {
                        if (p.sizeClass() == i) {
                            cap = p.capacity();
                        }
                    }
                }
                if (n[i] == 0) {
                    assertEquals(0, c.pools());
                    continue;
                }
                final int ii = i, capacity = cap;
                assertTrue(cap >= (s.poolSize() - 512) / c.blockSize(), "capacity");
                // no frees: pools are filled one after another
                assertEquals(
                        (n[i] + cap - 1) / cap,
                        c.pools(),
                        () -> "class " + ii + " pools for " + n[ii] + " blocks of capacity " + capacity);
                assertEquals(
                        (long) c.pools() * cap - n[i], c.blocksAvailable(), () -> "class " + ii + " blocksAvailable");
            }
        }
    }

    @Test
    void variedWorkloadMatchesTheModel() {
        try (Allocator a = Allocator.create()) {
            Random r = new Random(2);
            Model m = new Model();
            for (int round = 0; round < 6; round++) {
                for (int k = 0; k < 3000; k++) {
                    int kind = r.nextInt(100);
                    long size = kind < 3 ? 513 + r.nextInt(20_000) : kind < 6 ? 0 : 1 + r.nextInt(512);
                    malloc(a, m, size);
                }
                check(a, m, "round " + round + " after mallocs");
                List<Long> addrs = new ArrayList<>(m.small.keySet());
                addrs.addAll(m.large.keySet());
                java.util.Collections.shuffle(addrs, r);
                for (int k = 0; k < addrs.size() * 2 / 3; k++) {
                    free(a, m, addrs.get(k));
                }
                check(a, m, "round " + round + " after frees");
            }
            for (long p : new ArrayList<>(m.small.keySet())) {
                free(a, m, p);
            }
            for (long p : new ArrayList<>(m.large.keySet())) {
                free(a, m, p);
            }
            a.trim(); // the last empty pool of each class is kept until the purge delay; trim returns them
            check(a, m, "after freeing all");
            var s = a.stats();
            assertEquals(0, totalBlocksInUse(s));
            assertEquals(0, s.bytesInAllocatedBlocks());
            assertEquals(0, s.bytesRequested());
            assertTrue(s.arenasCurrent() <= 1);
        }
    }

    @Test
    void alignedSmallBlocksKeepExactRequestedBytes() {
        // mallocAligned(1, 512) is a 512-byte pool block with 1 requested byte (511 bytes of slack)
        try (Allocator a = Allocator.create()) {
            long keep = a.malloc(512); // keeps the pool in use
            long p = a.mallocAligned(1, 512);
            assertEquals(513, a.stats().sizeClasses().get(31).bytesRequested());
            a.free(p);
            assertEquals(512, a.stats().sizeClasses().get(31).bytesRequested(), "after free(mallocAligned(1, 512))");
            long q = a.mallocAligned(100, 256); // 256-byte block, 100 requested
            long r = a.malloc(250); // same 256-byte class
            a.free(q);
            assertEquals(250, a.stats().sizeClasses().get(15).bytesRequested(), "after free(mallocAligned(100, 256))");
            assertConsistent(a.stats());
            a.free(r);
            a.free(keep);
            assertEquals(0, a.stats().bytesRequested());
        }
    }

    @Test
    void arenaLifecycleCounters() {
        try (Allocator a = Allocator.builder().purgeDelay(Duration.ZERO).build()) {
            var s0 = a.stats();
            assertEquals(0, s0.arenasAllocatedTotal());
            assertEquals(0, s0.arenasReclaimed());
            assertEquals(0, s0.arenasHighWater());
            assertEquals(0, s0.arenasCurrent());
            assertEquals(0.0, s0.externalFragmentation());

            // ~6 arenas of 512-byte blocks
            int n = 6 * 2048;
            long[] ps = new long[n];
            for (int i = 0; i < n; i++) {
                ps[i] = a.malloc(512);
            }
            var s1 = a.stats();
            assertConsistent(s1, "full");
            assertTrue(s1.arenasCurrent() >= 6, "6 MiB of 512-byte blocks need >= 6 arenas of 1 MiB");
            assertEquals(s1.arenasCurrent(), s1.arenasAllocatedTotal());
            assertEquals(s1.arenasCurrent(), s1.arenasHighWater());
            assertEquals(0, s1.arenasReclaimed());
            long peak = s1.arenasCurrent();

            // scattered: free 3 of every 4 blocks -> every arena still holds blocks, none reclaimed
            for (int i = 0; i < n; i++) {
                if (i % 4 != 0) {
                    a.free(ps[i]);
                }
            }
            var s2 = a.stats();
            assertConsistent(s2, "scattered");
            assertEquals(peak, s2.arenasCurrent(), "every arena still holds a live block");
            assertEquals(0, s2.arenasReclaimed());

            // free the rest: all but at most one arena are reclaimed
            for (int i = 0; i < n; i += 4) {
                a.free(ps[i]);
            }
            var s3 = a.stats();
            assertConsistent(s3, "all freed");
            assertTrue(
                    s3.arenasCurrent() <= 1, () -> "at most one wholly free arena kept, current " + s3.arenasCurrent());
            assertEquals(peak, s3.arenasHighWater(), "high water stays at the peak");
            assertEquals(peak, s3.arenasAllocatedTotal());
            assertEquals(peak - s3.arenasCurrent(), s3.arenasReclaimed());
            assertEquals(0, s3.bytesInAllocatedBlocks());
            assertEquals(s3.arenaBytes(), s3.bytesInFreePools() + s3.bytesLostToQuantization());

            // allocate again: the kept arena is reused before a new one is mapped
            long p = a.malloc(100);
            var s4 = a.stats();
            assertEquals(1, s4.arenasCurrent());
            assertEquals(
                    s3.arenasAllocatedTotal() + (s3.arenasCurrent() == 0 ? 1 : 0),
                    s4.arenasAllocatedTotal(),
                    "a kept free arena is reused");
            a.free(p);

            // a second wave reaches the same high water without exceeding it
            for (int i = 0; i < n; i++) {
                ps[i] = a.malloc(512);
            }
            var s5 = a.stats();
            assertEquals(peak, s5.arenasHighWater());
            for (int i = 0; i < n; i++) {
                a.free(ps[i]);
            }
            var s6 = a.stats();
            assertTrue(s6.arenasCurrent() <= 1);
            assertEquals(s6.arenasAllocatedTotal() - s6.arenasCurrent(), s6.arenasReclaimed());
            assertConsistent(s6, "second wave freed");
        }
    }

    @Test
    void atMostOneWhollyFreeArenaAtAnyTime() {
        try (Allocator a = Allocator.builder()
                .arenaSize(64 * KiB)
                .poolSize(4 * KiB)
                .purgeDelay(Duration.ZERO)
                .build()) {
            Random r = new Random(3);
            List<Long> live = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                live.add(a.malloc(1 + r.nextInt(512)));
            }
            java.util.Collections.shuffle(live, r);
            int step = 0;
            while (!live.isEmpty()) {
                a.free(live.remove(live.size() - 1));
                if (++step % 25 == 0) {
                    assertConsistent(a.stats(), "after " + step + " frees"); // includes the wholly-free-arena rule
                }
            }
            var s = a.stats();
            assertConsistent(s, "all freed");
            assertTrue(s.arenasCurrent() <= 1);
        }
    }

    @Test
    void snapshotsAreImmutable() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(100);
            var s = a.stats();
            String text = s.toText();
            String json = s.toJson();
            long q = a.malloc(200);
            long r = a.malloc(5000);
            a.free(p);
            assertEquals(1, totalBlocksInUse(s), "an old snapshot does not follow the allocator");
            assertEquals(0, s.largeAllocations());
            assertEquals(1, s.mallocs());
            assertEquals(text, s.toText());
            assertEquals(json, s.toJson());
            assertThrows(
                    UnsupportedOperationException.class, () -> s.sizeClasses().clear());
            assertThrows(UnsupportedOperationException.class, () -> s.arenas().clear());
            if (!s.arenas().isEmpty()) {
                assertThrows(
                        UnsupportedOperationException.class,
                        () -> s.arenas().get(0).pools().clear());
            }
            a.free(q);
            a.free(r);
        }
    }

    // ------------------------------------------------------------------ text and JSON

    private static AllocatorStats interestingSnapshot(Allocator a, List<Long> keep) {
        Random r = new Random(4);
        for (int i = 0; i < 32; i++) {
            int n = 3 + 7 * i + r.nextInt(50);
            for (int k = 0; k < n; k++) {
                keep.add(a.malloc(16L * i + 1 + r.nextInt(16)));
            }
        }
        keep.add(a.malloc(1234));
        keep.add(a.malloc(77_777));
        for (int k = 0; k < keep.size(); k += 3) {
            a.free(keep.get(k));
            keep.set(k, 0L);
        }
        return a.stats();
    }

    /** Removes thousands separators ("1,048,576", "1_048_576", "1 048 576" stays) and returns the digit runs. */
    private static List<String> numbers(String line) {
        String t = line;
        String prev;
        do {
            prev = t;
            t = t.replaceAll("(?<=\\d)[,_'](?=\\d{3}(?!\\d))", "");
        } while (!t.equals(prev));
        List<String> out = new ArrayList<>();
        Matcher mm = Pattern.compile("\\d+").matcher(t);
        while (mm.find()) {
            out.add(mm.group());
        }
        return out;
    }

    @Test
    void toTextHasEveryClassLineAndTheTotals() {
        try (Allocator a = Allocator.create()) {
            List<Long> keep = new ArrayList<>();
            var s = interestingSnapshot(a, keep);
            String text = s.toText();
            assertNotNull(text);
            String[] lines = text.split("\\R");
            for (var c : s.sizeClasses()) {
                boolean found = false;
                for (String line : lines) {
                    List<String> nums = numbers(line);
                    if (nums.contains("" + c.blockSize())
                            && nums.contains("" + c.pools())
                            && nums.contains("" + c.blocksInUse())
                            && nums.contains("" + c.blocksAvailable())) {
                        found = true;
                        break;
                    }
                }
                final boolean f = found;
                assertTrue(f, () -> "no line for class " + c + " in toText():\n" + text);
            }
            List<String> all = numbers(text);
            long[] totals = {
                s.arenaBytes(),
                s.bytesInAllocatedBlocks(),
                s.bytesInAvailableBlocks(),
                s.bytesInFreePools(),
                s.bytesLostToQuantization(),
                s.arenasAllocatedTotal(),
                s.arenasHighWater(),
                s.arenasCurrent(),
                s.largeAllocations(),
                s.largeBytes(),
                s.bytesRequested()
            };
            String[] names = {
                "arenaBytes",
                "bytesInAllocatedBlocks",
                "bytesInAvailableBlocks",
                "bytesInFreePools",
                "bytesLostToQuantization",
                "arenasAllocatedTotal",
                "arenasHighWater",
                "arenasCurrent",
                "largeAllocations",
                "largeBytes",
                "bytesRequested"
            };
            for (int i = 0; i < totals.length; i++) {
                final int ii = i;
                assertTrue(
                        all.contains("" + totals[i]),
                        () -> "toText() lacks " + names[ii] + " = " + totals[ii] + ":\n" + text);
            }
            for (long p : keep) {
                if (p != 0) {
                    a.free(p);
                }
            }
        }
    }

    /** Value at a dotted path ("bytes.inAllocatedBlocks") of the documented schema, failing with the keys present. */
    private static Object at(Object root, String path) {
        Object o = root;
        for (String part : path.split("\\.")) {
            final Object cur = o;
            assertInstanceOf(Map.class, cur, () -> "toJson(): " + path + ": '" + part + "' is not inside an object");
            Map<?, ?> m = (Map<?, ?>) cur;
            assertTrue(
                    m.containsKey(part),
                    () -> "toJson(): no '" + part + "' for path " + path + "; keys there: " + m.keySet());
            o = m.get(part);
        }
        return o;
    }

    private static void assertNumberAt(Object root, String path, long expected) {
        Object v = at(root, path);
        assertInstanceOf(BigDecimal.class, v, () -> "toJson(): " + path + " is a number, was " + v);
        assertEquals(
                0,
                ((BigDecimal) v).compareTo(BigDecimal.valueOf(expected)),
                () -> "toJson(): " + path + " = " + v + ", stats say " + expected);
    }

    private static void assertFractionAt(Object root, String path, double expected) {
        Object v = at(root, path);
        assertInstanceOf(BigDecimal.class, v, () -> "toJson(): " + path + " is a number, was " + v);
        assertEquals(expected, ((BigDecimal) v).doubleValue(), 1e-6, () -> "toJson(): " + path);
    }

    private static Object parseJson(String json) {
        try {
            return Json.parse(json);
        } catch (IllegalArgumentException e) {
            throw new AssertionError("toJson() is not valid JSON: " + e.getMessage() + "\n" + json, e);
        }
    }

    /** Checks a snapshot's JSON against the schema in docs/stats-format.md, number by number. */
    static void assertJsonMatches(AllocatorStats s) {
        String json = s.toJson();
        Object root = parseJson(json);
        assertInstanceOf(Map.class, root, "top level is an object");
        assertEquals("pymalloc4j-stats", at(root, "schema"));
        assertNumberAt(root, "version", AllocatorStats.JSON_SCHEMA_VERSION);
        assertEquals(3, AllocatorStats.JSON_SCHEMA_VERSION, "version 3 has heapCount beside heaps[]");

        assertNumberAt(root, "config.arenaSize", s.arenaSize());
        assertNumberAt(root, "config.poolSize", s.poolSize());
        assertNumberAt(root, "config.smallRequestThreshold", 512);
        if (s.maxReservedBytes() == Long.MAX_VALUE) {
            assertEquals(Json.NULL, at(root, "config.maxReservedBytes"), "unlimited is null");
        } else {
            assertNumberAt(root, "config.maxReservedBytes", s.maxReservedBytes());
        }

        assertNumberAt(root, "arenas.allocatedTotal", s.arenasAllocatedTotal());
        assertNumberAt(root, "arenas.reclaimed", s.arenasReclaimed());
        assertNumberAt(root, "arenas.highWater", s.arenasHighWater());
        assertNumberAt(root, "arenas.current", s.arenasCurrent());

        assertNumberAt(root, "bytes.arenas", s.arenaBytes());
        assertNumberAt(root, "bytes.inAllocatedBlocks", s.bytesInAllocatedBlocks());
        assertNumberAt(root, "bytes.inAvailableBlocks", s.bytesInAvailableBlocks());
        assertNumberAt(root, "bytes.inFreePools", s.bytesInFreePools());
        assertNumberAt(root, "bytes.quantization", s.bytesLostToQuantization());
        assertNumberAt(root, "bytes.requested", s.bytesRequested());
        assertNumberAt(root, "bytes.internalFragmentation", s.internalFragmentationBytes());
        assertFractionAt(root, "bytes.externalFragmentation", s.externalFragmentation());
        assertNumberAt(root, "bytes.reserved", s.reservedBytes());
        assertNumberAt(root, "bytes.heapMetadata", s.heapMetadataBytes());

        assertNumberAt(root, "large.count", s.largeAllocations());
        assertNumberAt(root, "large.bytes", s.largeBytes());

        assertNumberAt(root, "counters.mallocs", s.mallocs());
        assertNumberAt(root, "counters.frees", s.frees());
        assertNumberAt(root, "counters.reallocs", s.reallocs());
        assertNumberAt(root, "counters.largeMallocs", s.largeMallocs());

        Object classes = at(root, "sizeClasses");
        assertInstanceOf(List.class, classes);
        assertEquals(32, ((List<?>) classes).size(), "sizeClasses has 32 entries");
        for (int i = 0; i < 32; i++) {
            var c = s.sizeClasses().get(i);
            Object o = ((List<?>) classes).get(i);
            Map<String, Object> wrap = Map.of("c", o);
            assertNumberAt(wrap, "c.class", i);
            assertNumberAt(wrap, "c.blockSize", c.blockSize());
            assertNumberAt(wrap, "c.pools", c.pools());
            assertNumberAt(wrap, "c.blocksInUse", c.blocksInUse());
            assertNumberAt(wrap, "c.blocksAvailable", c.blocksAvailable());
            assertNumberAt(wrap, "c.bytesInUse", c.bytesInUse());
            assertNumberAt(wrap, "c.bytesRequested", c.bytesRequested());
            assertNumberAt(wrap, "c.internalWaste", c.internalWaste());
            assertFractionAt(wrap, "c.utilisation", c.utilisation());
        }

        Object list = at(root, "arenas.list");
        assertInstanceOf(List.class, list);
        assertEquals(s.arenas().size(), ((List<?>) list).size(), "arenas.list has one entry per current arena");
        for (int i = 0; i < s.arenas().size(); i++) {
            var ar = s.arenas().get(i);
            Map<String, Object> wrap = Map.of("a", ((List<?>) list).get(i));
            Object addr = at(wrap, "a.address");
            assertInstanceOf(String.class, addr, "arena address is a hex string");
            assertEquals(
                    ar.address(), Long.parseUnsignedLong(((String) addr).replaceFirst("^0x", ""), 16), "arena address");
            assertNumberAt(wrap, "a.poolsTotal", ar.poolsTotal());
            assertNumberAt(wrap, "a.poolsCarved", ar.poolsCarved());
            assertNumberAt(wrap, "a.poolsFree", ar.poolsFree());
            Object pools = at(wrap, "a.pools");
            assertInstanceOf(List.class, pools);
            assertEquals(ar.pools().size(), ((List<?>) pools).size(), "carved pools of arena " + i);
            for (int k = 0; k < ar.pools().size(); k++) {
                var ps = ar.pools().get(k);
                Map<String, Object> pw = Map.of("p", ((List<?>) pools).get(k));
                assertNumberAt(pw, "p.index", ps.index());
                assertNumberAt(pw, "p.class", ps.sizeClass());
                assertNumberAt(pw, "p.blocksInUse", ps.blocksInUse());
                assertNumberAt(pw, "p.capacity", ps.capacity());
            }
        }
    }

    @Test
    void toJsonIsValidJsonWithSchemaVersionAndTheSameNumbers() {
        try (Allocator a = Allocator.create()) {
            List<Long> keep = new ArrayList<>();
            var s = interestingSnapshot(a, keep);
            assertJsonMatches(s);
            for (long p : keep) {
                if (p != 0) {
                    a.free(p);
                }
            }
            // also after arenas were reclaimed and with a carved-but-empty pool
            assertJsonMatches(a.stats());
        }
    }

    @Test
    void toJsonOfAnEmptyAndOfALimitedAllocator() {
        try (Allocator a = Allocator.create()) {
            assertJsonMatches(a.stats());
        }
        try (Allocator a = Allocator.builder()
                .arenaSize(64 * KiB)
                .poolSize(4 * KiB)
                .maxReservedBytes(12_345_678)
                .build()) {
            long p = a.malloc(100);
            long q = a.malloc(1000);
            assertJsonMatches(a.stats());
            a.free(p);
            a.free(q);
        }
    }

    @Test
    void jsonValidatorSelfCheck() {
        Json.parse("{\"a\":[1,-2.5e3,true,false,null,\"x\\u0041\\n\"],\"b\":{}}");
        Json.parse(" [ ] ");
        for (String bad : new String[] {
            "{",
            "{\"a\":1,}",
            "[1,]",
            "{'a':1}",
            "NaN",
            "[Infinity]",
            "01",
            "{\"a\" 1}",
            "\"unterminated",
            "[1] x",
            "{\"a\":1,\"a\":2}",
            "1.",
            "-",
            "{\"a\":\"\t\"}"
        }) {
            assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), () -> "accepted invalid JSON: " + bad);
        }
    }
}
