package io.github.pymalloc4j.replay;

import java.util.List;
import java.util.Locale;

/**
 * The machine-readable report of {@code arena-replay --json}: one JSON object, schema
 * {@value #SCHEMA}; the field names are those of the records ({@link ComparisonResult}, {@link ImplResult},
 * {@link MemorySample}, {@link TraceProfile}), byte figures in bytes, times in nanoseconds per event.
 */
public final class ReportJson {

    /** Name and version of the schema, in the {@code "schema"} field. */
    public static final String SCHEMA = "arena-replay/1";

    private final StringBuilder b = new StringBuilder();

    private ReportJson() {}

    /**
     * Renders the runs of one invocation.
     *
     * @param runs    one per trace file.
     * @param command the command line, for the record.
     * @return the JSON text, without a trailing newline.
     */
    public static String render(List<TraceRun> runs, String command) {
        ReportJson j = new ReportJson();
        j.b.append("{\"schema\":").append(string(SCHEMA));
        j.b.append(",\"command\":").append(string(command));
        j.b.append(",\"jvm\":{\"version\":")
                .append(string(Runtime.version().toString()))
                .append(",\"maxHeapBytes\":")
                .append(Runtime.getRuntime().maxMemory())
                .append(",\"processors\":")
                .append(Runtime.getRuntime().availableProcessors())
                .append('}');
        j.b.append(",\"traces\":[");
        for (int i = 0; i < runs.size(); i++) {
            if (i > 0) {
                j.b.append(',');
            }
            j.run(runs.get(i));
        }
        j.b.append("]}");
        return j.b.toString();
    }

    private void run(TraceRun r) {
        b.append("{\"file\":")
                .append(string(r.file()))
                .append(",\"name\":")
                .append(string(r.name()))
                .append(",\"fileEvents\":")
                .append(r.fileEvents())
                .append(",\"decodeSeconds\":")
                .append(number(r.decodeSeconds()))
                .append(",\"comparisons\":[");
        for (int i = 0; i < r.comparisons().size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            comparison(r.comparisons().get(i));
        }
        b.append("]}");
    }

    private void comparison(ComparisonResult r) {
        ReplayOptions o = r.options();
        b.append("{\"trace\":")
                .append(string(r.trace()))
                .append(",\"sizes\":")
                .append(string(r.sizes()))
                .append(",\"mode\":")
                .append(string(o.mode().label()))
                .append(",\"options\":{\"reps\":")
                .append(o.reps())
                .append(",\"warmup\":")
                .append(o.warmup())
                .append(",\"touch\":")
                .append(o.touch())
                .append(",\"verify\":")
                .append(o.verify())
                .append(",\"sampleEvery\":")
                .append(o.sampleEvery())
                .append('}');
        b.append(",\"filter\":");
        if (r.filter() == null) {
            b.append("null");
        } else {
            SmallObjectFilter.Counts f = r.filter();
            b.append("{\"threshold\":")
                    .append(f.threshold())
                    .append(",\"eventsDropped\":")
                    .append(f.eventsDropped())
                    .append(",\"objectsDropped\":")
                    .append(f.objectsDropped())
                    .append(",\"reallocsToFree\":")
                    .append(f.reallocsToFree())
                    .append(",\"reallocsToMalloc\":")
                    .append(f.reallocsToMalloc())
                    .append('}');
        }
        b.append(",\"window\":");
        if (r.window() == null) {
            b.append("null");
        } else {
            TraceWindow.Counts w = r.window();
            b.append("{\"from\":")
                    .append(w.from())
                    .append(",\"events\":")
                    .append(w.events())
                    .append(",\"freesDropped\":")
                    .append(w.freesDropped())
                    .append(",\"reallocsToMalloc\":")
                    .append(w.reallocsToMalloc())
                    .append('}');
        }
        profile(r.profile());
        b.append(",\"seconds\":").append(number(r.seconds())).append(",\"impls\":[");
        for (int i = 0; i < r.impls().size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            impl(r.impls().get(i));
        }
        b.append("]}");
    }

    private void profile(TraceProfile p) {
        b.append(",\"profile\":{\"events\":")
                .append(p.events())
                .append(",\"objects\":")
                .append(p.objects())
                .append(",\"threads\":")
                .append(p.threads())
                .append(",\"mallocs\":")
                .append(p.mallocs())
                .append(",\"frees\":")
                .append(p.frees())
                .append(",\"reallocs\":")
                .append(p.reallocs())
                .append(",\"callocs\":")
                .append(p.callocs())
                .append(",\"aligned\":")
                .append(p.aligned())
                .append(",\"smallCreations\":")
                .append(p.smallCreations())
                .append(",\"bytesRequestedTotal\":")
                .append(p.bytesRequestedTotal())
                .append(",\"peakLiveBytes\":")
                .append(p.peakLiveBytes())
                .append(",\"peakEvent\":")
                .append(p.peakEvent())
                .append(",\"liveObjectsAtPeak\":")
                .append(p.liveObjectsAtPeak())
                .append(",\"peakLiveObjects\":")
                .append(p.peakLiveObjects())
                .append(",\"liveBytesAtEnd\":")
                .append(p.liveBytesAtEnd())
                .append(",\"liveObjectsAtEnd\":")
                .append(p.liveObjectsAtEnd())
                .append(",\"crossThreadEnds\":")
                .append(p.crossThreadEnds())
                .append(",\"threadSwitches\":")
                .append(p.threadSwitches())
                .append(",\"eventsPerThread\":[");
        long[] per = p.eventsPerThread();
        for (int i = 0; i < per.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(per[i]);
        }
        b.append("]}");
    }

    private void impl(ImplResult i) {
        b.append("{\"impl\":")
                .append(string(i.impl()))
                .append(",\"nsPerEvent\":{\"median\":")
                .append(number(i.medianNs()))
                .append(",\"min\":")
                .append(number(i.minNs()))
                .append(",\"reps\":[");
        double[] ns = i.nsPerEvent();
        for (int k = 0; k < ns.length; k++) {
            if (k > 0) {
                b.append(',');
            }
            b.append(number(ns[k]));
        }
        b.append("]},\"measuredIn\":")
                .append(string(i.memory().process()))
                .append(",\"glibcReplayArenas\":")
                .append(i.memory().replayArenas())
                .append(",\"glibcReusedArenas\":")
                .append(i.memory().reusedArenas());
        sample("largestFootprint", i.memory().largestFootprint());
        sample("largestRss", i.memory().largestRss());
        sample("atLivePeak", i.memory().atLivePeak());
        sample("end", i.memory().end());
        sample("trimmed", i.memory().trimmed());
        b.append(",\"returnedBytes\":")
                .append(i.memory().returnedBytes())
                .append(",\"returnedRssBytes\":")
                .append(i.memory().returnedRssBytes())
                .append(",\"samples\":")
                .append(i.memory().samples())
                .append(",\"waits\":");
        if (i.waits() == null) {
            b.append("null");
        } else {
            b.append("{\"waits\":")
                    .append(i.waits().waits())
                    .append(",\"yields\":")
                    .append(i.waits().yields())
                    .append(",\"parks\":")
                    .append(i.waits().parks())
                    .append('}');
        }
        b.append('}');
    }

    private void sample(String name, MemorySample s) {
        b.append(",\"")
                .append(name)
                .append("\":{\"events\":")
                .append(s.events())
                .append(",\"footprintBytes\":")
                .append(s.footprintBytes())
                .append(",\"inUseBytes\":")
                .append(s.inUseBytes())
                .append(",\"rssBytes\":")
                .append(s.rssBytes())
                .append(",\"glibcHeldBytes\":")
                .append(s.glibcHeldBytes())
                .append(",\"glibcInUseBytes\":")
                .append(s.glibcInUseBytes())
                .append(",\"processGlibcHeldBytes\":")
                .append(s.processGlibcHeldBytes())
                .append(",\"freeShare\":")
                .append(number(s.freeShare()))
                .append(",\"pools\":");
        MemorySample.PoolUse u = s.pools();
        if (u == null) {
            b.append("null}");
            return;
        }
        b.append("{\"arenaBytes\":")
                .append(u.arenaBytes())
                .append(",\"committedBytes\":")
                .append(u.committedBytes())
                .append(",\"bytesInBlocks\":")
                .append(u.bytesInBlocks())
                .append(",\"bytesRequested\":")
                .append(u.bytesRequested())
                .append(",\"internalFragmentationBytes\":")
                .append(u.internalFragmentationBytes())
                .append(",\"bytesPendingRemoteFree\":")
                .append(u.bytesPendingRemoteFree())
                .append(",\"largeBytes\":")
                .append(u.largeBytes())
                .append(",\"externalFragmentation\":")
                .append(number(u.externalFragmentation()))
                .append(",\"heapMetadataBytes\":")
                .append(u.heapMetadataBytes())
                .append(",\"classes\":[");
        List<MemorySample.SizeClassUse> classes = u.classes();
        for (int k = 0; k < classes.size(); k++) {
            MemorySample.SizeClassUse c = classes.get(k);
            if (k > 0) {
                b.append(',');
            }
            b.append("{\"blockSize\":")
                    .append(c.blockSize())
                    .append(",\"pools\":")
                    .append(c.pools())
                    .append(",\"blocksInUse\":")
                    .append(c.blocksInUse())
                    .append(",\"capacity\":")
                    .append(c.capacity())
                    .append(",\"bytesRequested\":")
                    .append(c.bytesRequested())
                    .append(",\"utilisation\":")
                    .append(number(c.utilisation()))
                    .append(",\"internalWasteBytes\":")
                    .append(c.internalWasteBytes())
                    .append('}');
        }
        b.append("]}}");
    }

    private static String number(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return "null";
        }
        return String.format(Locale.ROOT, "%.4f", d).replaceFirst("\\.?0+$", "");
    }

    /** A JSON string literal. */
    static String string(String s) {
        StringBuilder q = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> q.append("\\\"");
                case '\\' -> q.append("\\\\");
                case '\n' -> q.append("\\n");
                case '\r' -> q.append("\\r");
                case '\t' -> q.append("\\t");
                default -> {
                    if (c < 0x20) {
                        q.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        q.append(c);
                    }
                }
            }
        }
        return q.append('"').toString();
    }
}
