package io.github.pymalloc4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.github.pymalloc4j.Allocator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

class ArenaDumpTest {

    @TempDir
    Path dir;

    Allocator heap;
    final List<Long> live = new ArrayList<>();
    final long pid = ProcessHandle.current().pid();

    /** Output of one run. */
    record Result(int code, String out, String err) {}

    Result run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code;
        try (PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
                PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            code = ArenaDump.run(args, po, pe);
        }
        return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    /** Asserts a one-line error with the prefix, containing {@code what}, and the exit code. */
    static void assertError(Result r, int code, String what) {
        assertEquals(code, r.code(), r.toString());
        assertTrue(r.err().startsWith("arena-dump: "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(what), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @BeforeEach
    void start() {
        heap = Allocator.builder()
                .publishStats("test")
                .publishDirectory(dir)
                .publishPeriod(Duration.ofMillis(100))
                .build();
        allocate(64, 1000);
        allocate(200, 300);
        heap.publishNow();
    }

    void allocate(long size, int n) {
        for (int i = 0; i < n; i++) {
            live.add(heap.malloc(size));
        }
    }

    @AfterEach
    void stop() {
        for (long a : live) {
            heap.free(a);
        }
        heap.close();
    }

    String dirArg() {
        return dir.toString();
    }

    @Test
    void help() {
        Result r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("Usage: arena-dump"), r.out());
        assertError(run(), 1, "no PID or FILE");
        assertError(run("--bogus", "1"), 1, "unknown option --bogus");
        assertError(run("diff", "a"), 1, "expected: arena-dump diff OLD NEW");
    }

    @Test
    void list() {
        Result r = run("list", "--dir", dirArg());
        assertEquals(0, r.code(), r.toString());
        assertTrue(
                r.out().contains(Long.toString(pid))
                        && r.out().contains("test")
                        && r.out().contains("live"),
                r.out());
        assertError(run("list", "--dir", dir.resolve("none").toString()), 2, "no process publishes");
    }

    @Test
    void reportByPidAndFile() {
        Result r = run(Long.toString(pid), "--dir", dirArg());
        assertEquals(0, r.code(), r.toString());
        assertEquals("", r.err());
        assertTrue(r.out().contains("Size classes"), r.out());
        assertTrue(r.out().contains("= arena bytes"), r.out());
        assertTrue(r.out().contains("mallocs"), r.out());
        // class 3 (64 B) with 1000 blocks in use
        assertTrue(r.out().lines().anyMatch(l -> l.matches("\\s+3\\s+64\\s+\\d+\\s+1000\\s.*")), r.out());
        Result f = run(heap.statsFile().orElseThrow().toString());
        assertEquals(0, f.code(), f.toString());
        assertTrue(f.out().contains("Byte accounting"));
    }

    @Test
    void json() throws Exception {
        Result r = run("--json", Long.toString(pid), "--dir", dirArg());
        assertEquals(0, r.code(), r.toString());
        String j = r.out().strip();
        assertTrue(j.startsWith("{") && j.endsWith("}"), j);
        // well-formed: parse with the JDK's JavaScript-free route: a minimal check through javax.json is not
        // available, so balance braces and brackets outside strings.
        int depth = 0;
        boolean str = false;
        for (int i = 0; i < j.length(); i++) {
            char c = j.charAt(i);
            if (str) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    str = false;
                }
            } else if (c == '"') {
                str = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
                assertTrue(depth >= 0);
            }
        }
        assertEquals(0, depth);
        assertTrue(j.contains("\"pid\":" + pid), j);
        assertTrue(j.contains("\"sizeClasses\""), j);
        // the one schema of the statistics JSON (docs/stats.schema.json), checked by a real validator
        Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(Files.readString(Path.of("..", "docs", "stats.schema.json")), InputFormat.JSON);
        assertEquals(List.of(), schema.validate(j, InputFormat.JSON), j);
    }

    @Test
    void arenas() {
        Result r = run("--arenas", Long.toString(pid), "--dir", dirArg());
        assertEquals(0, r.code(), r.toString());
        List<String> rows = r.out().lines().filter(l -> l.startsWith("0x")).toList();
        assertFalse(rows.isEmpty(), r.out());
        assertTrue(rows.getFirst().contains("3"), rows.getFirst()); // a 64-byte-class pool
        assertTrue(rows.getFirst().contains("."), rows.getFirst()); // never carved pools
    }

    @Test
    void saveAndDiff() throws Exception {
        Path old = dir.resolve("old.dump");
        Path now = dir.resolve("new.dump");
        Result s = run("save", Long.toString(pid), old.toString(), "--dir", dirArg());
        assertEquals(0, s.code(), s.toString());
        assertTrue(s.out().startsWith("saved pid " + pid), s.out());
        allocate(128, 2000); // class 7 grows by 256000 B
        allocate(64, 10); // class 3 grows by 640 B
        heap.publishNow();
        assertEquals(
                0,
                run("save", Long.toString(pid), now.toString(), "--dir", dirArg())
                        .code());
        // a saved file reads as a report
        Result rep = run(old.toString());
        assertEquals(0, rep.code(), rep.toString());
        assertTrue(rep.out().contains("Size classes"));

        Result d = run("diff", old.toString(), now.toString());
        assertEquals(0, d.code(), d.toString());
        List<String> lines = d.out().lines().toList();
        int header = lines.indexOf(
                lines.stream().filter(l -> l.startsWith("class")).findFirst().orElseThrow());
        assertTrue(lines.get(header + 1).matches("\\s*7\\s+128\\s+0\\s+2000\\s+\\+256000\\s.*"), d.out());
        assertTrue(lines.get(header + 2).matches("\\s*3\\s+64\\s+1000\\s+1010\\s+\\+640\\s.*"), d.out());
        String bytesHeader = lines.stream()
                .filter(l -> l.startsWith("statistic"))
                .findFirst()
                .orElseThrow();
        String firstCategory = lines.get(lines.indexOf(bytesHeader) + 1);
        assertTrue(
                firstCategory.startsWith("bytes.arenas")
                        || firstCategory.startsWith("bytes.reserved")
                        || firstCategory.startsWith("bytes.committed")
                        || firstCategory.startsWith("bytes.inAllocatedBlocks"),
                d.out());
        assertTrue(d.out().contains("bytes.inAllocatedBlocks           "), d.out());

        Result dj = run("--json", "diff", old.toString(), now.toString());
        assertEquals(0, dj.code(), dj.toString());
        assertTrue(dj.out().contains("\"index\":7"), dj.out());
    }

    @Test
    void svgAndHtml() throws Exception {
        Path svg = dir.resolve("map.svg");
        Path html = dir.resolve("map.html");
        Result r = run(Long.toString(pid), "--dir", dirArg(), "--svg", svg.toString(), "--html", html.toString());
        assertEquals(0, r.code(), r.toString());
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        Document doc = f.newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", doc.getDocumentElement().getLocalName());
        assertTrue(
                doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "rect").getLength() >= 64);
        String text = Files.readString(svg);
        assertTrue(text.contains("class 3 (64 B)"), "tooltip with the class");
        assertFalse(
                text.contains("http://")
                        && text.replace("http://www.w3.org/2000/svg", "").contains("http://"),
                "no external resources");
        String h = Files.readString(html);
        assertTrue(h.startsWith("<!DOCTYPE html>") && h.contains("<svg") && h.contains("</html>"));
    }

    @Test
    void watchCount() {
        Result r = run("--watch", "0.1", "--count", "3", Long.toString(pid), "--dir", dirArg());
        assertEquals(0, r.code(), r.toString());
        assertEquals(3, r.out().split("\033\\[H\033\\[2J", -1).length - 1, r.out());
        assertTrue(r.out().contains("per second"), r.out());
    }

    @Test
    void badInputs() throws Exception {
        assertError(run("999999999", "--dir", dirArg()), 2, "no process 999999999");
        assertError(run("1", "--dir", dirArg()), 2, "1");
        assertError(run(dir.resolve("missing.pm4j").toString()), 2, "no such file");

        Path garbage = dir.resolve("garbage.bin");
        Files.write(garbage, "hello, this is not a statistics file at all".getBytes(StandardCharsets.UTF_8));
        assertError(run(garbage.toString()), 2, "bad magic");

        Path empty = dir.resolve("empty.bin");
        Files.write(empty, new byte[0]);
        assertError(run(empty.toString()), 2, "empty file");

        byte[] good = Files.readAllBytes(heap.statsFile().orElseThrow());
        Path truncated = dir.resolve("truncated.bin");
        Files.write(truncated, Arrays.copyOf(good, 2000));
        assertError(run(truncated.toString()), 2, "truncated");

        Path v99 = dir.resolve("v99.bin");
        byte[] bad = good.clone();
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 99);
        Files.write(v99, bad);
        assertError(run(v99.toString()), 2, "unsupported statistics file layout version 99");

        Path corrupt = dir.resolve("corrupt.bin");
        byte[] c = good.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt(12, 4096); // header size
        Files.write(corrupt, c);
        assertError(run(corrupt.toString()), 2, "corrupt");

        Path dirAsFile = dir.resolve("sub");
        Files.createDirectory(dirAsFile);
        assertError(run(dirAsFile.toString()), 2, "is a directory");
    }

    @Test
    void staleFile() throws Exception {
        // a copy of the file with the pid of a process that does not exist
        byte[] bytes = Files.readAllBytes(heap.statsFile().orElseThrow());
        long deadPid = 999_999_999L;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(24, deadPid);
        Path staleDir = Files.createDirectory(dir.resolve("stale"));
        Path file = staleDir.resolve(deadPid + "-old.pm4j");
        Files.write(file, bytes);
        // by pid: exit 3
        assertError(
                run(Long.toString(deadPid), "--dir", staleDir.toString()),
                3,
                "stale: process 999999999 is not running");
        // by file: the last contents, with a warning
        Result r = run(file.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().startsWith("arena-dump: warning: stale: process 999999999 is not running"), r.err());
        assertTrue(r.err().contains("last heartbeat 20"), r.err());
        assertTrue(r.out().contains("Size classes"));
        // listed as stale
        Result l = run("list", "--dir", staleDir.toString());
        assertEquals(0, l.code());
        assertTrue(l.out().contains("stale: process 999999999 is not running"), l.out());
    }

    @Test
    void severalFilesOfOnePid() {
        try (Allocator second =
                Allocator.builder().publishStats("other").publishDirectory(dir).build()) {
            second.publishNow();
            assertError(run(Long.toString(pid), "--dir", dirArg()), 1, "--name");
            Result r = run(Long.toString(pid), "--dir", dirArg(), "--name", "other");
            assertEquals(0, r.code(), r.toString());
            assertTrue(r.out().contains("\"other\""), r.out());
            assertError(run(Long.toString(pid), "--dir", dirArg(), "--name", "nope"), 2, "no file named 'nope'");
        }
    }
}
