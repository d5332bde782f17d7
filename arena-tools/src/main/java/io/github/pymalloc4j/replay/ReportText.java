package io.github.pymalloc4j.replay;

import java.util.List;
import java.util.Locale;

/**
 * The human-readable report of {@code arena-replay}: per trace and size selection, a header describing the
 * trace and the run, one table row per implementation, pymalloc4j's accounting and size-class utilisation at
 * the live peak. Every figure is defined in {@code docs/arena-replay.md}.
 */
public final class ReportText {

    private static final double MIB = 1024.0 * 1024.0;

    private ReportText() {}

    /**
     * Renders one comparison.
     *
     * @param r the comparison.
     * @return the text, ending with a newline.
     */
    public static String render(ComparisonResult r) {
        StringBuilder b = new StringBuilder();
        TraceProfile p = r.profile();
        ReplayOptions o = r.options();
        b.append(String.format(
                Locale.ROOT,
                "%s  sizes %s  %s  %,d events%s, %,d objects, %d thread%s%n",
                r.trace(),
                r.sizes(),
                o.mode().label(),
                p.events(),
                r.window() == null ? "" : " (a window)",
                p.objects(),
                p.threads(),
                p.threads() == 1 ? "" : "s"));
        if (r.window() != null) {
            TraceWindow.Counts w = r.window();
            b.append(String.format(
                    Locale.ROOT,
                    "  window: events %,d to %,d of the trace; %,d frees of older objects "
                            + "dropped, %,d reallocs of older objects became MALLOC%n",
                    w.from(),
                    w.from() + w.events() - 1,
                    w.freesDropped(),
                    w.reallocsToMalloc()));
        }
        if (r.filter() != null) {
            SmallObjectFilter.Counts f = r.filter();
            b.append(String.format(
                    Locale.ROOT,
                    "  filter <= %d B: dropped %,d events and %,d objects; %,d reallocs "
                            + "to > %d B became FREE, %,d reallocs from dropped objects became MALLOC%n",
                    f.threshold(),
                    f.eventsDropped(),
                    f.objectsDropped(),
                    f.reallocsToFree(),
                    f.threshold(),
                    f.reallocsToMalloc()));
        }
        b.append(String.format(
                Locale.ROOT,
                "  live requested bytes: peak %s (%,d B, %,d objects) after event %,d; " + "at end %s (%,d objects)%n",
                mib(p.peakLiveBytes()),
                p.peakLiveBytes(),
                p.liveObjectsAtPeak(),
                p.peakEvent(),
                mib(p.liveBytesAtEnd()),
                p.liveObjectsAtEnd()));
        if (p.threads() > 1) {
            b.append(String.format(
                    Locale.ROOT,
                    "  cross-thread ends %,d (%.1f %% of ends), thread switches %,d%n",
                    p.crossThreadEnds(),
                    100.0 * p.crossThreadEnds() / Math.max(1, p.frees() + p.reallocs()),
                    p.threadSwitches()));
        }
        boolean fresh =
                !r.impls().isEmpty() && r.impls().getFirst().memory().process().equals("child");
        if (o.verify()) {
            b.append(
                    "  verified: every object's contents survived until its end, in a replay of each implementation\n");
        }
        b.append(String.format(
                Locale.ROOT,
                "  %d timed replay%s each, alternating, after %d warm-up%s; memory %s; "
                        + "%s measured %s, %,d samples, every %,d events; %.1f s%n",
                o.reps(),
                o.reps() == 1 ? "" : "s",
                o.warmup(),
                o.warmup() == 1 ? "" : "s",
                o.touch() ? "touched (every byte of each new block written)" : "not touched by the replay",
                "memory",
                fresh ? "in a fresh JVM per implementation" : "in this JVM after the warm-up (biased, see docs)",
                r.impls().isEmpty() ? 0 : r.impls().getFirst().memory().samples(),
                o.sampleEvery(),
                r.seconds()));
        b.append('\n');
        table(b, r);
        for (ImplResult i : r.impls()) {
            Measurement m = i.memory();
            if (m.reusedArenas() > 0) {
                b.append(String.format(
                        Locale.ROOT,
                        "  %s: %d of the %d glibc arenas of the replay threads existed "
                                + "before (free memory of their earlier use may hide growth)%n",
                        i.impl(),
                        m.reusedArenas(),
                        m.replayArenas()));
            }
            if (m.atLivePeak().pools() != null) {
                pools(b, i);
            }
            if (i.waits() != null) {
                b.append(String.format(
                        Locale.ROOT,
                        "  %s threads, per timed replay: %,d waits, %,d yields, %,d parks%n",
                        i.impl(),
                        i.waits().waits(),
                        i.waits().yields(),
                        i.waits().parks()));
            }
        }
        return b.toString();
    }

    private static void table(StringBuilder b, ComparisonResult r) {
        ImplResult base = baseline(r.impls());
        long live = r.profile().peakLiveBytes();
        b.append(String.format(Locale.ROOT, "  %-11s %9s %9s %10s%n", "ns/event", "median", "min", "vs malloc"));
        for (ImplResult i : r.impls()) {
            b.append(String.format(
                    Locale.ROOT,
                    "  %-11s %9.1f %9.1f %10s%n",
                    i.impl(),
                    i.medianNs(),
                    i.minNs(),
                    i == base || base == null
                            ? ""
                            : String.format(Locale.ROOT, "x%.2f", i.medianNs() / base.medianNs())));
        }
        b.append('\n');
        b.append(String.format(
                Locale.ROOT,
                "  %-11s %29s  %17s  %6s  %35s%n",
                "memory MiB",
                "footprint at the live peak",
                "largest sampled",
                "free",
                "by the end: footprint | RSS growth"));
        b.append(String.format(
                Locale.ROOT,
                "  %-11s %9s %9s %9s  %8s %8s  %6s  %8s %8s %8s %8s%n",
                "",
                "MiB",
                "vs live",
                "vs malloc",
                "footpr.",
                "RSS*",
                "@peak",
                "end",
                "trimmed",
                "returned",
                "RSS ret."));
        for (ImplResult i : r.impls()) {
            Measurement m = i.memory();
            long fp = m.atLivePeak().footprintBytes();
            b.append(String.format(
                    Locale.ROOT,
                    "  %-11s %9s %9s %9s  %8s %8s  %6s  %8s %8s %8s %8s%n",
                    i.impl(),
                    mibNumber(fp),
                    overhead(fp, live),
                    i == base || base == null
                            ? ""
                            : overhead(fp, base.memory().atLivePeak().footprintBytes()),
                    mibNumber(m.largestFootprint().footprintBytes()),
                    rss(m.largestRss()),
                    percent(m.atLivePeak().freeShare()),
                    mibNumber(m.end().footprintBytes()),
                    mibNumber(m.trimmed().footprintBytes()),
                    mibNumber(m.returnedBytes()),
                    m.returnedRssBytes() < 0 ? "?" : mibNumber(m.returnedRssBytes())));
        }
        b.append(
                "  * RSS: growth of the whole process's resident memory, the JVM's own (JIT compiler, metadata) included\n");
    }

    private static void pools(StringBuilder b, ImplResult i) {
        MemorySample s = i.memory().atLivePeak();
        MemorySample.PoolUse u = s.pools();
        b.append(String.format(
                Locale.ROOT,
                "  %s at the live peak: arenas %s mapped, %s committed; pooled blocks %s "
                        + "(requested %s, internal waste %s), pending remote frees %s, external fragmentation %s; "
                        + "large blocks %s requested, glibc growth %s held / %s in use; Java-heap metadata ~%s "
                        + "(not in the footprint)%n",
                i.impl(),
                mib(u.arenaBytes()),
                mib(u.committedBytes()),
                mib(u.bytesInBlocks()),
                mib(u.bytesRequested()),
                mib(u.internalFragmentationBytes()),
                mib(u.bytesPendingRemoteFree()),
                percent(u.externalFragmentation()),
                mib(u.largeBytes()),
                mib(s.glibcHeldBytes()),
                mib(s.glibcInUseBytes()),
                mib(u.heapMetadataBytes())));
        List<MemorySample.SizeClassUse> classes = u.classes();
        if (classes.isEmpty()) {
            return;
        }
        b.append("  utilisation by size class at the live peak (block bytes: live blocks / capacity, pools):\n");
        int col = 0;
        for (MemorySample.SizeClassUse c : classes) {
            if (col == 0) {
                b.append("   ");
            }
            b.append(String.format(Locale.ROOT, " %4d:%6s %4d", c.blockSize(), percent(c.utilisation()), c.pools()));
            if (++col == 6) {
                b.append('\n');
                col = 0;
            }
        }
        if (col != 0) {
            b.append('\n');
        }
    }

    /** The {@code malloc} result, the reference of the "vs malloc" columns; null if absent. */
    private static ImplResult baseline(List<ImplResult> impls) {
        for (ImplResult i : impls) {
            if (i.memory().largestFootprint().pools() == null) {
                return i;
            }
        }
        return null;
    }

    private static String rss(MemorySample s) {
        return s.rssBytes() < 0 ? "?" : mibNumber(s.rssBytes());
    }

    /** {@code (value - reference) / reference} as a signed percentage. */
    static String overhead(long value, long reference) {
        if (reference <= 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "%+.1f%%", 100.0 * (value - reference) / reference);
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", 100.0 * fraction);
    }

    static String mibNumber(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / MIB);
    }

    /** Bytes in the most readable of B, KiB, MiB. */
    static String mib(long bytes) {
        long abs = Math.abs(bytes);
        if (abs < 1024) {
            return bytes + " B";
        }
        if (abs < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / MIB);
    }
}
