package io.github.pymalloc4j;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The allocator-wide totals, listed once. Every writer and reader of a total is generated from this list:
 * the fields of {@link AllocatorStats} and {@link StatsFile.Snapshot} ({@code get(Statistic)}), the text
 * report, the JSON of both ({@code bytes}, {@code large}, {@code counters}... objects, one schema:
 * {@code docs/stats.schema.json}), the slots of the published file, and {@code arena-dump}'s report and diff.
 * Adding a total is one line here, plus the line of {@link StatsSnapshot} that measures it and its test.
 *
 * <p>Columns: the JSON object it is written in ({@link Group}), its JSON key there, its {@link Unit}, its
 * u64 slot in the totals area of the statistics file (-1, {@link #DERIVED}: computed from other totals,
 * never stored), the label of the text report, and what it counts.
 */
public enum Statistic {
    // spotless:off (a table: one line per total)
    // name                group           JSON key                 unit           slot  text label                               meaning
    ARENAS_ALLOCATED_TOTAL(Group.ARENAS,   "allocatedTotal",        Unit.COUNT,    14,   "# arenas allocated total",              "arenas ever mapped"),
    ARENAS_RECLAIMED      (Group.ARENAS,   "reclaimed",             Unit.COUNT,    15,   "# arenas reclaimed",                    "arenas given back to the OS"),
    ARENAS_HIGH_WATER     (Group.ARENAS,   "highWater",             Unit.COUNT,    16,   "# arenas highwater mark",               "the most arenas held at once"),
    ARENAS_CURRENT        (Group.ARENAS,   "current",               Unit.COUNT,    17,   "# arenas allocated current",            "arenas held now"),
    HEAP_COUNT            (Group.TOP,      "heapCount",             Unit.COUNT,    29,   "# heaps",                               "live heaps (own and shared) that hold pools or have served calls"),
    ORPHAN_POOLS          (Group.ORPHANS,  "pools",                 Unit.COUNT,    27,   "# orphaned pools",                      "pools whose heap's thread died, waiting to be adopted or to empty"),
    ORPHANED_BLOCKS_IN_USE(Group.ORPHANS,  "blocksInUse",           Unit.COUNT,    28,   "# blocks in use in orphaned pools",     "live blocks in orphaned pools"),
    ARENA_BYTES           (Group.BYTES,    "arenas",                Unit.BYTES,    0,    "# bytes in arenas",                     "bytes reserved in arenas: arenas current times the arena size"),
    IN_ALLOCATED_BLOCKS   (Group.BYTES,    "inAllocatedBlocks",     Unit.BYTES,    1,    "# bytes in allocated blocks",           "bytes in live pooled blocks (block sizes, not requested sizes)"),
    PENDING_REMOTE_FREE   (Group.BYTES,    "pendingRemoteFree",     Unit.BYTES,    2,    "# bytes freed remotely, not collected", "bytes in blocks freed by other threads and not yet collected by their pool's owner"),
    IN_AVAILABLE_BLOCKS   (Group.BYTES,    "inAvailableBlocks",     Unit.BYTES,    3,    "# bytes in available blocks",           "bytes in free blocks of pools that serve a class"),
    IN_FREE_POOLS         (Group.BYTES,    "inFreePools",           Unit.BYTES,    4,    "# bytes in free pools",                 "bytes in free pools: carved pools that serve no class, and never-carved ones"),
    QUANTIZATION          (Group.BYTES,    "quantization",          Unit.BYTES,    5,    "# bytes lost to quantization",          "bytes at the tail of pools too small for one more block"),
    REQUESTED             (Group.BYTES,    "requested",             Unit.BYTES,    6,    "# bytes requested in live blocks",      "live pooled bytes as requested by the callers"),
    INTERNAL_FRAGMENTATION(Group.BYTES,    "internalFragmentation", Unit.BYTES,    -1,   "# internal fragmentation bytes",        "bytes in allocated blocks minus bytes requested"),
    EXTERNAL_FRAGMENTATION(Group.BYTES,    "externalFragmentation", Unit.FRACTION, -1,   "# external fragmentation",              "the fraction of arena bytes not in live blocks (0 without arenas)"),
    RESERVED              (Group.BYTES,    "reserved",              Unit.BYTES,    7,    "# bytes reserved (arenas + large)",     "bytes held from the OS that the limit applies to: arena bytes plus large bytes"),
    COMMITTED             (Group.BYTES,    "committed",             Unit.BYTES,    8,    "# bytes committed (upper bound)",       "arena bytes that may be resident: pools serving a class, and free pools not yet decommitted"),
    FREE_NOT_RETURNED     (Group.BYTES,    "freeNotReturned",       Unit.BYTES,    9,    "# bytes free, not returned to the OS",  "committed pools with no live block: free ones in their arena, empty ones kept by a heap; trim() brings it to 0"),
    HEAP_METADATA         (Group.BYTES,    "heapMetadata",          Unit.BYTES,    10,   "# on-heap metadata bytes (estimate)",   "an estimate of the Java heap the allocator's own structures use"),
    LARGE_COUNT           (Group.LARGE,    "count",                 Unit.COUNT,    12,   "# large allocations (system malloc)",   "live blocks served by the system allocator"),
    LARGE_BYTES           (Group.LARGE,    "bytes",                 Unit.BYTES,    13,   "# bytes in large allocations",          "requested bytes of live large blocks"),
    MALLOCS               (Group.COUNTERS, "mallocs",               Unit.COUNT,    18,   "# mallocs",                             "successful allocations: malloc, calloc, mallocAligned, allocate (not realloc)"),
    FREES                 (Group.COUNTERS, "frees",                 Unit.COUNT,    19,   "# frees",                               "successful frees, remote ones included"),
    REMOTE_FREES          (Group.COUNTERS, "remoteFrees",           Unit.COUNT,    20,   "# remote frees",                        "frees of pooled blocks by a thread other than the owner"),
    REALLOCS              (Group.COUNTERS, "reallocs",              Unit.COUNT,    21,   "# reallocs",                            "successful reallocs"),
    LARGE_MALLOCS         (Group.COUNTERS, "largeMallocs",          Unit.COUNT,    22,   "# large mallocs",                       "blocks obtained from the system allocator, realloc moves included"),
    DOUBLE_FREES_DETECTED (Group.COUNTERS, "doubleFreesDetected",   Unit.COUNT,    23,   "# double frees detected late",          "double frees of pooled blocks that raced past every check in the caller, caught when the owner collects"),
    POOLS_DECOMMITTED     (Group.COUNTERS, "poolsDecommitted",      Unit.COUNT,    24,   "# pools decommitted (madvise)",         "pools decommitted (madvise(MADV_DONTNEED)) since creation"),
    MAINTENANCE_ROUNDS    (Group.COUNTERS, "maintenanceRounds",     Unit.COUNT,    25,   "# maintenance rounds",                  "maintenance rounds run");
    // spotless:on

    /** The slot of a total that is computed from others and never stored. */
    static final int DERIVED = -1;

    /** The number of totals. */
    static final int COUNT = values().length;

    /**
     * The byte accounting's five categories. Law: in every snapshot they add up to {@link #ARENA_BYTES}
     * exactly; every byte of every arena is in exactly one of them.
     */
    public static final Set<Statistic> ACCOUNTING = java.util.Collections.unmodifiableSet(
            EnumSet.of(IN_ALLOCATED_BLOCKS, PENDING_REMOTE_FREE, IN_AVAILABLE_BLOCKS, IN_FREE_POOLS, QUANTIZATION));

    private static final java.util.Map<Group, List<Statistic>> BY_GROUP = byGroup();

    private static java.util.Map<Group, List<Statistic>> byGroup() {
        final java.util.Map<Group, List<Statistic>> map = new java.util.EnumMap<>(Group.class);
        for (final Group g : Group.values()) {
            map.put(
                    g,
                    java.util.Arrays.stream(values()).filter(s -> s.group == g).toList());
        }
        return map;
    }

    private final Group group;
    private final String jsonKey;
    private final Unit unit;
    private final int slot;
    private final String label;
    private final String description;

    Statistic(
            final Group group,
            final String jsonKey,
            final Unit unit,
            final int slot,
            final String label,
            final String description) {
        this.group = group;
        this.jsonKey = jsonKey;
        this.unit = unit;
        this.slot = slot;
        this.label = label;
        this.description = description;
    }

    /** The JSON object a total is written in. */
    public enum Group {
        /** Top level of the document. */
        TOP(null),
        /** The {@code arenas} object, before its {@code list}. */
        ARENAS("arenas"),
        /** The {@code orphans} object. */
        ORPHANS("orphans"),
        /** The {@code bytes} object: the byte accounting and the figures beside it. */
        BYTES("bytes"),
        /** The {@code large} object: blocks of the system allocator. */
        LARGE("large"),
        /** The {@code counters} object: events since the allocator was built. */
        COUNTERS("counters");

        private final String jsonKey;

        Group(final String jsonKey) {
            this.jsonKey = jsonKey;
        }

        /** @return the key of the object in the JSON, or null for the top level. */
        public String jsonKey() {
            return jsonKey;
        }

        /** @return the totals of this group, in their order. */
        public List<Statistic> statistics() {
            return BY_GROUP.get(this);
        }
    }

    /** What a total measures. */
    public enum Unit {
        /** A number of bytes. */
        BYTES,
        /** A number of things or of events. */
        COUNT,
        /** A fraction from 0 to 1, read with {@code fraction(Statistic)}. */
        FRACTION
    }

    /** @return the JSON object this total is written in. */
    public Group group() {
        return group;
    }

    /** @return its key within that object. */
    public String jsonKey() {
        return jsonKey;
    }

    /** @return what it measures. */
    public Unit unit() {
        return unit;
    }

    /** @return its label in the text report. */
    public String label() {
        return label;
    }

    /** @return what it counts, in a sentence. */
    public String description() {
        return description;
    }

    /** @return its u64 slot in the totals area of the statistics file, or {@link #DERIVED}. */
    int slot() {
        return slot;
    }

    /** @return whether it is computed from other totals. */
    boolean derived() {
        return slot == DERIVED;
    }

    /**
     * The value of a {@link Unit#BYTES} or {@link Unit#COUNT} total.
     *
     * @param stored the stored totals, indexed by ordinal (derived ones unset).
     * @throws IllegalArgumentException if this is a fraction.
     */
    long value(final long[] stored) {
        if (unit == Unit.FRACTION) {
            throw new IllegalArgumentException(this + " is a fraction: read it with fraction()");
        }
        return this == INTERNAL_FRAGMENTATION
                ? stored[IN_ALLOCATED_BLOCKS.ordinal()] - stored[REQUESTED.ordinal()]
                : stored[ordinal()];
    }

    /**
     * The value of a {@link Unit#FRACTION} total, from 0 to 1.
     *
     * @param stored the stored totals, indexed by ordinal.
     * @throws IllegalArgumentException if this is not a fraction.
     */
    double fraction(final long[] stored) {
        if (unit != Unit.FRACTION) {
            throw new IllegalArgumentException(this + " is not a fraction: read it with get()");
        }
        final long total = stored[ARENA_BYTES.ordinal()];
        return total == 0 ? 0.0 : 1.0 - (double) stored[IN_ALLOCATED_BLOCKS.ordinal()] / total;
    }

    /** The {@link #ACCOUNTING} categories of {@code totals} added up (equal to {@link #ARENA_BYTES}). */
    static long accounted(final StatsTotals totals) {
        long sum = 0;
        for (final Statistic s : ACCOUNTING) {
            sum += totals.get(s);
        }
        return sum;
    }
}
