package io.github.pymalloc4j.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The "<= 512 B" filter on a hand-built trace that crosses the threshold in every direction. */
class SmallObjectFilterTest {

    @TempDir
    Path dir;

    @Test
    void keepsSmallObjectsAndTurnsCrossingReallocsIntoFreesAndMallocs() throws IOException {
        TraceFileWriter w = new TraceFileWriter();
        int a = w.malloc(100); // 0: kept (new id 0)
        int big = w.malloc(4000); // 1: dropped
        int a2 = w.create(Trace.REALLOC, 0, 600, a); // 2: small -> large: FREE of new 0
        int a3 = w.create(Trace.REALLOC, 0, 200, a2); // 3: large -> small: MALLOC new 1
        int a4 = w.create(Trace.REALLOC, 0, 300, a3); // 4: small -> small: REALLOC new 2 <- 1
        int big2 = w.create(Trace.REALLOC, 0, 9000, big); // 5: large -> large: dropped
        w.free(big2, 9000); // 6: dropped
        int c = w.create(Trace.CALLOC, 0, 512, 0); // 7: exactly 512: kept, new 3
        int d = w.create(Trace.ALIGNED, 0, 513, 64); // 8: 513: dropped
        w.free(d, 513); // 9: dropped
        w.free(a4, 300); // 10: FREE of new 2
        w.free(c, 512); // 11: FREE of new 3
        Trace in = Trace.read(w.write(dir.resolve("cross.trc.gz")), Long.MAX_VALUE);

        SmallObjectFilter.Outcome out = SmallObjectFilter.apply(in, 512);
        Trace t = out.trace();
        SmallObjectFilter.Counts n = out.counts();

        assertEquals(512, n.threshold());
        assertEquals(5, n.eventsDropped()); // events 1, 5, 6, 8, 9
        assertEquals(4, n.objectsDropped()); // 8 objects in (events 0-5, 7, 8), 4 out (ids 0..3)
        assertEquals(1, n.reallocsToFree());
        assertEquals(1, n.reallocsToMalloc());
        assertEquals(7, t.eventCount());
        assertEquals(4, t.objectCount());

        byte[] ops = {Trace.MALLOC, Trace.FREE, Trace.MALLOC, Trace.REALLOC, Trace.CALLOC, Trace.FREE, Trace.FREE};
        int[] ids = {0, 0, 1, 2, 3, 2, 3};
        long[] sizes = {100, 100, 200, 300, 512, 300, 512};
        for (int i = 0; i < ops.length; i++) {
            assertEquals(ops[i], t.op(i), "op of event " + i);
            assertEquals(ids[i], t.id(i), "id of event " + i);
            assertEquals(sizes[i], t.size(i), "size of event " + i);
        }
        assertEquals(1, t.oldId(3));

        TraceProfile p = TraceProfile.of(t);
        assertEquals(812, p.peakLiveBytes()); // objects 2 (300) and 3 (512) after event 4
        assertEquals(4, p.peakEvent());
        assertEquals(0, p.liveBytesAtEnd());
    }
}
