package io.github.pymalloc4j.replay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Live bytes, their peak and where it is, cross-thread ends and thread switches. */
class TraceProfileTest {

    @TempDir
    Path dir;

    @Test
    void findsThePeakOfLiveRequestedBytes() throws IOException {
        TraceFileWriter w = new TraceFileWriter();
        int a = w.malloc(100); // 0: live 100
        int b = w.create(Trace.MALLOC, 1, 50, 0); // 1: 150
        int a2 = w.create(Trace.REALLOC, 0, 300, a); // 2: 350 (peak, 2 objects)
        w.record(Trace.FREE, 1, a2, 300, 0); // 3: 50, thread 1 frees thread 0's object
        int c = w.malloc(10); // 4: 60, 2 objects
        w.record(Trace.FREE, 0, b, 50, 0); // 5: 10, thread 0 frees thread 1's object
        w.malloc(340); // 6: 350 again, not a new peak
        TraceProfile p = TraceProfile.of(Trace.read(w.write(dir.resolve("p.trc.gz")), Long.MAX_VALUE));

        assertEquals(350, p.peakLiveBytes());
        assertEquals(2, p.peakEvent());
        assertEquals(2, p.liveObjectsAtPeak());
        assertEquals(2, p.peakLiveObjects());
        assertEquals(350, p.liveBytesAtEnd());
        assertEquals(2, p.liveObjectsAtEnd());
        assertEquals(2, p.crossThreadEnds());
        assertEquals(4, p.threadSwitches()); // 0>1, 1>0, 0>1, 1>0
        assertEquals(800, p.bytesRequestedTotal());
        assertEquals(5, p.smallCreations());
        assertEquals(1, p.reallocs());
        assertArrayEquals(new long[] {5, 2}, p.eventsPerThread());
        assertEquals(c, 3);
    }
}
