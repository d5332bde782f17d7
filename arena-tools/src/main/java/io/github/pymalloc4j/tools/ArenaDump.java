package io.github.pymalloc4j.tools;

import io.github.pymalloc4j.StatsFile;
import io.github.pymalloc4j.StatsFileException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code arena-dump}: reads the statistics file a pymalloc4j allocator publishes ({@code docs/dump-format.md})
 * and renders it as a report, JSON, an occupancy map (text, SVG, HTML), or compares two saved dumps.
 *
 * <p>Exit codes: 0 ok, 1 usage error, 2 not found / cannot read / corrupt / unsupported version, 3 stale
 * (the process is gone or no longer updates its file). Errors are one line on stderr, prefixed
 * {@code arena-dump: }; never a stack trace.
 *
 * <p>{@link #run(String[], PrintStream, PrintStream)} is the whole tool without {@code System.exit}, for tests.
 */
public final class ArenaDump {

    public static final int OK = 0;
    public static final int USAGE = 1;
    public static final int NOT_FOUND = 2;
    public static final int STALE = 3;

    static final String USAGE_TEXT = """
            Usage: arena-dump [OPTIONS] PID|FILE      report of a process (by pid) or of a statistics file
                   arena-dump list                    processes publishing statistics: name, pid, uptime, bytes
                   arena-dump save PID|FILE OUT       write a standalone copy of a consistent snapshot to OUT
                   arena-dump diff OLD NEW            what grew between two dumps (files saved with 'save'), by growth

            Options:
              --json             the snapshot as JSON (schema pymalloc4j-stats-file) instead of the text report
              --arenas           occupancy map: one line per arena, one character per pool
              --svg FILE         write the occupancy map and the size-class table as an SVG picture
              --html FILE        the same, as a self-contained HTML page
              --watch [SECONDS]  refresh the report in place every SECONDS (default 1), with per-interval deltas;
                                 stops on Ctrl-C or when the process exits
              --count N          with --watch: stop after N refreshes
              --name NAME        choose among several files published by the same pid
              --dir DIR          where to look for published files (default: %s)
              -h, --help         this help

            A process publishes when built with Allocator.builder().publishStats("name") or run with
            -Dpymalloc4j.publish=name. Exit codes: 0 ok, 1 usage error, 2 not found, unreadable, corrupt or
            unsupported file, 3 stale (the process is not running or no longer updates its file).
            """;

    /** A failure with its exit code and a one-line message. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        final int code;

        Failure(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    private final PrintStream out;
    private final PrintStream err;

    // options
    private boolean json;
    private boolean arenas;
    private Path svg;
    private Path html;
    private boolean watch;
    private double watchSeconds = 1.0;
    private long count = Long.MAX_VALUE;
    private String name;
    private Path dir;
    /** Whether --dir named the directory; else the default ones are searched ({@link StatsFile#list()}). */
    private boolean dirGiven;

    private final List<String> words = new ArrayList<>();

    private ArenaDump(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        System.out.flush();
        System.exit(code);
    }

    /**
     * Runs the tool.
     *
     * @param args command-line arguments.
     * @param out  where the output goes.
     * @param err  where warnings and the error line go.
     * @return the exit code.
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            return new ArenaDump(out, err).execute(args);
        } catch (Failure f) {
            err.println("arena-dump: " + oneLine(f.getMessage()));
            return f.code;
        } catch (StatsFileException e) {
            String m = oneLine(e.getMessage());
            err.println("arena-dump: " + m);
            return m.contains("stale statistics file") ? STALE : NOT_FOUND;
        } catch (AccessDeniedException e) {
            err.println("arena-dump: permission denied: " + oneLine(e.getFile()));
            return NOT_FOUND;
        } catch (NoSuchFileException e) {
            err.println("arena-dump: no such file: " + oneLine(e.getFile()));
            return NOT_FOUND;
        } catch (IOException e) {
            err.println("arena-dump: " + oneLine(String.valueOf(e.getMessage())));
            return NOT_FOUND;
        } catch (Throwable t) {
            err.println("arena-dump: internal error: " + oneLine(t.toString()));
            return NOT_FOUND;
        } finally {
            out.flush();
            err.flush();
        }
    }

    /**
     * A message as one line that cannot drive a terminal: line breaks become a space, and any control or format
     * character left (messages from the library are printable already; this catches the rest, such as arguments
     * echoed back) becomes a visible {@code \\uNNNN}.
     */
    static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        String line = s.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
        StringBuilder b = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            int type = Character.getType(c);
            if (c < 0x20
                    || c >= 0x7f && c <= 0x9f
                    || type == Character.FORMAT
                    || type == Character.SURROGATE
                    || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR) {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    // ------------------------------------------------------------------ arguments

    private int execute(String[] args) throws Exception {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-h", "--help", "-help", "help" -> {
                    out.print(USAGE_TEXT.formatted(StatsFile.defaultDirectory()));
                    return OK;
                }
                case "--json" -> json = true;
                case "--arenas" -> arenas = true;
                case "--svg" -> svg = Path.of(value(args, ++i, a));
                case "--html" -> html = Path.of(value(args, ++i, a));
                case "--name" -> name = value(args, ++i, a);
                case "--dir" -> {
                    dir = Path.of(value(args, ++i, a));
                    dirGiven = true;
                }
                case "--count" -> {
                    String v = value(args, ++i, a);
                    try {
                        count = Long.parseLong(v);
                    } catch (NumberFormatException e) {
                        count = -1;
                    }
                    if (count < 1) {
                        throw new Failure(USAGE, "--count needs a positive number, not '" + v + "'");
                    }
                }
                case "--watch" -> {
                    watch = true;
                    if (i + 1 < args.length
                            && args[i + 1].matches("\\d+(\\.\\d+)?")
                            && !(isPidLike(args[i + 1]) && !hasPositionalAfter(args, i + 2))) {
                        watchSeconds = Double.parseDouble(args[++i]);
                        if (watchSeconds < 0.05) {
                            throw new Failure(USAGE, "--watch needs at least 0.05 seconds");
                        }
                    }
                }
                default -> {
                    if (a.startsWith("-") && a.length() > 1 && !a.equals("--")) {
                        throw new Failure(USAGE, "unknown option " + a + " (see arena-dump --help)");
                    }
                    if (!a.equals("--")) {
                        words.add(a);
                    }
                }
            }
        }
        if (dir == null) {
            dir = StatsFile.defaultDirectory();
        }
        if (words.isEmpty()) {
            throw new Failure(USAGE, "no PID or FILE given (see arena-dump --help)");
        }
        String command = words.getFirst();
        return switch (command) {
            case "list" -> {
                expectWords(1, "list");
                yield list();
            }
            case "save" -> {
                expectWords(3, "save PID|FILE OUT");
                yield save(words.get(1), Path.of(words.get(2)));
            }
            case "diff" -> {
                expectWords(3, "diff OLD NEW");
                yield diff(words.get(1), words.get(2));
            }
            default -> {
                expectWords(1, "PID|FILE");
                yield watch ? watch(command) : report(command);
            }
        };
    }

    private static boolean isPidLike(String s) {
        return s.matches("\\d+");
    }

    private static boolean hasPositionalAfter(String[] args, int from) {
        for (int i = from; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--svg")
                    || a.equals("--html")
                    || a.equals("--name")
                    || a.equals("--dir")
                    || a.equals("--count")) {
                i++;
            } else if (!a.startsWith("-")) {
                return true;
            }
        }
        return false;
    }

    private static String value(String[] args, int i, String option) throws Failure {
        if (i >= args.length) {
            throw new Failure(USAGE, option + " needs a value");
        }
        return args[i];
    }

    private void expectWords(int n, String form) throws Failure {
        if (words.size() != n) {
            throw new Failure(
                    USAGE,
                    "expected: arena-dump " + form
                            + (words.size() > n ? ", got extra argument '" + words.get(n) + "'" : "")
                            + " (see arena-dump --help)");
        }
    }

    // ------------------------------------------------------------------ targets

    /** A statistics file and whether it was named by pid (then the process must be live). */
    record Target(Path path, boolean byPid) {}

    Target resolve(String target) throws Failure, IOException {
        if (isPidLike(target) && !(Files.exists(Path.of(target)) && !target.matches("[1-9]\\d*"))) {
            long pid;
            try {
                pid = Long.parseLong(target);
            } catch (NumberFormatException e) {
                throw new Failure(USAGE, "bad pid '" + target + "'");
            }
            return new Target(fileOfPid(pid), true);
        }
        Path p = Path.of(target);
        if (!Files.exists(p)) {
            throw new Failure(NOT_FOUND, "no such file: " + target);
        }
        if (Files.isDirectory(p)) {
            throw new Failure(NOT_FOUND, target + " is a directory, not a statistics file");
        }
        if (!Files.isReadable(p)) {
            throw new Failure(NOT_FOUND, "permission denied: " + target);
        }
        return new Target(p, false);
    }

    private Path fileOfPid(long pid) throws Failure, IOException {
        List<Path> all;
        try {
            all = listFiles();
        } catch (AccessDeniedException e) {
            throw new Failure(NOT_FOUND, "permission denied: cannot list " + dir);
        }
        String prefix = pid + "-";
        List<Path> mine = new ArrayList<>();
        for (Path p : all) {
            String f = p.getFileName().toString();
            if (f.startsWith(prefix)) {
                mine.add(p);
            }
        }
        if (mine.isEmpty()) {
            boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            throw new Failure(
                    NOT_FOUND,
                    alive
                            ? "process " + pid + " does not publish statistics (no " + pid + "-*.pm4j in " + dir
                                    + "; run it with -Dpymalloc4j.publish=NAME)"
                            : "no process " + pid + " and no statistics file for it in " + dir);
        }
        if (name != null) {
            for (Path p : mine) {
                if (p.getFileName().toString().equals(prefix + name + ".pm4j")) {
                    return p;
                }
            }
            throw new Failure(
                    NOT_FOUND,
                    "process " + pid + " publishes no file named '" + name + "' in " + dir + " (found: " + names(mine)
                            + ")");
        }
        if (mine.size() > 1) {
            throw new Failure(
                    USAGE,
                    "process " + pid + " publishes several files (" + names(mine) + "): choose one with --name NAME");
        }
        return mine.getFirst();
    }

    /** The files of --dir, else those of this user's default directories. */
    private List<Path> listFiles() throws IOException {
        return dirGiven ? StatsFile.list(dir) : StatsFile.list();
    }

    /** Says so on stderr when a file opened by path is not one {@link StatsFile#list()} would trust. */
    private void warnIfUntrusted(StatsFile f) {
        f.trustProblem()
                .ifPresent(p ->
                        err.println("arena-dump: warning: " + oneLine(f.path().toString()) + ": " + p
                                + "; its contents may not be what the process it names published"));
    }

    private static String names(List<Path> files) {
        List<String> n = new ArrayList<>();
        for (Path p : files) {
            String f = p.getFileName().toString();
            n.add(f.substring(f.indexOf('-') + 1, f.length() - ".pm4j".length()));
        }
        return StatsFile.printable(String.join(", ", n));
    }

    static StatsFile.Snapshot readOnce(Path path) throws StatsFileException {
        try (StatsFile f = StatsFile.open(path)) {
            return f.read();
        }
    }

    static String staleLine(StatsFile.Snapshot s) {
        Optional<String> reason = s.staleReason(Duration.ZERO);
        return "stale: " + reason.orElse("?") + " (pid " + s.pid() + " \"" + s.name() + "\", last heartbeat "
                + s.heartbeat() + ")";
    }

    /** Reads a target; a stale file is an error for a pid, a warning for a file. */
    private StatsFile.Snapshot readTarget(Target t) throws Failure, StatsFileException {
        StatsFile.Snapshot s;
        try (StatsFile f = StatsFile.open(t.path())) {
            warnIfUntrusted(f);
            s = f.read();
        }
        if (s.stale(Duration.ZERO)) {
            if (t.byPid()) {
                throw new Failure(STALE, staleLine(s));
            }
            err.println("arena-dump: warning: " + staleLine(s) + "; showing its last contents");
        }
        return s;
    }

    // ------------------------------------------------------------------ commands

    private int list() throws Failure, IOException {
        List<Path> files;
        try {
            files = listFiles();
        } catch (AccessDeniedException e) {
            throw new Failure(NOT_FOUND, "permission denied: cannot list " + dir);
        }
        if (files.isEmpty()) {
            throw new Failure(NOT_FOUND, "no process publishes statistics (no *.pm4j in " + dir + ")");
        }
        if (json) {
            StringBuilder b = new StringBuilder("[");
            for (Path p : files) {
                if (b.length() > 1) {
                    b.append(',');
                }
                try {
                    b.append(readOnce(p).toJson());
                } catch (StatsFileException e) {
                    b.append("{\"file\":{\"path\":")
                            .append(DumpReport.jsonString(p.toString()))
                            .append("},\"error\":")
                            .append(DumpReport.jsonString(oneLine(e.getMessage())))
                            .append('}');
                }
            }
            out.println(b.append(']'));
            return OK;
        }
        out.printf("%8s  %-20s  %10s  %12s  %12s  %s%n", "PID", "NAME", "UPTIME", "RESERVED", "IN USE", "STATE");
        for (Path p : files) {
            String row;
            try {
                StatsFile.Snapshot s = readOnce(p);
                Optional<String> stale = s.staleReason(Duration.ZERO);
                row = String.format(
                        Locale.ROOT,
                        "%8d  %-20s  %10s  %12s  %12s  %s",
                        s.pid(),
                        s.name(),
                        DumpReport.duration(Duration.between(s.startTime(), s.heartbeat())),
                        DumpReport.bytes(s.reservedBytes()),
                        DumpReport.bytes(DumpReport.plus(s.bytesInAllocatedBlocks(), s.largeBytes())),
                        stale.map(r -> "stale: " + r).orElse("live"));
            } catch (StatsFileException e) {
                row = unreadable(p, oneLine(e.getMessage()));
            } catch (RuntimeException e) { // one file must not cost the others their line
                row = unreadable(p, "internal error: " + oneLine(e.toString()));
            }
            out.println(row);
        }
        return OK;
    }

    private static String unreadable(Path p, String why) {
        return String.format(
                Locale.ROOT,
                "%8s  %-20s  %10s  %12s  %12s  unreadable: %s",
                "?",
                StatsFile.printable(String.valueOf(p.getFileName())),
                "",
                "",
                "",
                why);
    }

    private int report(String target) throws Exception {
        Target t = resolve(target);
        StatsFile.Snapshot s = readTarget(t);
        if (svg != null) {
            writeText(svg, DumpReport.svg(s));
            err.println("arena-dump: wrote " + oneLine(svg.toString()));
        }
        if (html != null) {
            writeText(html, DumpReport.html(s));
            err.println("arena-dump: wrote " + oneLine(html.toString()));
        }
        if (json) {
            out.println(s.toJson());
        } else if (arenas) {
            out.print(DumpReport.arenaMap(s));
        } else if (svg == null && html == null) {
            out.print(DumpReport.text(s, null));
        }
        return OK;
    }

    private static void writeText(Path file, String text) throws Failure {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (AccessDeniedException e) {
            throw new Failure(NOT_FOUND, "permission denied: cannot write " + file);
        } catch (IOException e) {
            throw new Failure(NOT_FOUND, "cannot write " + file + ": " + e);
        }
    }

    private int watch(String target) throws Exception {
        Target t = resolve(target);
        StatsFile.Snapshot prev = null;
        long millis = Math.round(watchSeconds * 1000);
        try (StatsFile f = StatsFile.open(t.path())) {
            warnIfUntrusted(f);
            for (long n = 0; n < count; n++) {
                if (n > 0) {
                    Thread.sleep(millis);
                }
                StatsFile.Snapshot s = f.read();
                if (s.stale(Duration.ZERO)) {
                    if (t.byPid() || prev != null) {
                        throw new Failure(STALE, staleLine(s));
                    }
                    err.println("arena-dump: warning: " + staleLine(s) + "; showing its last contents");
                }
                out.print("\033[H\033[2J");
                if (json) {
                    out.println(s.toJson());
                } else if (arenas) {
                    out.print(DumpReport.arenaMap(s));
                } else {
                    out.print(DumpReport.text(s, prev));
                }
                out.flush();
                prev = s;
                if (!t.byPid() && s.stale(Duration.ZERO)) {
                    return OK; // a dead file never changes
                }
            }
        }
        return OK;
    }

    /**
     * Copies the file while its sequence counter stays even and unchanged: the copy is one consistent update.
     */
    private int save(String target, Path outFile) throws Exception {
        Target t = resolve(target);
        StatsFile.Snapshot first = readTarget(t);
        byte[] bytes = null;
        // the size the header declares: the reader checked it against the file, and it is bounded by the layout
        long expected = 2816 + (long) first.arenaCapacity() * (32 + 4L * first.poolsPerArena());
        try (StatsFile f = StatsFile.open(t.path());
                FileChannel ch = FileChannel.open(t.path(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            for (int attempt = 0; attempt < 1000 && bytes == null; attempt++) {
                StatsFile.Snapshot before = attempt == 0 ? first : f.read();
                long size = ch.size();
                if (size != expected) {
                    throw new Failure(
                            NOT_FOUND,
                            StatsFile.printable(t.path().toString()) + ": changed while being saved: " + size
                                    + " bytes, the header declares " + expected);
                }
                ByteBuffer buf = ByteBuffer.allocate((int) size);
                while (buf.hasRemaining() && ch.read(buf, buf.position()) >= 0) {
                    // reads until full or end of file
                }
                StatsFile.Snapshot after = f.read();
                long copied = buf.order(ByteOrder.LITTLE_ENDIAN).getLong(56);
                if (!buf.hasRemaining()
                        && before.sequence() == after.sequence()
                        && copied == after.sequence()
                        && (copied & 1) == 0) {
                    bytes = buf.array();
                } else {
                    Thread.sleep(1);
                }
            }
        }
        if (bytes == null) {
            throw new Failure(NOT_FOUND, t.path() + ": writer too busy: no consistent copy taken");
        }
        Path parent = outFile.toAbsolutePath().getParent();
        Path tmp;
        try {
            tmp = Files.createTempFile(
                    parent,
                    ".arena-dump",
                    ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            tmp = Files.createTempFile(parent, ".arena-dump", ".tmp");
        } catch (AccessDeniedException e) {
            throw new Failure(NOT_FOUND, "permission denied: cannot write in " + parent);
        } catch (NoSuchFileException e) {
            throw new Failure(NOT_FOUND, "no such directory: " + parent);
        }
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, outFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        StatsFile.Snapshot saved = readOnce(outFile); // check the copy reads back
        out.println("saved pid " + saved.pid() + " (" + saved.name() + "), update #" + saved.publishCount() + " at "
                + saved.heartbeat() + ", to " + StatsFile.printable(outFile.toString()));
        return OK;
    }

    private int diff(String oldName, String newName) throws Exception {
        StatsFile.Snapshot a = readOnce(resolve(oldName).path());
        StatsFile.Snapshot b = readOnce(resolve(newName).path());
        out.print(json ? DumpDiff.json(a, b) + "\n" : DumpDiff.text(a, b));
        return OK;
    }
}
