package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The published statistics file: the writer (StatsPublisher via Allocator.Builder) and the reader (StatsFile). */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StatsPublisherTest {

    private static final long PID = ProcessHandle.current().pid();

    @TempDir
    Path dir;

    private Allocator.Builder publishing(String name) {
        return Allocator.builder().publishStats(name).publishDirectory(dir);
    }

    // ------------------------------------------------------------------ file, name, lifecycle

    @Test
    void fileIsCreatedInTheDirectoryWithPidAndName() throws Exception {
        try (Allocator a = publishing("unit-test.1").build()) {
            Path expected = dir.resolve(PID + "-unit-test.1.pm4j").toAbsolutePath();
            assertEquals(Optional.of(expected), a.statsFile());
            assertTrue(Files.isRegularFile(expected));
            assertEquals(
                    List.of(expected),
                    StatsFile.list(dir).stream().map(Path::toAbsolutePath).toList(),
                    "only the published file, no temporary file left: " + listing());
            try (var files = Files.list(dir)) {
                assertEquals(1, files.count(), listing());
            }
            if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(expected)));
            }
            try (StatsFile f = StatsFile.open(expected)) {
                StatsFile.Snapshot s = f.read();
                assertEquals(1, s.layoutVersion());
                assertEquals(PID, s.pid());
                assertEquals("unit-test.1", s.name());
                assertEquals(Duration.ofSeconds(1), s.publishPeriod());
                assertTrue(s.publishCount() >= 1);
                assertEquals(0, s.sequence() & 1);
                assertTrue(s.processAlive());
                assertFalse(
                        s.stale(Duration.ZERO),
                        () -> s.staleReason(Duration.ZERO).orElse(""));
                assertFalse(s.writerClosed());
                assertTrue(s.startTime().toEpochMilli() <= s.heartbeat().toEpochMilli());
                assertEquals(1L << 20, s.arenaSize());
                assertEquals(16L << 10, s.poolSize());
                assertEquals(64, s.poolsPerArena());
                assertEquals(4096, s.arenaCapacity()); // min(4096, max(64, 8 MiB / (32 + 4 * 64)))
                assertEquals(0, s.arenas().size());
            }
        }
    }

    @Test
    void theDefaultDirectoryIsPerUserAndOwnerOnly() throws Exception {
        Path base = Files.isDirectory(Path.of("/dev/shm")) && Files.isWritable(Path.of("/dev/shm"))
                ? Path.of("/dev/shm")
                : Path.of(System.getProperty("java.io.tmpdir"));
        Path expectedDir = StatsFile.defaultDirectory();
        assertEquals(base, expectedDir.getParent());
        assertTrue(expectedDir.getFileName().toString().startsWith("pymalloc4j-"), expectedDir.toString());
        String name = "default-dir-" + Long.toHexString(System.nanoTime());
        try (Allocator a = Allocator.builder().publishStats(name).build()) {
            Path file = a.statsFile().orElseThrow();
            assertEquals(expectedDir.resolve(PID + "-" + name + ".pm4j").toAbsolutePath(), file);
            assertTrue(
                    StatsFile.list().stream().anyMatch(p -> p.toAbsolutePath().equals(file)),
                    StatsFile.list().toString());
            if (expectedDir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(expectedDir));
                assertTrue(mode.endsWith("------"), "no access for group and others: " + mode);
            }
            try (StatsFile f = StatsFile.open(file)) {
                assertEquals(name, f.read().name());
            }
        }
    }

    @Test
    void fileIsDeletedOnCloseAndAReaderStillMappingItSeesItClosed() throws Exception {
        Allocator a = publishing("closing").publishPeriod(Duration.ofHours(1)).build();
        Path file = a.statsFile().orElseThrow();
        try (StatsFile f = StatsFile.open(file)) {
            a.malloc(100);
            a.close();
            assertFalse(Files.exists(file), "deleted on close");
            assertEquals(Optional.empty(), a.statsFile());
            assertThrows(IllegalStateException.class, a::publishNow);
            StatsFile.Snapshot s = f.read(); // the mapping outlives the unlink
            assertTrue(s.writerClosed());
            assertTrue(s.stale(Duration.ZERO));
            assertEquals(Optional.of("the allocator was closed"), s.staleReason(Duration.ZERO));
        }
        a.close(); // idempotent
        assertEquals(List.of(), StatsFile.list(dir));
        assertFalse(
                Thread.getAllStackTraces().keySet().stream()
                        .anyMatch(t -> t.getName().equals("pymalloc4j-publisher-closing")),
                "publisher thread stopped");
    }

    @Test
    void publishNowNeedsPublishingOn() {
        try (Allocator a = Allocator.builder().build()) {
            assertEquals(Optional.empty(), a.statsFile());
            IllegalStateException e = assertThrows(IllegalStateException.class, a::publishNow);
            assertTrue(e.getMessage().contains("publishing is off"), e.getMessage());
        }
    }

    @Test
    void theSameNameTwiceInOneProcessGetsTwoFiles() throws Exception {
        try (Allocator a = publishing("twice").build();
                Allocator b = publishing("twice").build()) {
            assertEquals(
                    dir.resolve(PID + "-twice.pm4j").toAbsolutePath(),
                    a.statsFile().orElseThrow());
            assertEquals(
                    dir.resolve(PID + "-twice-2.pm4j").toAbsolutePath(),
                    b.statsFile().orElseThrow());
            try (StatsFile f = StatsFile.open(b.statsFile().orElseThrow())) {
                assertEquals("twice-2", f.read().name());
            }
            String longName = "n".repeat(48);
            try (Allocator c = publishing(longName).build();
                    Allocator d = publishing(longName).build()) {
                assertEquals(
                        dir.resolve(PID + "-" + "n".repeat(46) + "-2.pm4j").toAbsolutePath(),
                        d.statsFile().orElseThrow());
                assertTrue(c.statsFile().isPresent());
            }
        }
        assertEquals(List.of(), StatsFile.list(dir));
    }

    @Test
    void badBuilderValuesAreRefused() {
        Allocator.Builder b = Allocator.builder();
        for (String bad :
                new String[] {null, "", "has space", "a/b", "..\u00e9", "x".repeat(49), "tab\t", "semi;colon"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.publishStats(bad), bad);
            assertTrue(e.getMessage().contains("[A-Za-z0-9._-]"), e.getMessage());
        }
        for (Duration bad : new Duration[] {
            null,
            Duration.ZERO,
            Duration.ofMillis(99),
            Duration.ofMillis(-5),
            Duration.ofHours(1).plusMillis(1)
        }) {
            assertThrows(IllegalArgumentException.class, () -> b.publishPeriod(bad), String.valueOf(bad));
        }
        assertThrows(IllegalArgumentException.class, () -> b.publishDirectory(null));
        b.publishStats("x".repeat(48))
                .publishStats("A-z_0.9")
                .publishPeriod(Duration.ofMillis(100))
                .publishPeriod(Duration.ofHours(1));
    }

    @Test
    void anUnusableDirectoryFailsTheBuildWhenTheBuilderAskedForPublishing() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");
        UncheckedIOException e = assertThrows(
                UncheckedIOException.class,
                () -> Allocator.builder()
                        .publishStats("nowhere")
                        .publishDirectory(notADirectory.resolve("sub"))
                        .build());
        assertTrue(e.getMessage().contains("nowhere"), e.getMessage());
        // nothing was left behind: the same name is free again
        try (Allocator a = publishing("nowhere").build()) {
            assertEquals(
                    dir.resolve(PID + "-nowhere.pm4j").toAbsolutePath(),
                    a.statsFile().orElseThrow());
        }
    }

    // ------------------------------------------------------------------ system properties

    @Test
    void theSystemPropertySwitchesPublishingOn() throws Exception {
        try {
            System.setProperty(StatsPublisher.NAME_PROPERTY, "from-property");
            System.setProperty(StatsPublisher.PERIOD_PROPERTY, "250");
            System.setProperty(StatsPublisher.DIRECTORY_PROPERTY, dir.toString());
            try (Allocator a = Allocator.builder().build()) {
                Path file = dir.resolve(PID + "-from-property.pm4j").toAbsolutePath();
                assertEquals(Optional.of(file), a.statsFile());
                try (StatsFile f = StatsFile.open(file)) {
                    StatsFile.Snapshot s = f.read();
                    assertEquals("from-property", s.name());
                    assertEquals(Duration.ofMillis(250), s.publishPeriod());
                }
                a.publishNow();
                // the builder's own choice wins over the properties
                try (Allocator b = Allocator.builder()
                        .publishStats("from-builder")
                        .publishDirectory(dir)
                        .build()) {
                    assertEquals(
                            dir.resolve(PID + "-from-builder.pm4j").toAbsolutePath(),
                            b.statsFile().orElseThrow());
                    try (StatsFile f = StatsFile.open(b.statsFile().orElseThrow())) {
                        assertEquals(Duration.ofSeconds(1), f.read().publishPeriod());
                    }
                }
            }
            assertEquals(List.of(), StatsFile.list(dir));

            // bad values: logged, publishing stays off, the allocator still works
            System.setProperty(StatsPublisher.NAME_PROPERTY, "bad name!");
            try (Allocator a = Allocator.builder().build()) {
                assertEquals(Optional.empty(), a.statsFile());
                a.free(a.malloc(10));
            }
            System.setProperty(StatsPublisher.NAME_PROPERTY, "ok");
            System.setProperty(StatsPublisher.PERIOD_PROPERTY, "10");
            try (Allocator a = Allocator.builder().build()) {
                assertEquals(Optional.empty(), a.statsFile());
            }
            System.setProperty(StatsPublisher.PERIOD_PROPERTY, "soon");
            try (Allocator a = Allocator.builder().build()) {
                assertEquals(Optional.empty(), a.statsFile());
            }
            System.setProperty(StatsPublisher.PERIOD_PROPERTY, "100");
            System.setProperty(
                    StatsPublisher.DIRECTORY_PROPERTY,
                    Files.writeString(dir.resolve("f"), "").resolve("d").toString());
            try (Allocator a = Allocator.builder().build()) {
                assertEquals(Optional.empty(), a.statsFile());
            }
        } finally {
            System.clearProperty(StatsPublisher.NAME_PROPERTY);
            System.clearProperty(StatsPublisher.PERIOD_PROPERTY);
            System.clearProperty(StatsPublisher.DIRECTORY_PROPERTY);
        }
        try (Allocator a = Allocator.builder().build()) {
            assertEquals(Optional.empty(), a.statsFile(), "off again once the property is cleared");
        }
    }

    // ------------------------------------------------------------------ contents

    @Test
    void fieldsMatchStatsAfterPublishNow() throws Exception {
        // A purge delay of a minute: no maintenance round changes anything between the two snapshots.
        try (Allocator a = publishing("fields")
                .purgeDelay(Duration.ofMinutes(1))
                .maxReservedBytes(64L << 20)
                .publishPeriod(Duration.ofHours(1))
                .build()) {
            // fill MAX_KEPT_EMPTY + 2 pools of class 31 and start one more; emptied (below), the heap keeps
            // MAX_KEPT_EMPTY of them and gives the others back to their arena, where they are published as
            // class -1
            List<Long> class31 = new ArrayList<>();
            int emptied = 32 * (Heap.MAX_KEPT_EMPTY + 2);
            for (int i = 0; i < emptied + 1; i++) {
                class31.add(a.malloc(512));
            }
            List<Long> blocks = new ArrayList<>();
            Random r = new Random(7);
            for (int i = 0; i < 20_000; i++) {
                blocks.add(a.malloc(1 + r.nextInt(500)));
            }
            for (int i = 0; i < 10; i++) {
                blocks.add(a.malloc(1000 + 100 * i)); // large
            }
            for (int i = 0; i < blocks.size(); i += 3) {
                a.free(blocks.get(i));
            }
            long[] moved = {a.realloc(a.malloc(100), 20)};
            Thread remote = new Thread(() -> a.free(blocks.get(1)));
            remote.start();
            remote.join();

            for (int i = 0; i < emptied; i++) {
                a.free(class31.get(i));
            }
            a.publishNow();
            AllocatorStats st = a.stats();
            assertTrue(
                    st.arenas().stream().flatMap(x -> x.pools().stream()).anyMatch(p -> p.sizeClass() == -1),
                    "test setup: an empty carved pool");
            try (StatsFile f = StatsFile.open(a.statsFile().orElseThrow())) {
                StatsFile.Snapshot s = f.read();
                assertEquals(st.arenaBytes(), s.arenaBytes());
                assertEquals(st.bytesInAllocatedBlocks(), s.bytesInAllocatedBlocks());
                assertEquals(st.bytesPendingRemoteFree(), s.bytesPendingRemoteFree());
                assertEquals(st.bytesInAvailableBlocks(), s.bytesInAvailableBlocks());
                assertEquals(st.bytesInFreePools(), s.bytesInFreePools());
                assertEquals(st.bytesLostToQuantization(), s.bytesLostToQuantization());
                assertEquals(st.accountedBytes(), s.accountedBytes());
                assertEquals(st.bytesRequested(), s.bytesRequested());
                assertEquals(st.internalFragmentationBytes(), s.internalFragmentationBytes());
                assertEquals(st.externalFragmentation(), s.externalFragmentation());
                assertEquals(st.reservedBytes(), s.reservedBytes());
                assertEquals(st.committedBytes(), s.committedBytes());
                assertEquals(st.freeNotReturnedBytes(), s.freeNotReturnedBytes());
                assertEquals(st.heapMetadataBytes(), s.heapMetadataBytes());
                assertEquals(64L << 20, s.maxReservedBytes());
                assertEquals(st.largeAllocations(), s.largeAllocations());
                assertEquals(st.largeBytes(), s.largeBytes());
                assertEquals(st.arenasAllocatedTotal(), s.arenasAllocatedTotal());
                assertEquals(st.arenasReclaimed(), s.arenasReclaimed());
                assertEquals(st.arenasHighWater(), s.arenasHighWater());
                assertEquals(st.arenasCurrent(), s.arenasCurrent());
                assertEquals(st.mallocs(), s.mallocs());
                assertEquals(st.frees(), s.frees());
                assertEquals(st.remoteFrees(), s.remoteFrees());
                assertTrue(s.remoteFrees() >= 1);
                assertEquals(st.reallocs(), s.reallocs());
                assertEquals(st.largeMallocs(), s.largeMallocs());
                assertEquals(st.doubleFreesDetected(), s.doubleFreesDetected());
                assertEquals(st.poolsDecommitted(), s.poolsDecommitted());
                assertTrue(s.maintenanceRounds() <= st.maintenanceRounds());
                assertEquals(st.purgeDelayNanos(), s.purgeDelayNanos());
                assertEquals(st.orphanPools(), s.orphanPools());
                assertEquals(st.orphanedBlocksInUse(), s.orphanedBlocksInUse());
                assertEquals(st.heaps().size(), s.heapCount());
                assertEquals(st.lockFreeOwners(), s.lockFreeOwners());
                assertEquals(st.maintenanceFailure() != null, s.maintenanceFailed());
                assertEquals(512, s.smallRequestThreshold());
                assertEquals(st.sizeClasses(), s.sizeClasses());

                assertEquals(st.arenas().size(), s.arenas().size());
                assertFalse(s.arenasTruncated());
                boolean sawEmpty = false;
                boolean sawNeverCarved = false;
                for (int i = 0; i < st.arenas().size(); i++) {
                    AllocatorStats.ArenaStats x = st.arenas().get(i);
                    StatsFile.ArenaRecord y = s.arenas().get(i);
                    assertEquals(x.address(), y.address());
                    assertEquals(x.poolsTotal(), y.poolsTotal());
                    assertEquals(x.poolsCarved(), y.poolsCarved());
                    assertEquals(x.poolsFree(), y.poolsFree());
                    assertEquals(
                            x.pools().stream()
                                    .mapToLong(AllocatorStats.PoolStats::blocksInUse)
                                    .sum(),
                            y.blocksInUse());
                    assertEquals(x.poolsTotal(), y.pools().size());
                    for (AllocatorStats.PoolStats p : x.pools()) {
                        StatsFile.PoolRecord q = y.pool(p.index());
                        assertEquals(p.sizeClass(), q.sizeClass(), "pool " + p.index());
                        assertEquals(p.blocksInUse(), q.blocksInUse());
                        assertEquals(p.capacity(), q.capacity());
                        assertEquals(p.blockSize(), q.blockSize());
                        assertEquals(p.capacity() == 0 ? 0 : p.blocksInUse() * 100 / p.capacity(), q.fillPercent());
                        sawEmpty |= q.sizeClass() == StatsFile.PoolRecord.FREE;
                    }
                    for (int k = x.poolsCarved(); k < x.poolsTotal(); k++) {
                        assertEquals(
                                StatsFile.PoolRecord.NEVER_CARVED, y.pool(k).sizeClass());
                        assertFalse(y.pool(k).carved());
                        sawNeverCarved = true;
                    }
                }
                assertTrue(sawEmpty, "an empty carved pool is published as class -1");
                assertTrue(sawNeverCarved, "never-carved pools are published as class -2");

                assertJsonMatches(st, s);
            }
            a.free(moved[0]);
        }
    }

    /** The file's JSON uses the stats JSON's names and values wherever it carries the data. */
    @SuppressWarnings("unchecked")
    private static void assertJsonMatches(AllocatorStats st, StatsFile.Snapshot s) {
        Map<String, Object> expected = (Map<String, Object>) Json.parse(st.toJson());
        Map<String, Object> actual = (Map<String, Object>) Json.parse(s.toJson());
        assertEquals("pymalloc4j-stats-file", String.valueOf(actual.get("schema")));
        for (String key : List.of("config", "sizeClasses", "orphans", "bytes", "large")) {
            assertEquals(expected.get(key), actual.get(key), key);
        }
        Map<String, Object> expectedCounters = (Map<String, Object>) expected.get("counters");
        Map<String, Object> actualCounters = (Map<String, Object>) actual.get("counters");
        assertEquals(expectedCounters.keySet(), actualCounters.keySet());
        expectedCounters.remove("maintenanceRounds");
        actualCounters.remove("maintenanceRounds");
        assertEquals(expectedCounters, actualCounters);
        Set<String> topLevel = new HashSet<>(expected.keySet());
        topLevel.remove("heaps"); // not in the file: only their number
        topLevel.add("heapCount");
        topLevel.add("file");
        assertEquals(topLevel, actual.keySet());
        Map<String, Object> ea = (Map<String, Object>) expected.get("arenas");
        Map<String, Object> aa = (Map<String, Object>) actual.get("arenas");
        for (String key : List.of("allocatedTotal", "reclaimed", "highWater", "current")) {
            assertEquals(ea.get(key), aa.get(key), key);
        }
        List<Object> el = (List<Object>) ea.get("list");
        List<Object> al = (List<Object>) aa.get("list");
        assertEquals(el.size(), al.size());
        for (int i = 0; i < el.size(); i++) {
            Map<String, Object> e = (Map<String, Object>) el.get(i);
            Map<String, Object> x = (Map<String, Object>) al.get(i);
            for (String key : List.of("address", "poolsTotal", "poolsCarved", "poolsFree")) {
                assertEquals(e.get(key), x.get(key), key);
            }
            List<Object> ep = (List<Object>) e.get("pools");
            List<Object> xp = (List<Object>) x.get("pools");
            assertEquals(ep.size(), xp.size(), "carved pools listed");
            for (int k = 0; k < ep.size(); k++) {
                Map<String, Object> p = (Map<String, Object>) ep.get(k);
                Map<String, Object> q = (Map<String, Object>) xp.get(k);
                for (String key : List.of("index", "class", "blocksInUse", "capacity")) {
                    assertEquals(p.get(key), q.get(key), key);
                }
            }
        }
    }

    @Test
    void heartbeatAdvancesWithThePeriod() throws Exception {
        try (Allocator a =
                        publishing("beat").publishPeriod(Duration.ofMillis(100)).build();
                StatsFile f = StatsFile.open(a.statsFile().orElseThrow())) {
            StatsFile.Snapshot first = f.read();
            Thread.sleep(550);
            StatsFile.Snapshot second = f.read();
            long beats = second.publishCount() - first.publishCount();
            long advanced =
                    second.heartbeat().toEpochMilli() - first.heartbeat().toEpochMilli();
            assertTrue(beats >= 3 && beats <= 7, "publishes in 550 ms at 100 ms: " + beats);
            assertTrue(advanced >= 250, "heartbeat advanced " + advanced + " ms");
            assertTrue(second.heartbeatAge().toMillis() < 300, "fresh: " + second.heartbeatAge());
            assertFalse(second.stale(Duration.ZERO));
            long count = second.publishCount();
            a.publishNow();
            assertTrue(f.read().publishCount() > count, "publishNow writes at once");
        }
    }

    @Test
    void arenasBeyondTheCapacityAreTruncatedByAddress() throws Exception {
        try (Allocator a = Allocator.builder()
                .arenaSize(64L << 10)
                .poolSize(16L << 10)
                .purgeDelay(Duration.ofMinutes(1))
                .build()) {
            for (int i = 0; i < 32 * 4 * 3 + 1; i++) {
                a.malloc(512); // 32 per pool, 4 pools per arena: at least 4 arenas
            }
            StatsPublisher p =
                    StatsPublisher.start(a::stats, 64L << 10, 16L << 10, "truncated", Duration.ofHours(1), dir, 2);
            try (StatsFile f = StatsFile.open(p.path())) {
                StatsFile.Snapshot s = f.read();
                AllocatorStats st = a.stats();
                assertTrue(st.arenasCurrent() >= 4);
                assertEquals(st.arenasCurrent(), s.arenasCurrent());
                assertEquals(2, s.arenaCapacity());
                assertEquals(2, s.arenas().size());
                assertTrue(s.arenasTruncated());
                assertEquals(st.arenas().get(0).address(), s.arenas().get(0).address());
                assertEquals(st.arenas().get(1).address(), s.arenas().get(1).address());
                assertEquals(4, s.arenas().get(0).pools().size());
            } finally {
                p.close();
            }
            assertFalse(Files.exists(p.path()));
        }
    }

    // ------------------------------------------------------------------ concurrency

    @Test
    void aReaderHammeringTheFileNeverSeesATornSnapshot() throws Exception {
        try (Allocator a = publishing("hammer")
                        .publishPeriod(Duration.ofMillis(100))
                        .build();
                StatsFile f = StatsFile.open(a.statsFile().orElseThrow())) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                long seed = t;
                threads.add(Thread.ofPlatform().name("hammer-alloc-" + t).start(() -> {
                    Random r = new Random(seed);
                    long[] live = new long[20_000];
                    int n = 0;
                    try {
                        while (!stop.get()) {
                            if (n < live.length && (n == 0 || r.nextInt(100) < 55)) {
                                live[n++] = a.malloc(r.nextInt(100) == 0 ? 600 + r.nextInt(4000) : 1 + r.nextInt(512));
                            } else {
                                int i = r.nextInt(n);
                                a.free(live[i]);
                                live[i] = live[--n];
                            }
                        }
                        for (int i = 0; i < n; i++) {
                            a.free(live[i]);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            // besides the 100 ms daemon, a thread asking for an update every millisecond, so reads overlap writes
            AtomicLong extraPublishes = new AtomicLong();
            threads.add(Thread.ofPlatform().name("hammer-publish").start(() -> {
                try {
                    while (!stop.get()) {
                        a.publishNow();
                        extraPublishes.incrementAndGet();
                        LockSupport.parkNanos(1_000_000);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
            long reads = 0;
            long lastCount = 0;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500);
            while (System.nanoTime() < deadline && failure.get() == null) {
                StatsFile.Snapshot s = f.read();
                assertConsistent(s, "read " + reads);
                assertTrue(s.publishCount() >= lastCount, "publish count went back");
                lastCount = s.publishCount();
                reads++;
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join(10_000);
            }
            assertNull(failure.get(), () -> "worker failed: " + failure.get());
            System.out.println("[StatsPublisherTest] " + reads + " consistent reads, " + f.retries()
                    + " torn copies retried, " + extraPublishes.get() + " publishNow calls, publishCount " + lastCount);
            assertTrue(reads > 100, "reads: " + reads);
            assertTrue(lastCount > 20, "publishes: " + lastCount);
        }
    }

    /** What a torn copy would break: the totals against the classes, the identity, the arena records. */
    private static void assertConsistent(StatsFile.Snapshot s, String ctx) {
        assertEquals(0, s.sequence() & 1, ctx);
        long classBytes = 0;
        long classBlocks = 0;
        for (AllocatorStats.SizeClassStats c : s.sizeClasses()) {
            classBytes += c.blocksInUse() * c.blockSize();
            classBlocks += c.blocksInUse();
        }
        assertEquals(s.bytesInAllocatedBlocks(), classBytes, () -> ctx + ": totals vs classes " + s);
        assertEquals(s.arenaBytes(), s.accountedBytes(), () -> ctx + ": identity " + s);
        assertEquals(s.arenasCurrent() * s.arenaSize(), s.arenaBytes(), ctx);
        assertEquals(s.arenasCurrent(), s.arenas().size(), ctx);
        assertEquals(s.reservedBytes(), s.arenaBytes() + s.largeBytes(), ctx);
        long arenaBlocks = 0;
        long poolBytes = 0;
        for (StatsFile.ArenaRecord r : s.arenas()) {
            arenaBlocks += r.blocksInUse();
            for (StatsFile.PoolRecord p : r.pools()) {
                poolBytes += (long) p.blocksInUse() * p.blockSize();
            }
        }
        assertEquals(classBlocks, arenaBlocks, () -> ctx + ": arena records vs classes " + s);
        assertEquals(classBytes, poolBytes, () -> ctx + ": pool entries vs classes " + s);
    }

    // ------------------------------------------------------------------ stale, truncated, foreign

    @Test
    void aFileOfADeadProcessOrWithAnOldHeartbeatIsStale() throws Exception {
        Process p = new ProcessBuilder("true").start();
        assertEquals(0, p.waitFor());
        long deadPid = p.pid();
        assertFalse(ProcessHandle.of(deadPid).map(ProcessHandle::isAlive).orElse(false));
        try (Allocator a = publishing("live").publishPeriod(Duration.ofHours(1)).build()) {
            a.malloc(64);
            a.publishNow();
            byte[] bytes = Files.readAllBytes(a.statsFile().orElseThrow());

            Path dead = dir.resolve(deadPid + "-copy.pm4j");
            Files.write(dead, withLong(bytes, StatsFileLayout.PID_OFFSET, deadPid));
            try (StatsFile f = StatsFile.open(dead)) {
                StatsFile.Snapshot s = f.read();
                assertEquals(deadPid, s.pid());
                assertFalse(s.processAlive());
                assertTrue(s.stale(Duration.ZERO));
                assertTrue(s.stale(Duration.ofDays(365)), "a dead process is stale whatever the heartbeat");
                assertEquals(Optional.of("process " + deadPid + " is not running"), s.staleReason(Duration.ZERO));
                assertTrue(s.toJson().contains("\"stale\":true"), s.toJson());
            }

            Path old = dir.resolve(PID + "-old.pm4j");
            long tenMinutesAgo = System.currentTimeMillis() - 600_000;
            byte[] oldBytes = withLong(bytes, StatsFileLayout.PERIOD_OFFSET, 1000);
            Files.write(old, withLong(oldBytes, StatsFileLayout.HEARTBEAT_OFFSET, tenMinutesAgo));
            try (StatsFile f = StatsFile.open(old)) {
                StatsFile.Snapshot s = f.read();
                assertTrue(s.processAlive());
                assertTrue(s.stale(Duration.ZERO));
                assertTrue(
                        s.staleReason(Duration.ofSeconds(30)).orElseThrow().startsWith("last heartbeat"),
                        s.staleReason(Duration.ofSeconds(30)).orElseThrow());
                assertFalse(s.stale(Duration.ofHours(1)), "tolerated by the caller's maximum age");
            }

            // a dead writer that stopped mid-update: the reader gives up quickly and says why
            Path midUpdate = dir.resolve(deadPid + "-mid.pm4j");
            long seq = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(StatsFileLayout.SEQUENCE_OFFSET);
            Files.write(
                    midUpdate,
                    withLong(
                            withLong(bytes, StatsFileLayout.PID_OFFSET, deadPid),
                            StatsFileLayout.SEQUENCE_OFFSET,
                            seq + 1));
            try (StatsFile f = StatsFile.open(midUpdate)) {
                StatsFileException e = assertThrows(StatsFileException.class, f::read);
                assertTrue(e.getMessage().contains("stale") && e.getMessage().contains("not running"), e.getMessage());
            }
            Path busy = dir.resolve(PID + "-busy.pm4j");
            Files.write(busy, withLong(bytes, StatsFileLayout.SEQUENCE_OFFSET, seq + 1));
            try (StatsFile f = StatsFile.open(busy)) {
                StatsFileException e = assertThrows(StatsFileException.class, f::read);
                assertTrue(e.getMessage().contains("writer too busy"), e.getMessage());
            }

            try (StatsFile f = StatsFile.open(a.statsFile().orElseThrow())) {
                assertFalse(f.read().stale(Duration.ZERO), "the live file");
            }
        }
    }

    @Test
    void truncatedForeignAndWrongVersionFilesAreRejectedClearly() throws Exception {
        try (Allocator a =
                publishing("source").publishPeriod(Duration.ofHours(1)).build()) {
            a.publishNow();
            byte[] bytes = Files.readAllBytes(a.statsFile().orElseThrow());

            assertRejected("short", Arrays.copyOf(bytes, 100), "truncated", "100 bytes");
            assertRejected(
                    "records", Arrays.copyOf(bytes, bytes.length - 4096), "truncated", "declares " + bytes.length);
            assertRejected("empty", new byte[0], "empty");
            byte[] v2 = bytes.clone();
            v2[StatsFileLayout.VERSION_OFFSET] = 2;
            assertRejected("v2", v2, "unsupported", "layout version 2", "supports version 1");
            byte[] foreign = bytes.clone();
            foreign[0] = 'X';
            assertRejected("foreign", foreign, "not a pymalloc4j statistics file");
            assertRejected("text", "hello, world\n".getBytes(), "not a pymalloc4j statistics file");
            byte[] corrupt = withLong(bytes, StatsFileLayout.ARENA_CAPACITY_OFFSET, 7);
            assertRejected("corrupt", corrupt, "corrupt");
            byte[] badCount = bytes.clone();
            ByteBuffer.wrap(badCount).order(ByteOrder.LITTLE_ENDIAN).putInt(StatsFileLayout.ARENA_COUNT_OFFSET, -1);
            Path p = dir.resolve("count.pm4j");
            Files.write(p, badCount);
            try (StatsFile f = StatsFile.open(p)) {
                StatsFileException e = assertThrows(StatsFileException.class, f::read);
                assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
            }
            StatsFileException missing =
                    assertThrows(StatsFileException.class, () -> StatsFile.open(dir.resolve("none.pm4j")));
            assertTrue(missing.getMessage().contains("none.pm4j"), missing.getMessage());
        }
    }

    private void assertRejected(String name, byte[] content, String... keywords) throws Exception {
        Path p = dir.resolve(name + ".pm4j");
        Files.write(p, content);
        StatsFileException e = assertThrows(
                StatsFileException.class,
                () -> {
                    try (StatsFile f = StatsFile.open(p)) {
                        f.read();
                    }
                },
                name);
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        assertTrue(m.contains(p.toString()), "names the file: " + m);
        for (String k : keywords) {
            assertTrue(m.contains(k), name + ": '" + k + "' in: " + m);
        }
    }

    private static byte[] withLong(byte[] bytes, int offset, long value) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong(offset, value);
        return copy;
    }

    private String listing() {
        try (var files = Files.list(dir)) {
            return files.map(Path::getFileName).map(Path::toString).toList().toString();
        } catch (Exception e) {
            fail(e);
            return null;
        }
    }
}
