package io.github.pymalloc4j.replay;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * An allocation trace ({@code ../shared/traces/FORMAT.md}, version 1), decoded whole into primitive arrays so
 * that a replay reads only memory: event {@code i} is {@code op[i]} made by trace thread {@code thread[i]} on
 * object {@code id[i]} with {@code size[i]} bytes (unsigned) and {@code oldId[i]} (the resized object of a
 * REALLOC, the alignment of an ALIGNED). About 17 bytes of Java heap per event.
 *
 * <p>{@link #read(Path, long)} checks the header and every invariant a replayer relies on (ops, thread indices,
 * dense creation ids, every end naming a live object, power-of-two alignments) so that a bad file fails with
 * an {@link IOException} instead of a double free in the C heap.
 */
public final class Trace {

    /** {@code malloc(size)}: creates object {@code id}. */
    public static final byte MALLOC = 1;
    /** {@code free(p)}: ends object {@code id}; {@code size} is its creation size. */
    public static final byte FREE = 2;
    /** {@code realloc(p, size)}: ends object {@code oldId}, creates object {@code id} with its contents. */
    public static final byte REALLOC = 3;
    /** {@code calloc(n, m)}: creates object {@code id} of {@code size = n * m} zeroed bytes. */
    public static final byte CALLOC = 4;
    /** {@code posix_memalign} and relatives: creates object {@code id}; {@code oldId} is the alignment. */
    public static final byte ALIGNED = 5;

    static final byte[] MAGIC = "ALCTRACE".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int RECORD_SIZE = 17;
    static final int HEADER_SIZE = 36;
    private static final int RECORDS_PER_READ = 4096;

    private final String name;
    private final String metadataJson;
    private final byte[] op;
    private final int[] thread;
    private final int[] id;
    private final int[] size;
    private final int[] oldId;
    private final int objectCount;
    private final int threadCount;
    private final long headerEventCount;

    Trace(
            String name,
            String metadataJson,
            byte[] op,
            int[] thread,
            int[] id,
            int[] size,
            int[] oldId,
            int objectCount,
            int threadCount,
            long headerEventCount) {
        this.name = name;
        this.metadataJson = metadataJson;
        this.op = op;
        this.thread = thread;
        this.id = id;
        this.size = size;
        this.oldId = oldId;
        this.objectCount = objectCount;
        this.threadCount = threadCount;
        this.headerEventCount = headerEventCount;
    }

    /**
     * Reads and validates a trace file.
     *
     * @param file  a {@code .trc.gz} file.
     * @param limit keep only the first {@code limit} events (a prefix of a trace is a valid trace);
     *              {@link Long#MAX_VALUE} for all.
     * @return the decoded trace.
     * @throws IOException if the file cannot be read, is not a version-1 trace, is truncated, or breaks an
     *                     invariant of the format; the message names the file and the problem.
     */
    public static Trace read(Path file, long limit) throws IOException {
        if (limit < 0) {
            throw new IllegalArgumentException("negative limit " + limit);
        }
        String name = file.getFileName().toString().replaceFirst("\\.trc(\\.gz)?$", "");
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 20)) {
            return decode(in, name, limit, file.toString());
        } catch (ZipException | EOFException e) {
            if (e instanceof ZipException
                    && e.getMessage() != null
                    && e.getMessage().contains("GZIP")) {
                throw new IOException(file + ": not an allocation trace (not a gzip stream)");
            }
            throw new IOException(file + ": truncated or corrupt gzip stream (" + e.getMessage() + ")");
        }
    }

    private static Trace decode(InputStream in, String name, long limit, String where) throws IOException {
        byte[] h = new byte[HEADER_SIZE];
        int got = in.readNBytes(h, 0, HEADER_SIZE);
        if (got < MAGIC.length || !Arrays.equals(h, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new IOException(where + ": not an allocation trace (bad magic)");
        }
        if (got < HEADER_SIZE) {
            throw new IOException(where + ": truncated header (" + got + " of " + HEADER_SIZE + " bytes)");
        }
        ByteBuffer hb = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
        int version = hb.getInt(8);
        int recordSize = hb.getInt(12);
        long events = hb.getLong(16);
        long objects = Integer.toUnsignedLong(hb.getInt(24));
        long threads = Integer.toUnsignedLong(hb.getInt(28));
        long metaLen = Integer.toUnsignedLong(hb.getInt(32));
        if (version != VERSION) {
            throw new IOException(where + ": unsupported trace version " + Integer.toUnsignedString(version)
                    + " (this reader knows version " + VERSION + ")");
        }
        if (recordSize != RECORD_SIZE) {
            throw new IOException(where + ": unsupported record size " + Integer.toUnsignedString(recordSize)
                    + " (expected " + RECORD_SIZE + ")");
        }
        if (events < 0 || objects > Integer.MAX_VALUE || threads > Integer.MAX_VALUE || metaLen > (64 << 20)) {
            throw new IOException(where + ": corrupt header (events " + Long.toUnsignedString(events) + ", objects "
                    + objects + ", threads " + threads + ", metadata " + metaLen + " bytes)");
        }
        long kept = Math.min(events, limit);
        if (kept > Integer.MAX_VALUE - 16) {
            throw new IOException(where + ": " + kept + " events do not fit in memory; use --limit");
        }
        byte[] meta = in.readNBytes((int) metaLen);
        if (meta.length < metaLen) {
            throw new IOException(where + ": truncated metadata (" + meta.length + " of " + metaLen + " bytes)");
        }
        int n = (int) kept;
        byte[] op = new byte[n];
        int[] thread = new int[n];
        int[] id = new int[n];
        int[] size = new int[n];
        int[] oldId = new int[n];
        long[] live = new long[(int) ((objects + 63) >>> 6)];
        int created = 0;
        byte[] rec = new byte[RECORD_SIZE * RECORDS_PER_READ];
        ByteBuffer rb = ByteBuffer.wrap(rec).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; ) {
            int batch = Math.min(RECORDS_PER_READ, n - i);
            int bytes = in.readNBytes(rec, 0, RECORD_SIZE * batch);
            if (bytes < RECORD_SIZE * batch) {
                throw new IOException(where + ": truncated: the header announces " + events + " events, the file holds "
                        + (i + bytes / RECORD_SIZE));
            }
            for (int k = 0; k < batch; k++, i++) {
                int base = RECORD_SIZE * k;
                byte o = rec[base];
                int t = rb.getInt(base + 1);
                int obj = rb.getInt(base + 5);
                int old = rb.getInt(base + 13);
                if (t < 0 || t >= threads) {
                    throw bad(where, i, "thread " + Integer.toUnsignedString(t) + " outside 0.." + (threads - 1));
                }
                switch (o) {
                    case MALLOC, CALLOC, ALIGNED, REALLOC -> {
                        if (obj != created || created >= objects) {
                            throw bad(
                                    where,
                                    i,
                                    "creates object " + Integer.toUnsignedString(obj) + ", expected " + created
                                            + " (ids must be dense, below " + objects + ")");
                        }
                        if (o == REALLOC) {
                            end(live, old, created, where, i);
                        } else if (o == ALIGNED && (old == 0 || (old & (old - 1)) != 0)) {
                            throw bad(
                                    where, i, "alignment " + Integer.toUnsignedString(old) + " is not a power of two");
                        }
                        live[created >>> 6] |= 1L << created;
                        created++;
                    }
                    case FREE -> end(live, obj, created, where, i);
                    default -> throw bad(where, i, "unknown op " + (o & 0xFF));
                }
                op[i] = o;
                thread[i] = t;
                id[i] = obj;
                size[i] = rb.getInt(base + 9);
                oldId[i] = old;
            }
        }
        if (kept == events && in.read() >= 0) {
            throw new IOException(where + ": bytes follow the last of the " + events + " records");
        }
        if (kept == events && created != objects) {
            throw new IOException(
                    where + ": the header announces " + objects + " objects, the records create " + created);
        }
        return new Trace(
                name,
                new String(meta, StandardCharsets.UTF_8),
                op,
                thread,
                id,
                size,
                oldId,
                created,
                (int) threads,
                events);
    }

    private static void end(long[] live, int obj, int created, String where, int i) throws IOException {
        if (obj < 0 || obj >= created || (live[obj >>> 6] & (1L << obj)) == 0) {
            throw bad(where, i, "ends object " + Integer.toUnsignedString(obj) + ", which is not live");
        }
        live[obj >>> 6] &= ~(1L << obj);
    }

    private static IOException bad(String where, int event, String what) {
        return new IOException(where + ": corrupt trace at event " + event + ": " + what);
    }

    /** @return the trace's name: its file name without {@code .trc.gz}. */
    public String name() {
        return name;
    }

    /** @return the metadata JSON object of the file, as text (informational). */
    public String metadataJson() {
        return metadataJson;
    }

    /** @return the number of events held (after any limit). */
    public int eventCount() {
        return op.length;
    }

    /** @return the number of events the file's header announces (the whole trace, before any limit). */
    public long headerEventCount() {
        return headerEventCount;
    }

    /** @return the number of objects the held events create; ids are {@code 0 .. objectCount()-1}. */
    public int objectCount() {
        return objectCount;
    }

    /** @return the number of trace threads; indices are {@code 0 .. threadCount()-1}. */
    public int threadCount() {
        return threadCount;
    }

    /**
     * @param i event index.
     * @return the op of event {@code i}: {@link #MALLOC} .. {@link #ALIGNED}.
     */
    public byte op(int i) {
        return op[i];
    }

    /**
     * @param i event index.
     * @return the trace thread that made event {@code i}.
     */
    public int thread(int i) {
        return thread[i];
    }

    /**
     * @param i event index.
     * @return the object event {@code i} creates, or ends (FREE).
     */
    public int id(int i) {
        return id[i];
    }

    /**
     * @param i event index.
     * @return the requested size of event {@code i}, unsigned.
     */
    public long size(int i) {
        return Integer.toUnsignedLong(size[i]);
    }

    /**
     * @param i event index.
     * @return the object a REALLOC ends, the alignment of an ALIGNED, else 0.
     */
    public int oldId(int i) {
        return oldId[i];
    }

    byte[] ops() {
        return op;
    }

    int[] threads() {
        return thread;
    }

    int[] ids() {
        return id;
    }

    int[] sizes() {
        return size;
    }

    int[] oldIds() {
        return oldId;
    }

    /**
     * The name of an op for messages.
     *
     * @param op an op code.
     * @return {@code MALLOC}, {@code FREE}, ...
     */
    public static String opName(byte op) {
        return switch (op) {
            case MALLOC -> "MALLOC";
            case FREE -> "FREE";
            case REALLOC -> "REALLOC";
            case CALLOC -> "CALLOC";
            case ALIGNED -> "ALIGNED";
            default -> "op " + (op & 0xFF);
        };
    }
}
