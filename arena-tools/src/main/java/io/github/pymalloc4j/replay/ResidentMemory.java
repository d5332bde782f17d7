package io.github.pymalloc4j.replay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's resident anonymous memory, {@code RssAnon} of {@code /proc/self/status}: every resident page
 * not backed by a file, the C heap, pymalloc4j's arenas and the Java heap alike.
 */
public final class ResidentMemory {

    private static final Path STATUS = Path.of("/proc/self/status");

    private ResidentMemory() {}

    /**
     * Reads the resident anonymous bytes now.
     *
     * @return {@code RssAnon} in bytes, or -1 where {@code /proc/self/status} has no such line (not Linux).
     */
    public static long anonymousBytes() {
        try {
            String status = new String(Files.readAllBytes(STATUS), StandardCharsets.US_ASCII);
            int at = status.indexOf("RssAnon:");
            if (at < 0) {
                return -1;
            }
            int end = status.indexOf('\n', at);
            String kib = status.substring(at + "RssAnon:".length(), end < 0 ? status.length() : end)
                    .replace("kB", "")
                    .strip();
            return Long.parseLong(kib) << 10;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
