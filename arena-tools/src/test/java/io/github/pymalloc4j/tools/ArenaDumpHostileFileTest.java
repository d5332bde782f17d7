package io.github.pymalloc4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.pymalloc4j.Allocator;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * arena-dump on files crafted to break it: extreme values, one bad file among good ones, names and file names
 * carrying terminal escape sequences, a FIFO. It must answer (exit 0, or a one-line error with exit 2), never
 * crash, recurse, hang, or pass an escape sequence through.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ArenaDumpHostileFileTest {

    // header and totals offsets of layout version 1 (docs/dump-format.md)
    static final int PID = 24;
    static final int START_TIME = 32;
    static final int HEARTBEAT = 40;
    static final int PERIOD = 48;
    static final int PUBLISH_COUNT = 64;
    static final int NAME = 104;
    static final int TOTALS = 256;
    static final int TOTALS_SLOTS = 64;
    static final int CLASSES = 768;
    static final int ARENAS = 2816;

    @TempDir
    Path dir;

    Allocator heap;
    final List<Long> live = new ArrayList<>();
    final long pid = ProcessHandle.current().pid();
    byte[] published;

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code;
        try (PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
                PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            code = ArenaDump.run(args, po, pe);
        }
        return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    /** Exit 0, nothing on stderr but warnings, and no crash. */
    static void assertAnswered(Result r, String what) {
        assertEquals(0, r.code(), what + ": " + r);
        assertFalse(r.err().contains("internal error"), what + ": " + r.err());
        r.err()
                .lines()
                .forEach(l -> assertTrue(
                        l.startsWith("arena-dump: warning: ") || l.startsWith("arena-dump: wrote "),
                        what + ": " + r.err()));
    }

    /** No ESC, BEL, CSI or other C0/C1 control but newline and tab anywhere. */
    static void assertNoControls(String text, String what) {
        text.chars()
                .forEach(c -> assertFalse(
                        c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c >= 0x80 && c <= 0x9f || c == 0x202e,
                        () -> what + ": character 0x" + Integer.toHexString(c) + " in " + text));
    }

    @BeforeEach
    void start() throws Exception {
        heap = Allocator.builder()
                .publishStats("hostile")
                .publishDirectory(dir)
                .publishPeriod(Duration.ofHours(1))
                .build();
        for (int i = 0; i < 2000; i++) {
            live.add(heap.malloc(16 + i % 400));
        }
        heap.publishNow();
        published = Files.readAllBytes(heap.statsFile().orElseThrow());
    }

    @AfterEach
    void stop() {
        for (long a : live) {
            heap.free(a);
        }
        heap.close();
    }

    static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The published file with {@code value} in every header time, every total and every size-class count. */
    byte[] extreme(long value) {
        byte[] b = published.clone();
        ByteBuffer l = le(b);
        for (int at : new int[] {START_TIME, HEARTBEAT, PERIOD, PUBLISH_COUNT}) {
            l.putLong(at, value);
        }
        for (int slot = 0; slot < TOTALS_SLOTS; slot++) {
            l.putLong(TOTALS + 8 * slot, value);
        }
        for (int c = 0; c < 32; c++) {
            for (int field = 16; field < 48; field += 8) {
                l.putLong(CLASSES + 64 * c + field, value);
            }
        }
        l.putLong(ARENAS + 24, value); // the first arena's blocks in use
        return b;
    }

    Path write(Path directory, String name, byte[] bytes) throws Exception {
        Path p = directory.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    // ------------------------------------------------------------------ extreme values

    @Test
    void bytesAndDurationsOfExtremeValuesRender() {
        assertEquals("-8.0 EiB", DumpReport.bytes(Long.MIN_VALUE));
        assertEquals("8.0 EiB", DumpReport.bytes(Long.MAX_VALUE));
        assertEquals("-1 B", DumpReport.bytes(-1));
        assertEquals("1.5 KiB", DumpReport.bytes(1536));
        assertEquals("0.0 s", DumpReport.duration(Duration.ofMillis(Long.MIN_VALUE)));
        assertTrue(
                DumpReport.duration(Duration.ofMillis(Long.MAX_VALUE)).endsWith("d 07:12:55"),
                DumpReport.duration(Duration.ofMillis(Long.MAX_VALUE)));
        assertTrue(
                DumpReport.duration(Duration.ofSeconds(Long.MAX_VALUE)).startsWith("106751991167300d"),
                DumpReport.duration(Duration.ofSeconds(Long.MAX_VALUE)));
    }

    @Test
    void extremeTotalsHeartbeatsAndPeriodsRenderInEveryForm() throws Exception {
        Path good = write(dir, "good.dump", published);
        for (long value : new long[] {Long.MIN_VALUE, Long.MAX_VALUE, -1}) {
            Path p = write(dir, "extreme" + value + ".dump", extreme(value));
            String f = p.toString();
            assertAnswered(run(f), "report " + value);
            assertAnswered(run("--json", f), "json " + value);
            assertAnswered(run("--arenas", f), "arenas " + value);
            assertAnswered(
                    run(
                            f,
                            "--svg",
                            dir.resolve("m.svg").toString(),
                            "--html",
                            dir.resolve("m.html").toString()),
                    "svg " + value);
            assertAnswered(run("--watch", "0.05", "--count", "2", f), "watch " + value);
            assertAnswered(run("diff", good.toString(), f), "diff " + value);
            assertAnswered(run("diff", f, good.toString()), "diff back " + value);
            assertAnswered(run("--json", "diff", f, good.toString()), "json diff " + value);
        }
    }

    @Test
    void anotherUsersFileIsNotListedNorFoundByPidAndIsMarkedWhenOpenedByPath() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "chown to another user needs root");
        Path listed = Files.createDirectory(dir.resolve("listed"));
        Path planted = write(listed, "424242-spoof.pm4j", published);
        Files.setAttribute(planted, "unix:uid", 65534, LinkOption.NOFOLLOW_LINKS);

        Result r = run("list", "--dir", listed.toString());
        assertEquals(2, r.code(), "nothing trusted to list: " + r);
        Result byPid = run("424242", "--dir", listed.toString());
        assertEquals(2, byPid.code(), "a planted file is not taken for process 424242: " + byPid);

        Result byPath = run(planted.toString());
        assertAnswered(byPath, "by path");
        assertTrue(byPath.err().contains("warning") && byPath.err().contains("owned by uid 65534"), byPath.err());
    }

    @Test
    void aDirectoryOthersCanWriteIsRefusedWithItsMode() throws Exception {
        Path open = Files.createDirectory(dir.resolve("open"));
        write(open, pid + "-hostile.pm4j", published);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Result r = run("list", "--dir", open.toString());
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("rwxrwxrwx") && r.err().contains("refusing to list it"), r.err());
    }

    @Test
    void oneBadFileIsReportedByListWhichGoesOnWithTheOthers() throws Exception {
        Path listed = Files.createDirectory(dir.resolve("listed"));
        write(listed, pid + "-hostile.pm4j", published);
        write(listed, "1-extreme.pm4j", extreme(Long.MIN_VALUE));
        // a header-consistent sparse file declaring 2048 records of 1 MiB
        byte[] header = Arrays.copyOf(published, ARENAS);
        ByteBuffer h = le(header);
        long recordSize = 32 + 4L * (1 << 18);
        long size = ARENAS + 2048 * recordSize;
        h.putLong(16, size)
                .putLong(72, 1L << 30)
                .putLong(80, 4096)
                .putInt(88, 1 << 18)
                .putInt(92, 2048)
                .putInt(96, 2048)
                .putInt(172, (int) recordSize);
        try (RandomAccessFile raf =
                new RandomAccessFile(listed.resolve("2-huge.pm4j").toFile(), "rw")) {
            raf.write(header);
            raf.setLength(size);
        }
        write(listed, "3-short.pm4j", Arrays.copyOf(published, 100));

        Result r = run("list", "--dir", listed.toString());
        assertAnswered(r, "list");
        List<String> rows = r.out().lines().skip(1).toList();
        assertEquals(4, rows.size(), r.out());
        assertTrue(
                rows.stream()
                        .anyMatch(l -> l.contains(Long.toString(pid)) && l.contains("hostile") && l.endsWith("live")),
                r.out());
        assertTrue(
                rows.stream()
                        .anyMatch(l -> l.contains("2-huge.pm4j") && l.contains("unreadable") && l.contains("corrupt")),
                r.out());
        assertTrue(rows.stream().anyMatch(l -> l.contains("3-short.pm4j") && l.contains("truncated")), r.out());

        Result j = run("list", "--json", "--dir", listed.toString());
        assertAnswered(j, "list --json");
        assertTrue(j.out().contains("\"error\":") && j.out().contains("\"name\":\"hostile\""), j.out());
    }

    // ------------------------------------------------------------------ escape sequences

    @Test
    void escapeSequencesInNamesAndFileNamesNeverReachTheTerminal() throws Exception {
        byte[] hostileName = {
            0x1b,
            ']',
            '0',
            ';',
            'o',
            'w',
            'n',
            'e',
            'd',
            0x07,
            0x1b,
            '[',
            '2',
            'J',
            (byte) 0x9b,
            'H',
            (byte) 0xc2,
            (byte) 0x9b,
            '2',
            'J',
            (byte) 0xe2,
            (byte) 0x80,
            (byte) 0xae,
            '\r',
            '\n',
            (byte) 0xff
        };
        byte[] bytes = published.clone();
        Arrays.fill(bytes, NAME, NAME + 48, (byte) 0);
        System.arraycopy(hostileName, 0, bytes, NAME, hostileName.length);
        Path escapes = Files.createDirectory(dir.resolve("escapes"));
        Path named = write(escapes, pid + "-x.pm4j", bytes);
        Path badlyNamed = write(escapes, "7-\u001b]0;title\u0007\u001b[2J.pm4j", published);
        Path corruptBadlyNamed = write(escapes, "8-\u001b[2J\u009b\u202e.pm4j", Arrays.copyOf(published, 100));
        List<Result> results = List.of(
                run(named.toString()),
                run("--arenas", named.toString()),
                run("--json", named.toString()),
                run("--watch", "0.05", "--count", "1", named.toString()),
                run(badlyNamed.toString()),
                run(corruptBadlyNamed.toString()),
                run("list", "--dir", escapes.toString()),
                run("list", "--json", "--dir", escapes.toString()),
                run("diff", named.toString(), badlyNamed.toString()),
                run("--json", "diff", named.toString(), badlyNamed.toString()));
        for (Result r : results) {
            String out = r.out().replace("\033[H\033[2J", ""); // --watch clears the screen itself
            assertNoControls(out, "stdout");
            assertNoControls(r.err(), "stderr");
        }
        assertTrue(
                results.get(0).out().contains("\\x1b]0;owned\\x07"),
                results.get(0).out());
        assertEquals(2, results.get(5).code(), results.get(5).toString());
    }

    // ------------------------------------------------------------------ not a regular file

    @Test
    void aFifoIsRefusedWithoutHanging() throws Exception {
        Path fifo = dir.resolve(pid + "-fifo.pm4j");
        assertEquals(
                0,
                new ProcessBuilder("mkfifo", fifo.toString())
                        .inheritIO()
                        .start()
                        .waitFor());
        AtomicReference<Result> result = new AtomicReference<>();
        Thread t = Thread.ofPlatform().daemon().start(() -> result.set(run(fifo.toString())));
        t.join(5_000);
        if (t.isAlive()) {
            try (FileOutputStream unblock = new FileOutputStream(fifo.toFile())) {
                // the other end: the blocked open returns
            }
            t.join(5_000);
            fail("arena-dump blocked on a FIFO");
        }
        Result r = result.get();
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("not a regular file"), r.err());
    }
}
