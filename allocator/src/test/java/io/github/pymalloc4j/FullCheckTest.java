package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The debug tier (package-info, "Checks"): the full check passes on a consistent allocator through churn,
 * local and remote frees, trim and stats, and catches a corrupted free list at stats() and close().
 */
class FullCheckTest {
    @Test
    void fullCheckHoldsThroughChurnAndRemoteFrees() throws Exception {
        try (Allocator a = Allocator.builder().fullCheck(true).build()) {
            final SplittableRandom random = new SplittableRandom(7);
            final List<Long> live = new ArrayList<>();
            for (int op = 0; op < 20_000; op++) {
                if (!live.isEmpty() && random.nextInt(100) < 45) {
                    a.free(live.remove(random.nextInt(live.size())));
                } else {
                    live.add(a.malloc(random.nextInt(513)));
                }
                if (op % 5_000 == 0) {
                    assertNull(a.checkFull(), "op " + op);
                    a.stats(); // throws if the full check fails
                }
            }
            // Another thread frees half: remote frees, some into full (detached, armed) pools.
            final List<Long> remote = new ArrayList<>(live.subList(0, live.size() / 2));
            live.subList(0, live.size() / 2).clear();
            final Thread freer = new Thread(() -> remote.forEach(a::free));
            freer.start();
            freer.join();
            assertNull(a.checkFull());
            a.stats();
            a.trim();
            live.forEach(a::free);
            assertNull(a.checkFull());
            a.trim();
        }
    }

    @Test
    void fullCheckCatchesAFreeListLinkOverwrittenAfterFree() {
        final String before = System.getProperty(Allocator.Builder.CHECK_PROPERTY);
        System.setProperty(Allocator.Builder.CHECK_PROPERTY, "full");
        final Allocator a;
        try {
            a = Allocator.builder().build();
        } finally {
            if (before == null) {
                System.clearProperty(Allocator.Builder.CHECK_PROPERTY);
            } else {
                System.setProperty(Allocator.Builder.CHECK_PROPERTY, before);
            }
        }
        final long kept = a.malloc(16);
        final long first = a.malloc(16);
        final long second = a.malloc(16);
        a.free(first);
        a.free(second); // the free list: second -> first -> 0
        assertNull(a.checkFull());
        a.stats();

        AddressSpace.putLongPlain(second, kept); // a write after free: the link now leads to a live block
        final String wrong = a.checkFull();
        assertNotNull(wrong, "the full check must see the corrupted free list");
        assertTrue(wrong.contains("free list holds live block"), wrong);
        final IllegalStateException atStats = assertThrows(IllegalStateException.class, a::stats);
        assertTrue(atStats.getMessage().contains("full check"), atStats.getMessage());

        final IllegalStateException atClose = assertThrows(IllegalStateException.class, a::close);
        assertTrue(atClose.getMessage().contains("free list"), atClose.getMessage());
        assertTrue(a.isClosed(), "a failed check still closes the allocator");
        assertEquals(0, a.limitReservedBytes(), "and gives every arena back");
    }
}
