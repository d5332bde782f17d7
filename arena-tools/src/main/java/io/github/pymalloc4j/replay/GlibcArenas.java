package io.github.pymalloc4j.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * glibc's heap, arena by arena, from {@code malloc_info()}: which bytes belong to the replay rather than to the
 * JVM. glibc gives each thread an arena of its own while there are fewer than its limit; the JVM's threads (the
 * JIT compilers above all, whose working memory comes and goes by megabytes) allocate in theirs, a replay thread
 * in its own. So the growth of the replay threads' arenas, plus glibc's {@code mmap}ed chunks (requests of 128 KiB
 * and more, in no arena), is what the replay added to glibc's heap.
 *
 * <p>{@code malloc_info()} numbers the arenas in list order: the main arena first, then the newest. glibc never
 * destroys an arena and inserts new ones right after the main arena, so an arena's position counted from the end
 * of the list is stable: {@link Snapshot#arenas()} is in that order (index 0 the main arena, 1 the oldest other).
 * A thread finds its arena with {@link #arenaOfCallingThread(Snapshot)}. The XML is produced on a thread of this class's
 * own, so that its buffer does not land in a replay arena.
 */
final class GlibcArenas {

    /**
     * One arena.
     *
     * @param systemBytes bytes it holds from the OS (glibc's {@code system_mem}; free chunks and top included).
     * @param freeBytes   bytes in its free chunks, fastbins and the top chunk included.
     */
    record Arena(long systemBytes, long freeBytes) {
        /** @return bytes in chunks in use, headers included. */
        long inUseBytes() {
            return systemBytes - freeBytes;
        }
    }

    /**
     * glibc's heap at one moment.
     *
     * @param arenas    the arenas, main arena first, then the others from oldest to newest.
     * @param mmapBytes bytes in {@code mmap}ed chunks (all threads').
     */
    record Snapshot(List<Arena> arenas, long mmapBytes) {}

    private static final Pattern HEAP = Pattern.compile("<heap nr=\"(\\d+)\">(.*?)</heap>", Pattern.DOTALL);
    private static final Pattern FAST = Pattern.compile("<total type=\"fast\" count=\"\\d+\" size=\"(\\d+)\"/>");
    private static final Pattern REST = Pattern.compile("<total type=\"rest\" count=\"\\d+\" size=\"(\\d+)\"/>");
    private static final Pattern CURRENT = Pattern.compile("<system type=\"current\" size=\"(\\d+)\"/>");
    private static final Pattern MMAP = Pattern.compile("<total type=\"mmap\" count=\"\\d+\" size=\"(\\d+)\"/>");
    /** Blocks of the probe: below glibc's {@code mmap} threshold and above its thread cache's sizes. */
    private static final int PROBE_BLOCK = 4096;

    private static final int PROBE_BLOCKS = 16;

    private static final ExecutorService READER = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().daemon().name("glibc-malloc-info").unstarted(r));

    private GlibcArenas() {}

    /**
     * Reads glibc's arenas now.
     *
     * @return the snapshot.
     */
    static Snapshot snapshot() {
        try {
            return READER.submit(() -> parse(Glibc.mallocInfo())).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading malloc_info", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("malloc_info failed: " + e.getCause(), e.getCause());
        }
    }

    static Snapshot parse(String xml) {
        List<Arena> listed = new ArrayList<>();
        Matcher heap = HEAP.matcher(xml);
        int end = 0;
        while (heap.find()) {
            String body = heap.group(2);
            listed.add(new Arena(number(CURRENT, body), number(FAST, body) + number(REST, body)));
            end = heap.end();
        }
        if (listed.isEmpty()) {
            throw new IllegalStateException("malloc_info printed no arena");
        }
        List<Arena> stable = new ArrayList<>(listed.size());
        stable.add(listed.getFirst());
        for (int k = listed.size() - 1; k >= 1; k--) {
            stable.add(listed.get(k));
        }
        return new Snapshot(List.copyOf(stable), number(MMAP, xml.substring(end)));
    }

    private static long number(Pattern p, String text) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("malloc_info output lacks " + p.pattern());
        }
        return Long.parseLong(m.group(1));
    }

    /**
     * Threads parked on the arenas glibc would hand to the next new threads: glibc reuses the arena of an exited
     * thread before it makes a new one, and a reused arena may hold free memory of its earlier use, which a
     * replay would then fill without the arena growing. After this, new threads get new arenas (while under
     * glibc's arena limit). Threads are started one at a time until one gets a new arena; all stay parked until
     * {@link ArenaHolders#close()}.
     *
     * @param maxThreads give up after this many threads.
     * @return the parked threads.
     */
    static ArenaHolders holdFreeArenas(int maxThreads) {
        ArenaHolders holders = new ArenaHolders();
        int existing = snapshot().arenas().size();
        for (int k = 0; k < maxThreads; k++) {
            CompletableFuture<Integer> arena = new CompletableFuture<>();
            Thread t = Thread.ofPlatform()
                    .daemon()
                    .name("glibc-arena-holder-" + k)
                    .start(() -> {
                        try {
                            arena.complete(arenaOfCallingThread(snapshot()).index());
                        } catch (Throwable e) {
                            arena.completeExceptionally(e);
                        }
                        ThreadedReplay.awaitQuietly(holders.release);
                    });
            holders.threads.add(t);
            if (arena.join() >= existing) {
                break;
            }
        }
        return holders;
    }

    /** Threads holding glibc arenas, released by {@link #close()}. */
    static final class ArenaHolders implements AutoCloseable {
        private final CountDownLatch release = new CountDownLatch(1);
        private final List<Thread> threads = new ArrayList<>();

        /** @return threads started (the last one got a new arena, unless the limit was hit). */
        int count() {
            return threads.size();
        }

        @Override
        public void close() {
            release.countDown();
            for (Thread t : threads) {
                ThreadedReplay.joinQuietly(t);
            }
        }
    }

    /**
     * The calling thread's arena and its state right after the probe.
     *
     * @param index stable index in {@link Snapshot#arenas()}.
     * @param state the arena's bytes once the probe was freed again.
     */
    record Found(int index, Arena state) {}

    /**
     * Finds the calling thread's arena: allocates a probe of 64 KiB and frees it again; the arena whose bytes in
     * use rose by it and fell back is the thread's (another thread's arena, a JIT compiler's say, may grow by as
     * much meanwhile, but hardly grow and shrink by it in step). Tries again if two arenas qualify. One thread
     * probes at a time.
     *
     * @param before a snapshot taken by this thread just before.
     * @return the arena and its state after the probe.
     * @throws IllegalStateException if no single arena moved with the probe.
     */
    static synchronized Found arenaOfCallingThread(Snapshot before) {
        long wanted = (long) PROBE_BLOCK * PROBE_BLOCKS * 3 / 4;
        String seen = "";
        for (int attempt = 0; attempt < 5; attempt++) {
            Snapshot s0 = attempt == 0 ? before : snapshot();
            long[] probe = new long[PROBE_BLOCKS];
            for (int k = 0; k < probe.length; k++) {
                probe[k] = Glibc.malloc(PROBE_BLOCK);
            }
            Snapshot s1 = snapshot();
            for (long p : probe) {
                Glibc.free(p);
            }
            Snapshot s2 = snapshot();
            int found = -1;
            int matches = 0;
            for (int k = 0; k < s2.arenas().size(); k++) {
                long in0 = k < s0.arenas().size() ? s0.arenas().get(k).inUseBytes() : 0;
                long in1 = k < s1.arenas().size() ? s1.arenas().get(k).inUseBytes() : 0;
                long in2 = s2.arenas().get(k).inUseBytes();
                if (in1 - in0 >= wanted && in1 - in2 >= wanted) {
                    found = k;
                    matches++;
                }
            }
            if (matches == 1) {
                return new Found(found, s2.arenas().get(found));
            }
            seen = matches + " arenas moved with the probe";
        }
        throw new IllegalStateException("cannot tell this thread's glibc arena (" + seen + ")");
    }
}
