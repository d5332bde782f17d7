package io.github.pymalloc4j;

import static io.github.pymalloc4j.StatsFileLayout.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;

/**
 * The writing side of one statistics file: its mapping, and the writer's half of the seqlock that lets
 * readers in other processes ({@link StatsFile}) copy a consistent update without ever blocking it.
 *
 * <p>Law: every update makes {@code sequence} odd (an opaque store, then a store-store fence), writes the
 * records, and makes it even again with a release store. A reader that sees the same even value before
 * and after its copy (an acquire load, the copy, an acquire fence, a second load) copied one whole update.
 * Single writer: the caller serialises every call ({@link StatsPublisher} holds its lock).
 */
final class StatsFileWriter {
    private final Arena mapping;
    private final MemorySegment file;
    private final int poolsPerArena;
    private final int arenaCapacity;
    private final int arenaRecordSize;
    private long sequence;
    private long publishCount;
    private int arenasWritten;
    private int flags;

    private StatsFileWriter(
            final Arena mapping, final MemorySegment file, final int poolsPerArena, final int arenaCapacity) {
        this.mapping = mapping;
        this.file = file;
        this.poolsPerArena = poolsPerArena;
        this.arenaCapacity = arenaCapacity;
        this.arenaRecordSize = arenaRecordSize(poolsPerArena);
    }

    /**
     * Creates a new file (owner-only, sparse: only the pages written use memory) and maps it.
     *
     * @param path          a path where nothing exists.
     * @param poolsPerArena pool entries per arena record.
     * @param arenaCapacity arena records.
     * @return the writer; {@link #unmap()} it if the file is given up.
     * @throws IOException if the file cannot be created or mapped.
     */
    static StatsFileWriter create(final Path path, final int poolsPerArena, final int arenaCapacity)
            throws IOException {
        final long size = fileSize(poolsPerArena, arenaCapacity);
        final Arena mapping = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(
                path,
                Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE),
                StatsDirectory.ownerOnly(path, "rw-------"))) {
            channel.write(ByteBuffer.wrap(new byte[1]), size - 1);
            return new StatsFileWriter(
                    mapping,
                    channel.map(FileChannel.MapMode.READ_WRITE, 0, size, mapping),
                    poolsPerArena,
                    arenaCapacity);
        } catch (final IOException | RuntimeException e) {
            mapping.close();
            throw e;
        }
    }

    /** Writes the header fields that never change; before the file appears under its name. */
    void writeHeader(
            final long pid, final long periodMillis, final long arenaSize, final long poolSize, final String name) {
        encodeHeader(file, pid, periodMillis, arenaSize, poolSize, poolsPerArena, arenaCapacity, name);
    }

    /**
     * Writes one update: totals, size classes, the first {@code arenaCapacity} arenas, counts and heartbeat.
     *
     * @param stats      the snapshot, taken before (so the sequence stays odd only while copying).
     * @param statsNanos how long taking it took.
     */
    void update(final AllocatorStats stats, final long statsNanos) {
        beginUpdateOrdered();
        encodeTotals(file, stats, statsNanos);
        encodeSizeClasses(file, stats);
        final List<AllocatorStats.ArenaStats> arenas = stats.arenas();
        final int count = Math.min(arenas.size(), arenaCapacity);
        for (int i = 0; i < count; i++) {
            encodeArena(file, ARENAS_OFFSET + (long) i * arenaRecordSize, arenas.get(i), poolsPerArena);
        }
        if (arenasWritten > count) // the rest would be stale: clear it
        {
            file.asSlice(
                            ARENAS_OFFSET + (long) count * arenaRecordSize,
                            (long) (arenasWritten - count) * arenaRecordSize)
                    .fill((byte) 0);
        }
        arenasWritten = count;
        flags = arenas.size() > arenaCapacity ? flags | FLAG_ARENAS_TRUNCATED : flags & ~FLAG_ARENAS_TRUNCATED;
        file.set(U32, ARENA_COUNT_OFFSET, count);
        file.set(U32, FLAGS_OFFSET, flags);
        file.set(U64, PUBLISH_COUNT_OFFSET, ++publishCount);
        file.set(U64, HEARTBEAT_OFFSET, System.currentTimeMillis());
        endUpdateRelease();
    }

    /**
     * Marks the file closed, so that a reader that still has it mapped (it outlives the unlink) sees that it
     * is over, and unmaps it.
     */
    void closeAndUnmap() {
        beginUpdateOrdered();
        flags |= FLAG_CLOSED;
        file.set(U32, FLAGS_OFFSET, flags);
        file.set(U64, HEARTBEAT_OFFSET, System.currentTimeMillis());
        endUpdateRelease();
        unmap();
    }

    /** Unmaps the file without marking it (it was never published). */
    void unmap() {
        mapping.close();
    }

    /** Makes the sequence odd, then a store-store fence: no later store becomes visible before it. */
    private void beginUpdateOrdered() {
        putSequenceOpaque(file, ++sequence);
        VarHandle.storeStoreFence();
    }

    /** Makes the sequence even with a release store: every earlier store is visible before it. */
    private void endUpdateRelease() {
        putSequenceRelease(file, ++sequence);
    }
}
