package io.github.pymalloc4j;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The published statistics file's bytes, layout version {@value #VERSION}: the offsets, and the encoding
 * the writer ({@link StatsFileWriter}) and the decoding the reader ({@link StatsFile}) use. All values little-endian; every u64 at an
 * offset that is a multiple of 8. The table is in {@code docs/dump-format.md}.
 *
 * <pre>
 *   0     header            256 bytes
 *   256   totals            512 bytes  (64 u64 slots: Statistic's slot column and the T_ constants)
 *   768   size classes      32 x 64 bytes
 *   2816  arena records     arenaCapacity x (32 + 4 x poolsPerArena) bytes
 * </pre>
 */
final class StatsFileLayout {
    /** Aligned little-endian u64 for the mapped file (whose base is page-aligned). */
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Aligned little-endian u32. */
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Unaligned little-endian u64, for copies in {@code byte[]}. */
    static final ValueLayout.OfLong U64_COPY = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Unaligned little-endian u32, for copies in {@code byte[]}. */
    static final ValueLayout.OfInt U32_COPY = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Unaligned little-endian u16, for copies in {@code byte[]}. */
    static final ValueLayout.OfShort U16_COPY = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** The {@code sequence} field with memory-ordering access modes: coordinates (segment, offset). */
    private static final VarHandle SEQUENCE_HANDLE = U64.varHandle();

    static final byte[] MAGIC = "PM4JSTAT".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final String FILE_SUFFIX = ".pm4j";

    // ---------------------------------------------------------------- header
    static final int HEADER_SIZE = 256;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 8;
    static final int HEADER_SIZE_OFFSET = 12;
    static final int FILE_SIZE_OFFSET = 16;
    static final int PID_OFFSET = 24;
    static final int START_TIME_OFFSET = 32;
    static final int HEARTBEAT_OFFSET = 40;
    static final int PERIOD_OFFSET = 48;
    static final int SEQUENCE_OFFSET = 56;
    static final int PUBLISH_COUNT_OFFSET = 64;
    static final int ARENA_SIZE_OFFSET = 72;
    static final int POOL_SIZE_OFFSET = 80;
    static final int POOLS_PER_ARENA_OFFSET = 88;
    static final int ARENA_CAPACITY_OFFSET = 92;
    static final int ARENA_COUNT_OFFSET = 96;
    static final int FLAGS_OFFSET = 100;
    static final int NAME_OFFSET = 104;
    static final int NAME_LENGTH = 48;
    static final int TOTALS_OFFSET_OFFSET = 152;
    static final int TOTALS_SIZE_OFFSET = 156;
    static final int CLASSES_OFFSET_OFFSET = 160;
    static final int CLASS_COUNT_OFFSET = 164;
    static final int CLASS_RECORD_SIZE_OFFSET = 168;
    static final int ARENA_RECORD_SIZE_OFFSET = 172;
    static final int ARENAS_OFFSET_OFFSET = 176;

    /** Flag: more arenas exist than records fit; the first {@code arenaCapacity} by address are written. */
    static final int FLAG_ARENAS_TRUNCATED = 1;
    /** Flag: the allocator was closed; the file is about to be deleted. */
    static final int FLAG_CLOSED = 1 << 1;

    // ---------------------------------------------------------------- totals: u64 slots
    static final int TOTALS_OFFSET = HEADER_SIZE;
    static final int TOTALS_SIZE = 512;
    // The slots of the totals are in Statistic (its slot column); these carry configuration and status.
    static final int T_MAX_RESERVED = 11;
    static final int T_PURGE_DELAY_NANOS = 26;
    static final int T_STATUS = 30;
    static final int T_SMALL_REQUEST_THRESHOLD = 31;
    static final int T_STATS_NANOS = 32;
    /** Slots of the totals area: {@code TOTALS_SIZE / 8}. */
    static final int TOTAL_SLOTS = TOTALS_SIZE / 8;

    /** Status bit: platform threads allocate lock-free. */
    static final long STATUS_LOCK_FREE_OWNERS = 1;
    /** Status bit: the maintenance thread has failed at least once. */
    static final long STATUS_MAINTENANCE_FAILED = 1 << 1;

    // ---------------------------------------------------------------- size classes
    static final int CLASSES_OFFSET = TOTALS_OFFSET + TOTALS_SIZE;
    static final int CLASS_COUNT = SizeClass.COUNT;
    static final int CLASS_RECORD_SIZE = 64;
    static final int C_INDEX = 0;
    static final int C_BLOCK_SIZE = 4;
    static final int C_POOLS = 8;
    static final int C_BLOCKS_PER_POOL = 12;
    static final int C_BLOCKS_IN_USE = 16;
    static final int C_BLOCKS_AVAILABLE = 24;
    static final int C_PENDING_REMOTE_FREES = 32;
    static final int C_BYTES_REQUESTED = 40;

    // ---------------------------------------------------------------- arenas
    static final int ARENAS_OFFSET = CLASSES_OFFSET + CLASS_COUNT * CLASS_RECORD_SIZE;
    static final int A_ADDRESS = 0;
    static final int A_POOLS_TOTAL = 8;
    static final int A_POOLS_CARVED = 12;
    static final int A_POOLS_FREE = 16;
    static final int A_BLOCKS_IN_USE = 24;
    static final int A_POOLS = 32;
    static final int POOL_ENTRY_SIZE = 4;
    /** Pool entry class: carved, but free (serves no class). */
    static final int POOL_FREE = -1;
    /** Pool entry class: never carved. */
    static final int POOL_NEVER_CARVED = -2;

    static final int MIN_ARENA_RECORDS = 64;
    static final int MAX_ARENA_RECORDS = 4096;
    static final long ARENA_RECORDS_BUDGET = 8L << 20;
    static final int MAX_POOLS_PER_ARENA = 1 << 18;
    /** Smallest pool a reader accepts: one that holds a block of the largest class. */
    static final long MIN_POOL_SIZE = SizeClass.MAX_SMALL_SIZE;
    /** Largest pool a reader accepts: the largest arena. */
    static final long MAX_POOL_SIZE = 1L << 30;

    private StatsFileLayout() {}

    /** Stores the sequence with opaque semantics (performed, in program order with other opaque accesses). */
    static void putSequenceOpaque(final MemorySegment file, final long value) {
        SEQUENCE_HANDLE.setOpaque(file, (long) SEQUENCE_OFFSET, value);
    }

    /** Stores the sequence with release semantics: every earlier load and store is visible before it. */
    static void putSequenceRelease(final MemorySegment file, final long value) {
        SEQUENCE_HANDLE.setRelease(file, (long) SEQUENCE_OFFSET, value);
    }

    /** Loads the sequence with acquire semantics: no later load or store moves before it. */
    static long getSequenceAcquire(final MemorySegment file) {
        return (long) SEQUENCE_HANDLE.getAcquire(file, (long) SEQUENCE_OFFSET);
    }

    /** Loads the sequence with opaque semantics (after a fence, to validate a copy). */
    static long getSequenceOpaque(final MemorySegment file) {
        return (long) SEQUENCE_HANDLE.getOpaque(file, (long) SEQUENCE_OFFSET);
    }

    /** Bytes of one arena record. */
    static int arenaRecordSize(final int poolsPerArena) {
        return A_POOLS + POOL_ENTRY_SIZE * poolsPerArena;
    }

    /** Arena records the file holds: {@code min(4096, max(64, 8 MiB / record size))}. */
    static int arenaCapacity(final int poolsPerArena) {
        return (int) Math.min(
                MAX_ARENA_RECORDS, Math.max(MIN_ARENA_RECORDS, ARENA_RECORDS_BUDGET / arenaRecordSize(poolsPerArena)));
    }

    /** Total bytes of a file. */
    static long fileSize(final int poolsPerArena, final int arenaCapacity) {
        return ARENAS_OFFSET + (long) arenaCapacity * arenaRecordSize(poolsPerArena);
    }

    /** Offset of totals slot {@code slot}. */
    static long total(final int slot) {
        return TOTALS_OFFSET + 8L * slot;
    }

    /** Offset of the record of size class {@code c}. */
    static long sizeClass(final int c) {
        return CLASSES_OFFSET + (long) CLASS_RECORD_SIZE * c;
    }

    // ---------------------------------------------------------------- encoding (the writer's side)

    /** Encodes the header fields a writer sets once, before the file appears under its name. */
    static void encodeHeader(
            final MemorySegment file,
            final long pid,
            final long periodMillis,
            final long arenaSize,
            final long poolSize,
            final int poolsPerArena,
            final int arenaCapacity,
            final String name) {
        MemorySegment.copy(MAGIC, 0, file, ValueLayout.JAVA_BYTE, MAGIC_OFFSET, MAGIC.length);
        file.set(U32, VERSION_OFFSET, VERSION);
        file.set(U32, HEADER_SIZE_OFFSET, HEADER_SIZE);
        file.set(U64, FILE_SIZE_OFFSET, fileSize(poolsPerArena, arenaCapacity));
        file.set(U64, PID_OFFSET, pid);
        file.set(U64, START_TIME_OFFSET, System.currentTimeMillis());
        file.set(U64, PERIOD_OFFSET, periodMillis);
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
        file.set(U32, ARENA_RECORD_SIZE_OFFSET, arenaRecordSize(poolsPerArena));
        file.set(U64, ARENAS_OFFSET_OFFSET, ARENAS_OFFSET);
    }

    /** Encodes the totals area: every stored {@link Statistic} in its slot, then configuration and status. */
    static void encodeTotals(final MemorySegment file, final AllocatorStats s, final long statsNanos) {
        for (final Statistic statistic : Statistic.values()) {
            if (!statistic.derived()) {
                file.set(U64, total(statistic.slot()), s.get(statistic));
            }
        }
        file.set(U64, total(T_MAX_RESERVED), s.maxReservedBytes() == Long.MAX_VALUE ? -1 : s.maxReservedBytes());
        file.set(U64, total(T_PURGE_DELAY_NANOS), s.purgeDelayNanos());
        file.set(
                U64,
                total(T_STATUS),
                (s.lockFreeOwners() ? STATUS_LOCK_FREE_OWNERS : 0)
                        | (s.maintenanceFailure() != null ? STATUS_MAINTENANCE_FAILED : 0));
        file.set(U64, total(T_SMALL_REQUEST_THRESHOLD), s.smallRequestThreshold());
        file.set(U64, total(T_STATS_NANOS), statsNanos);
    }

    /** Encodes the size class records. */
    static void encodeSizeClasses(final MemorySegment file, final AllocatorStats s) {
        final long poolSize = s.poolSize();
        for (final AllocatorStats.SizeClassStats c : s.sizeClasses()) {
            final long at = sizeClass(c.index());
            file.set(U32, at + C_INDEX, c.index());
            file.set(U32, at + C_BLOCK_SIZE, c.blockSize());
            file.set(U32, at + C_POOLS, c.pools());
            file.set(U32, at + C_BLOCKS_PER_POOL, (int) (poolSize / c.blockSize()));
            file.set(U64, at + C_BLOCKS_IN_USE, c.blocksInUse());
            file.set(U64, at + C_BLOCKS_AVAILABLE, c.blocksAvailable());
            file.set(U64, at + C_PENDING_REMOTE_FREES, c.pendingRemoteFrees());
            file.set(U64, at + C_BYTES_REQUESTED, c.bytesRequested());
        }
    }

    /** Encodes one arena record at {@code at}: its pools' entries, never-carved ones up to {@code poolsPerArena}. */
    static void encodeArena(
            final MemorySegment file, final long at, final AllocatorStats.ArenaStats a, final int poolsPerArena) {
        file.set(U64, at + A_ADDRESS, a.address());
        file.set(U32, at + A_POOLS_TOTAL, a.poolsTotal());
        file.set(U32, at + A_POOLS_CARVED, a.poolsCarved());
        file.set(U32, at + A_POOLS_FREE, a.poolsFree());
        long blocksInUse = 0;
        final long pools = at + A_POOLS;
        int next = 0;
        for (final AllocatorStats.PoolStats p : a.pools()) {
            for (; next < p.index(); next++) {
                file.set(U32, pools + POOL_ENTRY_SIZE * (long) next, poolEntry(POOL_FREE, 0, 0));
            }
            final int entry = p.sizeClass() < 0 || p.capacity() == 0
                    ? poolEntry(POOL_FREE, 0, 0)
                    : poolEntry(p.sizeClass(), (int) ((long) p.blocksInUse() * 100 / p.capacity()), p.blocksInUse());
            file.set(U32, pools + POOL_ENTRY_SIZE * (long) p.index(), entry);
            blocksInUse += p.blocksInUse();
            next = p.index() + 1;
        }
        final int total = Math.min(a.poolsTotal(), poolsPerArena);
        for (; next < total; next++) {
            file.set(U32, pools + POOL_ENTRY_SIZE * (long) next, poolEntry(POOL_NEVER_CARVED, 0, 0));
        }
        file.set(U64, at + A_BLOCKS_IN_USE, blocksInUse);
    }

    /** One pool entry as a little-endian u32: class (i8), fill percent (u8), blocks in use (u16, saturating). */
    static int poolEntry(final int sizeClass, final int fillPercent, final int blocksInUse) {
        return (sizeClass & 0xFF) | (Math.min(fillPercent, 100) & 0xFF) << 8 | Math.min(blocksInUse, 0xFFFF) << 16;
    }

    // ---------------------------------------------------------------- decoding (the reader's side)

    /** The header's sizes, checked when the file is opened: every record the reader touches lies inside the file. */
    record Geometry(int poolsPerArena, int arenaCapacity, int arenaRecordSize, long poolSize) {}

    /**
     * Decodes and checks a header (the first {@code min(size, 256)} bytes of a file of {@code size} bytes): magic, version,
     * the layout's fixed offsets and sizes, and sizes that fit the layout's bounds, so that the file holds every
     * record the header declares and nothing larger than any writer makes.
     */
    static Geometry decodeGeometry(final String name, final MemorySegment header, final long size)
            throws StatsFileException {
        final int magicBytes = (int) Math.min(size, MAGIC.length);
        final byte[] magic = header.asSlice(0, magicBytes).toArray(ValueLayout.JAVA_BYTE);
        if (!Arrays.equals(magic, 0, magicBytes, MAGIC, 0, magicBytes)) {
            throw new StatsFileException(name + ": not a pymalloc4j statistics file (bad magic)");
        }
        if (size < VERSION_OFFSET + 4) {
            throw new StatsFileException(
                    name + ": truncated statistics file: " + size + " bytes, the header needs " + HEADER_SIZE);
        }
        final int version = header.get(U32_COPY, VERSION_OFFSET);
        if (version != VERSION) {
            throw new StatsFileException(name + ": unsupported statistics file layout version "
                    + Integer.toUnsignedString(version) + " (this reader supports version " + VERSION + ")");
        }
        if (size < HEADER_SIZE) {
            throw new StatsFileException(
                    name + ": truncated statistics file: " + size + " bytes, the header needs " + HEADER_SIZE);
        }
        final long declared = header.get(U64_COPY, FILE_SIZE_OFFSET);
        if (declared > size) {
            throw new StatsFileException(
                    name + ": truncated statistics file: " + size + " bytes, the header declares " + declared);
        }
        final int poolsPerArena = header.get(U32_COPY, POOLS_PER_ARENA_OFFSET);
        final int capacity = header.get(U32_COPY, ARENA_CAPACITY_OFFSET);
        final long arenaSize = header.get(U64_COPY, ARENA_SIZE_OFFSET);
        final long poolSize = header.get(U64_COPY, POOL_SIZE_OFFSET);
        final boolean sizesInRange = poolsPerArena >= 1
                && poolsPerArena <= MAX_POOLS_PER_ARENA
                && poolSize >= MIN_POOL_SIZE
                && poolSize <= MAX_POOL_SIZE
                && Long.bitCount(poolSize) == 1;
        final boolean consistent = sizesInRange
                && header.get(U32_COPY, HEADER_SIZE_OFFSET) == HEADER_SIZE
                && declared == size
                && header.get(U32_COPY, TOTALS_OFFSET_OFFSET) == TOTALS_OFFSET
                && header.get(U32_COPY, TOTALS_SIZE_OFFSET) == TOTALS_SIZE
                && header.get(U32_COPY, CLASSES_OFFSET_OFFSET) == CLASSES_OFFSET
                && header.get(U32_COPY, CLASS_COUNT_OFFSET) == CLASS_COUNT
                && header.get(U32_COPY, CLASS_RECORD_SIZE_OFFSET) == CLASS_RECORD_SIZE
                && header.get(U64_COPY, ARENAS_OFFSET_OFFSET) == ARENAS_OFFSET
                && arenaSize == poolSize * poolsPerArena
                && // no overflow: both factors are bounded above
                capacity >= 1
                && capacity <= arenaCapacity(poolsPerArena)
                && header.get(U32_COPY, ARENA_RECORD_SIZE_OFFSET) == arenaRecordSize(poolsPerArena)
                && declared == fileSize(poolsPerArena, capacity);
        if (!consistent) {
            throw new StatsFileException(
                    name + ": corrupt statistics file: inconsistent header (size " + size + ", declared "
                            + declared + ", " + Integer.toUnsignedString(poolsPerArena) + " pools of " + poolSize
                            + " bytes per arena, "
                            + Integer.toUnsignedString(capacity) + " arena records)");
        }
        return new Geometry(poolsPerArena, capacity, arenaRecordSize(poolsPerArena), poolSize);
    }

    /** Decodes the size class records of a copy. */
    static List<AllocatorStats.SizeClassStats> decodeSizeClasses(final MemorySegment data) {
        final List<AllocatorStats.SizeClassStats> classes = new ArrayList<>(CLASS_COUNT);
        for (int c = 0; c < CLASS_COUNT; c++) {
            final long at = sizeClass(c);
            classes.add(new AllocatorStats.SizeClassStats(
                    data.get(U32_COPY, at + C_INDEX),
                    data.get(U32_COPY, at + C_BLOCK_SIZE),
                    data.get(U32_COPY, at + C_POOLS),
                    data.get(U64_COPY, at + C_BLOCKS_IN_USE),
                    data.get(U64_COPY, at + C_BLOCKS_AVAILABLE),
                    data.get(U64_COPY, at + C_BYTES_REQUESTED),
                    data.get(U64_COPY, at + C_PENDING_REMOTE_FREES)));
        }
        return List.copyOf(classes);
    }

    /** Decodes every stored {@link Statistic} of a copy into {@code totals}, indexed by ordinal. */
    static void decodeTotals(final MemorySegment data, final long[] totals) {
        for (final Statistic statistic : Statistic.values()) {
            if (!statistic.derived()) {
                totals[statistic.ordinal()] = data.get(U64_COPY, total(statistic.slot()));
            }
        }
    }
}
