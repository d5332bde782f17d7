package io.github.pymalloc4j.replay;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The {@link EventExecutor}; {@link ExecutorCopies} makes a copy of this class per implementation. Performs trace
 * events against a {@link ReplayTarget}: {@code handles[id] = malloc(size)},
 * {@code free(handles[id])}, {@code handles[id] = realloc(handles[oldId], size)} and so on. A new object's
 * address is stored with release semantics, so a thread that reads it with acquire semantics (the threaded
 * replay) also sees the block's contents; an ended object's handle is reset to 0.
 *
 * <p>Optionally each new block is touched ({@code --touch}: every byte written once), or verified: each new
 * block gets its id's pattern ({@link ContentCheck}) over its whole requested size, which is checked before
 * every free and realloc, after every realloc (the kept prefix) and at the end; calloc blocks are checked to be
 * zero first; aligned blocks to be aligned. A violation throws {@link ContentMismatchException}; anything the
 * target throws becomes a {@link ReplayFailure} naming the event.
 */
final class TraceEventExecutor implements EventExecutor {

    private static final VarHandle HANDLE = MethodHandles.arrayElementVarHandle(long[].class);

    private final byte[] op;
    private final int[] id;
    private final int[] size;
    private final int[] oldId;
    private final long[] handles;
    private final ReplayTarget target;
    private final boolean touch;
    private final boolean verify;
    /** Requested size of each live object; only when verifying. */
    private final int[] objectSizes;

    /**
     * @param trace   the events.
     * @param handles one slot per object, all 0.
     * @param target  the allocator.
     * @param touch   write every byte of each new block.
     * @param verify  write and check patterns (implies writing every byte).
     */
    TraceEventExecutor(Trace trace, long[] handles, ReplayTarget target, boolean touch, boolean verify) {
        this.op = trace.ops();
        this.id = trace.ids();
        this.size = trace.sizes();
        this.oldId = trace.oldIds();
        this.handles = handles;
        this.target = target;
        this.touch = touch;
        this.verify = verify;
        this.objectSizes = verify ? new int[trace.objectCount()] : null;
    }

    @Override
    public ReplayTarget target() {
        return target;
    }

    @Override
    public long[] handles() {
        return handles;
    }

    @Override
    public void run(int from, int to) {
        int i = from;
        try {
            for (; i < to; i++) {
                execute(i);
            }
        } catch (ContentMismatchException e) {
            throw e;
        } catch (RuntimeException | Error e) {
            throw failure(i, e);
        }
    }

    @Override
    public void execute(int i) {
        int obj = id[i];
        long s = Integer.toUnsignedLong(size[i]);
        switch (op[i]) {
            case Trace.MALLOC -> created(i, obj, target.malloc(s), s, false);
            case Trace.CALLOC -> created(i, obj, target.calloc(s), s, true);
            case Trace.ALIGNED -> {
                long alignment = Integer.toUnsignedLong(oldId[i]);
                long a = target.aligned(s, alignment);
                if (verify && (a & (alignment - 1)) != 0) {
                    throw new ContentMismatchException(
                            obj,
                            i,
                            target.name() + ": event " + i + " (ALIGNED): object " + obj + " at 0x"
                                    + Long.toHexString(a) + " is not aligned to " + alignment);
                }
                created(i, obj, a, s, false);
            }
            case Trace.FREE -> {
                long a = handles[obj];
                if (verify) {
                    checkWhole(i, obj, a, s, "before its free");
                }
                target.free(a);
                handles[obj] = 0;
            }
            case Trace.REALLOC -> {
                int old = oldId[i];
                long a = handles[old];
                long oldSize = verify ? Integer.toUnsignedLong(objectSizes[old]) : 0;
                if (verify) {
                    checkWhole(i, old, a, oldSize, "before its realloc");
                }
                long b = target.realloc(a, s);
                handles[old] = 0;
                if (verify) {
                    long kept = Math.min(oldSize, s);
                    long bad = ContentCheck.firstMismatch(b, kept, old);
                    if (bad >= 0) {
                        throw mismatch(
                                i,
                                old,
                                b,
                                bad,
                                ContentCheck.expected(old, bad),
                                "in the first " + kept + " bytes kept by its realloc to " + s + " bytes (object " + obj
                                        + " at 0x" + Long.toHexString(b) + ")");
                    }
                }
                created(i, obj, b, s, false);
            }
            default -> throw new IllegalStateException("op " + op[i]);
        }
    }

    private void created(int i, int obj, long address, long s, boolean zeroed) {
        if (verify) {
            if (zeroed) {
                long bad = ContentCheck.firstNonZero(address, s);
                if (bad >= 0) {
                    throw mismatch(i, obj, address, bad, (byte) 0, "of a calloc block, which must be zero");
                }
            }
            ContentCheck.write(address, s, obj);
            objectSizes[obj] = (int) s;
        } else if (touch && s > 0) {
            ContentCheck.fill(address, s, (byte) obj);
        }
        HANDLE.setRelease(handles, obj, address);
    }

    private void checkWhole(int i, int obj, long address, long s, String when) {
        long bad = ContentCheck.firstMismatch(address, s, obj);
        if (bad >= 0) {
            throw mismatch(i, obj, address, bad, ContentCheck.expected(obj, bad), when);
        }
    }

    private ContentMismatchException mismatch(int i, int obj, long address, long offset, byte expected, String where) {
        byte found = ContentCheck.byteAt(address + offset);
        return new ContentMismatchException(
                obj,
                i,
                String.format(
                        "%s: contents of object %d (at 0x%x) wrong at event %d (%s), byte %d %s: expected 0x%02x, found 0x%02x",
                        target.name(),
                        obj,
                        address,
                        i,
                        i < op.length ? Trace.opName(op[i]) : "end",
                        offset,
                        where,
                        expected & 0xFF,
                        found & 0xFF));
    }

    @Override
    public void freeRemaining(int events) {
        for (int obj = 0; obj < handles.length; obj++) {
            long a = handles[obj];
            if (a != 0) {
                if (verify) {
                    checkWhole(events, obj, a, Integer.toUnsignedLong(objectSizes[obj]), "at the end of the trace");
                }
                target.free(a);
                handles[obj] = 0;
            }
        }
    }

    @Override
    public ReplayFailure failure(int i, Throwable e) {
        String what = switch (op[i]) {
            case Trace.FREE -> "FREE of object " + id[i];
            case Trace.REALLOC ->
                "REALLOC of object " + oldId[i] + " to object " + id[i] + ", " + Integer.toUnsignedString(size[i])
                        + " bytes";
            case Trace.ALIGNED ->
                "ALIGNED object " + id[i] + ", " + Integer.toUnsignedString(size[i]) + " bytes aligned to "
                        + Integer.toUnsignedString(oldId[i]);
            default -> Trace.opName(op[i]) + " object " + id[i] + ", " + Integer.toUnsignedString(size[i]) + " bytes";
        };
        return new ReplayFailure(target.name() + ": event " + i + " (" + what + ") failed: " + e, e);
    }
}
