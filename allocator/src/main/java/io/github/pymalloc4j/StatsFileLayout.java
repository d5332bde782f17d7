package io.github.pymalloc4j;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Byte offsets of the published statistics file, layout version {@value #VERSION}, shared by the writer
 * ({@link StatsPublisher}) and the reader ({@link StatsFile}). All values little-endian; every u64 at an
 * offset that is a multiple of 8. The table is in {@code docs/dump-format.md}.
 *
 * <pre>
 *   0     header            256 bytes
 *   256   totals            512 bytes  (64 u64 slots: Statistic's slot column and the T_ constants)
 *   768   size classes      32 x 64 bytes
 *   2816  arena records     arenaCapacity x (32 + 4 x poolsPerArena) bytes
 * </pre>
 */
final class StatsFileLayout
{
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
    /** Pool entry class: carved, but empty (serves no class). */
    static final int POOL_EMPTY = -1;
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

    private StatsFileLayout()
    {
    }

    /** Stores the sequence with opaque semantics (performed, in program order with other opaque accesses). */
    static void putSequenceOpaque(final MemorySegment file, final long value)
    {
        SEQUENCE_HANDLE.setOpaque(file, (long)SEQUENCE_OFFSET, value);
    }

    /** Stores the sequence with release semantics: every earlier load and store is visible before it. */
    static void putSequenceRelease(final MemorySegment file, final long value)
    {
        SEQUENCE_HANDLE.setRelease(file, (long)SEQUENCE_OFFSET, value);
    }

    /** Loads the sequence with acquire semantics: no later load or store moves before it. */
    static long getSequenceAcquire(final MemorySegment file)
    {
        return (long)SEQUENCE_HANDLE.getAcquire(file, (long)SEQUENCE_OFFSET);
    }

    /** Loads the sequence with opaque semantics (after a fence, to validate a copy). */
    static long getSequenceOpaque(final MemorySegment file)
    {
        return (long)SEQUENCE_HANDLE.getOpaque(file, (long)SEQUENCE_OFFSET);
    }

    /** Bytes of one arena record. */
    static int arenaRecordSize(final int poolsPerArena)
    {
        return A_POOLS + POOL_ENTRY_SIZE * poolsPerArena;
    }

    /** Arena records the file holds: {@code min(4096, max(64, 8 MiB / record size))}. */
    static int arenaCapacity(final int poolsPerArena)
    {
        return (int)Math.min(MAX_ARENA_RECORDS,
            Math.max(MIN_ARENA_RECORDS, ARENA_RECORDS_BUDGET / arenaRecordSize(poolsPerArena)));
    }

    /** Total bytes of a file. */
    static long fileSize(final int poolsPerArena, final int arenaCapacity)
    {
        return ARENAS_OFFSET + (long)arenaCapacity * arenaRecordSize(poolsPerArena);
    }

    /** Offset of totals slot {@code slot}. */
    static long total(final int slot)
    {
        return TOTALS_OFFSET + 8L * slot;
    }

    /** Offset of the record of size class {@code c}. */
    static long sizeClass(final int c)
    {
        return CLASSES_OFFSET + (long)CLASS_RECORD_SIZE * c;
    }
}
