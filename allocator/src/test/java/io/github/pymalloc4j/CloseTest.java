package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.MiB;
import static io.github.pymalloc4j.TestSupport.assertThrowsWithMessage;
import static io.github.pymalloc4j.TestSupport.seg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CloseTest {

    @Test
    void closeIsIdempotentAndIsClosedReportsIt() {
        Allocator a = Allocator.create();
        a.malloc(100);
        a.malloc(100_000);
        assertFalse(a.isClosed());
        a.close();
        assertTrue(a.isClosed());
        a.close();
        a.close();
        assertTrue(a.isClosed());
    }

    @Test
    void everyMethodThrowsAfterClose() {
        Allocator a = Allocator.create();
        long small = a.malloc(64);
        long large = a.malloc(10_000);
        MemorySegment segment = a.allocate(32, 8);
        a.close();
        Map<String, Executable> calls = new LinkedHashMap<>();
        calls.put("malloc(16)", () -> a.malloc(16));
        calls.put("malloc(0)", () -> a.malloc(0));
        calls.put("malloc(10000)", () -> a.malloc(10_000));
        calls.put("calloc(2, 8)", () -> a.calloc(2, 8));
        calls.put("realloc(0, 16)", () -> a.realloc(0, 16));
        calls.put("realloc(small, 32)", () -> a.realloc(small, 32));
        calls.put("realloc(large, 20000)", () -> a.realloc(large, 20_000));
        calls.put("mallocAligned(16, 64)", () -> a.mallocAligned(16, 64));
        calls.put("free(small)", () -> a.free(small));
        calls.put("free(large)", () -> a.free(large));
        calls.put("usableSize(small)", () -> a.usableSize(small));
        calls.put("usableSize(large)", () -> a.usableSize(large));
        calls.put("allocate(16, 8)", () -> a.allocate(16, 8));
        calls.put("allocate(JAVA_INT)", () -> a.allocate(ValueLayout.JAVA_INT));
        calls.put("allocateFrom(JAVA_INT, 1, 2, 3)", () -> a.allocateFrom(ValueLayout.JAVA_INT, 1, 2, 3));
        calls.put("free(segment)", () -> a.free(segment));
        calls.put("stats()", a::stats);
        for (var e : calls.entrySet()) {
            try {
                assertThrowsWithMessage(IllegalStateException.class, e.getValue(), "closed");
            } catch (AssertionError err) {
                throw new AssertionError(e.getKey() + " after close: " + err.getMessage(), err);
            }
        }
        assertTrue(a.isClosed());
    }

    @Test
    void closedCheckComesBeforeArgumentValidation() {
        // after close, even invalid arguments report the closed state (not an IllegalArgumentException)
        Allocator a = Allocator.create();
        a.close();
        assertThrowsWithMessage(IllegalStateException.class, () -> a.malloc(-1), "closed");
        assertThrowsWithMessage(IllegalStateException.class, () -> a.free(0x1234_5678_0000L), "closed");
        assertThrowsWithMessage(IllegalStateException.class, () -> a.mallocAligned(16, 3), "closed");
    }

    @Test
    void freeOfNullAfterCloseAlsoThrows() {
        // contract: "Every other call afterwards (malloc, free, stats, ...) -> IllegalStateException"
        Allocator a = Allocator.create();
        a.close();
        assertThrowsWithMessage(IllegalStateException.class, () -> a.free(0L), "closed");
        assertThrowsWithMessage(IllegalStateException.class, () -> a.free(MemorySegment.NULL), "closed");
    }

    @Test
    void snapshotTakenBeforeCloseStaysReadable() {
        Allocator a = Allocator.create();
        a.malloc(100);
        var s = a.stats();
        a.close();
        assertEquals(1, TestSupport.totalBlocksInUse(s));
        assertTrue(s.toText().length() > 0);
        Json.parse(s.toJson());
    }

    @Test
    void closeWithManyLiveBlocksAndUnusedAllocators() {
        for (int i = 0; i < 20; i++) {
            Allocator a = Allocator.create();
            for (int k = 0; k < 5000; k++) {
                a.malloc(1 + (k % 512));
            }
            for (int k = 0; k < 20; k++) {
                a.malloc(600 + k * 1000);
            }
            a.close();
            assertTrue(a.isClosed());
        }
        // never used at all
        Allocator b = Allocator.create();
        b.close();
        assertTrue(b.isClosed());
    }

    private static long rssBytes() throws IOException {
        String statm = Files.readString(Path.of("/proc/self/statm")).trim();
        long pages = Long.parseLong(statm.split("\\s+")[1]);
        return pages * 4096;
    }

    @Test
    void closeGivesTheNativeMemoryBack() throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/statm")), "Linux only");
        long base = -1;
        for (int round = 0; round < 30; round++) {
            Allocator a = Allocator.create();
            // 16 MiB in touched arenas, 8 MiB in touched large blocks
            for (int k = 0; k < 32 * 1024; k++) {
                long p = a.malloc(512);
                seg(p, 512).fill((byte) 1);
            }
            for (int k = 0; k < 8; k++) {
                long p = a.malloc(MiB);
                seg(p, MiB).fill((byte) 2);
            }
            a.close();
            if (round == 4) {
                base = rssBytes();
            }
        }
        long grown = rssBytes() - base;
        // 25 leaked rounds would be 600 MiB
        assertTrue(grown < 200 * MiB, () -> "RSS grew by " + grown / MiB + " MiB over 25 create/fill/close rounds");
    }
}
