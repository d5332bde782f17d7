package io.github.pymalloc4j.replay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real traces of {@code ../shared/traces} (next to the repository; the system property
 * {@code pymalloc4j.traces} may name another directory). Missing traces fail the test that needs them: a
 * replay test that silently skipped would prove nothing.
 */
final class SharedTraces {

    private SharedTraces() {}

    /** The directory of the shared traces. */
    static Path directory() {
        String property = System.getProperty("pymalloc4j.traces");
        if (property != null) {
            return Path.of(property);
        }
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        Path root = Files.isDirectory(dir.resolve("arena-tools")) ? dir : dir.getParent();
        return root.getParent().resolve("shared").resolve("traces");
    }

    /** The trace file {@code name.trc.gz}; throws (the test fails) if it is missing. */
    static Path file(String name) {
        Path f = directory().resolve(name + ".trc.gz");
        if (!Files.isReadable(f)) {
            throw new IllegalStateException("shared trace " + f + " is missing: the replay tests need ../shared/traces "
                    + "next to the repository (or -Dpymalloc4j.traces=DIR)");
        }
        return f;
    }

    /** Events {@code from .. from+count-1} of a shared trace as a trace of their own. */
    static Trace window(String name, int from, int count) {
        try {
            Trace t = Trace.read(file(name), (long) from + count);
            return from == 0 ? t : TraceWindow.of(t, from, count).trace();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
