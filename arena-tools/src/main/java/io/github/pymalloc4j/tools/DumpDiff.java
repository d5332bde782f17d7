package io.github.pymalloc4j.tools;

import io.github.pymalloc4j.AllocatorStats;
import io.github.pymalloc4j.Statistic;
import io.github.pymalloc4j.StatsFile;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Compares two snapshots to hunt leaks: which size classes and byte categories grew, by growth.
 */
final class DumpDiff {

    private DumpDiff() {}

    /** Growth of one size class. */
    record ClassDelta(
            int index,
            int blockSize,
            long oldBlocks,
            long newBlocks,
            long oldBytes,
            long newBytes,
            long oldPools,
            long newPools,
            long oldRequested,
            long newRequested) {
        long bytesDelta() {
            return DumpReport.minus(newBytes, oldBytes);
        }
    }

    /** Growth of one byte category or counter. */
    record Delta(String name, long oldValue, long newValue) {
        long delta() {
            return DumpReport.minus(newValue, oldValue);
        }
    }

    /** Classes whose use changed, largest growth of in-use bytes first. */
    static List<ClassDelta> classes(StatsFile.Snapshot a, StatsFile.Snapshot b) {
        List<ClassDelta> list = new ArrayList<>();
        for (int i = 0; i < b.sizeClasses().size(); i++) {
            AllocatorStats.SizeClassStats n = b.sizeClasses().get(i);
            AllocatorStats.SizeClassStats o =
                    i < a.sizeClasses().size() ? a.sizeClasses().get(i) : n;
            ClassDelta d = new ClassDelta(
                    n.index(),
                    n.blockSize(),
                    o.blocksInUse(),
                    n.blocksInUse(),
                    o.bytesInUse(),
                    n.bytesInUse(),
                    o.pools(),
                    n.pools(),
                    o.bytesRequested(),
                    n.bytesRequested());
            if (d.bytesDelta() != 0 || d.oldPools() != d.newPools()) {
                list.add(d);
            }
        }
        list.sort(Comparator.comparingLong(ClassDelta::bytesDelta)
                .reversed()
                .thenComparing(Comparator.comparingLong((ClassDelta d) -> DumpReport.minus(d.newPools(), d.oldPools()))
                        .reversed())
                .thenComparingInt(ClassDelta::index));
        return list;
    }

    private static Delta d(Statistic st, StatsFile.Snapshot a, StatsFile.Snapshot b) {
        return new Delta(name(st), a.get(st), b.get(st));
    }

    /** The name of a statistic in a diff: its JSON path, as {@code bytes.inAllocatedBlocks}. */
    static String name(Statistic st) {
        return st.group().jsonKey() == null ? st.jsonKey() : st.group().jsonKey() + "." + st.jsonKey();
    }

    /** Every byte statistic, largest growth first. */
    static List<Delta> bytes(StatsFile.Snapshot a, StatsFile.Snapshot b) {
        List<Delta> list = new ArrayList<>();
        for (Statistic st : Statistic.values()) {
            if (st.unit() == Statistic.Unit.BYTES) {
                list.add(d(st, a, b));
            }
        }
        list.sort(Comparator.comparingLong(Delta::delta).reversed());
        return list;
    }

    /** Every count statistic, in their order, and the live blocks they imply ({@code mallocs - frees}). */
    static List<Delta> counts(StatsFile.Snapshot a, StatsFile.Snapshot b) {
        List<Delta> list = new ArrayList<>();
        for (Statistic st : Statistic.values()) {
            if (st.unit() == Statistic.Unit.COUNT) {
                list.add(d(st, a, b));
            }
        }
        list.add(new Delta(
                "counters.mallocs - counters.frees",
                DumpReport.minus(a.mallocs(), a.frees()),
                DumpReport.minus(b.mallocs(), b.frees())));
        return list;
    }

    private static void f(StringBuilder b, String format, Object... args) {
        b.append(String.format(Locale.ROOT, format, args));
    }

    static String text(StatsFile.Snapshot a, StatsFile.Snapshot b) {
        StringBuilder s = new StringBuilder();
        f(
                s,
                "old: %s (pid %d \"%s\", update #%d at %s)%n",
                StatsFile.printable(String.valueOf(a.path())),
                a.pid(),
                a.name(),
                a.publishCount(),
                a.heartbeat());
        f(
                s,
                "new: %s (pid %d \"%s\", update #%d at %s)%n",
                StatsFile.printable(String.valueOf(b.path())),
                b.pid(),
                b.name(),
                b.publishCount(),
                b.heartbeat());
        f(s, "interval: %s%n", DumpReport.duration(Duration.between(a.heartbeat(), b.heartbeat())));
        if (a.pid() != b.pid() || !a.name().equals(b.name()) || a.startTime().compareTo(b.startTime()) != 0) {
            f(s, "note: the dumps come from different allocators (pid, name or start time differ)%n");
        }
        List<ClassDelta> classes = classes(a, b);
        f(s, "%nSize classes, by growth of in-use bytes%n");
        if (classes.isEmpty()) {
            f(s, "  (no change)%n");
        } else {
            f(
                    s,
                    "%5s %5s %14s %14s %16s %12s %8s %14s%n",
                    "class",
                    "size",
                    "blocks old",
                    "blocks new",
                    "delta bytes",
                    "delta blocks",
                    "pools",
                    "delta req.");
            for (ClassDelta c : classes) {
                f(
                        s,
                        "%5d %5d %14d %14d %+16d %+12d %+8d %+14d%n",
                        c.index(),
                        c.blockSize(),
                        c.oldBlocks(),
                        c.newBlocks(),
                        c.bytesDelta(),
                        DumpReport.minus(c.newBlocks(), c.oldBlocks()),
                        DumpReport.minus(c.newPools(), c.oldPools()),
                        DumpReport.minus(c.newRequested(), c.oldRequested()));
            }
        }
        f(s, "%nBytes, by growth%n%-34s %16s %16s %16s%n", "statistic", "old", "new", "delta");
        for (Delta d : bytes(a, b)) {
            f(
                    s,
                    "%-34s %16d %16d %+16d  %s%n",
                    d.name(),
                    d.oldValue(),
                    d.newValue(),
                    d.delta(),
                    DumpReport.bytes(d.delta()));
        }
        f(s, "%nCounts%n%-34s %16s %16s %16s%n", "statistic", "old", "new", "delta");
        for (Delta d : counts(a, b)) {
            f(s, "%-34s %16d %16d %+16d%n", d.name(), d.oldValue(), d.newValue(), d.delta());
        }
        return s.toString();
    }

    static String json(StatsFile.Snapshot a, StatsFile.Snapshot b) {
        StringBuilder s = new StringBuilder("{\"schema\":\"pymalloc4j-dump-diff\",\"version\":1");
        f(
                s,
                ",\"old\":{\"path\":%s,\"pid\":%d,\"name\":%s,\"heartbeatEpochMs\":%d}",
                DumpReport.jsonString(String.valueOf(a.path())),
                a.pid(),
                DumpReport.jsonString(a.name()),
                a.heartbeat().toEpochMilli());
        f(
                s,
                ",\"new\":{\"path\":%s,\"pid\":%d,\"name\":%s,\"heartbeatEpochMs\":%d}",
                DumpReport.jsonString(String.valueOf(b.path())),
                b.pid(),
                DumpReport.jsonString(b.name()),
                b.heartbeat().toEpochMilli());
        s.append(",\"sizeClasses\":[");
        boolean first = true;
        for (ClassDelta c : classes(a, b)) {
            s.append(first ? "" : ",");
            first = false;
            f(
                    s,
                    "{\"index\":%d,\"blockSize\":%d,\"blocksInUse\":{\"old\":%d,\"new\":%d},\"bytesInUse\":{\"old\":%d,"
                            + "\"new\":%d,\"delta\":%d},\"pools\":{\"old\":%d,\"new\":%d},\"bytesRequested\":{\"old\":%d,"
                            + "\"new\":%d}}",
                    c.index(),
                    c.blockSize(),
                    c.oldBlocks(),
                    c.newBlocks(),
                    c.oldBytes(),
                    c.newBytes(),
                    c.bytesDelta(),
                    c.oldPools(),
                    c.newPools(),
                    c.oldRequested(),
                    c.newRequested());
        }
        s.append("],\"bytes\":[");
        deltas(s, bytes(a, b));
        s.append("],\"counts\":[");
        deltas(s, counts(a, b));
        return s.append("]}").toString();
    }

    private static void deltas(StringBuilder s, List<Delta> list) {
        boolean first = true;
        for (Delta d : list) {
            s.append(first ? "" : ",");
            first = false;
            f(
                    s,
                    "{\"name\":%s,\"old\":%d,\"new\":%d,\"delta\":%d}",
                    DumpReport.jsonString(d.name()),
                    d.oldValue(),
                    d.newValue(),
                    d.delta());
        }
    }
}
