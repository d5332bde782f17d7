package io.github.pymalloc4j.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real traces as a correctness test: every object gets a pattern derived from its id over its whole block at
 * creation, checked before its free, before and after its realloc (the kept prefix) and at the end; calloc
 * blocks must be zero. Against pymalloc4j and glibc, on one thread and on real threads with cross-thread frees.
 * And the check itself is shown to catch a target that corrupts, forgets to zero or loses realloc contents.
 */
class ContentVerificationTest {

    @TempDir
    Path dir;

    private static ReplayComparison comparison(Trace t, ReplayMode mode) {
        return new ReplayComparison(
                t, TraceProfile.of(t), new ReplayOptions(mode, 1, 0, false, true, 65_536), line -> {});
    }

    @Test
    void pyCompileallPrefixKeepsEveryObjectsContentsOnOneThread() {
        Trace t = SharedTraces.window("py-compileall", 0, 200_000);
        assertEquals(200_000, t.eventCount());
        ReplayComparison c = comparison(t, ReplayMode.SERIAL);
        c.verify(PymallocTarget::new);
        c.verify(GlibcTarget::new);
    }

    @Test
    void nodeTscWindowKeepsEveryObjectsContentsAcrossSixThreads() {
        Trace t = SharedTraces.window("node-tsc", 1_000_000, 200_000);
        TraceProfile p = TraceProfile.of(t);
        assertTrue(p.crossThreadEnds() > 1_000, "the window should free across threads: " + p.crossThreadEnds());
        RemoteFreeCount remote = new RemoteFreeCount();
        ReplayComparison c = comparison(t, ReplayMode.THREADS);
        c.verify(remote);
        c.verify(GlibcTarget::new);
        assertTrue(
                remote.frees.get() > 1_000,
                "cross-thread frees must reach pymalloc4j as remote frees: " + remote.frees.get());
        comparison(t, ReplayMode.THREADS_STRICT).verify(PymallocTarget::new);
    }

    @Test
    void gitPackObjectsLastWindowKeepsEveryObjectsContentsAcrossFiveThreads() {
        Trace t = SharedTraces.window("git-pack-objects", 4_178_492, 200_000);
        assertTrue(TraceProfile.of(t).crossThreadEnds() > 100);
        ReplayComparison c = comparison(t, ReplayMode.THREADS);
        c.verify(PymallocTarget::new);
        c.verify(GlibcTarget::new);
    }

    @Test
    void aTargetThatCorruptsALiveBlockIsCaughtWithTheObjectAndTheEvent() {
        Trace t = SharedTraces.window("py-compileall", 0, 50_000);
        ReplayComparison c = comparison(t, ReplayMode.SERIAL);
        ContentMismatchException e = assertThrows(
                ContentMismatchException.class, () -> c.verify(() -> new CorruptingTarget(new GlibcTarget(), 5_000)));
        assertTrue(e.getMessage().contains("contents of object " + e.objectId()), e.getMessage());
        assertTrue(e.getMessage().contains("at event " + e.eventIndex()), e.getMessage());
        assertTrue(e.eventIndex() >= 5_000 && e.eventIndex() <= t.eventCount(), e.getMessage());
    }

    @Test
    void aCallocThatIsNotZeroAndAReallocThatLosesContentsAreCaught() throws IOException {
        TraceFileWriter w = new TraceFileWriter();
        int a = w.malloc(40);
        int b = w.create(Trace.REALLOC, 0, 100, a);
        w.free(b, 100);
        int z = w.create(Trace.CALLOC, 0, 64, 0);
        w.free(z, 64);
        Trace t = Trace.read(w.write(dir.resolve("small.trc.gz")), Long.MAX_VALUE);
        ReplayComparison c = comparison(t, ReplayMode.SERIAL);
        c.verify(GlibcTarget::new); // the honest target passes

        ContentMismatchException lost = assertThrows(
                ContentMismatchException.class, () -> c.verify(() -> new ForgetfulTarget(new GlibcTarget(), false)));
        assertEquals(a, lost.objectId());
        assertEquals(1, lost.eventIndex());
        assertTrue(lost.getMessage().contains("kept by its realloc"), lost.getMessage());

        ContentMismatchException dirty = assertThrows(
                ContentMismatchException.class, () -> c.verify(() -> new ForgetfulTarget(new GlibcTarget(), true)));
        assertEquals(z, dirty.objectId());
        assertEquals(3, dirty.eventIndex());
        assertTrue(dirty.getMessage().contains("must be zero"), dirty.getMessage());
    }

    /** pymalloc4j, counting its remote frees when the replay closes it. */
    private static final class RemoteFreeCount implements Supplier<ReplayTarget> {
        final AtomicLong frees = new AtomicLong();

        @Override
        public ReplayTarget get() {
            PymallocTarget p = new PymallocTarget();
            return new DelegatingTarget(p) {
                @Override
                public void close() {
                    frees.addAndGet(p.allocator().stats().remoteFrees());
                    super.close();
                }
            };
        }
    }

    /** At the n-th malloc, flips a byte in the middle of the newest live block of 8 bytes or more. */
    private static final class CorruptingTarget extends DelegatingTarget {
        private final int at;
        private final Map<Long, Long> live = new LinkedHashMap<>();
        private int mallocs;

        CorruptingTarget(ReplayTarget inner, int at) {
            super(inner);
            this.at = at;
        }

        private long created(long address, long size) {
            live.put(address, size);
            return address;
        }

        @Override
        public long malloc(long size) {
            if (++mallocs == at) {
                live.entrySet().stream()
                        .filter(e -> e.getValue() >= 8)
                        .reduce((first, second) -> second)
                        .ifPresent(e -> {
                            long where = e.getKey() + e.getValue() / 2;
                            ContentCheck.fill(where, 1, (byte) (ContentCheck.byteAt(where) ^ 0x5A));
                        });
            }
            return created(super.malloc(size), size);
        }

        @Override
        public long calloc(long size) {
            return created(super.calloc(size), size);
        }

        @Override
        public long realloc(long address, long size) {
            live.remove(address);
            return created(super.realloc(address, size), size);
        }

        @Override
        public long aligned(long size, long alignment) {
            return created(super.aligned(size, alignment), size);
        }

        @Override
        public void free(long address) {
            live.remove(address);
            super.free(address);
        }
    }

    /** A realloc that does not copy, or a calloc that does not zero. */
    private static final class ForgetfulTarget extends DelegatingTarget {
        private final boolean dirtyCalloc;

        ForgetfulTarget(ReplayTarget inner, boolean dirtyCalloc) {
            super(inner);
            this.dirtyCalloc = dirtyCalloc;
        }

        @Override
        public long calloc(long size) {
            long a = super.calloc(size);
            if (dirtyCalloc) {
                ContentCheck.fill(a + size / 2, 1, (byte) 7);
            }
            return a;
        }

        @Override
        public long realloc(long address, long size) {
            if (dirtyCalloc) {
                return super.realloc(address, size);
            }
            long moved = super.malloc(size);
            ContentCheck.fill(moved, size, (byte) 0);
            super.free(address);
            return moved;
        }
    }
}
