package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.assertSameFingerprint;
import static io.github.pymalloc4j.TestSupport.fingerprint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every arena lives in one reserved address range: a full range refuses new arenas with an
 * OutOfMemoryError and leaves the allocator usable; addresses next to the range, or inside it where no
 * arena is, are refused as foreign; a slot given back is reused.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AddressRangeTest {

    private static final long ARENA = 1L << 20;

    @Test
    void aFullRangeRefusesArenasAndStaysUsable() {
        try (Allocator a = Allocator.builder()
                .addressRange(2 * ARENA)
                .purgeDelay(java.time.Duration.ZERO)
                .build()) {
            List<Long> blocks = new ArrayList<>();
            OutOfMemoryError refused = null;
            try {
                for (int i = 0; i < 100_000; i++) {
                    blocks.add(a.malloc(512));
                }
            } catch (OutOfMemoryError e) {
                refused = e;
            }
            assertTrue(refused != null, "two arenas cannot hold 100 000 blocks of 512 B");
            assertTrue(refused.getMessage().contains("address range"), refused.getMessage());
            assertEquals(2, a.stats().arenasCurrent());
            Map<String, String> before = fingerprint(a.stats());
            assertThrows(OutOfMemoryError.class, () -> a.malloc(512));
            assertSameFingerprint(before, fingerprint(a.stats()), "a refused malloc");
            long large = a.malloc(4096); // large blocks do not need the range
            a.free(large);
            for (long b : blocks) {
                a.free(b);
            }
            assertEquals(0, a.stats().bytesInAllocatedBlocks() + a.stats().largeBytes());
            long again = a.malloc(512); // the slots were given back: the range has room again
            a.free(again);
        }
    }

    @Test
    void addressesAroundArenasAreForeign() {
        try (Allocator a = Allocator.create()) {
            long p = a.malloc(64);
            long arenaBase = p & -ARENA;
            Map<String, String> before = fingerprint(a.stats());
            for (long bad : new long[] {
                arenaBase - 16,
                arenaBase + 64 * ARENA,
                arenaBase + 40 * ARENA + 4096,
                Long.MAX_VALUE & -16,
                Long.MIN_VALUE,
                16
            }) {
                IllegalArgumentException e = assertThrows(
                        IllegalArgumentException.class, () -> a.free(bad), "free(0x" + Long.toHexString(bad) + ")");
                assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
                assertThrows(IllegalArgumentException.class, () -> a.usableSize(bad));
                assertThrows(IllegalArgumentException.class, () -> a.realloc(bad, 10));
            }
            assertSameFingerprint(before, fingerprint(a.stats()), "foreign frees");
            a.free(p);
        }
    }

    /** The child: the default allocator in a process that may reserve only a few GiB of address space. */
    public static final class SmallAddressSpace {
        public static void main(String[] args) {
            try (Allocator a = Allocator.create()) {
                long[] blocks = new long[20_000];
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = a.malloc(256);
                }
                for (long b : blocks) {
                    a.free(b);
                }
                System.out.println("ok " + a.stats().arenasHighWater());
            }
            try {
                Allocator.builder().addressRange(1L << 40).build().close();
                System.out.println("an explicit range was shrunk");
            } catch (OutOfMemoryError e) {
                System.out.println("explicit: " + e.getMessage());
            }
        }
    }

    @Test
    void aProcessLimitedInAddressSpaceGetsASmallerRange() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                java.nio.file.Files.isExecutable(java.nio.file.Path.of("/bin/bash")));
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
                .toString();
        // 12 GiB: room for the child JVM's own reservations, not for 32 GiB of arenas.
        String cmd = "ulimit -v 12582912 && exec '" + javaBin + "' -Xmx64m -XX:ReservedCodeCacheSize=32m"
                + " -XX:CompressedClassSpaceSize=64m -Xshare:off --enable-native-access=ALL-UNNAMED"
                + " -cp '" + System.getProperty("java.class.path") + "' '" + SmallAddressSpace.class.getName() + "'";
        Process p = new ProcessBuilder("/bin/bash", "-c", cmd)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("ok "), out);
        assertTrue(out.contains("explicit: pymalloc4j: cannot reserve"), out);
    }

    @Test
    void builderChecksTheRange() {
        assertThrows(
                IllegalArgumentException.class,
                () -> Allocator.builder().addressRange(4096).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> Allocator.builder().addressRange(1L << 41).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> Allocator.builder().addressRange(-1).build());
        try (Allocator a = Allocator.builder().maxReservedBytes(3 * ARENA).build()) {
            long p = a.malloc(16);
            a.free(p);
        }
    }
}
