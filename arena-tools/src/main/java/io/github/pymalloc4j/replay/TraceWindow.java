package io.github.pymalloc4j.replay;

import java.util.Arrays;

/**
 * A stretch of a trace as a valid trace of its own, normalised the way {@code FORMAT.md} describes for windowed
 * captures: objects are renumbered densely from the window's first creation; a FREE of an object created before
 * the window is dropped; a REALLOC of one becomes a MALLOC (its old contents are unknown).
 */
public final class TraceWindow {

    /**
     * The window and what the normalisation changed.
     *
     * @param trace  the window as a trace.
     * @param counts where it is and what changed.
     */
    public record Outcome(Trace trace, Counts counts) {}

    /**
     * Where a window is and what its normalisation changed.
     *
     * @param from             index of its first event in the whole trace.
     * @param events           events of the whole trace it spans.
     * @param freesDropped     FREEs of objects created before the window, dropped.
     * @param reallocsToMalloc REALLOCs of objects created before the window, turned into MALLOC.
     */
    public record Counts(int from, int events, long freesDropped, long reallocsToMalloc) {}

    private TraceWindow() {}

    /**
     * Cuts events {@code from .. from+count-1} out of a trace.
     *
     * @param t     the trace.
     * @param from  the first event kept.
     * @param count how many events to look at (fewer if the trace ends first).
     * @return the window.
     */
    public static Outcome of(Trace t, int from, int count) {
        int start = Math.min(from, t.eventCount());
        int end = (int) Math.min((long) start + count, t.eventCount());
        int firstObject = 0;
        for (int i = 0; i < start; i++) {
            if (t.op(i) != Trace.FREE) {
                firstObject++;
            }
        }
        int n = end - start;
        byte[] op = new byte[n];
        int[] thread = new int[n];
        int[] id = new int[n];
        int[] size = new int[n];
        int[] oldId = new int[n];
        int out = 0;
        int objects = 0;
        long freesDropped = 0;
        long toMalloc = 0;
        for (int i = start; i < end; i++) {
            byte o = t.op(i);
            int before = o == Trace.FREE ? t.id(i) : o == Trace.REALLOC ? t.oldId(i) : Integer.MAX_VALUE;
            boolean outside = before < firstObject;
            if (o == Trace.FREE && outside) {
                freesDropped++;
                continue;
            }
            op[out] = o;
            thread[out] = t.thread(i);
            size[out] = (int) t.size(i);
            if (o == Trace.FREE) {
                id[out] = t.id(i) - firstObject;
            } else {
                id[out] = t.id(i) - firstObject;
                objects++;
                if (o == Trace.REALLOC && outside) {
                    op[out] = Trace.MALLOC;
                    toMalloc++;
                } else if (o == Trace.REALLOC) {
                    oldId[out] = t.oldId(i) - firstObject;
                } else if (o == Trace.ALIGNED) {
                    oldId[out] = t.oldId(i);
                }
            }
            out++;
        }
        Trace window = new Trace(
                t.name(),
                t.metadataJson(),
                Arrays.copyOf(op, out),
                Arrays.copyOf(thread, out),
                Arrays.copyOf(id, out),
                Arrays.copyOf(size, out),
                Arrays.copyOf(oldId, out),
                objects,
                t.threadCount(),
                t.headerEventCount());
        return new Outcome(window, new Counts(start, n, freesDropped, toMalloc));
    }
}
