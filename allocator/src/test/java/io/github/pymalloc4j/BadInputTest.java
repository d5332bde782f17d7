package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.KiB;
import static io.github.pymalloc4j.TestSupport.MiB;
import static io.github.pymalloc4j.TestSupport.assertConsistent;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.assertSameFingerprint;
import static io.github.pymalloc4j.TestSupport.assertThrowsWithMessage;
import static io.github.pymalloc4j.TestSupport.fill;
import static io.github.pymalloc4j.TestSupport.fingerprint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * Every rejected call must throw the documented exception with a telling message and leave the allocator exactly as
 * it was: same counters and per-class numbers, the accounting identity intact, live blocks untouched, still usable.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadInputTest {

    private static final String[] SIZE_WORDS = {"size", "negative", "too large", "exceed", "2^46", "overflow"};
    private static final String[] FOREIGN = {"not allocated by this allocator"};
    private static final String[] FREED_OR_FOREIGN = {"double free", "not allocated by this allocator"};
    private static final String[] NEVER_HANDED_OUT = {"never handed out"};

    private Allocator a;
    /** Live blocks of the fixture: {address, length, seed}. Only classes 0..19 (sizes 1..320) and large ones. */
    private final List<long[]> live = new ArrayList<>();

    @BeforeEach
    void setUp() {
        a = Allocator.create();
        for (int i = 0; i < 300; i++) {
            long size = 1 + (i * 37L) % 320;
            addLive(a.malloc(size), size);
        }
        for (long size : new long[] {600, 5000, 70_000}) {
            addLive(a.malloc(size), size);
        }
        addLive(a.calloc(3, 7), 21);
        addLive(a.mallocAligned(40, 64), 40);
    }

    private void addLive(long p, long size) {
        long seed = 1_000_000 + live.size();
        fill(p, size, seed);
        live.add(new long[] {p, size, seed});
    }

    @AfterEach
    void tearDown() {
        if (a != null && !a.isClosed()) {
            a.close();
        }
    }

    /** Runs {@code bad}, expects {@code type} with one of the keywords, then checks the allocator is intact. */
    private <T extends Throwable> T rejects(String what, Class<T> type, Executable bad, String... keywords) {
        var before = fingerprint(a.stats());
        T t;
        try {
            t = assertThrowsWithMessage(type, bad, keywords);
        } catch (AssertionError e) {
            throw new AssertionError(what + ": " + e.getMessage(), e);
        }
        assertIntact(what, before);
        return t;
    }

    private void assertIntact(String what, java.util.Map<String, String> before) {
        var after = a.stats();
        assertSameFingerprint(before, fingerprint(after), what);
        assertConsistent(after, what);
        for (long[] b : live) {
            assertPattern(b[0], b[1], b[2], () -> what + ": live block");
        }
        // still usable, and the fingerprint is restored by a malloc/free pair of a used class
        long p = a.malloc(24);
        fill(p, 32, 42);
        assertPattern(p, 32, 42);
        a.free(p);
    }

    private long anyLiveSmall() {
        return live.get(5)[0];
    }

    // ------------------------------------------------------------------ sizes

    @Test
    void negativeSizes() {
        long p = anyLiveSmall();
        rejects("malloc(-1)", IllegalArgumentException.class, () -> a.malloc(-1), SIZE_WORDS);
        rejects("malloc(MIN_VALUE)", IllegalArgumentException.class, () -> a.malloc(Long.MIN_VALUE), SIZE_WORDS);
        rejects("calloc(1, -1)", IllegalArgumentException.class, () -> a.calloc(1, -1), SIZE_WORDS);
        rejects("realloc(p, -1)", IllegalArgumentException.class, () -> a.realloc(p, -1), SIZE_WORDS);
        rejects("realloc(0, -5)", IllegalArgumentException.class, () -> a.realloc(0, -5), SIZE_WORDS);
        rejects("mallocAligned(-1, 16)", IllegalArgumentException.class, () -> a.mallocAligned(-1, 16), SIZE_WORDS);
        rejects("allocate(-1, 8)", IllegalArgumentException.class, () -> a.allocate(-1, 8), SIZE_WORDS);
    }

    @Test
    void absurdSizes() {
        long p = anyLiveSmall();
        long big = live.get(300)[0];
        long[] sizes = {Long.MAX_VALUE, 1L << 50, (1L << 46) + 1};
        for (long n : sizes) {
            rejects("malloc(" + n + ")", IllegalArgumentException.class, () -> a.malloc(n), SIZE_WORDS);
            rejects("calloc(1, " + n + ")", IllegalArgumentException.class, () -> a.calloc(1, n), SIZE_WORDS);
            rejects("realloc(small, " + n + ")", IllegalArgumentException.class, () -> a.realloc(p, n), SIZE_WORDS);
            rejects("realloc(large, " + n + ")", IllegalArgumentException.class, () -> a.realloc(big, n), SIZE_WORDS);
            rejects(
                    "mallocAligned(" + n + ", 16)",
                    IllegalArgumentException.class,
                    () -> a.mallocAligned(n, 16),
                    SIZE_WORDS);
            rejects("allocate(" + n + ", 16)", IllegalArgumentException.class, () -> a.allocate(n, 16), SIZE_WORDS);
        }
        rejects("calloc(2^25, 2^25)", IllegalArgumentException.class, () -> a.calloc(1L << 25, 1L << 25), SIZE_WORDS);
    }

    @Test
    void callocOverflowAndNegativeCount() {
        rejects(
                "calloc(MAX, 2)",
                IllegalArgumentException.class,
                () -> a.calloc(Long.MAX_VALUE, 2),
                "overflow",
                "too large",
                "size");
        rejects(
                "calloc(2, MAX)",
                IllegalArgumentException.class,
                () -> a.calloc(2, Long.MAX_VALUE),
                "overflow",
                "too large",
                "size");
        rejects(
                "calloc(2^32, 2^32)",
                IllegalArgumentException.class,
                () -> a.calloc(1L << 32, 1L << 32),
                "overflow",
                "too large",
                "size");
        rejects(
                "calloc(2^62, 4)",
                IllegalArgumentException.class,
                () -> a.calloc(1L << 62, 4),
                "overflow",
                "too large",
                "size");
        rejects(
                "calloc(-1, 8)",
                IllegalArgumentException.class,
                () -> a.calloc(-1, 8),
                "negative",
                "count",
                "-1",
                "size");
        rejects(
                "calloc(MIN, MIN)",
                IllegalArgumentException.class,
                () -> a.calloc(Long.MIN_VALUE, Long.MIN_VALUE),
                "negative",
                "count",
                "overflow",
                "size");
        rejects(
                "calloc(-1, -1)",
                IllegalArgumentException.class,
                () -> a.calloc(-1, -1),
                "negative",
                "count",
                "-1",
                "size");
    }

    @Test
    void badAlignment() {
        for (long al : new long[] {3, 0, -8}) {
            rejects(
                    "mallocAligned(16, " + al + ")",
                    IllegalArgumentException.class,
                    () -> a.mallocAligned(16, al),
                    "align");
            rejects(
                    "mallocAligned(600, " + al + ")",
                    IllegalArgumentException.class,
                    () -> a.mallocAligned(600, al),
                    "align");
            rejects("allocate(16, " + al + ")", IllegalArgumentException.class, () -> a.allocate(16, al), "align");
        }
    }

    // ------------------------------------------------------------------ double free

    @Test
    void doubleFreeOfASmallBlock() {
        long p = a.malloc(40);
        long keep = a.malloc(40); // the pool stays in use
        a.free(p);
        rejects("double free small", IllegalArgumentException.class, () -> a.free(p), "double free");
        rejects("realloc of freed small", IllegalArgumentException.class, () -> a.realloc(p, 10), FREED_OR_FOREIGN);
        rejects("usableSize of freed small", IllegalArgumentException.class, () -> a.usableSize(p), FREED_OR_FOREIGN);
        a.free(keep);
    }

    @Test
    void doubleFreeOfTheOnlyBlockOfAClassAfterItsPoolWentBackToTheArena() {
        long p = a.malloc(400); // class 24: the fixture has none, so p has a pool of its own
        var s = a.stats();
        assertEquals(1, s.sizeClasses().get(24).pools());
        a.free(p);
        a.trim(); // the heap keeps the last empty pool of a class until the purge delay; trim returns it now
        assertEquals(0, a.stats().sizeClasses().get(24).pools(), "an empty pool goes back to its arena");
        rejects("free after pool given back", IllegalArgumentException.class, () -> a.free(p), FREED_OR_FOREIGN);
        rejects(
                "realloc after pool given back",
                IllegalArgumentException.class,
                () -> a.realloc(p, 400),
                FREED_OR_FOREIGN);
        rejects(
                "usableSize after pool given back",
                IllegalArgumentException.class,
                () -> a.usableSize(p),
                FREED_OR_FOREIGN);
        // the pool is carved again for another class: the old address must still be rejected (it is not a block start
        // of the new class unless the offset happens to match, which for 400 vs 448 it does not)
        long q = a.malloc(448);
        rejects(
                "free of stale address in recarved pool",
                IllegalArgumentException.class,
                () -> a.free(p + 16),
                "interior pointer",
                "double free",
                "not allocated");
        a.free(q);
    }

    @Test
    void doubleFreeOfALargeBlock() {
        long p = a.malloc(10_000);
        a.free(p);
        // the system allocator may reuse the address, but nothing was allocated in between
        rejects("double free large", IllegalArgumentException.class, () -> a.free(p), FREED_OR_FOREIGN);
        rejects("usableSize of freed large", IllegalArgumentException.class, () -> a.usableSize(p), FREED_OR_FOREIGN);
        rejects("realloc of freed large", IllegalArgumentException.class, () -> a.realloc(p, 20_000), FREED_OR_FOREIGN);
    }

    @Test
    void doubleFreeOfMallocZeroBlock() {
        long p = a.malloc(0);
        long keep = a.malloc(0);
        a.free(p);
        rejects("double free of malloc(0)", IllegalArgumentException.class, () -> a.free(p), "double free");
        a.free(keep);
    }

    // ------------------------------------------------------------------ never allocated

    @Test
    void poolAddressNeverHandedOut() {
        // a 16-byte class pool of its own (class 0 is used by the fixture, so use a fresh allocator-owned pool of class
        // 25: sizes 401..416 are not used by the fixture)
        long p = a.malloc(410);
        long poolSize = a.stats().poolSize();
        long pool = new TestSupport.Geometry(a.stats()).poolOf(p);
        assertEquals(1, a.stats().sizeClasses().get(25).blocksInUse());
        // p is the only block ever handed out from its pool; 5 blocks further on (or back) is a block start never used
        final long never = (p + 5 * 416 + 416 <= pool + poolSize) ? p + 5 * 416 : p - 5 * 416;
        rejects(
                "free of a never handed out block",
                IllegalArgumentException.class,
                () -> a.free(never),
                NEVER_HANDED_OUT);
        rejects(
                "usableSize of a never handed out block",
                IllegalArgumentException.class,
                () -> a.usableSize(never),
                NEVER_HANDED_OUT);
        rejects(
                "realloc of a never handed out block",
                IllegalArgumentException.class,
                () -> a.realloc(never, 8),
                NEVER_HANDED_OUT);
        a.free(p);
    }

    @Test
    void addressInAnUncarvedPoolOfALiveArena() {
        var s = a.stats();
        var arena = s.arenas().get(0);
        Set<Integer> listed = new HashSet<>();
        Set<Integer> servingAClass = new HashSet<>();
        for (var pool : arena.pools()) {
            listed.add(pool.index());
            if (pool.sizeClass() >= 0) {
                servingAClass.add(pool.index());
            }
        }
        int free = -1;
        boolean neverCarved = false;
        for (int i = arena.poolsTotal() - 1; i >= 0; i--) {
            if (!listed.contains(i)) {
                free = i;
                neverCarved = true;
                break;
            }
        }
        if (free < 0) {
            for (int i = arena.poolsTotal() - 1; i >= 0; i--) {
                if (!servingAClass.contains(i)) {
                    free = i;
                    break;
                }
            }
        }
        assertTrue(free >= 0, "fixture leaves some pools unused");
        long addr = new TestSupport.Geometry(s).firstPool(arena) + (long) free * s.poolSize() + 64;
        String[] words = neverCarved ? FOREIGN : FREED_OR_FOREIGN;
        rejects("free in free pool", IllegalArgumentException.class, () -> a.free(addr), words);
        rejects("usableSize in free pool", IllegalArgumentException.class, () -> a.usableSize(addr), words);
        rejects("realloc in free pool", IllegalArgumentException.class, () -> a.realloc(addr, 10), words);
    }

    @Test
    void foreignNativeMemoryFromAJdkArena() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(64, 16);
            long addr = seg.address();
            rejects("free(Arena.ofConfined address)", IllegalArgumentException.class, () -> a.free(addr), FOREIGN);
            rejects("free(Arena.ofConfined segment)", IllegalArgumentException.class, () -> a.free(seg), FOREIGN);
            rejects("realloc(foreign)", IllegalArgumentException.class, () -> a.realloc(addr, 32), FOREIGN);
            rejects("usableSize(foreign)", IllegalArgumentException.class, () -> a.usableSize(addr), FOREIGN);
            MemorySegment big = arena.allocate(1 << 20, 4096);
            rejects(
                    "free(Arena.ofConfined 1 MiB)",
                    IllegalArgumentException.class,
                    () -> a.free(big.address()),
                    FOREIGN);
        }
    }

    @Test
    void randomAndWeirdAddresses() {
        long[] addrs = {
            0x1234_5678_0000L,
            0x1234_5678_0010L,
            0x1234_5678_0008L,
            16L,
            4096L,
            -16L,
            Long.MIN_VALUE,
            Long.MAX_VALUE & ~15L,
            0x7fff_0000_0000L,
            1L << 47
        };
        for (long addr : addrs) {
            String h = "0x" + Long.toHexString(addr);
            rejects("free(" + h + ")", IllegalArgumentException.class, () -> a.free(addr), FOREIGN);
            rejects("usableSize(" + h + ")", IllegalArgumentException.class, () -> a.usableSize(addr), FOREIGN);
            rejects("realloc(" + h + ")", IllegalArgumentException.class, () -> a.realloc(addr, 8), FOREIGN);
        }
    }

    // ------------------------------------------------------------------ interior pointers

    @Test
    void interiorPointers() {
        long p = a.malloc(32);
        long q = a.malloc(48);
        fill(p, 32, 5);
        rejects("free(p+8)", IllegalArgumentException.class, () -> a.free(p + 8), "interior pointer");
        rejects("free(p+1)", IllegalArgumentException.class, () -> a.free(p + 1), "interior pointer");
        rejects("free(p+31)", IllegalArgumentException.class, () -> a.free(p + 31), "interior pointer");
        rejects("free(q+16)", IllegalArgumentException.class, () -> a.free(q + 16), "interior pointer");
        rejects("free(q+32)", IllegalArgumentException.class, () -> a.free(q + 32), "interior pointer");
        rejects("realloc(p+8)", IllegalArgumentException.class, () -> a.realloc(p + 8, 64), "interior pointer");
        rejects("usableSize(p+8)", IllegalArgumentException.class, () -> a.usableSize(p + 8), "interior pointer");
        rejects(
                "free(segment slice)",
                IllegalArgumentException.class,
                () -> a.free(MemorySegment.ofAddress(p + 16).reinterpret(16)),
                "interior pointer");
        assertPattern(p, 32, 5);
        a.free(p);
        a.free(q);
    }

    @Test
    void interiorPointerOfALargeBlock() {
        long big = live.get(301)[0]; // 5000 bytes
        rejects(
                "free(large+8)",
                IllegalArgumentException.class,
                () -> a.free(big + 8),
                "interior pointer",
                "not allocated");
        rejects(
                "free(large+1)",
                IllegalArgumentException.class,
                () -> a.free(big + 1),
                "interior pointer",
                "not allocated");
        rejects(
                "usableSize(large+16)",
                IllegalArgumentException.class,
                () -> a.usableSize(big + 16),
                "interior pointer",
                "not allocated");
    }

    @Test
    void interiorPointerOfAnAlignedBlock() {
        long p = a.mallocAligned(100, 128); // 128-byte block
        rejects("free(aligned+64)", IllegalArgumentException.class, () -> a.free(p + 64), "interior pointer");
        a.free(p);
    }

    // ------------------------------------------------------------------ arena given back

    @Test
    void freeAfterTheArenaWasGivenBack() {
        long startArenas = a.stats().arenasCurrent();
        List<Long> blocks = new ArrayList<>();
        while (a.stats().arenasCurrent() < startArenas + 2) {
            for (int i = 0; i < 256; i++) {
                blocks.add(a.malloc(512));
            }
        }
        for (int i = 0; i < 1024; i++) {
            blocks.add(a.malloc(512));
        }
        var before = a.stats();
        Set<Long> arenasBefore = new HashSet<>();
        for (var ar : before.arenas()) {
            arenasBefore.add(ar.address());
        }
        for (long b : blocks) {
            a.free(b);
        }
        a.trim(); // wholly free arenas wait one purge delay; trim unmaps them now
        var after = a.stats();
        assertTrue(after.arenasReclaimed() > before.arenasReclaimed(), "freeing two arenas' worth reclaims one");
        Set<Long> arenasAfter = new HashSet<>();
        for (var ar : after.arenas()) {
            arenasAfter.add(ar.address());
        }
        Set<Long> gone = new HashSet<>(arenasBefore);
        gone.removeAll(arenasAfter);
        assertFalse(gone.isEmpty());
        long goneArena = gone.iterator().next();
        long victim = -1;
        for (long b : blocks) {
            if (b >= goneArena && b < goneArena + after.arenaSize()) {
                victim = b;
                break;
            }
        }
        assertNotEquals(-1L, victim);
        final long v = victim;
        rejects("free into a reclaimed arena", IllegalArgumentException.class, () -> a.free(v), FREED_OR_FOREIGN);
        rejects(
                "usableSize in a reclaimed arena",
                IllegalArgumentException.class,
                () -> a.usableSize(v),
                FREED_OR_FOREIGN);
        rejects(
                "realloc in a reclaimed arena",
                IllegalArgumentException.class,
                () -> a.realloc(v, 8),
                FREED_OR_FOREIGN);
        rejects(
                "free(reclaimed arena base)",
                IllegalArgumentException.class,
                () -> a.free(goneArena),
                FREED_OR_FOREIGN);
    }

    // ------------------------------------------------------------------ segments

    @Test
    void freeOfHeapSegment() {
        rejects(
                "free(heap segment)",
                IllegalArgumentException.class,
                () -> a.free(MemorySegment.ofArray(new byte[16])),
                "native",
                "heap");
        rejects(
                "free(heap long[] segment)",
                IllegalArgumentException.class,
                () -> a.free(MemorySegment.ofArray(new long[4])),
                "native",
                "heap");
    }

    @Test
    void nullSegmentIsANoOp() {
        var before = fingerprint(a.stats());
        a.free(MemorySegment.NULL);
        assertIntact("free(NULL segment)", before);
    }

    // ------------------------------------------------------------------ builder

    @Test
    void builderRejectsBadValues() {
        List<java.util.function.Supplier<Allocator>> bad = List.of(
                () -> Allocator.builder().arenaSize(3 * MiB).build(),
                () -> Allocator.builder().arenaSize(32 * KiB).build(),
                () -> Allocator.builder().arenaSize(2048 * MiB).build(),
                () -> Allocator.builder().arenaSize(0).build(),
                () -> Allocator.builder().arenaSize(-MiB).build(),
                () -> Allocator.builder().poolSize(3 * KiB).build(),
                () -> Allocator.builder().poolSize(2 * KiB).build(),
                () -> Allocator.builder().poolSize(2 * MiB).build(),
                () -> Allocator.builder().poolSize(-4096).build(),
                () -> Allocator.builder().arenaSize(64 * KiB).poolSize(32 * KiB).build(), // arena < 4 x pool
                () -> Allocator.builder().poolSize(MiB).arenaSize(2 * MiB).build(),
                () -> Allocator.builder().maxReservedBytes(0).build(),
                () -> Allocator.builder().maxReservedBytes(-1).build());
        for (int i = 0; i < bad.size(); i++) {
            var e = bad.get(i);
            final int ii = i;
            IllegalArgumentException ex = assertThrows(
                    IllegalArgumentException.class,
                    () -> {
                        Allocator x = e.get();
                        x.close(); // only reached when the bad value was accepted
                    },
                    () -> "bad builder case #" + ii);
            assertNotNull(ex.getMessage());
        }
    }

    @Test
    void builderAcceptsBoundaryValues() {
        try (Allocator x =
                Allocator.builder().arenaSize(64 * KiB).poolSize(4 * KiB).build()) {
            assertEquals(64 * KiB, x.stats().arenaSize());
            assertEquals(4 * KiB, x.stats().poolSize());
            x.free(x.malloc(1));
        }
        try (Allocator x = Allocator.builder()
                .arenaSize(4 * MiB)
                .poolSize(MiB)
                .maxReservedBytes(1)
                .build()) {
            assertEquals(1, x.stats().maxReservedBytes());
        }
        try (Allocator x =
                Allocator.builder().arenaSize(1024 * MiB).poolSize(16 * KiB).build()) {
            assertEquals(1024 * MiB, x.stats().arenaSize());
        }
    }
}
