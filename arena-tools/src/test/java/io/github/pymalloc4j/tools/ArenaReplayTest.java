package io.github.pymalloc4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code arena-replay} command line: errors as one line with exit 2, and short real runs. */
class ArenaReplayTest {

    @TempDir
    Path dir;

    /** Output of one run. */
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code;
        try (PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
                PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            code = ArenaReplay.run(args, po, pe);
        }
        return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    static void assertError(Result r, int code, String what) {
        assertEquals(code, r.code(), r.toString());
        assertTrue(r.err().startsWith("arena-replay: "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(what), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertEquals("", r.out());
    }

    static Path pyCompileall() {
        Path root = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        root = Files.isDirectory(root.resolve("arena-tools")) ? root : root.getParent();
        Path f = root.getParent().resolve("shared/traces/py-compileall.trc.gz");
        assertTrue(Files.isReadable(f), "the shared traces are missing: " + f);
        return f;
    }

    @Test
    void helpListsTheOptions() {
        Result r = run("--help");
        assertEquals(ArenaReplay.OK, r.code());
        for (String option : new String[] {
            "--sizes",
            "--threads",
            "--strict",
            "--touch",
            "--verify",
            "--json",
            "--limit",
            "--skip",
            "--reps",
            "--measure"
        }) {
            assertTrue(r.out().contains(option), option);
        }
    }

    @Test
    void badCommandLinesAndFilesFailInOneLineWithExitTwo() throws IOException {
        assertError(run(), ArenaReplay.BAD_INPUT, "no TRACE given");
        assertError(run("--frobnicate", "x"), ArenaReplay.BAD_INPUT, "unknown option --frobnicate");
        assertError(run("--reps", "0", "x"), ArenaReplay.BAD_INPUT, "--reps must be from 1");
        assertError(run("--reps"), ArenaReplay.BAD_INPUT, "--reps needs a value");
        assertError(run("--sizes", "tiny", "x"), ArenaReplay.BAD_INPUT, "--sizes must be one of all, small, both");
        assertError(run("--strict", "x"), ArenaReplay.BAD_INPUT, "--strict needs --threads");
        assertError(run(dir.resolve("nothing.trc.gz").toString()), ArenaReplay.BAD_INPUT, "no such file");
        assertError(run(dir.toString()), ArenaReplay.BAD_INPUT, "is a directory");
        Path notATrace = dir.resolve("hosts.trc.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(notATrace))) {
            out.write("127.0.0.1 localhost\n".getBytes(StandardCharsets.US_ASCII));
        }
        assertError(run(notATrace.toString()), ArenaReplay.BAD_INPUT, "not an allocation trace (bad magic)");
        assertError(run("--skip", "20000000", pyCompileall().toString()), ArenaReplay.BAD_INPUT, "past the trace");
    }

    @Test
    void jsonRunMeasuredHere() {
        Result r = run(
                "--json",
                "--limit",
                "30000",
                "--reps",
                "2",
                "--warmup",
                "0",
                "--measure",
                "here",
                "--verify",
                pyCompileall().toString());
        assertEquals(ArenaReplay.OK, r.code(), r.err());
        String json = r.out();
        assertTrue(json.startsWith("{\"schema\":\"arena-replay/1\""), json);
        assertEquals(2, count(json, "\"sizes\":\"(all|small)\""), json);
        assertEquals(2, count(json, "\"impl\":\"pymalloc4j\""), json);
        assertEquals(2, count(json, "\"impl\":\"malloc\""), json);
        assertEquals(4, count(json, "\"measuredIn\":\"here\""), json);
        assertTrue(json.contains("\"window\":{\"from\":0,\"events\":30000"), json);
        Matcher ns = Pattern.compile("\"median\":([0-9.]+)").matcher(json);
        int medians = 0;
        while (ns.find()) {
            assertTrue(Double.parseDouble(ns.group(1)) > 0, json);
            medians++;
        }
        assertEquals(4, medians);
    }

    @Test
    void textRunMeasuredInFreshJvms() {
        Result r = run(
                "--sizes",
                "small",
                "--skip",
                "100000",
                "--limit",
                "20000",
                "--reps",
                "1",
                "--warmup",
                "0",
                pyCompileall().toString());
        assertEquals(ArenaReplay.OK, r.code(), r.err());
        String text = r.out();
        assertTrue(text.contains("py-compileall  sizes small  serial"), text);
        assertTrue(text.contains("window: events 100,000 to 119,999"), text);
        assertTrue(text.contains("memory measured in a fresh JVM per implementation"), text);
        assertTrue(
                Pattern.compile("(?m)^  pymalloc4j +[0-9.]+ +[0-9.]+ +x[0-9.]+$")
                        .matcher(text)
                        .find(),
                text);
        assertTrue(text.contains("utilisation by size class at the live peak"), text);
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
