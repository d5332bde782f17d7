package io.github.pymalloc4j.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trace reader: decodes every field, keeps a prefix, and rejects bad files with a clear message. */
class TraceTest {

    @TempDir
    Path dir;

    private static TraceFileWriter sample() {
        TraceFileWriter w = new TraceFileWriter();
        int a = w.malloc(24); // event 0, object 0
        int b = w.create(Trace.CALLOC, 1, 4096, 0); // event 1, object 1
        int c = w.create(Trace.REALLOC, 0, 0xFFFF_FFF0L, a); // event 2, object 2 (unsigned size)
        w.create(Trace.ALIGNED, 1, 100, 64); // event 3, object 3
        w.free(b, 4096); // event 4
        w.free(c, 0xFFFF_FFF0L); // event 5
        return w;
    }

    @Test
    void decodesEveryField() throws IOException {
        Trace t = Trace.read(sample().write(dir.resolve("sample.trc.gz")), Long.MAX_VALUE);
        assertEquals("sample", t.name());
        assertEquals(6, t.eventCount());
        assertEquals(6, t.headerEventCount());
        assertEquals(4, t.objectCount());
        assertEquals(2, t.threadCount());
        assertEquals("{\"name\":\"test\"}", t.metadataJson());
        assertEquals(Trace.CALLOC, t.op(1));
        assertEquals(1, t.thread(1));
        assertEquals(4096, t.size(1));
        assertEquals(Trace.REALLOC, t.op(2));
        assertEquals(2, t.id(2));
        assertEquals(0, t.oldId(2));
        assertEquals(0xFFFF_FFF0L, t.size(2));
        assertEquals(64, t.oldId(3));
        assertEquals(Trace.FREE, t.op(5));
        assertEquals(2, t.id(5));
    }

    @Test
    void limitKeepsAPrefix() throws IOException {
        Trace t = Trace.read(sample().write(dir.resolve("p.trc.gz")), 3);
        assertEquals(3, t.eventCount());
        assertEquals(6, t.headerEventCount());
        assertEquals(3, t.objectCount());
        assertEquals(Trace.REALLOC, t.op(2));
    }

    private String rejected(byte[] content) throws IOException {
        Path f = TraceFileWriter.writeGzip(dir.resolve("bad.trc.gz"), content);
        IOException e = assertThrows(IOException.class, () -> Trace.read(f, Long.MAX_VALUE));
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void rejectsBadMagic() throws IOException {
        assertTrue(rejected(sample().magic("ALCTRACX").bytes()).contains("bad magic"));
        assertTrue(rejected("hello".getBytes()).contains("bad magic"));
    }

    @Test
    void rejectsAnotherVersionOrRecordSize() throws IOException {
        assertTrue(rejected(sample().version(2).bytes()).contains("unsupported trace version 2"));
        assertTrue(rejected(sample().recordSize(21).bytes()).contains("unsupported record size 21"));
    }

    @Test
    void rejectsTruncatedFiles() throws IOException {
        byte[] whole = sample().bytes();
        assertTrue(rejected(Arrays.copyOf(whole, 20)).contains("truncated header"));
        assertTrue(rejected(Arrays.copyOf(whole, whole.length - 5))
                .contains("truncated: the header announces 6 events, " + "the file holds 5"));
        assertTrue(rejected(sample().announceEvents(7).bytes()).contains("the file holds 6"));
    }

    @Test
    void rejectsBytesAfterTheLastRecordAndAWrongObjectCount() throws IOException {
        byte[] whole = sample().bytes();
        byte[] longer = Arrays.copyOf(whole, whole.length + 3);
        assertTrue(rejected(longer).contains("bytes follow the last of the 6 records"));
        assertTrue(rejected(sample().announceObjects(9).bytes()).contains("announces 9 objects, the records create 4"));
    }

    @Test
    void rejectsRecordsThatBreakTheInvariants() throws IOException {
        TraceFileWriter unknownOp = new TraceFileWriter();
        unknownOp.malloc(8);
        unknownOp.record(9, 0, 1, 8, 0);
        assertTrue(rejected(unknownOp.bytes()).contains("corrupt trace at event 1: unknown op 9"));

        TraceFileWriter doubleFree = new TraceFileWriter();
        doubleFree.malloc(8);
        doubleFree.free(0, 8).free(0, 8);
        assertTrue(rejected(doubleFree.bytes()).contains("event 2: ends object 0, which is not live"));

        TraceFileWriter gap = new TraceFileWriter();
        gap.record(Trace.MALLOC, 0, 1, 8, 0);
        assertTrue(rejected(gap.bytes()).contains("event 0: creates object 1, expected 0"));

        TraceFileWriter alignment = new TraceFileWriter();
        alignment.create(Trace.ALIGNED, 0, 8, 24);
        assertTrue(rejected(alignment.bytes()).contains("alignment 24 is not a power of two"));
    }

    @Test
    void rejectsAFileThatIsNotGzip() throws IOException {
        Path f = Files.write(dir.resolve("plain.trc.gz"), sample().bytes());
        IOException e = assertThrows(IOException.class, () -> Trace.read(f, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("not a gzip stream"), e.getMessage());
    }
}
