package io.github.pymalloc4j.replay;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Builds trace files (FORMAT.md, version 1) for tests, event by event, with the header filled in from the
 * events unless a test overrides a field to make the file bad.
 */
final class TraceFileWriter {

    private final ByteArrayOutputStream records = new ByteArrayOutputStream();
    private int events;
    private int objects;
    private int threads = 1;
    private byte[] magic = "ALCTRACE".getBytes(StandardCharsets.US_ASCII);
    private int version = 1;
    private int recordSize = 17;
    private Long eventCountOverride;
    private Integer objectCountOverride;
    private String metadata = "{\"name\":\"test\"}";

    /** Appends a record as it is, nothing checked. */
    TraceFileWriter record(int op, int thread, int id, long size, int oldId) {
        ByteBuffer b = ByteBuffer.allocate(17).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) op).putInt(thread).putInt(id).putInt((int) size).putInt(oldId);
        records.writeBytes(b.array());
        events++;
        if (op != Trace.FREE) {
            objects++;
        }
        threads = Math.max(threads, thread + 1);
        return this;
    }

    /** MALLOC of the next object id, by thread 0; returns the id. */
    int malloc(long size) {
        return create(Trace.MALLOC, 0, size, 0);
    }

    /** A creation (MALLOC, CALLOC, REALLOC with oldId, ALIGNED with the alignment) of the next id; returns it. */
    int create(int op, int thread, long size, int oldId) {
        int id = objects;
        record(op, thread, id, size, oldId);
        return id;
    }

    /** FREE of object {@code id} of creation size {@code size}, by thread 0. */
    TraceFileWriter free(int id, long size) {
        return record(Trace.FREE, 0, id, size, 0);
    }

    TraceFileWriter magic(String m) {
        magic = m.getBytes(StandardCharsets.US_ASCII);
        return this;
    }

    TraceFileWriter version(int v) {
        version = v;
        return this;
    }

    TraceFileWriter recordSize(int r) {
        recordSize = r;
        return this;
    }

    TraceFileWriter announceEvents(long n) {
        eventCountOverride = n;
        return this;
    }

    TraceFileWriter announceObjects(int n) {
        objectCountOverride = n;
        return this;
    }

    /** The uncompressed bytes: header, metadata, records. */
    byte[] bytes() {
        byte[] meta = metadata.getBytes(StandardCharsets.UTF_8);
        ByteBuffer h = ByteBuffer.allocate(36).order(ByteOrder.LITTLE_ENDIAN);
        h.put(magic, 0, Math.min(8, magic.length));
        h.position(8);
        h.putInt(version)
                .putInt(recordSize)
                .putLong(eventCountOverride != null ? eventCountOverride : events)
                .putInt(objectCountOverride != null ? objectCountOverride : objects)
                .putInt(threads)
                .putInt(meta.length);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(h.array());
        all.writeBytes(meta);
        all.writeBytes(records.toByteArray());
        return all.toByteArray();
    }

    /** Writes the gzip file. */
    Path write(Path file) throws IOException {
        return writeGzip(file, bytes());
    }

    static Path writeGzip(Path file, byte[] content) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(content);
        }
        return file;
    }
}
