package io.github.pymalloc4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Helpers of the misuse tests: how long an adversarial class runs (system property
 * {@code pymalloc4j.adversarial.seconds}: 2 in plain {@code mvn verify}, 75 with {@code -Padversarial}), and child
 * JVMs for scenarios whose failure is a crash, with the head of the JVM's hs_err file in the result.
 */
final class AdversarialSupport {
    private AdversarialSupport() {}

    /** Seconds each adversarial class loops its trials for. */
    static long seconds() {
        return Long.getLong("pymalloc4j.adversarial.seconds", 2);
    }

    /** {@link System#nanoTime()} at which an adversarial class started now should stop starting trials. */
    static long deadline() {
        return System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds());
    }

    /** Groups the digits of a figure by three, with a space: 1240000 -> "1 240 000". */
    static String figure(long n) {
        String s = Long.toString(Math.abs(n));
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            if (i > 0 && (s.length() - i) % 3 == 0) {
                b.append(' ');
            }
            b.append(s.charAt(i));
        }
        return (n < 0 ? "-" : "") + b;
    }

    // ------------------------------------------------------------------ child JVM

    /** A finished (or killed) child JVM: exit code, output, the head of its hs_err file if it crashed. */
    record Child(int exitCode, boolean timedOut, String output, String hsErrHead, long millis) {
        boolean crashed() {
            return hsErrHead != null;
        }

        /** Everything a failure message needs, output cut to its last lines. */
        String describe() {
            StringBuilder b = new StringBuilder();
            b.append("exit code ")
                    .append(exitCode)
                    .append(timedOut ? " (killed: did not finish in time)" : "")
                    .append(" after ")
                    .append(millis)
                    .append(" ms");
            if (hsErrHead != null) {
                b.append("\n--- hs_err head ---\n").append(hsErrHead);
            }
            b.append("\n--- child output (tail) ---\n").append(tail(output, 60));
            return b.toString();
        }

        /** The value of the last output line "{@code key} value", or -1. */
        long figure(String key) {
            long v = -1;
            for (String line : output.split("\n")) {
                if (line.startsWith(key + " ")) {
                    try {
                        v = Long.parseLong(line.substring(key.length() + 1).trim());
                    } catch (NumberFormatException e) {
                        // not a figure line
                    }
                }
            }
            return v;
        }
    }

    static String tail(String s, int lines) {
        String[] all = s.split("\n");
        StringBuilder b = new StringBuilder();
        for (int i = Math.max(0, all.length - lines); i < all.length; i++) {
            b.append(all[i]).append('\n');
        }
        return b.toString();
    }

    /**
     * Runs {@code main} in a fresh JVM: the running JVM's own java binary and class path, native access enabled,
     * core dumps off and the hs_err file written into a fresh temporary directory, read back when the child crashed.
     */
    static Child runChild(Class<?> main, long timeoutSeconds, List<String> jvmArgs, String... args) {
        Path dir;
        try {
            dir = Files.createTempDirectory("pymalloc4j-child-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String javaBin = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> cmd = new ArrayList<>(List.of(
                javaBin,
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m",
                "-XX:-CreateCoredumpOnCrash",
                "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log")));
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        long t0 = System.nanoTime();
        try {
            Path out = dir.resolve("output.txt");
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            boolean finished = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!finished) {
                // a thread dump into the output first, then kill
                new ProcessBuilder("kill", "-3", Long.toString(p.pid())).start().waitFor(5, TimeUnit.SECONDS);
                Thread.sleep(500);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            String output = Files.readString(out, StandardCharsets.UTF_8);
            String hsErr = null;
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.filter(f -> f.getFileName().toString().startsWith("hs_err"))
                        .toList()) {
                    hsErr = head(f, 40);
                }
            }
            int code = finished ? p.exitValue() : -1;
            if (code == 0 && hsErr == null) {
                deleteTree(dir);
            }
            return new Child(code, !finished, output, hsErr, ms);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for a child JVM", e);
        }
    }

    private static String head(Path f, int lines) throws IOException {
        List<String> all = Files.readAllLines(f, StandardCharsets.ISO_8859_1);
        StringBuilder b = new StringBuilder("(" + f + ")\n");
        for (int i = 0; i < Math.min(lines, all.size()); i++) {
            b.append(all.get(i)).append('\n');
        }
        return b.toString();
    }

    /** The one-line problem description of an hs_err head: the "# SIGSEGV ..." and "# Problematic frame" lines. */
    static String crashSummary(String hsErrHead) {
        if (hsErrHead == null) {
            return "no crash";
        }
        StringBuilder b = new StringBuilder();
        String[] lines = hsErrHead.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            if (l.startsWith("#  SIG") || l.startsWith("#  Internal Error") || l.startsWith("# Problematic frame")) {
                b.append(l.substring(1).trim());
                if (l.startsWith("# Problematic frame") && i + 1 < lines.length) {
                    b.append(' ').append(lines[i + 1].substring(1).trim());
                }
                b.append("; ");
            }
        }
        return b.length() == 0 ? "crash (see hs_err)" : b.toString();
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f :
                    files.sorted((x, y) -> y.getNameCount() - x.getNameCount()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            // a leftover temporary directory is harmless
        }
    }
}
