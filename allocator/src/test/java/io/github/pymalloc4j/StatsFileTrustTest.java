package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who the statistics file's reader and writer trust: a directory or file another local user owns, or others
 * can change, is never listed nor published into; a file opened by path anyway says why it would not have been
 * listed; a default directory another user took first makes the publisher use a private sibling, which
 * {@code StatsFile.list()} finds. Another user is played by chown to uid 65534 ("nobody"), so these run as root.
 */
class StatsFileTrustTest {
    private static final long NOBODY = 65534;

    @TempDir
    Path base;

    private static void assumeRoot() {
        assumeTrue(FileTrust.ourUid() == 0, "chown to another user needs root");
    }

    private static void chown(Path p, long uid) throws IOException {
        Files.setAttribute(p, "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
    }

    private static void chmod(Path p, String mode) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    }

    /** A real statistics file published into dir, closed again, the copy kept under another pid's name. */
    private static Path statsFileIn(Path dir, String fileName) throws IOException {
        Path kept;
        try (Allocator a =
                Allocator.builder().publishStats("trust").publishDirectory(dir).build()) {
            a.free(a.malloc(64));
            a.publishNow();
            kept = dir.resolve(fileName);
            Files.copy(a.statsFile().orElseThrow(), kept, StandardCopyOption.REPLACE_EXISTING);
        }
        chmod(kept, "rw-------");
        return kept;
    }

    @Test
    void listSkipsAnotherUsersFileAndOpeningItByPathSaysWhy() throws Exception {
        assumeRoot();
        Path dir = Files.createDirectory(base.resolve("stats"));
        Path ours = statsFileIn(dir, "111-ours.pm4j");
        Path planted = statsFileIn(dir, "222-victim.pm4j");
        chown(planted, NOBODY);

        assertEquals(List.of(ours), StatsFile.list(dir), "another user's file is not listed");
        try (StatsFile f = StatsFile.open(planted)) {
            String why = f.trustProblem().orElseThrow();
            assertTrue(why.contains("owned by uid 65534"), why);
            f.read(); // readable when asked for by path: it is marked, not refused
        }
        try (StatsFile f = StatsFile.open(ours)) {
            assertTrue(f.trustProblem().isEmpty(), f.trustProblem().toString());
        }
    }

    @Test
    void listSkipsAFileOthersCanWrite() throws Exception {
        Path dir = Files.createDirectory(base.resolve("stats"));
        Path ours = statsFileIn(dir, "111-ours.pm4j");
        Path writable = statsFileIn(dir, "222-open.pm4j");
        chmod(writable, "rw-rw-rw-");

        assertEquals(List.of(ours), StatsFile.list(dir));
        try (StatsFile f = StatsFile.open(writable)) {
            String why = f.trustProblem().orElseThrow();
            assertTrue(why.contains("rw-rw-rw-") && why.contains("others can write"), why);
        }
    }

    @Test
    void aDirectoryOthersCanWriteIsRefusedUnlessSticky() throws Exception {
        Path dir = Files.createDirectory(base.resolve("stats"));
        Path file = statsFileIn(dir, "111-ours.pm4j");
        chmod(dir, "rwxrwxrwx");

        IOException e = assertThrows(IOException.class, () -> StatsFile.list(dir));
        assertTrue(
                e.getMessage().contains("rwxrwxrwx") && e.getMessage().contains("refusing to list it"), e.getMessage());
        try (StatsFile f = StatsFile.open(file)) {
            String why = f.trustProblem().orElseThrow();
            assertTrue(why.startsWith("its directory") && why.contains("rwxrwxrwx"), why);
        }
        UncheckedIOException w = assertThrows(
                UncheckedIOException.class,
                () -> Allocator.builder()
                        .publishStats("loose")
                        .publishDirectory(dir)
                        .build());
        assertTrue(
                w.getMessage().contains("rwxrwxrwx") && w.getMessage().contains("refusing to use it"), w.getMessage());
        assertFalse(
                Files.list(dir).anyMatch(p -> p.getFileName().toString().contains("loose")),
                "nothing was created in the refused directory");

        Files.setAttribute(dir, "unix:mode", 01777); // like /tmp: others can add files but not replace ours
        assertEquals(List.of(file), StatsFile.list(dir));
        try (Allocator a =
                Allocator.builder().publishStats("sticky").publishDirectory(dir).build()) {
            assertTrue(StatsFile.list(dir).contains(a.statsFile().orElseThrow()));
        }
    }

    @Test
    void anotherUsersDirectoryIsRefusedByReaderAndWriter() throws Exception {
        assumeRoot();
        Path dir = Files.createDirectory(base.resolve("stats"));
        statsFileIn(dir, "111-ours.pm4j");
        chown(dir, NOBODY);

        IOException e = assertThrows(IOException.class, () -> StatsFile.list(dir));
        assertTrue(e.getMessage().contains("owned by uid 65534"), e.getMessage());
        UncheckedIOException w = assertThrows(
                UncheckedIOException.class,
                () -> Allocator.builder()
                        .publishStats("theirs")
                        .publishDirectory(dir)
                        .build());
        assertTrue(w.getMessage().contains("owned by uid 65534"), w.getMessage());
    }

    @Test
    void aSymbolicLinkIsNotADirectoryToPublishIn() throws Exception {
        Path real = Files.createDirectory(base.resolve("real"));
        Path link = Files.createSymbolicLink(base.resolve("link"), real);
        UncheckedIOException w = assertThrows(
                UncheckedIOException.class,
                () -> Allocator.builder()
                        .publishStats("linked")
                        .publishDirectory(link)
                        .build());
        assertTrue(w.getMessage().contains("symbolic link"), w.getMessage());
        assertThrows(IOException.class, () -> StatsFile.list(link));
    }

    @Test
    void aDefaultDirectoryAnotherUserTookFirstMakesThePublisherUseAPrivateOne() throws Exception {
        assumeRoot();
        Path defaultDir = Files.createDirectory(base.resolve("pymalloc4j-someone"));
        Path planted = statsFileIn(defaultDir, "222-planted.pm4j");
        chown(planted, NOBODY);
        chown(defaultDir, NOBODY);

        Path used = StatsDirectory.publishDirectory(null, defaultDir);
        assertNotEquals(defaultDir, used);
        assertEquals(base, used.getParent());
        assertTrue(used.getFileName().toString().startsWith("pymalloc4j-someone."), used.toString());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(used)));
        assertEquals(used, StatsDirectory.publishDirectory(null, defaultDir), "the private directory is reused");

        try (Allocator a = Allocator.builder()
                .publishStats("fallback")
                .publishDirectory(used)
                .build()) {
            Path file = a.statsFile().orElseThrow();
            assertEquals(
                    List.of(file),
                    StatsDirectory.listDefault(defaultDir),
                    "the private directory is searched, the taken default one is not");
        }
    }

    @Test
    void aDefaultDirectoryOthersCanWriteIsLeftForAPrivateOne() throws Exception {
        Path defaultDir = Files.createDirectory(base.resolve("pymalloc4j-someone"));
        chmod(defaultDir, "rwxrwxrwx");
        Path used = StatsDirectory.publishDirectory(null, defaultDir);
        assertNotEquals(defaultDir, used);
        assertTrue(FileTrust.directoryProblem(FileTrust.status(used)).isEmpty());
        assertTrue(StatsDirectory.listDefault(defaultDir).isEmpty());
    }

    @Test
    void aTrustedDefaultDirectoryIsUsedAndCreatedOwnerOnly() throws Exception {
        Path defaultDir = base.resolve("pymalloc4j-someone");
        assertEquals(defaultDir, StatsDirectory.publishDirectory(null, defaultDir));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(defaultDir)));
        assertEquals(defaultDir, StatsDirectory.publishDirectory(null, defaultDir));
        try (var s = Files.list(base)) {
            assertEquals(1, s.count(), "no private sibling was made");
        }
    }
}
