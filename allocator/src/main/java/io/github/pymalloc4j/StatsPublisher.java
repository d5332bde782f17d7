package io.github.pymalloc4j;

import static io.github.pymalloc4j.StatsFileLayout.*;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Publishes an allocator's statistics into a memory-mapped file (layout in {@link StatsFileLayout} and
 * {@code docs/dump-format.md}) that other processes read with {@link StatsFile}. A daemon thread
 * refreshes it every period from {@code Allocator.stats()}; {@link #publishNow()} refreshes it at once.
 * Nothing here is on the allocation path: the cost to allocating threads is that of
 * {@code Allocator.stats()} once per period (the arena lock, briefly).
 *
 * <p>Single writer, seqlock: every update makes {@code sequence} odd, writes the records and makes it even
 * again, all under {@link #writeLock}; a reader that sees the same even value before and after its copy
 * has a consistent snapshot. The file is created under a hidden temporary name, filled, then renamed, so a
 * reader never sees a half-initialised header. {@link #close()} marks the file closed, unmaps and deletes
 * it.
 */
final class StatsPublisher
{
    /** System property: the name to publish under; enables publishing for allocators whose builder did not. */
    static final String NAME_PROPERTY = "pymalloc4j.publish";
    /** System property: the period in milliseconds. */
    static final String PERIOD_PROPERTY = "pymalloc4j.publish.period";
    /** System property: the directory. */
    static final String DIRECTORY_PROPERTY = "pymalloc4j.publish.dir";

    static final Duration DEFAULT_PERIOD = Duration.ofSeconds(1);
    static final Duration MIN_PERIOD = Duration.ofMillis(100);
    static final Duration MAX_PERIOD = Duration.ofHours(1);
    static final int MAX_NAME_LENGTH = NAME_LENGTH;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1," + MAX_NAME_LENGTH + "}");
    private static final System.Logger LOG = System.getLogger(StatsPublisher.class.getName());
    /** Files this process publishes, so two allocators of one name get two files. */
    private static final Set<Path> FILES_IN_USE = ConcurrentHashMap.newKeySet();

    private final Supplier<AllocatorStats> source;
    private final String name;
    private final Path path;
    private final long periodNanos;
    private final int poolsPerArena;
    private final int arenaCapacity;
    private final int arenaRecordSize;
    private final Arena mapping;
    private final MemorySegment file;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Thread thread;
    private volatile boolean closed;
    /** Guarded by {@link #writeLock}. */
    private long sequence;
    private long publishCount;
    private int arenasWritten;
    private int flags;
    /** The last failure of the publishing thread, if any. */
    volatile Throwable lastFailure;

    private StatsPublisher(
        final Supplier<AllocatorStats> source, final String name, final Path path, final Duration period,
        final int poolsPerArena, final int arenaCapacity, final Arena mapping, final MemorySegment file)
    {
        this.source = source;
        this.name = name;
        this.path = path;
        this.periodNanos = period.toNanos();
        this.poolsPerArena = poolsPerArena;
        this.arenaCapacity = arenaCapacity;
        this.arenaRecordSize = arenaRecordSize(poolsPerArena);
        this.mapping = mapping;
        this.file = file;
        this.thread = Thread.ofPlatform().daemon().name("pymalloc4j-publisher-" + name).unstarted(this::run);
    }

    // ---------------------------------------------------------------- settings

    /**
     * Checks a publishing name.
     *
     * @param name the name.
     * @return the name.
     * @throws IllegalArgumentException unless it matches {@code [A-Za-z0-9._-]{1,48}}.
     */
    static String checkName(final String name)
    {
        if (name == null || !NAME.matcher(name).matches())
        {
            throw new IllegalArgumentException(
                "statistics file name must match [A-Za-z0-9._-]{1," + MAX_NAME_LENGTH + "}: " + name);
        }
        return name;
    }

    /**
     * Checks a publishing period.
     *
     * @param period the period.
     * @return the period.
     * @throws IllegalArgumentException unless from 100 ms to 1 hour.
     */
    static Duration checkPeriod(final Duration period)
    {
        if (period == null || period.compareTo(MIN_PERIOD) < 0 || period.compareTo(MAX_PERIOD) > 0)
        {
            throw new IllegalArgumentException("statistics publish period must be from 100 ms to 1 hour: " + period);
        }
        return period;
    }

    /**
     * Starts a publisher as the system properties ask, if {@value #NAME_PROPERTY} is set. Bad values and
     * I/O failures are logged and leave publishing off: an operator's switch must not break the program.
     *
     * @return the publisher, or null.
     */
    static StatsPublisher fromSystemProperties(
        final Supplier<AllocatorStats> source, final long arenaSize, final long poolSize)
    {
        final String name = System.getProperty(NAME_PROPERTY);
        if (name == null || name.isEmpty())
        {
            return null;
        }
        try
        {
            final String periodMs = System.getProperty(PERIOD_PROPERTY);
            final Duration period;
            try
            {
                period = periodMs == null || periodMs.isBlank() ? DEFAULT_PERIOD : Duration.ofMillis(Long.parseLong(periodMs.trim()));
            }
            catch (final NumberFormatException e)
            {
                throw new IllegalArgumentException(PERIOD_PROPERTY + " must be a number of milliseconds: " + periodMs, e);
            }
            final String dir = System.getProperty(DIRECTORY_PROPERTY);
            return start(source, arenaSize, poolSize, checkName(name), checkPeriod(period),
                dir == null || dir.isBlank() ? null : Path.of(dir), 0);
        }
        catch (final IllegalArgumentException | IOException | UncheckedIOException | SecurityException e)
        {
            LOG.log(System.Logger.Level.WARNING, "pymalloc4j: statistics publishing requested by -D" + NAME_PROPERTY +
                "=" + name + " is off: " + e);
            return null;
        }
    }

    // ---------------------------------------------------------------- start

    /**
     * Creates the file, publishes once and starts the daemon thread.
     *
     * @param source        the statistics.
     * @param arenaSize     the allocator's arena size.
     * @param poolSize      the allocator's pool size.
     * @param name          checked name.
     * @param period        checked period.
     * @param directory     the directory, or null for {@link StatsFile#defaultDirectory()}.
     * @param arenaCapacity arena records; 0 for the layout's rule (other values are for tests).
     * @return the running publisher.
     * @throws IOException if the directory or the file cannot be made.
     */
    static StatsPublisher start(
        final Supplier<AllocatorStats> source, final long arenaSize, final long poolSize, final String name,
        final Duration period, final Path directory, final int arenaCapacity) throws IOException
    {
        final int poolsPerArena = (int)(arenaSize / poolSize);
        final int capacity = arenaCapacity > 0 ? arenaCapacity : StatsFileLayout.arenaCapacity(poolsPerArena);
        final Path dir = publishDirectory(directory, StatsFile.defaultDirectory());
        final long pid = ProcessHandle.current().pid();

        String unique = name;
        Path path = null;
        for (int k = 2; path == null; k++)
        {
            final Path candidate = dir.resolve(pid + "-" + unique + FILE_SUFFIX).toAbsolutePath().normalize();
            if (FILES_IN_USE.add(candidate))
            {
                path = candidate;
            }
            else
            {
                final String suffix = "-" + k;
                unique = name.substring(0, Math.min(name.length(), MAX_NAME_LENGTH - suffix.length())) + suffix;
            }
        }

        final Path temp = path.resolveSibling("." + path.getFileName() + ".tmp");
        Arena mapping = null;
        boolean moved = false;
        boolean done = false;
        try
        {
            Files.deleteIfExists(temp); // left by a dead process that had our pid
            final long size = fileSize(poolsPerArena, capacity);
            mapping = Arena.ofShared();
            final MemorySegment segment;
            try (FileChannel channel = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE), ownerOnly(temp, "rw-------")))
            {
                channel.write(ByteBuffer.wrap(new byte[1]), size - 1); // sparse: only written pages use memory
                segment = channel.map(FileChannel.MapMode.READ_WRITE, 0, size, mapping);
            }
            final StatsPublisher publisher = new StatsPublisher(
                source, unique, path, period, poolsPerArena, capacity, mapping, segment);
            publisher.writeHeader(pid, arenaSize, poolSize, size);
            publisher.publish();
            Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            publisher.thread.start();
            done = true;
            return publisher;
        }
        finally
        {
            if (!done)
            {
                if (mapping != null)
                {
                    mapping.close();
                }
                try
                {
                    Files.deleteIfExists(moved ? path : temp);
                }
                catch (final IOException e)
                {
                    LOG.log(System.Logger.Level.WARNING, "pymalloc4j: cannot delete " + (moved ? path : temp) + ": " + e);
                }
                FILES_IN_USE.remove(path);
            }
        }
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
    static Path publishDirectory(final Path requested, final Path defaultDirectory) throws IOException
    {
        if (requested != null)
        {
            final var problem = FileTrust.directoryProblem(ensureDirectory(requested));
            if (problem.isPresent())
            {
                throw new IOException("statistics directory " + TerminalText.printable(requested.toString()) + " " +
                    problem.get() + "; refusing to use it");
            }
            return requested;
        }
        var problem = FileTrust.directoryProblem(ensureDirectory(defaultDirectory));
        if (problem.isEmpty() && !Files.isWritable(defaultDirectory))
        {
            problem = Optional.of("is not writable by us"); // root's: trusted, but not ours to fill
        }
        if (problem.isEmpty())
        {
            return defaultDirectory;
        }
        final Path fallback = privateDirectory(defaultDirectory);
        LOG.log(System.Logger.Level.WARNING, "pymalloc4j: statistics directory " +
            TerminalText.printable(defaultDirectory.toString()) + " " + problem.get() + "; publishing in " + fallback + " instead");
        return fallback;
    }

    /** Creates the directory (owner-only where POSIX) unless something exists there; examines what is there. */
    private static FileTrust.Status ensureDirectory(final Path dir) throws IOException
    {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS))
        {
            final Path parent = dir.toAbsolutePath().getParent();
            if (parent != null)
            {
                Files.createDirectories(parent);
            }
            try
            {
                Files.createDirectory(dir, ownerOnly(dir, "rwx------"));
            }
            catch (final FileAlreadyExistsException e)
            {
                // someone else made it meanwhile: examined below like any existing one
            }
        }
        return FileTrust.status(dir);
    }

    /**
     * A trusted sibling {@code <default>.XXXX} of the default directory that an earlier process of ours made, or
     * a new one.
     */
    static Path privateDirectory(final Path defaultDirectory) throws IOException
    {
        for (final Path dir : StatsFile.privateDirectories(defaultDirectory))
        {
            if (Files.isWritable(dir))
            {
                return dir;
            }
        }
        final Path base = defaultDirectory.toAbsolutePath().getParent();
        final Path made = Files.createTempDirectory(base, defaultDirectory.getFileName() + ".", ownerOnly(base, "rwx------"));
        final var problem = FileTrust.directoryProblem(FileTrust.status(made));
        if (problem.isPresent())
        {
            throw new IOException("statistics directory " + made + " " + problem.get() + "; refusing to use it");
        }
        return made;
    }

    /** The given POSIX permissions as a creation attribute, or none where the file system has no POSIX view. */
    private static FileAttribute<?>[] ownerOnly(final Path path, final String permissions)
    {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix") ?
            new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions))} :
            new FileAttribute<?>[0];
    }

    // ---------------------------------------------------------------- writing

    private void writeHeader(final long pid, final long arenaSize, final long poolSize, final long size)
    {
        MemorySegment.copy(MAGIC, 0, file, ValueLayout.JAVA_BYTE, MAGIC_OFFSET, MAGIC.length);
        file.set(U32, VERSION_OFFSET, VERSION);
        file.set(U32, HEADER_SIZE_OFFSET, HEADER_SIZE);
        file.set(U64, FILE_SIZE_OFFSET, size);
        file.set(U64, PID_OFFSET, pid);
        file.set(U64, START_TIME_OFFSET, System.currentTimeMillis());
        file.set(U64, PERIOD_OFFSET, TimeUnit.NANOSECONDS.toMillis(periodNanos));
        file.set(U64, ARENA_SIZE_OFFSET, arenaSize);
        file.set(U64, POOL_SIZE_OFFSET, poolSize);
        file.set(U32, POOLS_PER_ARENA_OFFSET, poolsPerArena);
        file.set(U32, ARENA_CAPACITY_OFFSET, arenaCapacity);
        final byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(utf8, 0, file, ValueLayout.JAVA_BYTE, NAME_OFFSET, utf8.length);
        file.set(U32, TOTALS_OFFSET_OFFSET, TOTALS_OFFSET);
        file.set(U32, TOTALS_SIZE_OFFSET, TOTALS_SIZE);
        file.set(U32, CLASSES_OFFSET_OFFSET, CLASSES_OFFSET);
        file.set(U32, CLASS_COUNT_OFFSET, CLASS_COUNT);
        file.set(U32, CLASS_RECORD_SIZE_OFFSET, CLASS_RECORD_SIZE);
        file.set(U32, ARENA_RECORD_SIZE_OFFSET, arenaRecordSize);
        file.set(U64, ARENAS_OFFSET_OFFSET, ARENAS_OFFSET);
    }

    /**
     * Takes a snapshot and writes it, under the write lock.
     *
     * @return false if the publisher is closed.
     */
    private boolean publish()
    {
        writeLock.lock();
        try
        {
            if (closed)
            {
                return false;
            }
            final long before = System.nanoTime();
            final AllocatorStats stats = source.get(); // before the sequence turns odd: keep the window short
            final long statsNanos = System.nanoTime() - before;
            beginUpdateOrdered();
            writeTotals(stats, statsNanos);
            writeSizeClasses(stats);
            final List<AllocatorStats.ArenaStats> arenas = stats.arenas();
            final int count = Math.min(arenas.size(), arenaCapacity);
            for (int i = 0; i < count; i++)
            {
                writeArena(ARENAS_OFFSET + (long)i * arenaRecordSize, arenas.get(i));
            }
            if (arenasWritten > count) // the rest would be stale: clear it
            {
                file.asSlice(ARENAS_OFFSET + (long)count * arenaRecordSize, (long)(arenasWritten - count) * arenaRecordSize)
                    .fill((byte)0);
            }
            arenasWritten = count;
            flags = arenas.size() > arenaCapacity ? flags | FLAG_ARENAS_TRUNCATED : flags & ~FLAG_ARENAS_TRUNCATED;
            file.set(U32, ARENA_COUNT_OFFSET, count);
            file.set(U32, FLAGS_OFFSET, flags);
            file.set(U64, PUBLISH_COUNT_OFFSET, ++publishCount);
            file.set(U64, HEARTBEAT_OFFSET, System.currentTimeMillis());
            endUpdateRelease();
            return true;
        }
        finally
        {
            writeLock.unlock();
        }
    }

    /** Makes the sequence odd, then a store-store fence: no later store becomes visible before it. */
    private void beginUpdateOrdered()
    {
        putSequenceOpaque(file, ++sequence);
        VarHandle.storeStoreFence();
    }

    /** Makes the sequence even with a release store: every earlier store is visible before it. */
    private void endUpdateRelease()
    {
        putSequenceRelease(file, ++sequence);
    }

    private void writeTotals(final AllocatorStats s, final long statsNanos)
    {
        for (final Statistic statistic : Statistic.values())
        {
            if (!statistic.derived())
            {
                putTotal(statistic.slot(), s.get(statistic));
            }
        }
        putTotal(T_MAX_RESERVED, s.maxReservedBytes() == Long.MAX_VALUE ? -1 : s.maxReservedBytes());
        putTotal(T_PURGE_DELAY_NANOS, s.purgeDelayNanos());
        putTotal(T_STATUS, (s.lockFreeOwners() ? STATUS_LOCK_FREE_OWNERS : 0) |
            (s.maintenanceFailure() != null ? STATUS_MAINTENANCE_FAILED : 0));
        putTotal(T_SMALL_REQUEST_THRESHOLD, s.smallRequestThreshold());
        putTotal(T_STATS_NANOS, statsNanos);
    }

    private void putTotal(final int slot, final long value)
    {
        file.set(U64, total(slot), value);
    }

    private void writeSizeClasses(final AllocatorStats s)
    {
        final long poolSize = s.poolSize();
        for (final AllocatorStats.SizeClassStats c : s.sizeClasses())
        {
            final long at = sizeClass(c.index());
            file.set(U32, at + C_INDEX, c.index());
            file.set(U32, at + C_BLOCK_SIZE, c.blockSize());
            file.set(U32, at + C_POOLS, c.pools());
            file.set(U32, at + C_BLOCKS_PER_POOL, (int)(poolSize / c.blockSize()));
            file.set(U64, at + C_BLOCKS_IN_USE, c.blocksInUse());
            file.set(U64, at + C_BLOCKS_AVAILABLE, c.blocksAvailable());
            file.set(U64, at + C_PENDING_REMOTE_FREES, c.pendingRemoteFrees());
            file.set(U64, at + C_BYTES_REQUESTED, c.bytesRequested());
        }
    }

    private void writeArena(final long at, final AllocatorStats.ArenaStats a)
    {
        file.set(U64, at + A_ADDRESS, a.address());
        file.set(U32, at + A_POOLS_TOTAL, a.poolsTotal());
        file.set(U32, at + A_POOLS_CARVED, a.poolsCarved());
        file.set(U32, at + A_POOLS_FREE, a.poolsFree());
        long blocksInUse = 0;
        final long pools = at + A_POOLS;
        int next = 0;
        for (final AllocatorStats.PoolStats p : a.pools())
        {
            for (; next < p.index(); next++)
            {
                file.set(U32, pools + POOL_ENTRY_SIZE * (long)next, poolEntry(POOL_EMPTY, 0, 0));
            }
            final int entry = p.sizeClass() < 0 || p.capacity() == 0 ? poolEntry(POOL_EMPTY, 0, 0) :
                poolEntry(p.sizeClass(), (int)((long)p.blocksInUse() * 100 / p.capacity()), p.blocksInUse());
            file.set(U32, pools + POOL_ENTRY_SIZE * (long)p.index(), entry);
            blocksInUse += p.blocksInUse();
            next = p.index() + 1;
        }
        final int total = Math.min(a.poolsTotal(), poolsPerArena);
        for (; next < total; next++)
        {
            file.set(U32, pools + POOL_ENTRY_SIZE * (long)next, poolEntry(POOL_NEVER_CARVED, 0, 0));
        }
        file.set(U64, at + A_BLOCKS_IN_USE, blocksInUse);
    }

    /** One pool entry as a little-endian u32: class (i8), fill percent (u8), blocks in use (u16, saturating). */
    static int poolEntry(final int sizeClass, final int fillPercent, final int blocksInUse)
    {
        return (sizeClass & 0xFF) | (Math.min(fillPercent, 100) & 0xFF) << 8 | Math.min(blocksInUse, 0xFFFF) << 16;
    }

    // ---------------------------------------------------------------- thread, API

    private void run()
    {
        long next = System.nanoTime() + periodNanos;
        while (!closed)
        {
            final long wait = next - System.nanoTime();
            if (wait > 0)
            {
                LockSupport.parkNanos(this, wait);
                continue;
            }
            final long now = System.nanoTime();
            next = next + periodNanos - now > 0 ? next + periodNanos : now + periodNanos; // no catch-up burst
            try
            {
                publish();
            }
            catch (final IllegalStateException e)
            {
                if (!closed)
                {
                    lastFailure = e;
                }
            }
            catch (final Throwable t)
            {
                lastFailure = t;
            }
        }
    }

    /**
     * Refreshes the file now, from a fresh snapshot.
     *
     * @throws IllegalStateException if the publisher is closed.
     */
    void publishNow()
    {
        if (!publish())
        {
            throw new IllegalStateException("statistics publisher is closed");
        }
    }

    /** @return the file. */
    Path path()
    {
        return path;
    }

    /** @return the name in the file (the requested one, with a suffix if this process already used it). */
    String name()
    {
        return name;
    }

    /** @return whether {@link #close()} was called. */
    boolean isClosed()
    {
        return closed;
    }

    /**
     * Stops the thread, marks the file closed, unmaps and deletes it. Idempotent.
     */
    void close()
    {
        writeLock.lock();
        try
        {
            if (closed)
            {
                return;
            }
            closed = true;
        }
        finally
        {
            writeLock.unlock();
        }
        LockSupport.unpark(thread);
        try
        {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        writeLock.lock();
        try
        {
            // A reader that still has the file mapped (it outlives the unlink) sees that it is over.
            beginUpdateOrdered();
            flags |= FLAG_CLOSED;
            file.set(U32, FLAGS_OFFSET, flags);
            file.set(U64, HEARTBEAT_OFFSET, System.currentTimeMillis());
            endUpdateRelease();
            mapping.close();
        }
        finally
        {
            writeLock.unlock();
        }
        try
        {
            Files.deleteIfExists(path);
        }
        catch (final IOException e)
        {
            LOG.log(System.Logger.Level.WARNING, "pymalloc4j: cannot delete statistics file " + path, e);
        }
        finally
        {
            FILES_IN_USE.remove(path);
        }
    }
}
