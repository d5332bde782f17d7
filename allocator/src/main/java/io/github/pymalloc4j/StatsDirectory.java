package io.github.pymalloc4j;

import static io.github.pymalloc4j.StatsFileLayout.FILE_SUFFIX;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Where statistics files live, and which directories and files may be trusted ({@code docs/dump-format.md},
 * "Trust"): the default directory and its private fallbacks, the directory a publisher writes in (created
 * owner-only, refused when another user could change it), and the listing readers use. Decisions on one
 * file's or directory's status are {@link FileTrust}'s.
 */
final class StatsDirectory {
    private static final System.Logger LOG = System.getLogger(StatsDirectory.class.getName());

    private StatsDirectory() {}

    /** {@link StatsFile#defaultDirectory()}. */
    static Path defaultDirectory() {
        final Path shm = Path.of("/dev/shm");
        final Path base =
                Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
        String user = System.getProperty("user.name", "").replaceAll("[^A-Za-z0-9._-]", "_");
        if (user.isEmpty() || user.equals(".") || user.equals("..")) {
            user = "unknown";
        }
        return base.resolve("pymalloc4j-" + user);
    }

    /** The files {@link StatsFile#list()} finds, for a given default directory. */
    static List<Path> listDefault(final Path defaultDirectory) throws IOException {
        final List<Path> files = new ArrayList<>();
        if (trusted(defaultDirectory)) {
            files.addAll(list(defaultDirectory));
        }
        for (final Path dir : privateDirectories(defaultDirectory)) {
            files.addAll(list(dir));
        }
        files.sort(
                Comparator.comparing((Path p) -> p.getFileName().toString()).thenComparing(Comparator.naturalOrder()));
        return List.copyOf(files);
    }

    /**
     * The trusted private siblings {@code <defaultDirectory>.XXXX} of a default directory, by name.
     *
     * @param defaultDirectory the default directory.
     * @return the directories; empty if there are none.
     * @throws IOException if the parent cannot be listed.
     */
    static List<Path> privateDirectories(final Path defaultDirectory) throws IOException {
        final Path base = defaultDirectory.toAbsolutePath().getParent();
        if (base == null || !Files.isDirectory(base)) {
            return List.of();
        }
        final String prefix = defaultDirectory.getFileName() + ".";
        final List<Path> dirs = new ArrayList<>();
        try (DirectoryStream<Path> stream =
                Files.newDirectoryStream(base, p -> p.getFileName().toString().startsWith(prefix))) {
            for (final Path p : stream) {
                if (trusted(p)) {
                    dirs.add(p);
                }
            }
        }
        dirs.sort(null);
        return dirs;
    }

    private static boolean trusted(final Path dir) {
        try {
            return FileTrust.directoryProblem(FileTrust.status(dir)).isEmpty();
        } catch (final IOException | RuntimeException e) {
            return false;
        }
    }

    /** The files {@link StatsFile#list(Path)} finds. */
    static List<Path> list(final Path directory) throws IOException {
        if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        final Optional<String> problem = FileTrust.directoryProblem(FileTrust.status(directory));
        if (problem.isPresent()) {
            throw new IOException("statistics directory " + TerminalText.printable(directory.toString()) + " "
                    + problem.get() + "; refusing to list it (open its files by path to read them anyway)");
        }
        final List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, "*" + FILE_SUFFIX)) {
            for (final Path p : stream) {
                try {
                    if (FileTrust.fileProblem(FileTrust.status(p)).isEmpty()) {
                        files.add(p);
                    }
                } catch (final IOException e) {
                    // gone meanwhile
                }
            }
        }
        files.sort(null);
        return List.copyOf(files);
    }

    /**
     * The directory to publish in. A directory the caller names is created owner-only if missing and refused if
     * it cannot be trusted ({@link FileTrust#directoryProblem}: a symbolic link, another user's, or writable by
     * others without the sticky bit). The default directory is shared ground (another local user may have
     * created {@code /dev/shm/pymalloc4j-<user>} first, or loosened its mode): if it cannot be trusted, a
     * private sibling {@code pymalloc4j-<user>.XXXX} (mode {@code rwx------}) is used instead, with a warning;
     * {@link StatsFile#list()} searches those too.
     *
     * @param requested        the directory the caller named, or null for the default.
     * @param defaultDirectory the default ({@link StatsFile#defaultDirectory()}; another place in tests).
     * @return a directory that only we (or root) can change.
     * @throws IOException if a named directory cannot be trusted, or no directory can be made.
     */
    static Path publishDirectory(final Path requested, final Path defaultDirectory) throws IOException {
        if (requested != null) {
            final var problem = FileTrust.directoryProblem(ensureDirectory(requested));
            if (problem.isPresent()) {
                throw new IOException("statistics directory " + TerminalText.printable(requested.toString()) + " "
                        + problem.get() + "; refusing to use it");
            }
            return requested;
        }
        var problem = FileTrust.directoryProblem(ensureDirectory(defaultDirectory));
        if (problem.isEmpty() && !Files.isWritable(defaultDirectory)) {
            problem = Optional.of("is not writable by us"); // root's: trusted, but not ours to fill
        }
        if (problem.isEmpty()) {
            return defaultDirectory;
        }
        final Path fallback = privateDirectory(defaultDirectory);
        LOG.log(
                System.Logger.Level.WARNING,
                "pymalloc4j: statistics directory " + TerminalText.printable(defaultDirectory.toString()) + " "
                        + problem.get() + "; publishing in " + fallback + " instead");
        return fallback;
    }

    /** Creates the directory (owner-only where POSIX) unless something exists there; examines what is there. */
    private static FileTrust.Status ensureDirectory(final Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            final Path parent = dir.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try {
                Files.createDirectory(dir, ownerOnly(dir, "rwx------"));
            } catch (final FileAlreadyExistsException e) {
                // someone else made it meanwhile: examined below like any existing one
            }
        }
        return FileTrust.status(dir);
    }

    /**
     * A trusted sibling {@code <default>.XXXX} of the default directory that an earlier process of ours made, or
     * a new one.
     */
    static Path privateDirectory(final Path defaultDirectory) throws IOException {
        for (final Path dir : privateDirectories(defaultDirectory)) {
            if (Files.isWritable(dir)) {
                return dir;
            }
        }
        final Path base = defaultDirectory.toAbsolutePath().getParent();
        final Path made =
                Files.createTempDirectory(base, defaultDirectory.getFileName() + ".", ownerOnly(base, "rwx------"));
        final var problem = FileTrust.directoryProblem(FileTrust.status(made));
        if (problem.isPresent()) {
            throw new IOException("statistics directory " + made + " " + problem.get() + "; refusing to use it");
        }
        return made;
    }

    /** The given POSIX permissions as a creation attribute, or none where the file system has no POSIX view. */
    static FileAttribute<?>[] ownerOnly(final Path path, final String permissions) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix")
                ? new FileAttribute<?>[] {
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions))
                }
                : new FileAttribute<?>[0];
    }
}
