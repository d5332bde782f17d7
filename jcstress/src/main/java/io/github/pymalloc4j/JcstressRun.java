package io.github.pymalloc4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The build's jcstress entry point: {@code org.openjdk.jcstress.Main}, then a check that some test
 * actually ran. jcstress fails (exit 1) on a forbidden outcome or a test error, but runs nothing and
 * exits 0 when no test can be scheduled (a machine with one CPU: every test here has two actors) or the
 * {@code -t} filter matches none; a build that proves nothing must not pass.
 */
public final class JcstressRun {
    private JcstressRun() {}

    /**
     * @param args jcstress's options; {@code -r dir} must be among them (the check counts the test reports
     *             written there by this run).
     */
    public static void main(final String[] args) throws Exception {
        Path results = null;
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-r")) {
                results = Path.of(args[i + 1]);
            }
        }
        if (results == null) {
            throw new IllegalArgumentException("pass the results directory with -r");
        }
        final long start = System.currentTimeMillis() - 1_000;
        org.openjdk.jcstress.Main.main(args);
        final long reports = freshReports(results, start);
        if (reports == 0) {
            System.err.println("jcstress ran no test (too few CPUs for two actors, or no test matched -t)");
            System.exit(2);
        }
        System.out.println("jcstress: " + reports + " test reports in " + results);
    }

    private static long freshReports(final Path results, final long since) throws IOException {
        if (!Files.isDirectory(results)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(results)) {
            return files.filter(p -> p.getFileName().toString().startsWith("io.github.pymalloc4j."))
                    .filter(p -> p.toFile().lastModified() >= since)
                    .count();
        }
    }
}
