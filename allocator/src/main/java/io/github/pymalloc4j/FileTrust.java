package io.github.pymalloc4j;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Who owns a path and who else may change it: what the statistics file's writer and reader check before they
 * use a directory or a file ({@code docs/dump-format.md}, "Trust"). Paths are examined without following a
 * final symbolic link, through java.nio's {@code unix} attribute view where there is one (Linux, macOS); on a
 * file system without owners only the type is known and the owner is {@link #UNKNOWN_UID}.
 */
final class FileTrust {
    /** Owner of a path whose file system has none, and our own uid where it cannot be found out. */
    static final long UNKNOWN_UID = -1;
    /** The superuser, trusted like ourselves. */
    static final long ROOT_UID = 0;

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;
    private static final int S_ISVTX = 01000;
    private static final int GROUP_OR_OTHER_WRITE = 0022;

    private static final long OUR_UID = probeUid();

    private FileTrust() {}

    /**
     * What {@code lstat} says of a path.
     *
     * @param path    the path.
     * @param type    "regular file", "directory", "symbolic link", "FIFO", "socket", "character device",
     *                "block device" or "special file".
     * @param uid     the owner, or {@link #UNKNOWN_UID}.
     * @param mode    permission bits (with set-id and sticky bits), or -1 if unknown.
     * @param size    bytes.
     * @param fileKey the file's identity (device and inode), or null.
     */
    record Status(Path path, String type, long uid, int mode, long size, Object fileKey) {
        boolean regularFile() {
            return "regular file".equals(type);
        }

        boolean directory() {
            return "directory".equals(type);
        }

        /** @return whether the group or others may write to it. */
        boolean othersCanWrite() {
            return mode >= 0 && (mode & GROUP_OR_OTHER_WRITE) != 0;
        }

        /** @return whether only an entry's owner may delete or rename it (the sticky bit of a directory). */
        boolean sticky() {
            return mode >= 0 && (mode & S_ISVTX) != 0;
        }

        /** @return the permissions as {@code ls -l} shows them, e.g. {@code rwxrwxrwt}. */
        String permissions() {
            return FileTrust.permissions(mode);
        }

        /** @return whether {@code other} is the same file (device and inode), where that is known. */
        boolean sameFile(final Status other) {
            return fileKey == null ? other.fileKey == null && type.equals(other.type) : fileKey.equals(other.fileKey);
        }
    }

    /** @return the effective uid of this process, or {@link #UNKNOWN_UID}. */
    static long ourUid() {
        return OUR_UID;
    }

    /**
     * Examines a path without following it if it is a symbolic link.
     *
     * @param path the path.
     * @return its status.
     * @throws IOException if it does not exist or cannot be examined.
     */
    static Status status(final Path path) throws IOException {
        final BasicFileAttributes basic =
                Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        try {
            final Map<String, Object> unix = Files.readAttributes(path, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
            final int mode = ((Number) unix.get("mode")).intValue();
            final long uid = Integer.toUnsignedLong(((Number) unix.get("uid")).intValue());
            return new Status(path, type(mode), uid, mode & 07777, basic.size(), basic.fileKey());
        } catch (final UnsupportedOperationException | IllegalArgumentException e) {
            // no unix view: the type from the basic attributes, the permissions from the POSIX view if any
        }
        final String type = basic.isSymbolicLink()
                ? "symbolic link"
                : basic.isDirectory() ? "directory" : basic.isRegularFile() ? "regular file" : "special file";
        int mode = -1;
        try {
            mode = mode(Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .permissions());
        } catch (final UnsupportedOperationException e) {
            // no permissions either
        }
        return new Status(path, type, UNKNOWN_UID, mode, basic.size(), basic.fileKey());
    }

    /**
     * Why a directory must not hold statistics files, if it must not: a symbolic link, not a directory, owned by
     * another user, or writable by the group or others without the sticky bit (then they could replace or plant
     * files in it).
     *
     * @param s the directory's status.
     * @return a reason (to follow the directory's name in a message), or empty if it can be trusted.
     */
    static Optional<String> directoryProblem(final Status s) {
        if (!s.directory()) {
            return Optional.of("is not a directory (it is a " + s.type() + ")");
        }
        final Optional<String> owner = ownerProblem(s);
        if (owner.isPresent()) {
            return owner;
        }
        if (s.othersCanWrite() && !s.sticky()) {
            return Optional.of(
                    "has mode " + s.permissions() + ": the group or others can write to it (and it is not sticky)");
        }
        return Optional.empty();
    }

    /**
     * Why a file must not be read as one of ours, if it must not: not a regular file, owned by another user, or
     * writable by the group or others.
     *
     * @param s the file's status.
     * @return a reason (to follow the file's name in a message), or empty if it can be trusted.
     */
    static Optional<String> fileProblem(final Status s) {
        if (!s.regularFile()) {
            return Optional.of("is not a regular file (it is a " + s.type() + ")");
        }
        final Optional<String> owner = ownerProblem(s);
        if (owner.isPresent()) {
            return owner;
        }
        if (s.othersCanWrite()) {
            return Optional.of("has mode " + s.permissions() + ": the group or others can write to it");
        }
        return Optional.empty();
    }

    /**
     * @return "is owned by uid X, not by us (uid Y) or root" if the owner is known and is neither us nor root
     * (root can change anything anyway, so a path root owns is no less ours than one we own).
     */
    static Optional<String> ownerProblem(final Status s) {
        if (!foreign(s.uid())) {
            return Optional.empty();
        }
        return Optional.of("is owned by uid " + s.uid() + ", not by us (uid " + OUR_UID + ") or root");
    }

    /** @return whether the owner is known and is another user than us or root. */
    static boolean foreign(final long uid) {
        return uid != UNKNOWN_UID && OUR_UID != UNKNOWN_UID && uid != OUR_UID && uid != ROOT_UID;
    }

    static String permissions(final int mode) {
        if (mode < 0) {
            return "unknown";
        }
        final char[] p = "rwxrwxrwx".toCharArray();
        for (int bit = 0; bit < 9; bit++) {
            if ((mode & (1 << (8 - bit))) == 0) {
                p[bit] = '-';
            }
        }
        if ((mode & S_ISVTX) != 0) {
            p[8] = p[8] == 'x' ? 't' : 'T';
        }
        return new String(p);
    }

    private static String type(final int mode) {
        return switch (mode & S_IFMT) {
            case S_IFREG -> "regular file";
            case S_IFDIR -> "directory";
            case S_IFLNK -> "symbolic link";
            case S_IFIFO -> "FIFO";
            case S_IFSOCK -> "socket";
            case S_IFCHR -> "character device";
            case S_IFBLK -> "block device";
            default -> "special file";
        };
    }

    private static int mode(final Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (final PosixFilePermission p : permissions) {
            mode |= 1 << (8 - p.ordinal());
        }
        return mode;
    }

    /** {@code geteuid()}; else the owner of {@code /proc/self}; else unknown. */
    private static long probeUid() {
        try {
            final Linker linker = Linker.nativeLinker();
            final Optional<MemorySegment> geteuid = linker.defaultLookup().find("geteuid");
            if (geteuid.isPresent()) {
                final MethodHandle call =
                        linker.downcallHandle(geteuid.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
                return Integer.toUnsignedLong((int) call.invokeExact());
            }
        } catch (final Throwable t) {
            // no native access, or no such function: try the file system
        }
        try {
            return Integer.toUnsignedLong(
                    ((Number) Objects.requireNonNull(Files.getAttribute(Path.of("/proc/self"), "unix:uid")))
                            .intValue());
        } catch (final IOException | RuntimeException e) {
            return UNKNOWN_UID;
        }
    }
}
