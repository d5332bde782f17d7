package io.github.pymalloc4j.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.pymalloc4j.StatsFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/**
 * End to end: the {@link Demo} runs as a real child JVM publishing its statistics file; {@code arena-dump}
 * (in process, {@link ArenaDump#run}) inspects it while it lingers, then after it was killed.
 */
class ArenaDumpEndToEndTest {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(40);
    private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    private Process child;

    /** Output of one run. */
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

    @AfterEach
    void killChild() throws InterruptedException {
        if (child != null && child.isAlive()) {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Polls {@code condition} every 100 ms until true, or fails with {@code what} after {@code timeout}. */
    private void await(Duration timeout, String what, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out after " + timeout.toSeconds() + " s waiting for " + what + "; child "
                        + (child.isAlive() ? "alive" : "exited " + child.exitValue()) + ", its output:\n"
                        + childOutput());
            }
            if (!child.isAlive()) {
                fail("the demo exited (" + child.exitValue() + ") while waiting for " + what + ", its output:\n"
                        + childOutput());
            }
            Thread.sleep(100);
        }
    }

    private Path childLog() {
        return dir.resolve("demo.log");
    }

    private String childOutput() {
        try {
            return Files.exists(childLog()) ? Files.readString(childLog(), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static long publishCount(Path file) {
        try (StatsFile f = StatsFile.open(file)) {
            return f.read().publishCount();
        } catch (IOException e) {
            return -1;
        }
    }

    private static long jsonLong(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":(-?\\d+)").matcher(json);
        assertTrue(m.find(), "no \"" + key + "\" in " + json);
        return Long.parseLong(m.group(1));
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void inspectsALiveDemoProcessThenItsStaleFile() throws Exception {
        Path pubDir = Files.createDirectory(dir.resolve("pub"));
        String java = ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                "-Dpymalloc4j.publish=e2e",
                "-Dpymalloc4j.publish.dir=" + pubDir,
                "-Dpymalloc4j.publish.period=200",
                "io.github.pymalloc4j.tools.Demo",
                "--linger",
                "60"));
        child = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(childLog().toFile())
                .start();
        long pid = child.pid();
        String p = Long.toString(pid);
        String d = pubDir.toString();

        // --- the child publishes; wait until it lingers (idle, records live, file refreshed every 200 ms)
        await(START_TIMEOUT, "'arena-dump list' to show pid " + pid, () -> {
            Result r = run("--dir", d, "list");
            return r.code() == 0 && r.out().lines().anyMatch(l -> l.trim().startsWith(p + " "));
        });
        await(
                START_TIMEOUT,
                "the demo to reach its linger phase",
                () -> childOutput().contains("=== lingering"));
        String log = childOutput();
        assertTrue(log.contains("accounting: OK"), log);
        assertFalse(log.contains("CHECK FAILED"), log);
        Path file = pubDir.resolve(pid + "-e2e.pm4j");
        assertTrue(log.contains("pid " + pid + ", statistics file " + file), log);
        assertTrue(Files.exists(file), file + " missing");

        // --- list
        Result list = run("--dir", d, "list");
        assertEquals(0, list.code(), list.toString());
        String row = list.out()
                .lines()
                .filter(l -> l.trim().startsWith(p + " "))
                .findFirst()
                .orElseThrow();
        assertTrue(row.contains("e2e") && row.endsWith("live"), list.out());

        // --- report by pid
        Result report = run("--dir", d, p);
        assertEquals(0, report.code(), report.toString());
        assertEquals("", report.err());
        String text = report.out();
        assertTrue(text.startsWith("pymalloc4j arena-dump: process " + pid + " \"e2e\""), text);
        assertTrue(text.contains("Size classes"), text);
        assertTrue(text.lines().anyMatch(l -> l.matches("class\\s+size\\s+pools\\s+in use.*")), text);
        assertTrue(text.lines().anyMatch(l -> l.matches("\\s+2\\s+48\\s+\\d+\\s+\\d+\\s.*")), text); // index nodes
        assertTrue(text.contains("Byte accounting"), text);
        assertTrue(text.lines().anyMatch(l -> l.matches("\\s+\\(sum of the five\\)\\s+\\d+\\s+= arena bytes")), text);

        // --- JSON: the accounting identity, pid, blocks in use, arenas
        Result json = run("--dir", d, "--json", p);
        assertEquals(0, json.code(), json.toString());
        String j = json.out().strip();
        assertTrue(j.startsWith("{\"schema\":\"pymalloc4j-stats-file\"") && j.endsWith("}"), j);
        assertEquals(pid, jsonLong(j, "pid"));
        String bytes = j.substring(j.indexOf("\"bytes\":{"));
        long arenaBytes = jsonLong(bytes, "arenas");
        long sum = jsonLong(bytes, "inAllocatedBlocks")
                + jsonLong(bytes, "pendingRemoteFree")
                + jsonLong(bytes, "inAvailableBlocks")
                + jsonLong(bytes, "inFreePools")
                + jsonLong(bytes, "quantization");
        assertTrue(arenaBytes > 0, j);
        assertEquals(arenaBytes, sum, "sum of the five byte categories vs arena bytes: " + bytes);

        // the same through the reader API: identity, blocks in use, arenas, pid
        StatsFile.Snapshot snap;
        try (StatsFile f = StatsFile.open(file)) {
            snap = f.read();
        }
        assertEquals(pid, snap.pid());
        assertEquals("e2e", snap.name());
        assertFalse(
                snap.stale(Duration.ZERO), () -> snap.staleReason(Duration.ZERO).orElse(""));
        assertEquals(snap.arenaBytes(), snap.accountedBytes());
        assertTrue(snap.arenasCurrent() > 0);
        assertEquals(snap.arenasCurrent(), snap.arenas().size());
        assertTrue(snap.arenas().stream()
                        .mapToLong(StatsFile.ArenaRecord::blocksInUse)
                        .sum()
                > 0);
        assertTrue(snap.sizeClasses().stream().mapToLong(c -> c.blocksInUse()).sum() > 0);
        assertEquals(Duration.ofMillis(200), snap.publishPeriod());

        // --- occupancy map: one line per arena
        Result map = run("--dir", d, "--arenas", p);
        assertEquals(0, map.code(), map.toString());
        long rows = map.out().lines().filter(l -> l.startsWith("0x")).count();
        assertTrue(rows > 0, map.out());
        assertEquals(snap.arenasCurrent(), rows, map.out()); // the demo is idle while it lingers

        // --- SVG: well-formed XML
        Path svg = dir.resolve("map.svg");
        Result s = run("--dir", d, p, "--svg", svg.toString());
        assertEquals(0, s.code(), s.toString());
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        Document doc = dbf.newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", doc.getDocumentElement().getLocalName());

        // --- watch: two frames
        Result w = run("--dir", d, "--watch", "0.3", "--count", "2", p);
        assertEquals(0, w.code(), w.toString());
        assertEquals(2, w.out().split("\033\\[H\033\\[2J", -1).length - 1, w.out());

        // --- save, let the publisher write at least two more updates, save, diff
        Path a = dir.resolve("a.dump");
        Path b = dir.resolve("b.dump");
        Result sa = run("--dir", d, "save", p, a.toString());
        assertEquals(0, sa.code(), sa.toString());
        assertTrue(sa.out().startsWith("saved pid " + pid + " (e2e)"), sa.out());
        long countA = publishCount(a);
        assertTrue(countA > 0, "publish count of " + a);
        await(
                PUBLISH_TIMEOUT,
                "the publish count to advance by 2 from " + countA,
                () -> publishCount(file) >= countA + 2);
        Result sb = run("--dir", d, "save", p, b.toString());
        assertEquals(0, sb.code(), sb.toString());
        assertTrue(publishCount(b) >= countA + 2, "publish count of " + b);
        Result diff = run("diff", a.toString(), b.toString());
        assertEquals(0, diff.code(), diff.toString());
        assertTrue(diff.out().contains("Size classes, by growth"), diff.out());
        assertTrue(diff.out().contains("pid " + pid + " \"e2e\""), diff.out());

        // --- kill it: no close(), the file stays behind and is stale
        child.destroyForcibly();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS), "child did not die");
        assertTrue(Files.exists(file), "the file of a killed process stays");

        Result byPid = run("--dir", d, p);
        assertEquals(ArenaDump.STALE, byPid.code(), byPid.toString());
        assertTrue(byPid.err().startsWith("arena-dump: "), byPid.err());
        assertEquals(1, byPid.err().lines().count(), byPid.err());
        assertTrue(byPid.err().contains("stale") && byPid.err().contains(p), byPid.err());

        Result byFile = run(file.toString());
        if (byFile.err().contains("left an update unfinished")) {
            // killed in the middle of an update (an odd sequence): by file too, it can only be reported stale
            assertEquals(ArenaDump.STALE, byFile.code(), byFile.toString());
        } else {
            assertEquals(0, byFile.code(), byFile.toString());
            String warning = byFile.err().lines().findFirst().orElse("");
            assertTrue(
                    warning.startsWith("arena-dump: warning: stale: process " + pid + " is not running"), byFile.err());
            assertTrue(byFile.out().contains("Size classes"), byFile.out());
        }
    }
}
