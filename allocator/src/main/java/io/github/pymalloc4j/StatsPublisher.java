package io.github.pymalloc4j;

import static io.github.pymalloc4j.StatsFileLayout.*;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
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
 * <p>This class holds the settings (names, periods, the system properties), the file's life (created under
 * a hidden temporary name, filled, then renamed, so a reader never sees a half-initialised header; marked
 * closed, unmapped and deleted by {@link #close()}) and the refreshing thread. The directory is
 * {@link StatsDirectory}'s, the bytes {@link StatsFileLayout}'s, the seqlock {@link StatsFileWriter}'s: every
 * writer call is made under {@link #writeLock}.
 */
final class StatsPublisher {
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
    /** Guarded by {@link #writeLock}. */
    private final StatsFileWriter writer;

    private final ReentrantLock writeLock = new ReentrantLock();
    private final Thread thread;
    private volatile boolean closed;
    /** The last failure of the publishing thread, if any. */
    volatile Throwable lastFailure;

    private StatsPublisher(
            final Supplier<AllocatorStats> source,
            final String name,
            final Path path,
            final Duration period,
            final StatsFileWriter writer) {
        this.source = source;
        this.name = name;
        this.path = path;
        this.periodNanos = period.toNanos();
        this.writer = writer;
        this.thread = Thread.ofPlatform()
                .daemon()
                .name("pymalloc4j-publisher-" + name)
                .unstarted(this::run);
    }

    // ---------------------------------------------------------------- settings

    /**
     * Checks a publishing name.
     *
     * @param name the name.
     * @return the name.
     * @throws IllegalArgumentException unless it matches {@code [A-Za-z0-9._-]{1,48}}.
     */
    static String checkName(final String name) {
        if (name == null || !NAME.matcher(name).matches()) {
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
    static Duration checkPeriod(final Duration period) {
        if (period == null || period.compareTo(MIN_PERIOD) < 0 || period.compareTo(MAX_PERIOD) > 0) {
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
            final Supplier<AllocatorStats> source, final long arenaSize, final long poolSize) {
        final String name = System.getProperty(NAME_PROPERTY);
        if (name == null || name.isEmpty()) {
            return null;
        }
        try {
            final String periodMs = System.getProperty(PERIOD_PROPERTY);
            final Duration period;
            try {
                period = periodMs == null || periodMs.isBlank()
                        ? DEFAULT_PERIOD
                        : Duration.ofMillis(Long.parseLong(periodMs.trim()));
            } catch (final NumberFormatException e) {
                throw new IllegalArgumentException(
                        PERIOD_PROPERTY + " must be a number of milliseconds: " + periodMs, e);
            }
            final String dir = System.getProperty(DIRECTORY_PROPERTY);
            return start(
                    source,
                    arenaSize,
                    poolSize,
                    checkName(name),
                    checkPeriod(period),
                    dir == null || dir.isBlank() ? null : Path.of(dir),
                    0);
        } catch (final IllegalArgumentException | IOException | UncheckedIOException | SecurityException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "pymalloc4j: statistics publishing requested by -D" + NAME_PROPERTY + "=" + name + " is off: " + e);
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
            final Supplier<AllocatorStats> source,
            final long arenaSize,
            final long poolSize,
            final String name,
            final Duration period,
            final Path directory,
            final int arenaCapacity)
            throws IOException {
        final int poolsPerArena = (int) (arenaSize / poolSize);
        final int capacity = arenaCapacity > 0 ? arenaCapacity : StatsFileLayout.arenaCapacity(poolsPerArena);
        final Path dir = StatsDirectory.publishDirectory(directory, StatsFile.defaultDirectory());
        final long pid = ProcessHandle.current().pid();

        String unique = name;
        Path path = null;
        for (int k = 2; path == null; k++) {
            final Path candidate = dir.resolve(pid + "-" + unique + FILE_SUFFIX)
                    .toAbsolutePath()
                    .normalize();
            if (FILES_IN_USE.add(candidate)) {
                path = candidate;
            } else {
                final String suffix = "-" + k;
                unique = name.substring(0, Math.min(name.length(), MAX_NAME_LENGTH - suffix.length())) + suffix;
            }
        }

        final Path temp = path.resolveSibling("." + path.getFileName() + ".tmp");
        StatsFileWriter writer = null;
        boolean moved = false;
        boolean done = false;
        try {
            Files.deleteIfExists(temp); // left by a dead process that had our pid
            writer = StatsFileWriter.create(temp, poolsPerArena, capacity);
            writer.writeHeader(pid, period.toMillis(), arenaSize, poolSize, unique);
            final StatsPublisher publisher = new StatsPublisher(source, unique, path, period, writer);
            publisher.publish();
            Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            publisher.thread.start();
            done = true;
            return publisher;
        } finally {
            if (!done) {
                if (writer != null) {
                    writer.unmap();
                }
                try {
                    Files.deleteIfExists(moved ? path : temp);
                } catch (final IOException e) {
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "pymalloc4j: cannot delete " + (moved ? path : temp) + ": " + e);
                }
                FILES_IN_USE.remove(path);
            }
        }
    }

    /**
     * Takes a snapshot and writes it, under the write lock.
     *
     * @return false if the publisher is closed.
     */
    private boolean publish() {
        writeLock.lock();
        try {
            if (closed) {
                return false;
            }
            final long before = System.nanoTime();
            final AllocatorStats stats = source.get(); // before the sequence turns odd: keep the window short
            writer.update(stats, System.nanoTime() - before);
            return true;
        } finally {
            writeLock.unlock();
        }
    }

    // ---------------------------------------------------------------- thread, API

    private void run() {
        long next = System.nanoTime() + periodNanos;
        while (!closed) {
            final long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(this, wait);
                continue;
            }
            final long now = System.nanoTime();
            next = next + periodNanos - now > 0 ? next + periodNanos : now + periodNanos; // no catch-up burst
            try {
                publish();
            } catch (final IllegalStateException e) {
                if (!closed) {
                    lastFailure = e;
                }
            } catch (final Throwable t) {
                lastFailure = t;
            }
        }
    }

    /**
     * Refreshes the file now, from a fresh snapshot.
     *
     * @throws IllegalStateException if the publisher is closed.
     */
    void publishNow() {
        if (!publish()) {
            throw new IllegalStateException("statistics publisher is closed");
        }
    }

    /** @return the file. */
    Path path() {
        return path;
    }

    /** @return the name in the file (the requested one, with a suffix if this process already used it). */
    String name() {
        return name;
    }

    /** @return whether {@link #close()} was called. */
    boolean isClosed() {
        return closed;
    }

    /**
     * Stops the thread, marks the file closed, unmaps and deletes it. Idempotent.
     */
    void close() {
        writeLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            writeLock.unlock();
        }
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writeLock.lock();
        try {
            writer.closeAndUnmap();
        } finally {
            writeLock.unlock();
        }
        try {
            Files.deleteIfExists(path);
        } catch (final IOException e) {
            LOG.log(System.Logger.Level.WARNING, "pymalloc4j: cannot delete statistics file " + path, e);
        } finally {
            FILES_IN_USE.remove(path);
        }
    }
}
