package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.FileOutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader against files it must not trust: crafted headers, files changed or shrunk while mapped, things
 * that are not regular files, extreme values and hostile names. Every failure must be a StatsFileException.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StatsFileHostileInputTest {

    private static final long PID = ProcessHandle.current().pid();

    @TempDir
    Path dir;

    private Allocator allocator;
    /** A real published file with a few arenas in use. */
    private byte[] published;

    @BeforeEach
    void publish() throws Exception {
        allocator = Allocator.builder()
                .publishStats("hostile")
                .publishDirectory(dir)
                .publishPeriod(Duration.ofHours(1))
                .build();
        for (int i = 0; i < 3000; i++) {
            allocator.malloc(16 + (i % 300));
        }
        allocator.publishNow();
        published = Files.readAllBytes(allocator.statsFile().orElseThrow());
    }

    @AfterEach
    void close() {
        allocator.close();
    }

    // ------------------------------------------------------------------ sizes and counts

    @Test
    void aSparseFileDeclaringTwoGibibytesOfRecordsIsRefusedWithoutCopyingThem() throws Exception {
        // header-consistent: 2^18 pools of 4 KiB per 1 GiB arena, 2048 records of 1 MiB + 32 B, all "valid"
        int poolsPerArena = 1 << 18;
        int capacity = 2048;
        long recordSize = 32 + 4L * poolsPerArena;
        long size = StatsFileLayout.ARENAS_OFFSET + capacity * recordSize;
        assertTrue(size > Integer.MAX_VALUE, "the records alone overflow an int: " + size);
        ByteBuffer h = header(published);
        h.putLong(StatsFileLayout.FILE_SIZE_OFFSET, size);
        h.putLong(StatsFileLayout.ARENA_SIZE_OFFSET, 4096L * poolsPerArena);
        h.putLong(StatsFileLayout.POOL_SIZE_OFFSET, 4096);
        h.putInt(StatsFileLayout.POOLS_PER_ARENA_OFFSET, poolsPerArena);
        h.putInt(StatsFileLayout.ARENA_CAPACITY_OFFSET, capacity);
        h.putInt(StatsFileLayout.ARENA_COUNT_OFFSET, capacity);
        h.putInt(StatsFileLayout.ARENA_RECORD_SIZE_OFFSET, (int) recordSize);
        Path p = sparse("huge.pm4j", h.array(), size);
        StatsFileException e = assertThrows(StatsFileException.class, () -> {
            try (StatsFile f = StatsFile.open(p)) {
                f.read();
            }
        });
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }

    @Test
    void aFileTruncatedWhileMappedIsDetectedOnTheNextRead() throws Exception {
        for (long length : new long[] {100, 0, 4096, published.length - 1}) {
            Path p = dir.resolve("shrinking-" + length + ".pm4j");
            Files.write(p, published);
            try (StatsFile f = StatsFile.open(p)) {
                f.read();
                try (FileChannel c = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    c.truncate(length);
                }
                StatsFileException e = assertThrows(StatsFileException.class, f::read, "truncated to " + length);
                assertTrue(e.getMessage().contains("truncated"), e.getMessage());
            }
        }
    }

    @Test
    void aHeaderEditedAfterOpenIsDetectedOnTheNextRead() throws Exception {
        int[][] edits = {
            {StatsFileLayout.POOLS_PER_ARENA_OFFSET, -1},
            {StatsFileLayout.POOLS_PER_ARENA_OFFSET, Integer.MAX_VALUE},
            {StatsFileLayout.POOLS_PER_ARENA_OFFSET, 1},
            {StatsFileLayout.ARENA_CAPACITY_OFFSET, 1},
            {StatsFileLayout.ARENA_RECORD_SIZE_OFFSET, 0},
            {StatsFileLayout.POOL_SIZE_OFFSET, 3},
            {StatsFileLayout.VERSION_OFFSET, 2},
            {StatsFileLayout.MAGIC_OFFSET, 0},
        };
        for (int[] edit : edits) {
            Path p = dir.resolve("edited-" + edit[0] + "-" + edit[1] + ".pm4j");
            Files.write(p, published);
            try (StatsFile f = StatsFile.open(p)) {
                f.read();
                try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
                    raf.seek(edit[0]);
                    raf.writeInt(Integer.reverseBytes(edit[1]));
                }
                String what = "offset " + edit[0] + " set to " + edit[1];
                StatsFileException e =
                        assertThrows(StatsFileException.class, () -> f.read().toJson(), what);
                assertTrue(e.getMessage().contains("header"), what + ": " + e.getMessage());
            }
        }
    }

    // ------------------------------------------------------------------ not a regular file

    @Test
    void aFifoIsRefusedWithoutBlocking() throws Exception {
        Path fifo = dir.resolve(PID + "-fifo.pm4j");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mk.waitFor());
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().daemon().name("fifo-reader").start(() -> {
            try (StatsFile f = StatsFile.open(fifo)) {
                f.read();
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        reader.join(5_000);
        if (reader.isAlive()) {
            try (FileOutputStream unblock = new FileOutputStream(fifo.toFile())) {
                // a writer at the other end lets the blocked open return
            }
            reader.join(5_000);
            fail("StatsFile.open blocked on a FIFO");
        }
        assertInstanceOf(StatsFileException.class, thrown.get());
        assertTrue(
                thrown.get().getMessage().contains("not a regular file"),
                thrown.get().getMessage());
    }

    @Test
    void devicesDirectoriesAndSymbolicLinksAreRefused() throws Exception {
        Path link = Files.createSymbolicLink(
                dir.resolve("link.pm4j"), allocator.statsFile().orElseThrow());
        for (Path p : new Path[] {Path.of("/dev/zero"), Path.of("/dev/null"), dir, link}) {
            StatsFileException e = assertThrows(
                    StatsFileException.class,
                    () -> {
                        try (StatsFile f = StatsFile.open(p)) {
                            f.read();
                        }
                    },
                    p.toString());
            assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ values

    @Test
    void extremeValuesInEveryHeaderAndTotalsFieldNeitherThrowNorWrapAround() throws Exception {
        int[] headerLongs = {
            StatsFileLayout.START_TIME_OFFSET,
            StatsFileLayout.HEARTBEAT_OFFSET,
            StatsFileLayout.PERIOD_OFFSET,
            StatsFileLayout.PUBLISH_COUNT_OFFSET
        };
        for (long value : new long[] {Long.MIN_VALUE, Long.MAX_VALUE, -1, 0}) {
            ByteBuffer b = ByteBuffer.wrap(published.clone()).order(ByteOrder.LITTLE_ENDIAN);
            for (int at : headerLongs) {
                b.putLong(at, value);
            }
            for (int slot = 0; slot < StatsFileLayout.TOTALS_SIZE / 8; slot++) {
                b.putLong((int) StatsFileLayout.total(slot), value);
            }
            Path p = dir.resolve("extreme-" + value + ".pm4j");
            Files.write(p, b.array());
            try (StatsFile f = StatsFile.open(p)) {
                StatsFile.Snapshot s = f.read();
                String json = s.toJson();
                assertTrue(json.startsWith("{") && json.endsWith("}"), json);
                Json.parse(json);
                s.heartbeatAge();
                s.staleReason(Duration.ZERO);
                s.staleReason(Duration.ofDays(365_000));
                s.toString();
                s.startTime();
                s.heartbeat();
                s.publishPeriod();
                s.accountedBytes();
                s.internalFragmentationBytes();
                assertFalse(Double.isNaN(s.externalFragmentation()));
            }
        }
        // a heartbeat at the dawn of time is old, whatever the arithmetic: not "live" by overflow
        ByteBuffer b = ByteBuffer.wrap(published.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(StatsFileLayout.HEARTBEAT_OFFSET, Long.MIN_VALUE);
        b.putLong(StatsFileLayout.PERIOD_OFFSET, 1000);
        Path ancient = dir.resolve("ancient.pm4j");
        Files.write(ancient, b.array());
        try (StatsFile f = StatsFile.open(ancient)) {
            StatsFile.Snapshot s = f.read();
            assertTrue(s.stale(Duration.ZERO), "heartbeat at Long.MIN_VALUE ms is stale");
            assertTrue(s.stale(Duration.ofDays(365_000)), "even with a tolerance of a thousand years");
            assertTrue(
                    s.heartbeatAge().compareTo(Duration.ofDays(365_000)) > 0,
                    s.heartbeatAge().toString());
        }
        // a period of Long.MAX_VALUE ms tolerates any age; it does not wrap to a negative limit
        b.putLong(StatsFileLayout.HEARTBEAT_OFFSET, System.currentTimeMillis() - 60_000);
        b.putLong(StatsFileLayout.PERIOD_OFFSET, Long.MAX_VALUE);
        Files.write(ancient, b.array());
        try (StatsFile f = StatsFile.open(ancient)) {
            assertFalse(f.read().stale(Duration.ZERO), "three periods of Long.MAX_VALUE ms have not passed");
        }
    }

    @Test
    void theNameIsEscapedForTerminals() throws Exception {
        byte[] name = {
            'o',
            'k',
            0x1b,
            ']',
            '0',
            ';',
            'p',
            'w',
            'n',
            0x07,
            (byte) 0x9b,
            '2',
            'J',
            (byte) 0xc2,
            (byte) 0x9b,
            (byte) 0xff,
            (byte) 0xfe,
            0x7f,
            '\\',
            '\n',
            '\r',
            (byte) 0xe2,
            (byte) 0x80,
            (byte) 0xae,
            'z'
        };
        byte[] bytes = published.clone();
        java.util.Arrays.fill(
                bytes, StatsFileLayout.NAME_OFFSET, StatsFileLayout.NAME_OFFSET + StatsFileLayout.NAME_LENGTH, (byte)
                        0);
        System.arraycopy(name, 0, bytes, StatsFileLayout.NAME_OFFSET, name.length);
        Path p = dir.resolve("named.pm4j");
        Files.write(p, bytes);
        try (StatsFile f = StatsFile.open(p)) {
            StatsFile.Snapshot s = f.read();
            String n = s.name();
            assertTrue(n.startsWith("ok") && n.endsWith("z"), n);
            n.chars()
                    .forEach(c -> assertTrue(
                            c >= 0x20
                                    && c != 0x7f
                                    && !(c >= 0x80 && c <= 0x9f)
                                    && c != 0xfffd
                                    && Character.getType(c) != Character.FORMAT,
                            () -> "character " + Integer.toHexString(c) + " in " + n));
            assertTrue(n.contains("\\x1b"), n);
            assertTrue(n.contains("\\xff"), n);
            assertTrue(n.contains("\\\\"), "a backslash is escaped too, so escapes are unambiguous: " + n);
            for (String text : new String[] {s.toJson(), s.toString()}) {
                assertFalse(text.chars().anyMatch(c -> c == 0x1b || c == 0x9b || c == 0x07), text);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private static ByteBuffer header(byte[] file) {
        return ByteBuffer.wrap(java.util.Arrays.copyOf(file, StatsFileLayout.ARENAS_OFFSET))
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A file of {@code size} bytes whose first bytes are {@code prefix} and the rest a hole. */
    private Path sparse(String name, byte[] prefix, long size) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.write(prefix);
            raf.setLength(size);
        }
        return p;
    }
}
