package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.function.Executable;

/** Shared helpers: native memory access through FFM, patterns, stats invariants, fingerprints. */
final class TestSupport {
    static final long KiB = 1024L;
    static final long MiB = 1024L * 1024L;

    private TestSupport() {}

    // ------------------------------------------------------------------ arithmetic

    static long roundUp16(long n) {
        return (Math.max(n, 1L) + 15L) & ~15L;
    }

    static long alignUp(long v, long a) {
        return (v + a - 1) & -a;
    }

    /** Size class index of a small request (0 is served by class 0). */
    static int sizeClass(long n) {
        return (int) ((Math.max(n, 1L) - 1) >>> 4);
    }

    static MemorySegment seg(long address, long n) {
        return MemorySegment.ofAddress(address).reinterpret(n);
    }

    // ------------------------------------------------------------------ patterns

    private static final int PATTERN_CHUNK = 1 << 16;
    private static final int PATTERN_OFFSETS = 4093; // prime, so offsets differ a lot between ids
    private static final MemorySegment PATTERN;
    private static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[PATTERN_CHUNK]);

    static {
        byte[] p = new byte[PATTERN_CHUNK + PATTERN_OFFSETS];
        new Random(0x5EED_F00DL).nextBytes(p);
        PATTERN = MemorySegment.ofArray(p);
    }

    private static int patternOffset(long seed) {
        long h = seed * 0x9E3779B97F4A7C15L;
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 32;
        return (int) Math.floorMod(h, (long) PATTERN_OFFSETS);
    }

    /** Fills {@code size} bytes at {@code address} with a pattern derived from {@code seed}. */
    static void fill(long address, long size, long seed) {
        if (size == 0) {
            return;
        }
        MemorySegment s = seg(address, size);
        int off = patternOffset(seed);
        for (long c = 0; c < size; c += PATTERN_CHUNK) {
            long len = Math.min(PATTERN_CHUNK, size - c);
            MemorySegment.copy(PATTERN, off, s, c, len);
        }
    }

    /** Returns -1 if the first {@code size} bytes hold the pattern of {@code seed}, else the first bad offset. */
    static long patternMismatch(long address, long size, long seed) {
        if (size == 0) {
            return -1;
        }
        MemorySegment s = seg(address, size);
        int off = patternOffset(seed);
        for (long c = 0; c < size; c += PATTERN_CHUNK) {
            long len = Math.min(PATTERN_CHUNK, size - c);
            long m = MemorySegment.mismatch(s, c, c + len, PATTERN, off, off + len);
            if (m >= 0) {
                return c + m;
            }
        }
        return -1;
    }

    static void assertPattern(long address, long size, long seed, Supplier<String> ctx) {
        long m = patternMismatch(address, size, seed);
        if (m >= 0) {
            fail(ctx.get() + ": pattern of block 0x" + Long.toHexString(address) + " (" + size + " bytes, seed " + seed
                    + ") corrupted at offset " + m);
        }
    }

    static void assertPattern(long address, long size, long seed) {
        assertPattern(address, size, seed, () -> "");
    }

    /** -1 if all {@code size} bytes are zero, else the first non-zero offset. */
    static long firstNonZero(long address, long size) {
        if (size == 0) {
            return -1;
        }
        MemorySegment s = seg(address, size);
        for (long c = 0; c < size; c += PATTERN_CHUNK) {
            long len = Math.min(PATTERN_CHUNK, size - c);
            long m = MemorySegment.mismatch(s, c, c + len, ZEROS, 0, len);
            if (m >= 0) {
                return c + m;
            }
        }
        return -1;
    }

    static void assertZero(long address, long size, Supplier<String> ctx) {
        long m = firstNonZero(address, size);
        if (m >= 0) {
            fail(ctx.get() + ": byte at offset " + m + " of 0x" + Long.toHexString(address) + " is "
                    + seg(address, size).get(ValueLayout.JAVA_BYTE, m) + ", expected 0");
        }
    }

    // ------------------------------------------------------------------ exceptions

    /** Asserts {@code exec} throws {@code type} and its message contains (case-insensitive) one of {@code keywords}. */
    static <T extends Throwable> T assertThrowsWithMessage(Class<T> type, Executable exec, String... keywords) {
        T t = assertThrows(type, exec);
        String msg = t.getMessage();
        assertNotNull(msg, () -> type.getSimpleName() + " without message");
        String lower = msg.toLowerCase(Locale.ROOT);
        for (String k : keywords) {
            if (lower.contains(k.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        fail(type.getSimpleName() + " message \"" + msg + "\" contains none of " + Arrays.toString(keywords));
        return t;
    }

    // ------------------------------------------------------------------ stats

    static long totalBlocksInUse(AllocatorStats s) {
        long n = 0;
        for (var c : s.sizeClasses()) {
            n += c.blocksInUse();
        }
        return n;
    }

    static long totalPools(AllocatorStats s) {
        long n = 0;
        for (var c : s.sizeClasses()) {
            n += c.pools();
        }
        return n;
    }

    /** Number of pools of an arena that currently serve a size class. */
    static int poolsInUse(AllocatorStats.ArenaStats a) {
        int n = 0;
        for (var p : a.pools()) {
            if (p.sizeClass() >= 0) {
                n++;
            }
        }
        return n;
    }

    /** Free pools of an arena (never carved or carved-but-free). */
    static int freePools(AllocatorStats.ArenaStats a) {
        return a.poolsTotal() - poolsInUse(a);
    }

    /**
     * Checks every documented relation between the numbers of one snapshot. {@code singleThreadedQuiescent}
     * additionally checks the pymalloc policy that at most one wholly free arena is kept.
     */
    static void assertConsistent(AllocatorStats s, String ctx) {
        String c = ctx.isEmpty() ? "" : ctx + ": ";
        long sum = s.bytesInAllocatedBlocks()
                + s.bytesPendingRemoteFree()
                + s.bytesInAvailableBlocks()
                + s.bytesInFreePools()
                + s.bytesLostToQuantization();
        assertEquals(
                s.arenaBytes(),
                sum,
                () -> c + "identity allocated+pending+available+freePools+quantization == arenaBytes "
                        + "(" + s.bytesInAllocatedBlocks() + "+" + s.bytesPendingRemoteFree() + "+"
                        + s.bytesInAvailableBlocks() + "+"
                        + s.bytesInFreePools() + "+" + s.bytesLostToQuantization() + ")");
        assertEquals(s.arenaBytes(), s.accountedBytes(), () -> c + "accountedBytes() == arenaBytes()");
        assertEquals(
                s.arenasCurrent() * s.arenaSize(), s.arenaBytes(), () -> c + "arenaBytes == arenasCurrent * arenaSize");
        assertEquals(s.arenasCurrent(), s.arenas().size(), () -> c + "arenas().size() == arenasCurrent");
        assertEquals(
                s.arenasCurrent(),
                s.arenasAllocatedTotal() - s.arenasReclaimed(),
                () -> c + "arenasCurrent == allocatedTotal - reclaimed");
        assertTrue(s.arenasHighWater() >= s.arenasCurrent(), () -> c + "highWater >= current");
        assertTrue(s.arenasHighWater() <= s.arenasAllocatedTotal(), () -> c + "highWater <= allocatedTotal");
        assertEquals(
                s.arenaBytes() + s.largeBytes(),
                s.reservedBytes(),
                () -> c + "reservedBytes == arenaBytes + largeBytes");
        assertTrue(s.reservedBytes() <= s.maxReservedBytes(), () -> c + "reservedBytes <= maxReservedBytes");
        assertEquals(Allocator.SMALL_REQUEST_THRESHOLD, s.smallRequestThreshold(), () -> c + "smallRequestThreshold");
        assertTrue(s.largeAllocations() >= 0 && s.largeBytes() >= 0, () -> c + "large counters non-negative");
        assertTrue(s.heapMetadataBytes() >= 0, () -> c + "heapMetadataBytes >= 0");

        var classes = s.sizeClasses();
        assertEquals(32, classes.size(), () -> c + "32 size classes");
        long alloc = 0, avail = 0, requested = 0, pending = 0;
        long[] poolsPerClass = new long[32];
        long[] inUsePerClass = new long[32];
        long[] availPerClass = new long[32];
        long[] pendingPerClass = new long[32];
        long poolBlockBytes = 0;
        long prevArena = Long.MIN_VALUE;
        int whollyFree = 0;
        for (var a : s.arenas()) {
            assertTrue(
                    Long.compareUnsigned(a.address(), prevArena) > 0 || prevArena == Long.MIN_VALUE,
                    () -> c + "arenas in ascending address order");
            prevArena = a.address();
            assertTrue(
                    a.poolsTotal() > 0 && a.poolsTotal() <= s.arenaSize() / s.poolSize(), () -> c + "poolsTotal " + a);
            assertTrue(
                    a.poolsCarved() >= 0 && a.poolsCarved() <= a.poolsTotal(),
                    () -> c + "poolsCarved " + a.poolsCarved());
            assertTrue(a.poolsFree() >= 0 && a.poolsFree() <= a.poolsTotal(), () -> c + "poolsFree " + a.poolsFree());
            assertTrue(a.pools().size() <= a.poolsTotal(), () -> c + "pools().size() <= poolsTotal");
            int used = 0;
            for (var p : a.pools()) {
                assertTrue(p.index() >= 0 && p.index() < s.arenaSize() / s.poolSize(), () -> c + "pool index " + p);
                if (p.sizeClass() < 0) {
                    assertEquals(0, p.blocksInUse(), () -> c + "carved-but-free pool has no blocks in use: " + p);
                    continue;
                }
                used++;
                assertTrue(p.sizeClass() < 32, () -> c + "pool size class " + p);
                assertEquals(16 * (p.sizeClass() + 1), p.blockSize(), () -> c + "pool blockSize " + p);
                assertTrue(
                        p.capacity() > 0 && (long) p.capacity() * p.blockSize() <= s.poolSize(),
                        () -> c + "pool capacity " + p);
                assertTrue(
                        p.capacity() >= (s.poolSize() - 512) / p.blockSize(), () -> c + "pool capacity too small " + p);
                // 0 live blocks is allowed: a heap keeps the last pool of a class until the purge delay
                // passes, and a pool may hold only blocks freed by other threads, awaiting collection.
                assertTrue(
                        p.blocksInUse() >= 0
                                && p.pendingRemoteFrees() >= 0
                                && p.blocksInUse() + p.pendingRemoteFrees() <= p.capacity(),
                        () -> c + "a pool serving a class holds 0..capacity blocks, live or pending: " + p);
                poolsPerClass[p.sizeClass()]++;
                inUsePerClass[p.sizeClass()] += p.blocksInUse();
                pendingPerClass[p.sizeClass()] += p.pendingRemoteFrees();
                availPerClass[p.sizeClass()] += p.capacity() - p.blocksInUse() - p.pendingRemoteFrees();
                poolBlockBytes += (long) p.capacity() * p.blockSize();
            }
            if (used == 0) {
                whollyFree++;
            }
        }
        final int wf = whollyFree;
        if (s.purgeDelayNanos() == 0) {
            // with a purge delay, wholly free arenas wait one maintenance round before they are unmapped
            assertTrue(wf <= 1, () -> c + "at most one wholly free arena is kept, found " + wf);
        }
        for (int i = 0; i < 32; i++) {
            var k = classes.get(i);
            final int idx = i;
            assertEquals(i, k.index(), () -> c + "class index");
            assertEquals(16 * (i + 1), k.blockSize(), () -> c + "class " + idx + " blockSize");
            assertEquals(
                    poolsPerClass[i],
                    k.pools(),
                    () -> c + "class " + idx + " pools == pools of that class in arenas()");
            assertEquals(
                    inUsePerClass[i], k.blocksInUse(), () -> c + "class " + idx + " blocksInUse == sum over its pools");
            assertEquals(
                    availPerClass[i],
                    k.blocksAvailable(),
                    () -> c + "class " + idx + " blocksAvailable == sum(capacity - inUse - pending)");
            assertEquals(
                    pendingPerClass[i],
                    k.pendingRemoteFrees(),
                    () -> c + "class " + idx + " pendingRemoteFrees == sum over its pools");
            assertEquals(k.blocksInUse() * k.blockSize(), k.bytesInUse(), () -> c + "class " + idx + " bytesInUse");
            assertTrue(
                    k.bytesRequested() <= k.bytesInUse() && k.bytesRequested() >= 0,
                    () -> c + "class " + idx + " bytesRequested within bytesInUse");
            assertEquals(
                    k.bytesInUse() - k.bytesRequested(),
                    k.internalWaste(),
                    () -> c + "class " + idx + " internalWaste");
            long tot = k.blocksInUse() + k.pendingRemoteFrees() + k.blocksAvailable();
            double u = tot == 0 ? 0.0 : (double) k.blocksInUse() / tot;
            assertEquals(u, k.utilisation(), 1e-9, () -> c + "class " + idx + " utilisation");
            alloc += k.bytesInUse();
            avail += k.blocksAvailable() * k.blockSize();
            pending += k.pendingRemoteFrees() * k.blockSize();
            requested += k.bytesRequested();
        }
        assertEquals(alloc, s.bytesInAllocatedBlocks(), () -> c + "bytesInAllocatedBlocks == sum of class bytesInUse");
        assertEquals(
                avail, s.bytesInAvailableBlocks(), () -> c + "bytesInAvailableBlocks == sum blocksAvailable*blockSize");
        assertEquals(pending, s.bytesPendingRemoteFree(), () -> c + "bytesPendingRemoteFree == sum over classes");
        assertEquals(
                poolBlockBytes,
                s.bytesInAllocatedBlocks() + s.bytesPendingRemoteFree() + s.bytesInAvailableBlocks(),
                () -> c + "allocated + pending + available == sum over used pools of capacity*blockSize");
        assertEquals(requested, s.bytesRequested(), () -> c + "bytesRequested == sum over classes");
        assertEquals(
                s.bytesInAllocatedBlocks() - s.bytesRequested(),
                s.internalFragmentationBytes(),
                () -> c + "internalFragmentationBytes");
        double ext = s.arenaBytes() == 0 ? 0.0 : 1.0 - (double) s.bytesInAllocatedBlocks() / s.arenaBytes();
        assertEquals(ext, s.externalFragmentation(), 1e-9, () -> c + "externalFragmentation");
    }

    static void assertConsistent(AllocatorStats s) {
        assertConsistent(s, "");
    }

    /** Everything that a failed (rejected) call must leave unchanged. */
    static Map<String, String> fingerprint(AllocatorStats s) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("mallocs", "" + s.mallocs());
        m.put("frees", "" + s.frees());
        m.put("reallocs", "" + s.reallocs());
        m.put("largeMallocs", "" + s.largeMallocs());
        m.put("largeAllocations", "" + s.largeAllocations());
        m.put("largeBytes", "" + s.largeBytes());
        m.put("bytesRequested", "" + s.bytesRequested());
        m.put("arenaBytes", "" + s.arenaBytes());
        m.put("reservedBytes", "" + s.reservedBytes());
        m.put("arenasAllocatedTotal", "" + s.arenasAllocatedTotal());
        m.put("arenasReclaimed", "" + s.arenasReclaimed());
        m.put("arenasHighWater", "" + s.arenasHighWater());
        m.put("arenasCurrent", "" + s.arenasCurrent());
        m.put("bytesInAllocatedBlocks", "" + s.bytesInAllocatedBlocks());
        m.put("bytesInAvailableBlocks", "" + s.bytesInAvailableBlocks());
        m.put("bytesInFreePools", "" + s.bytesInFreePools());
        m.put("bytesLostToQuantization", "" + s.bytesLostToQuantization());
        m.put("blocksInUse(total)", "" + totalBlocksInUse(s));
        for (var c : s.sizeClasses()) {
            m.put("class[" + c.index() + "]", c.toString());
        }
        for (var a : s.arenas()) {
            m.put("arena@" + Long.toHexString(a.address()), a.toString());
        }
        return m;
    }

    static void assertSameFingerprint(Map<String, String> before, Map<String, String> after, String ctx) {
        List<String> diffs = new ArrayList<>();
        for (var e : before.entrySet()) {
            String v = after.get(e.getKey());
            if (!e.getValue().equals(v)) {
                diffs.add(e.getKey() + ": " + e.getValue() + " -> " + v);
            }
        }
        for (var k : after.keySet()) {
            if (!before.containsKey(k)) {
                diffs.add(k + ": (absent) -> " + after.get(k));
            }
        }
        if (!diffs.isEmpty()) {
            fail(ctx + ": allocator state changed by a rejected call: " + diffs);
        }
    }

    // ------------------------------------------------------------------ geometry

    /** Maps addresses to arenas and pools using {@link AllocatorStats#arenas()}. */
    static final class Geometry {
        final AllocatorStats stats;

        Geometry(AllocatorStats stats) {
            this.stats = stats;
        }

        /** Index in stats.arenas() of the arena holding {@code address}, or -1. */
        int arenaIndexOf(long address) {
            var arenas = stats.arenas();
            for (int i = 0; i < arenas.size(); i++) {
                long a = arenas.get(i).address();
                if (address >= a && address < a + stats.arenaSize()) {
                    return i;
                }
            }
            return -1;
        }

        /** Address of the first pool of an arena: pools are pool-size aligned (free() finds them by masking). */
        long firstPool(AllocatorStats.ArenaStats a) {
            return alignUp(a.address(), stats.poolSize());
        }

        /** Start address of the pool holding {@code address} (pools are pool-size aligned). */
        long poolOf(long address) {
            return address & -stats.poolSize();
        }

        /** The PoolStats entry describing the pool at {@code poolAddress}, or null. */
        AllocatorStats.PoolStats poolStats(long poolAddress) {
            int ai = arenaIndexOf(poolAddress);
            if (ai < 0) {
                return null;
            }
            var a = stats.arenas().get(ai);
            long idx = (poolAddress - firstPool(a)) / stats.poolSize();
            for (var p : a.pools()) {
                if (p.index() == idx) {
                    return p;
                }
            }
            return null;
        }
    }

    // ------------------------------------------------------------------ child JVM

    /** Exit code and combined output of a child JVM. */
    record ChildResult(int exitCode, String output) {}

    /**
     * Runs {@code main} in a fresh JVM (same java, class path and native access), for scenarios that may crash the
     * process: a crash then fails one test instead of killing the whole surefire fork.
     */
    static ChildResult runInChildJvm(Class<?> main, String... args) throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> cmd = new ArrayList<>(List.of(
                javaBin,
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m",
                "-XX:+UnlockDiagnosticVMOptions",
                "-XX:-CreateCoredumpOnCrash",
                "-XX:ErrorFile=" + System.getProperty("java.io.tmpdir") + "/pymalloc4j-child-hs_err_%p.log",
                "-cp",
                System.getProperty("java.class.path"),
                main.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("child JVM did not finish");
        }
        return new ChildResult(p.exitValue(), new String(out, java.nio.charset.StandardCharsets.UTF_8));
    }

    // ------------------------------------------------------------------ overlap

    /** Fails if any two of the given [address, address+len) intervals overlap. */
    static void assertNoOverlap(long[] addresses, long[] lengths, int n, String ctx) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Long.compareUnsigned(addresses[x], addresses[y]));
        for (int k = 1; k < n; k++) {
            int p = order[k - 1], q = order[k];
            long endP = addresses[p] + Math.max(lengths[p], 1);
            if (Long.compareUnsigned(endP, addresses[q]) > 0) {
                fail(ctx + ": blocks overlap: [0x" + Long.toHexString(addresses[p]) + ", +" + lengths[p] + ") and [0x"
                        + Long.toHexString(addresses[q]) + ", +" + lengths[q] + ")");
            }
        }
    }
}
