package io.github.pymalloc4j;

import static io.github.pymalloc4j.StatsFileLayout.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Reads a statistics file published by an {@link Allocator} built with
 * {@link Allocator.Builder#publishStats(String)} (or {@code -Dpymalloc4j.publish=name}), possibly in another
 * process. Layout: {@code docs/dump-format.md}.
 *
 * <p>The file is mapped read-only: reading never writes to it and never blocks or slows the writer.
 * {@link #read()} copies the header and records and checks the writer's sequence counter before and after
 * the copy (a seqlock); a copy that overlapped an update is thrown away and taken again. A file whose
 * process is gone, or whose heartbeat is old, is reported by {@link Snapshot#stale(Duration)}.
 *
 * <pre>{@code
 * for (Path p : StatsFile.list()) {
 *     try (StatsFile f = StatsFile.open(p)) {
 *         StatsFile.Snapshot s = f.read();
 *         System.out.println(s.name() + (s.stale(Duration.ZERO) ? " (stale)" : "") + ": " + s.toJson());
 *     }
 * }
 * }</pre>
 *
 * <p>An instance may be used by several threads; {@link #close()} must not race with {@link #read()}.
 */
public final class StatsFile implements AutoCloseable {
    /** The layout version this reader understands. */
    public static final int LAYOUT_VERSION = StatsFileLayout.VERSION;
    /** Schema name of {@link Snapshot#toJson()}. */
    public static final String JSON_SCHEMA = "pymalloc4j-stats-file";
    /** Version of {@link Snapshot#toJson()}'s schema. */
    public static final int JSON_SCHEMA_VERSION = 1;

    private static final int MAX_ATTEMPTS = 1000;
    private static final long MAX_WAIT_NANOS = 1_000_000_000L;
    private static final int SPINS = 16;
    private static final long MAX_BACKOFF_NANOS = 1_000_000L;
    /** Header fields a writer sets once, before the file appears: [from, to) byte ranges. */
    private static final int[][] FIXED_HEADER_RANGES = {
        {MAGIC_OFFSET, HEARTBEAT_OFFSET},
        {PERIOD_OFFSET, SEQUENCE_OFFSET},
        {ARENA_SIZE_OFFSET, ARENA_COUNT_OFFSET},
        {NAME_OFFSET, ARENAS_OFFSET_OFFSET + 8},
    };

    private final Path path;
    /** The path as it may be printed. */
    private final String displayName;

    private final FileChannel channel;
    private final Arena mapping;
    private final MemorySegment file;
    private final long mappedSize;
    private final StatsFileLayout.Geometry geometry;
    /** The header as it was when the file was opened; its fixed fields must not change. */
    private final byte[] openedHeader;
    /** Why this file is not one we would list, if it is not (another user's, or others can change it). */
    private final Optional<String> trustProblem;
    /** Copies thrown away because the writer was updating; for tests. */
    private final AtomicLong retries = new AtomicLong();

    private StatsFile(
            final Path path,
            final String displayName,
            final FileChannel channel,
            final Arena mapping,
            final MemorySegment file,
            final StatsFileLayout.Geometry geometry,
            final byte[] openedHeader,
            final Optional<String> trustProblem) {
        this.path = path;
        this.trustProblem = trustProblem;
        this.displayName = displayName;
        this.channel = channel;
        this.mapping = mapping;
        this.file = file;
        this.mappedSize = file.byteSize();
        this.geometry = geometry;
        this.openedHeader = openedHeader;
    }

    /**
     * Opens and maps a statistics file read-only, checking its header. Only a regular file is opened (a FIFO, a
     * device, a directory or a symbolic link is refused before anything is opened, so nothing blocks), and only
     * if its header is consistent and every region it declares lies within the file.
     *
     * @param path the file, as listed by {@link #list()}.
     * @return the open file.
     * @throws StatsFileException if it cannot be read, is not a regular file, is not a pymalloc4j statistics file,
     *                            has an unsupported layout version, or is truncated or corrupt.
     */
    public static StatsFile open(final Path path) throws StatsFileException {
        final String name = TerminalText.printable(String.valueOf(path));
        final FileTrust.Status status = examine(path, name);
        if (!status.regularFile()) {
            throw new StatsFileException(
                    name + ": not a regular file (it is a " + status.type() + "); refusing to open it");
        }
        FileChannel channel = null;
        Arena mapping = null;
        boolean done = false;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
            final FileTrust.Status opened = examine(path, name);
            if (!opened.regularFile() || !opened.sameFile(status)) {
                throw new StatsFileException(name + ": replaced while being opened; refusing to read it");
            }
            final long size = channel.size();
            if (size == 0) {
                throw new StatsFileException(name + ": empty file, not a pymalloc4j statistics file");
            }
            final byte[] header = new byte[(int) Math.min(size, HEADER_SIZE)];
            final ByteBuffer buffer = ByteBuffer.wrap(header);
            while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) >= 0) {
                // until full or end of file
            }
            final long length = buffer.hasRemaining() ? buffer.position() : size; // shrunk meanwhile: as much as read
            final StatsFileLayout.Geometry geometry = StatsFileLayout.decodeGeometry(
                    name, MemorySegment.ofArray(header).asSlice(0, Math.min(length, header.length)), length);
            mapping = Arena.ofShared();
            final MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, mapping);
            final byte[] mapped = file.asSlice(0, HEADER_SIZE).toArray(ValueLayout.JAVA_BYTE);
            final StatsFile result =
                    new StatsFile(path, name, channel, mapping, file, geometry, mapped, trustProblem(opened));
            result.checkFixedHeader(header);
            done = true;
            return result;
        } catch (final StatsFileException e) {
            throw e;
        } catch (final IOException | InternalError | UnsupportedOperationException | SecurityException e) {
            throw new StatsFileException(
                    name + ": cannot read statistics file: " + TerminalText.printable(e.toString()), e);
        } finally {
            if (!done) {
                if (mapping != null) {
                    mapping.close();
                }
                closeQuietly(channel);
            }
        }
    }

    /** The file's own problem, else its directory's: what {@link #list} would have skipped it for. */
    private static Optional<String> trustProblem(final FileTrust.Status file) {
        final Optional<String> own = FileTrust.fileProblem(file);
        if (own.isPresent()) {
            return Optional.of("the file " + own.get());
        }
        final Path parent = file.path().toAbsolutePath().getParent();
        if (parent == null) {
            return Optional.empty();
        }
        try {
            return FileTrust.directoryProblem(FileTrust.status(parent)).map(p -> "its directory " + p);
        } catch (final IOException | RuntimeException e) {
            return Optional.of("its directory cannot be examined: " + TerminalText.printable(e.toString()));
        }
    }

    /**
     * Why this file would not be listed by {@link #list()}, if it would not: it, or its directory, belongs to
     * another user (not root), or others can write to it, so its contents may not be what the process it names
     * published. Such a file can still be opened by path; callers should show the reason with what they read.
     *
     * @return the reason, already safe to print, or empty if the file can be trusted.
     */
    public Optional<String> trustProblem() {
        return trustProblem;
    }

    private static FileTrust.Status examine(final Path path, final String name) throws StatsFileException {
        try {
            return FileTrust.status(path);
        } catch (final NoSuchFileException e) {
            throw new StatsFileException(name + ": no such file", e);
        } catch (final IOException | UnsupportedOperationException | SecurityException e) {
            throw new StatsFileException(
                    name + ": cannot read statistics file: " + TerminalText.printable(e.toString()), e);
        }
    }

    private static void closeQuietly(final FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (final IOException e) {
                // nothing was read from it
            }
        }
    }

    /**
     * Compares the fields a writer sets once, at creation, with the header as it was opened: a header changed
     * since (edited, or another file renamed into place under a reader that reopened nothing) is refused, since
     * the records would then be read with sizes that no longer describe them.
     */
    private void checkFixedHeader(final byte[] now) throws StatsFileException {
        for (final int[] range : FIXED_HEADER_RANGES) {
            if (!Arrays.equals(now, range[0], range[1], openedHeader, range[0], range[1])) {
                int at = range[0];
                while (now[at] == openedHeader[at]) {
                    at++;
                }
                throw new StatsFileException(displayName + ": corrupt statistics file: its header changed after it was "
                        + "opened (byte " + at + ")");
            }
        }
    }

    /** Throws unless the file is still as long as when it was mapped: a page past its end would read as zeros. */
    private void checkSize() throws StatsFileException {
        final long size;
        try {
            size = channel.size();
        } catch (final IOException e) {
            throw new StatsFileException(
                    displayName + ": cannot read statistics file: " + TerminalText.printable(e.toString()), e);
        }
        if (size < mappedSize) {
            throw new StatsFileException(displayName + ": truncated statistics file: " + size + " bytes now, "
                    + mappedSize + " when it was opened (truncated while mapped)");
        }
    }

    /** @return the file's path. */
    public Path path() {
        return path;
    }

    /**
     * Copies a consistent snapshot: retries while the writer is updating the file (at most 1000 times or
     * 1 s). Before and after each copy the file's size is checked against the mapping, and the copy's header
     * against the header as opened.
     *
     * @return the snapshot.
     * @throws StatsFileException if no consistent copy could be taken ("writer too busy"; or the writer died
     *                            mid-update), the file was truncated or its header changed since it was opened,
     *                            or the records are corrupt.
     * @throws IllegalStateException if this file is closed.
     */
    public Snapshot read() throws StatsFileException {
        if (!mapping.scope().isAlive()) {
            throw new IllegalStateException(this + " is closed");
        }
        final long start = System.nanoTime();
        long sequence = 0;
        byte[] copy = null;
        try {
            for (int attempt = 1; ; attempt++) {
                checkSize();
                sequence = getSequenceAcquire(file);
                if ((sequence & 1) == 0) {
                    final int count = file.get(U32, ARENA_COUNT_OFFSET);
                    // out of range (torn, or corrupt): no records; if the copy is consistent, the snapshot refuses it
                    final int records = count >= 0 && count <= geometry.arenaCapacity() ? count : 0;
                    // at most the mapped size, checked when the file was opened
                    final int length = Math.toIntExact(ARENAS_OFFSET + (long) records * geometry.arenaRecordSize());
                    if (copy == null || copy.length != length) {
                        copy = new byte[length];
                    }
                    MemorySegment.copy(file, ValueLayout.JAVA_BYTE, 0, copy, 0, length);
                    VarHandle.acquireFence(); // the copy's loads complete before the sequence is read again
                    if (getSequenceOpaque(file) == sequence) {
                        checkSize(); // pages past a truncation read as zeros: the copy would be a fake
                        checkFixedHeader(copy);
                        return new Snapshot(this, copy);
                    }
                }
                retries.incrementAndGet();
                if (attempt >= MAX_ATTEMPTS || System.nanoTime() - start > MAX_WAIT_NANOS) {
                    break;
                }
                if (attempt <= SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(Math.min(MAX_BACKOFF_NANOS, 10_000L << Math.min(attempt - SPINS, 8)));
                }
            }
        } catch (final InternalError e) // a fault in the mapping: the file was truncated under us
        {
            throw new StatsFileException(displayName + ": truncated statistics file: it shrank while mapped", e);
        }
        final long pid = MemorySegment.ofArray(openedHeader).get(U64_COPY, PID_OFFSET);
        if ((sequence & 1) != 0
                && !(pid > 0
                        && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))) {
            throw new StatsFileException(displayName + ": stale statistics file: process " + pid
                    + " is not running and left an update unfinished");
        }
        throw new StatsFileException(displayName + ": writer too busy: no consistent snapshot in "
                + (System.nanoTime() - start) / 1_000_000 + " ms");
    }

    /** @return copies thrown away because the writer was updating the file. For tests. */
    long retries() {
        return retries.get();
    }

    /** Unmaps and closes the file. Idempotent. */
    @Override
    public void close() {
        if (mapping.scope().isAlive()) {
            mapping.close();
        }
        closeQuietly(channel);
    }

    /**
     * Where allocators publish by default: {@code /dev/shm/pymalloc4j-<user.name>} if {@code /dev/shm} is a
     * writable directory, else {@code <java.io.tmpdir>/pymalloc4j-<user.name>} (characters other than
     * {@code [A-Za-z0-9._-]} in the user name become {@code _}).
     *
     * @return the directory (it may not exist).
     */
    public static Path defaultDirectory() {
        return StatsDirectory.defaultDirectory();
    }

    /**
     * Statistics files this user's processes publish by default, stale ones included: those in
     * {@link #defaultDirectory()} and in the private {@code <defaultDirectory>.XXXX} siblings a publisher uses when
     * the default directory is taken by another user. A directory or file that another user (not root) owns, or
     * that others can change, is skipped ({@code docs/dump-format.md}, "Trust").
     *
     * @return their paths, by file name; empty if there are none.
     * @throws IOException if a directory cannot be listed.
     */
    public static List<Path> list() throws IOException {
        return StatsDirectory.listDefault(StatsDirectory.defaultDirectory());
    }

    /**
     * Statistics files ({@code *.pm4j}) in a directory, stale ones included. Only regular files that we (or root)
     * own and others cannot write are listed; open another user's file by path to read it
     * ({@link #trustProblem()} then says why it was not listed).
     *
     * @param directory the directory, e.g. one given to {@link Allocator.Builder#publishDirectory(Path)}.
     * @return their paths, by name; empty if the directory does not exist.
     * @throws IOException if the directory cannot be listed, or cannot be trusted (another user's, or writable by
     *                     others without the sticky bit): the reason is in the message.
     */
    public static List<Path> list(final Path directory) throws IOException {
        return StatsDirectory.list(directory);
    }

    @Override
    public String toString() {
        return "StatsFile[" + displayName + "]";
    }

    /**
     * Text read from a statistics file, or a path or message naming one, made safe to print on a terminal:
     * control characters (ESC, BEL, CR, LF...), DEL, C1 controls, bidirectional and other format characters,
     * separators, unpaired surrogates and unassigned or private-use code points become visible escapes
     * (<code>\x1b</code>, <code>&#92;u009b</code>, <code>&#92;u202e</code>); a backslash is doubled, so escapes are unambiguous.
     *
     * @param text the text, or null.
     * @return the text with nothing that can move the cursor, retitle or clear a terminal, or reorder a line.
     */
    public static String printable(final String text) {
        return TerminalText.printable(text);
    }

    /** {@code a - b}, or the nearest long if that overflows. */
    static long saturatedDifference(final long a, final long b) {
        final long d = a - b;
        return ((a ^ b) & (a ^ d)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : d;
    }

    private static long saturatedMillis(final Duration d) {
        try {
            return d.toMillis();
        } catch (final ArithmeticException e) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    // ---------------------------------------------------------------- snapshot

    /**
     * A consistent copy of a statistics file: header, totals ({@link StatsTotals}, as {@link AllocatorStats}
     * has them), size classes and arena records. Immutable.
     */
    public static final class Snapshot implements StatsTotals {
        private final Path path;
        private final MemorySegment data;
        private final String name;
        private final List<AllocatorStats.SizeClassStats> sizeClasses;
        private final List<ArenaRecord> arenas;
        /** The stored totals, indexed by {@link Statistic#ordinal()}. */
        private final long[] totals = new long[Statistic.COUNT];

        private Snapshot(final StatsFile source, final byte[] bytes) throws StatsFileException {
            this.path = source.path;
            this.data = MemorySegment.ofArray(bytes);
            final int capacity = source.geometry.arenaCapacity();
            final int count = data.get(U32_COPY, ARENA_COUNT_OFFSET);
            if (count < 0
                    || count > capacity
                    || ARENAS_OFFSET + (long) count * source.geometry.arenaRecordSize() > bytes.length) {
                throw new StatsFileException(source.displayName + ": corrupt statistics file: "
                        + Integer.toUnsignedString(count) + " arena records of " + capacity);
            }
            final byte[] utf8 = data.asSlice(NAME_OFFSET, NAME_LENGTH).toArray(ValueLayout.JAVA_BYTE);
            int length = 0;
            while (length < utf8.length && utf8[length] != 0) {
                length++;
            }
            this.name = TerminalText.printable(utf8, 0, length);
            this.sizeClasses = decodeSizeClasses(data);
            final int recordSize = source.geometry.arenaRecordSize();
            final List<ArenaRecord> records = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                records.add(new ArenaRecord(this, ARENAS_OFFSET + (long) i * recordSize));
            }
            this.arenas = List.copyOf(records);
            decodeTotals(data, totals);
        }

        /**
         * One allocator-wide total, as {@link AllocatorStats#get(Statistic)} has it.
         *
         * @param statistic a {@link Statistic.Unit#BYTES} or {@link Statistic.Unit#COUNT} total.
         * @return its value in this copy.
         * @throws IllegalArgumentException if it is a {@link Statistic.Unit#FRACTION}.
         */
        @Override
        public long get(final Statistic statistic) {
            return statistic.value(totals);
        }

        /**
         * One allocator-wide fraction, as {@link AllocatorStats#fraction(Statistic)} has it.
         *
         * @param statistic a {@link Statistic.Unit#FRACTION} total.
         * @return its value in this copy.
         * @throws IllegalArgumentException if it is not a fraction.
         */
        @Override
        public double fraction(final Statistic statistic) {
            return statistic.fraction(totals);
        }

        private long total(final int slot) {
            return data.get(U64_COPY, StatsFileLayout.total(slot));
        }

        // ------------------------------------------------------------ header

        /** @return the file this was read from. */
        public Path path() {
            return path;
        }

        /** @return the layout version ({@value StatsFile#LAYOUT_VERSION}). */
        public int layoutVersion() {
            return data.get(U32_COPY, VERSION_OFFSET);
        }

        /** @return the writing process's id. */
        public long pid() {
            return data.get(U64_COPY, PID_OFFSET);
        }

        /**
         * The publishing name (with a {@code -2}, {@code -3}... suffix if reused in its process), safe to print: a
         * writer only ever writes {@code [A-Za-z0-9._-]}, so anything else is escaped as {@link #printable(String)}
         * does (bytes that are not UTF-8 as <code>\xNN</code>).
         *
         * @return the name, printable.
         */
        public String name() {
            return name;
        }

        /** @return when publishing started (the allocator was built). */
        public Instant startTime() {
            return Instant.ofEpochMilli(startTimeEpochMillis());
        }

        /** @return when publishing started, in milliseconds since the epoch, as the file has it. */
        public long startTimeEpochMillis() {
            return data.get(U64_COPY, START_TIME_OFFSET);
        }

        /** @return when the writer last refreshed the file. */
        public Instant heartbeat() {
            return Instant.ofEpochMilli(heartbeatEpochMillis());
        }

        /** @return when the writer last refreshed the file, in milliseconds since the epoch, as the file has it. */
        public long heartbeatEpochMillis() {
            return data.get(U64_COPY, HEARTBEAT_OFFSET);
        }

        /** @return the writer's refresh period. */
        public Duration publishPeriod() {
            return Duration.ofMillis(publishPeriodMillis());
        }

        /** @return the writer's refresh period in milliseconds, as the file has it. */
        public long publishPeriodMillis() {
            return data.get(U64_COPY, PERIOD_OFFSET);
        }

        /** @return updates written so far (periodic and {@code publishNow()}). */
        public long publishCount() {
            return data.get(U64_COPY, PUBLISH_COUNT_OFFSET);
        }

        /** @return the writer's sequence counter when this copy was taken (even). */
        public long sequence() {
            return data.get(U64_COPY, SEQUENCE_OFFSET);
        }

        /** @return arena records the file can hold. */
        public int arenaCapacity() {
            return data.get(U32_COPY, ARENA_CAPACITY_OFFSET);
        }

        /** @return pool entries per arena record ({@code arenaSize / poolSize}). */
        public int poolsPerArena() {
            return data.get(U32_COPY, POOLS_PER_ARENA_OFFSET);
        }

        /** @return whether more arenas exist than records fit: {@link #arenas()} holds the first by address. */
        public boolean arenasTruncated() {
            return (data.get(U32_COPY, FLAGS_OFFSET) & FLAG_ARENAS_TRUNCATED) != 0;
        }

        /** @return whether the allocator was closed (the file was about to be deleted). */
        public boolean writerClosed() {
            return (data.get(U32_COPY, FLAGS_OFFSET) & FLAG_CLOSED) != 0;
        }

        // ------------------------------------------------------------ liveness

        /**
         * Whether the writing process is running now (in this process's pid namespace). A pid reused by
         * another process reads as alive; its file's heartbeat then stops, which {@link #stale(Duration)}
         * catches.
         *
         * @return true if a live process has that pid.
         */
        public boolean processAlive() {
            final long pid = pid();
            return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }

        /** @return time since the last heartbeat (negative if the clocks disagree; saturating, never wrapping). */
        public Duration heartbeatAge() {
            return Duration.ofMillis(heartbeatAgeMillis());
        }

        private long heartbeatAgeMillis() {
            return saturatedDifference(System.currentTimeMillis(), heartbeatEpochMillis());
        }

        /**
         * Why this file is stale, if it is: the allocator was closed, the process is gone, or the heartbeat is
         * older than {@code max(3 x period, maxHeartbeatAge)} (computed without overflow: a period too long to
         * triple tolerates any age).
         *
         * @param maxHeartbeatAge the heartbeat age tolerated beyond three periods; {@link Duration#ZERO} for none.
         * @return a one-line reason, or empty if the file is live.
         */
        public Optional<String> staleReason(final Duration maxHeartbeatAge) {
            if (writerClosed()) {
                return Optional.of("the allocator was closed");
            }
            if (!processAlive()) {
                return Optional.of("process " + pid() + " is not running");
            }
            final long period = publishPeriodMillis();
            final long threePeriods = period > Long.MAX_VALUE / 3
                    ? Long.MAX_VALUE
                    : period < Long.MIN_VALUE / 3 ? Long.MIN_VALUE : 3 * period;
            final long limit = Math.max(threePeriods, saturatedMillis(maxHeartbeatAge));
            final long age = heartbeatAgeMillis();
            return age > limit
                    ? Optional.of("last heartbeat " + age + " ms ago (limit " + limit + " ms)")
                    : Optional.empty();
        }

        /**
         * Whether this file is stale: see {@link #staleReason(Duration)}.
         *
         * @param maxHeartbeatAge the heartbeat age tolerated beyond three periods; {@link Duration#ZERO} for none.
         * @return true if the process is gone, the allocator closed, or the heartbeat too old.
         */
        public boolean stale(final Duration maxHeartbeatAge) {
            return staleReason(maxHeartbeatAge).isPresent();
        }

        // ------------------------------------------------------------ configuration and totals

        /** @return bytes per arena. */
        public long arenaSize() {
            return data.get(U64_COPY, ARENA_SIZE_OFFSET);
        }

        /** @return bytes per pool. */
        public long poolSize() {
            return data.get(U64_COPY, POOL_SIZE_OFFSET);
        }

        /** @return the largest request served from pools. */
        public int smallRequestThreshold() {
            return (int) total(T_SMALL_REQUEST_THRESHOLD);
        }

        /** @return the reserved-bytes maximum; {@link Long#MAX_VALUE} when unlimited (-1 in the file). */
        public long maxReservedBytes() {
            final long max = total(T_MAX_RESERVED);
            return max < 0 ? Long.MAX_VALUE : max;
        }

        /** @return the purge delay in nanoseconds. */
        public long purgeDelayNanos() {
            return total(T_PURGE_DELAY_NANOS);
        }

        /** @return whether platform threads allocate without any lock. */
        public boolean lockFreeOwners() {
            return (total(T_STATUS) & STATUS_LOCK_FREE_OWNERS) != 0;
        }

        /** @return whether the maintenance thread has failed (the file does not carry the failure). */
        public boolean maintenanceFailed() {
            return (total(T_STATUS) & STATUS_MAINTENANCE_FAILED) != 0;
        }

        /** @return nanoseconds the writer spent taking the snapshot ({@code Allocator.stats()}). */
        public long statsNanos() {
            return total(T_STATS_NANOS);
        }

        // ------------------------------------------------------------ records

        /** @return the 32 size classes, by index. */
        public List<AllocatorStats.SizeClassStats> sizeClasses() {
            return sizeClasses;
        }

        /** @return arena records by ascending address (the first {@link #arenaCapacity()} if truncated). */
        public List<ArenaRecord> arenas() {
            return arenas;
        }

        /**
         * The snapshot as JSON, schema {@value StatsFile#JSON_SCHEMA} version {@value StatsFile#JSON_SCHEMA_VERSION}:
         * the names of {@code AllocatorStats.toJson()} where the file has the data; see
         * {@code docs/dump-format.md}.
         *
         * @return one JSON object.
         */
        public String toJson() {
            return StatsFileJson.json(this);
        }

        @Override
        public String toString() {
            return "StatsFile.Snapshot[pid=" + pid() + ", name=" + name + ", publishCount=" + publishCount()
                    + ", arenas=" + arenasCurrent() + ", inUse=" + bytesInAllocatedBlocks() + "]";
        }
    }

    /**
     * One arena as published: its counts and, per pool, the class, fill and live blocks.
     */
    public static final class ArenaRecord {
        private final MemorySegment data;
        private final long offset;
        private final long poolSize;
        private final int entries;

        private ArenaRecord(final Snapshot snapshot, final long offset) {
            this.data = snapshot.data;
            this.offset = offset;
            this.poolSize = snapshot.poolSize();
            this.entries = Math.min(Math.max(data.get(U32_COPY, offset + A_POOLS_TOTAL), 0), snapshot.poolsPerArena());
        }

        /** @return base address. */
        public long address() {
            return data.get(U64_COPY, offset + A_ADDRESS);
        }

        /** @return pools the arena is cut into. */
        public int poolsTotal() {
            return data.get(U32_COPY, offset + A_POOLS_TOTAL);
        }

        /** @return pools handed out at least once (indices below this are carved). */
        public int poolsCarved() {
            return data.get(U32_COPY, offset + A_POOLS_CARVED);
        }

        /** @return pools that can be handed out: empty carved plus never carved. */
        public int poolsFree() {
            return data.get(U32_COPY, offset + A_POOLS_FREE);
        }

        /** @return live blocks in the arena's pools (exact, unlike the saturating per-pool count). */
        public long blocksInUse() {
            return data.get(U64_COPY, offset + A_BLOCKS_IN_USE);
        }

        /**
         * One pool.
         *
         * @param index 0 to {@code poolsTotal() - 1}.
         * @return the pool's entry.
         * @throws IndexOutOfBoundsException if the index is out of range.
         */
        public PoolRecord pool(final int index) {
            if (index < 0 || index >= entries) {
                throw new IndexOutOfBoundsException("pool " + index + " of " + entries);
            }
            final long at = offset + A_POOLS + (long) POOL_ENTRY_SIZE * index;
            final int sizeClass = data.get(ValueLayout.JAVA_BYTE, at);
            final int fill = data.get(ValueLayout.JAVA_BYTE, at + 1) & 0xFF;
            final int blocksInUse = data.get(U16_COPY, at + 2) & 0xFFFF;
            final boolean serving = sizeClass >= 0 && sizeClass < CLASS_COUNT;
            final int blockSize = serving ? SizeClass.blockSize(sizeClass) : 0;
            return new PoolRecord(
                    index, sizeClass, blockSize, serving ? (int) (poolSize / blockSize) : 0, blocksInUse, fill);
        }

        /** @return every pool, carved or not, by index. */
        public List<PoolRecord> pools() {
            final List<PoolRecord> pools = new ArrayList<>(entries);
            for (int i = 0; i < entries; i++) {
                pools.add(pool(i));
            }
            return pools;
        }

        @Override
        public String toString() {
            return "ArenaRecord[0x" + Long.toHexString(address()) + ", carved " + poolsCarved() + "/" + poolsTotal()
                    + ", free " + poolsFree() + "]";
        }
    }

    /**
     * One pool of an {@link ArenaRecord}.
     *
     * @param index       index in its arena.
     * @param sizeClass   class served; {@value StatsFileLayout#POOL_FREE} if carved but free (serving no class),
     *                    {@value StatsFileLayout#POOL_NEVER_CARVED} if never carved.
     * @param blockSize   bytes per block, 0 unless serving a class.
     * @param capacity    blocks the pool holds ({@code poolSize / blockSize}), 0 unless serving a class.
     * @param blocksInUse live blocks, saturating at 65535.
     * @param fillPercent {@code blocksInUse * 100 / capacity}, rounded down.
     */
    public record PoolRecord(int index, int sizeClass, int blockSize, int capacity, int blocksInUse, int fillPercent) {
        /** Class of a carved pool that serves no class. */
        public static final int FREE = StatsFileLayout.POOL_FREE;
        /** Class of a pool never carved. */
        public static final int NEVER_CARVED = StatsFileLayout.POOL_NEVER_CARVED;

        /** @return whether the pool was ever handed out. */
        public boolean carved() {
            return sizeClass != NEVER_CARVED;
        }
    }
}
