package io.github.pymalloc4j.replay;

/**
 * What a trace asks of an allocator, computed once before any replay: live requested bytes over the trace
 * (their peak and where it happens), op counts and the threads' share.
 *
 * <p>"After event {@code i}" means once events {@code 0..i} have taken effect. The live bytes are the sum of
 * the requested sizes of the objects created and not yet ended.
 *
 * @param events                 events in the trace.
 * @param objects                objects created.
 * @param threads                trace threads.
 * @param mallocs                MALLOC events.
 * @param frees                  FREE events.
 * @param reallocs               REALLOC events.
 * @param callocs                CALLOC events.
 * @param aligned                ALIGNED events.
 * @param smallCreations         creations (MALLOC, REALLOC, CALLOC, ALIGNED) of at most 512 bytes.
 * @param bytesRequestedTotal    sum of the sizes of all creations.
 * @param peakLiveBytes          the most live requested bytes at any point.
 * @param peakEvent              the first event after which {@code peakLiveBytes} are live; -1 for an empty trace.
 * @param liveObjectsAtPeak      live objects after {@code peakEvent}.
 * @param peakLiveObjects        the most live objects at any point.
 * @param liveBytesAtEnd         live requested bytes after the last event.
 * @param liveObjectsAtEnd       live objects after the last event (never ended by the trace).
 * @param crossThreadEnds        FREEs and REALLOCs that end an object another trace thread created.
 * @param threadSwitches         events whose thread differs from the previous event's.
 * @param eventsPerThread        events of each trace thread.
 */
public record TraceProfile(
        int events,
        int objects,
        int threads,
        long mallocs,
        long frees,
        long reallocs,
        long callocs,
        long aligned,
        long smallCreations,
        long bytesRequestedTotal,
        long peakLiveBytes,
        int peakEvent,
        long liveObjectsAtPeak,
        long peakLiveObjects,
        long liveBytesAtEnd,
        long liveObjectsAtEnd,
        long crossThreadEnds,
        long threadSwitches,
        long[] eventsPerThread) {

    /**
     * Walks a trace once.
     *
     * @param t the trace.
     * @return its profile.
     */
    public static TraceProfile of(Trace t) {
        int n = t.eventCount();
        byte[] ops = t.ops();
        int[] threadOf = t.threads();
        int[] ids = t.ids();
        int[] sizes = t.sizes();
        int[] oldIds = t.oldIds();
        int[] objectSize = new int[t.objectCount()];
        int[] creator = new int[t.objectCount()];
        long[] perThread = new long[t.threadCount()];
        long[] byOp = new long[6];
        long small = 0;
        long total = 0;
        long live = 0;
        long liveObjects = 0;
        long peak = 0;
        int peakAt = n == 0 ? -1 : 0;
        long objectsAtPeak = 0;
        long peakObjects = 0;
        long cross = 0;
        long switches = 0;
        for (int i = 0; i < n; i++) {
            byte o = ops[i];
            int th = threadOf[i];
            byOp[o]++;
            perThread[th]++;
            if (i > 0 && threadOf[i - 1] != th) {
                switches++;
            }
            if (o == Trace.FREE || o == Trace.REALLOC) {
                int ended = o == Trace.FREE ? ids[i] : oldIds[i];
                live -= Integer.toUnsignedLong(objectSize[ended]);
                liveObjects--;
                if (creator[ended] != th) {
                    cross++;
                }
            }
            if (o != Trace.FREE) {
                long s = Integer.toUnsignedLong(sizes[i]);
                objectSize[ids[i]] = sizes[i];
                creator[ids[i]] = th;
                live += s;
                liveObjects++;
                total += s;
                if (s <= 512) {
                    small++;
                }
            }
            if (live > peak) {
                peak = live;
                peakAt = i;
                objectsAtPeak = liveObjects;
            }
            peakObjects = Math.max(peakObjects, liveObjects);
        }
        return new TraceProfile(
                n,
                t.objectCount(),
                t.threadCount(),
                byOp[Trace.MALLOC],
                byOp[Trace.FREE],
                byOp[Trace.REALLOC],
                byOp[Trace.CALLOC],
                byOp[Trace.ALIGNED],
                small,
                total,
                peak,
                peakAt,
                objectsAtPeak,
                peakObjects,
                live,
                liveObjects,
                cross,
                switches,
                perThread);
    }
}
