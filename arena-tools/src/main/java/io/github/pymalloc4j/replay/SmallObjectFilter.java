package io.github.pymalloc4j.replay;

import java.util.Arrays;

/**
 * Keeps only the objects a trace creates with at most {@code threshold} bytes, and their events, as a new valid
 * trace with dense ids (the {@code --sizes small} replay).
 *
 * <p>The rule: an object is kept if the request that created it asked for at most {@code threshold} bytes
 * (for ALIGNED the size alone counts, not the alignment). FREE of a kept object is kept; of a dropped one,
 * dropped. A REALLOC ends one object and creates another, so it depends on both sides:
 * <ul>
 *   <li>old kept, new size &le; threshold: kept as REALLOC;</li>
 *   <li>old kept, new size &gt; threshold: becomes a FREE of the old object (the new one is dropped);</li>
 *   <li>old dropped, new size &le; threshold: becomes a MALLOC of the new object (its contents came from a
 *       dropped object, so none are carried over);</li>
 *   <li>old dropped, new size &gt; threshold: dropped.</li>
 * </ul>
 * A chain of reallocs may therefore leave and re-enter the kept set; each re-entry is a new MALLOC.
 */
public final class SmallObjectFilter {

    /**
     * The filtered trace and what the filter changed.
     *
     * @param trace  the filtered trace.
     * @param counts the changes.
     */
    public record Outcome(Trace trace, Counts counts) {}

    /**
     * What the filter changed.
     *
     * @param threshold        the largest kept creation size.
     * @param eventsDropped    events removed.
     * @param objectsDropped   objects of the input that are not in the output.
     * @param reallocsToFree   REALLOCs from a kept object to a large size, turned into FREE.
     * @param reallocsToMalloc REALLOCs from a dropped object to a small size, turned into MALLOC.
     */
    public record Counts(
            long threshold, long eventsDropped, long objectsDropped, long reallocsToFree, long reallocsToMalloc) {}

    private SmallObjectFilter() {}

    /**
     * Filters a trace.
     *
     * @param in        the trace.
     * @param threshold largest kept creation size in bytes (512 for pymalloc4j's pools).
     * @return the filtered trace and the counts of what changed.
     */
    public static Outcome apply(Trace in, long threshold) {
        int n = in.eventCount();
        byte[] ops = in.ops();
        int[] threads = in.threads();
        int[] ids = in.ids();
        int[] sizes = in.sizes();
        int[] oldIds = in.oldIds();
        int[] renamed = new int[in.objectCount()];
        Arrays.fill(renamed, -1);
        int[] keptSizes = new int[in.objectCount()];
        byte[] op = new byte[n];
        int[] thread = new int[n];
        int[] id = new int[n];
        int[] size = new int[n];
        int[] oldId = new int[n];
        int out = 0;
        int next = 0;
        long toFree = 0;
        long toMalloc = 0;
        for (int i = 0; i < n; i++) {
            byte o = ops[i];
            boolean small = Integer.toUnsignedLong(sizes[i]) <= threshold;
            int newOp;
            int newId;
            int newSize = sizes[i];
            int newOld = 0;
            switch (o) {
                case Trace.FREE -> {
                    int r = renamed[ids[i]];
                    if (r < 0) {
                        continue;
                    }
                    newOp = Trace.FREE;
                    newId = r;
                }
                case Trace.REALLOC -> {
                    int r = renamed[oldIds[i]];
                    if (r >= 0 && small) {
                        newOp = Trace.REALLOC;
                        newId = next++;
                        newOld = r;
                    } else if (r >= 0) {
                        newOp = Trace.FREE;
                        newId = r;
                        newSize = keptSizes[r];
                        toFree++;
                    } else if (small) {
                        newOp = Trace.MALLOC;
                        newId = next++;
                        toMalloc++;
                    } else {
                        continue;
                    }
                    if (newOp != Trace.FREE) {
                        renamed[ids[i]] = newId;
                        keptSizes[newId] = sizes[i];
                    }
                }
                default -> {
                    if (!small) {
                        continue;
                    }
                    newOp = o;
                    newId = next++;
                    newOld = oldIds[i];
                    renamed[ids[i]] = newId;
                    keptSizes[newId] = sizes[i];
                }
            }
            op[out] = (byte) newOp;
            thread[out] = threads[i];
            id[out] = newId;
            size[out] = newSize;
            oldId[out] = newOld;
            out++;
        }
        Trace filtered = new Trace(
                in.name(),
                in.metadataJson(),
                Arrays.copyOf(op, out),
                Arrays.copyOf(thread, out),
                Arrays.copyOf(id, out),
                Arrays.copyOf(size, out),
                Arrays.copyOf(oldId, out),
                next,
                in.threadCount(),
                in.headerEventCount());
        return new Outcome(filtered, new Counts(threshold, n - out, in.objectCount() - next, toFree, toMalloc));
    }
}
