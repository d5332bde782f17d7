package io.github.pymalloc4j.tools;

import io.github.pymalloc4j.Allocator;
import io.github.pymalloc4j.AllocatorStats;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A simulated service driving one {@link Allocator} from two worker threads.
 *
 * <p>Record kinds (per worker):
 * <ul>
 *   <li>session state, 200-400 B, long-lived; sometimes grown/shrunk with {@code realloc};</li>
 *   <li>message buffers, 32-256 B, short-lived (a ring of 64); one in eight is handed to the other
 *       worker, which verifies and frees it (cross-thread free); some come from {@code calloc};</li>
 *   <li>index nodes, 48 B, medium-lived (FIFO of 8192);</li>
 *   <li>cache entries, 64-512 B, skewed keys, LRU eviction at 2000 entries;</li>
 *   <li>payloads, 1-64 KiB (served by the system allocator), a ring of 16.</li>
 * </ul>
 * Every record is filled with a pattern derived from a unique tag and verified before it is freed.
 * After each phase the allocator's statistics are printed and cross-checked against what the demo
 * itself knows is live. Exit status 0 only if every check passed.
 *
 * <p>Run with {@code --enable-native-access=ALL-UNNAMED}. Seeds are fixed, so each worker issues the
 * same sequence of requests on every run; only the interleaving of the two threads varies.
 */
@SuppressWarnings("restricted")
public final class Demo {

    // ---- workload shape -------------------------------------------------------------------------
    static final int WORKERS = 2;
    static final long SEED = 0x5EED_2025L;
    static final int WARMUP_STEPS = 150_000;
    static final int STEADY_STEPS = 600_000;

    static final int SESSIONS = 1500;
    static final int MESSAGE_RING = 64;
    static final int INDEX_RING = 8192;
    static final int INDEX_NODE_SIZE = 48;
    static final int CACHE_CAPACITY = 2000;
    static final int CACHE_KEYS = 20_000;
    static final int PAYLOAD_RING = 16;
    static final int MAX_INBOX = 1024;

    static final long SMALL_LIMIT = Allocator.SMALL_REQUEST_THRESHOLD;

    /** The whole address space as one segment: records are reached by absolute address. */
    static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    enum Kind {
        SESSION,
        MESSAGE,
        INDEX,
        CACHE,
        PAYLOAD
    }

    /** One live record. */
    static final class Rec {
        final Kind kind;
        long addr;
        int size;
        long tag;

        Rec(Kind kind, long addr, int size, long tag) {
            this.kind = kind;
            this.addr = addr;
            this.size = size;
            this.tag = tag;
        }
    }

    // ---- patterns -------------------------------------------------------------------------------

    static long word(long tag, long k) {
        long z = tag * 0x9E3779B97F4A7C15L + (k + 1) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static void fill(long addr, long size, long tag) {
        long words = size >>> 3;
        for (long k = 0; k < words; k++) {
            ALL.set(WORD, addr + (k << 3), word(tag, k));
        }
        long v = word(tag, words);
        for (long i = words << 3; i < size; i++) {
            ALL.set(ValueLayout.JAVA_BYTE, addr + i, (byte) v);
            v >>>= 8;
        }
    }

    /** Returns the offset of the first wrong byte among the first {@code size} bytes, or -1. */
    static long check(long addr, long size, long tag) {
        long words = size >>> 3;
        for (long k = 0; k < words; k++) {
            if (ALL.get(WORD, addr + (k << 3)) != word(tag, k)) {
                return k << 3;
            }
        }
        long v = word(tag, words);
        for (long i = words << 3; i < size; i++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, addr + i) != (byte) v) {
                return i;
            }
            v >>>= 8;
        }
        return -1;
    }

    static long firstNonZero(long addr, long size) {
        for (long i = 0; i < size; i++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, addr + i) != 0) {
                return i;
            }
        }
        return -1;
    }

    // ---- shared state ---------------------------------------------------------------------------

    static final AtomicInteger FAILURES = new AtomicInteger();
    static final AtomicInteger REPORTED = new AtomicInteger();

    static void fail(String what) {
        FAILURES.incrementAndGet();
        if (REPORTED.incrementAndGet() <= 20) {
            System.out.println("  CHECK FAILED: " + what);
        }
    }

    // ---- worker ---------------------------------------------------------------------------------

    static final class Worker {
        final int id;
        final Allocator heap;
        final SplittableRandom rnd;
        Worker peer;

        final ConcurrentLinkedQueue<Rec> inbox = new ConcurrentLinkedQueue<>();
        final AtomicInteger inboxSize = new AtomicInteger();

        final Rec[] sessions = new Rec[SESSIONS];
        final Rec[] messages = new Rec[MESSAGE_RING];
        int messageHead;
        final Rec[] index = new Rec[INDEX_RING];
        int indexHead;
        final LinkedHashMap<Integer, Rec> cache = new LinkedHashMap<>(CACHE_CAPACITY * 2, 0.75f, true);
        final Rec[] payloads = new Rec[PAYLOAD_RING];
        int payloadHead;

        long nextTag;

        // What this worker allocated minus what it freed; only the sum over the workers is meaningful,
        // because a handed-off message is allocated by one worker and freed by the other.
        long liveCount;
        long liveSmallRequested;
        long liveLargeCount;
        long liveLargeRequested;

        long allocations, frees, reallocs, verified, handedOff, received, cacheHits, cacheMisses;
        int verifyFailures;

        Worker(int id, Allocator heap) {
            this.id = id;
            this.heap = heap;
            this.rnd = new SplittableRandom(SEED + 7919L * id);
            this.nextTag = ((long) id << 48) + 1;
        }

        // -- primitive operations --

        Rec alloc(Kind kind, int size, boolean zeroed) {
            long a = zeroed ? heap.calloc(1, size) : heap.malloc(size);
            if (a == 0) {
                fail(kind + ": allocation of " + size + " B returned 0");
                return null;
            }
            if (zeroed) {
                long nz = firstNonZero(a, size);
                if (nz >= 0) {
                    verifyFailures++;
                    fail(kind + ": calloc(" + size + ") block 0x" + Long.toHexString(a) + " not zero at +" + nz);
                }
            }
            if ((allocations & 15) == 0) {
                long usable = heap.usableSize(a);
                if (usable < size) {
                    fail(kind + ": usableSize " + usable + " < requested " + size);
                }
            }
            Rec r = new Rec(kind, a, size, nextTag++);
            fill(a, size, r.tag);
            allocations++;
            account(size, +1);
            return r;
        }

        void account(long size, int sign) {
            liveCount += sign;
            if (size <= SMALL_LIMIT) {
                liveSmallRequested += sign * size;
            } else {
                liveLargeCount += sign;
                liveLargeRequested += sign * size;
            }
        }

        boolean verify(Rec r) {
            verified++;
            long bad = check(r.addr, r.size, r.tag);
            if (bad >= 0) {
                verifyFailures++;
                fail(r.kind + " record tag " + r.tag + " at 0x" + Long.toHexString(r.addr) + " (" + r.size
                        + " B) corrupted at +" + bad);
                return false;
            }
            return true;
        }

        void release(Rec r) {
            if (r == null) {
                return;
            }
            verify(r);
            heap.free(r.addr);
            frees++;
            account(r.size, -1);
        }

        // -- record kinds --

        void sessionOp() {
            int i = rnd.nextInt(SESSIONS);
            Rec s = sessions[i];
            int op = rnd.nextInt(10);
            if (s == null || op == 0) { // logout + login
                release(s);
                sessions[i] = alloc(Kind.SESSION, 200 + rnd.nextInt(201), false);
            } else if (op == 1) { // state grows or shrinks
                if (!verify(s)) {
                    return;
                }
                int newSize = 200 + rnd.nextInt(201);
                long moved = heap.realloc(s.addr, newSize);
                long kept = Math.min(s.size, newSize);
                long bad = check(moved, kept, s.tag);
                if (bad >= 0) {
                    verifyFailures++;
                    fail("SESSION realloc " + s.size + " -> " + newSize + " lost contents at +" + bad);
                }
                account(s.size, -1);
                account(newSize, +1);
                s.addr = moved;
                s.size = newSize;
                s.tag = nextTag++;
                fill(moved, newSize, s.tag);
                reallocs++;
            } else { // request handled: read the state
                verify(s);
            }
        }

        void messageOp() {
            boolean zeroed = rnd.nextInt(4) == 0;
            Rec m = alloc(Kind.MESSAGE, 32 + rnd.nextInt(225), zeroed);
            if (m == null) {
                return;
            }
            if (rnd.nextInt(8) == 0 && peer.inboxSize.get() < MAX_INBOX) {
                // Handed to the other worker, which verifies and frees it. The books are kept as sums
                // over both workers, so the receiver's release() balances this allocation.
                peer.inboxSize.incrementAndGet();
                peer.inbox.add(m);
                handedOff++;
                return;
            }
            int slot = messageHead++ & (MESSAGE_RING - 1);
            release(messages[slot]);
            messages[slot] = m;
        }

        void drainInbox(int max) {
            for (int n = 0; n < max; n++) {
                Rec m = inbox.poll();
                if (m == null) {
                    return;
                }
                inboxSize.decrementAndGet();
                received++;
                release(m);
            }
        }

        void indexOp() {
            int slot = indexHead++ & (INDEX_RING - 1);
            release(index[slot]);
            index[slot] = alloc(Kind.INDEX, INDEX_NODE_SIZE, false);
        }

        void cacheOp() {
            double u = rnd.nextDouble();
            int key = (int) (u * u * u * CACHE_KEYS); // skewed towards small keys
            Rec e = cache.get(key);
            if (e != null) {
                cacheHits++;
                verify(e);
                return;
            }
            cacheMisses++;
            Rec fresh = alloc(Kind.CACHE, 64 + rnd.nextInt(449), false);
            if (fresh == null) {
                return;
            }
            cache.put(key, fresh);
            if (cache.size() > CACHE_CAPACITY) {
                Iterator<Map.Entry<Integer, Rec>> it = cache.entrySet().iterator();
                Rec eldest = it.next().getValue();
                it.remove();
                release(eldest);
            }
        }

        void payloadOp() {
            int slot = payloadHead++ & (PAYLOAD_RING - 1);
            release(payloads[slot]);
            payloads[slot] = alloc(Kind.PAYLOAD, 1024 + rnd.nextInt(64 * 1024 - 1024 + 1), false);
        }

        void step() {
            int r = rnd.nextInt(200);
            if (r < 80) {
                messageOp();
            } else if (r < 120) {
                indexOp();
            } else if (r < 170) {
                cacheOp();
            } else if (r < 194) {
                sessionOp();
            } else if (r < 199) {
                drainInbox(64);
            } else {
                payloadOp();
            }
        }

        // -- phases --

        void warmUp() {
            for (int i = 0; i < SESSIONS; i++) {
                sessions[i] = alloc(Kind.SESSION, 200 + rnd.nextInt(201), false);
            }
            for (int i = 0; i < WARMUP_STEPS; i++) {
                step();
            }
        }

        void steady() {
            for (int i = 0; i < STEADY_STEPS; i++) {
                step();
            }
        }

        /** Traffic falls away: 90 % of sessions log out, queues empty, caches shrink. */
        void loadDrop() {
            drainInbox(Integer.MAX_VALUE);
            for (int i = 0; i < SESSIONS; i++) {
                if (sessions[i] != null && rnd.nextInt(10) != 0) {
                    release(sessions[i]);
                    sessions[i] = null;
                }
            }
            for (int i = 0; i < MESSAGE_RING; i++) {
                release(messages[i]);
                messages[i] = null;
            }
            // Keep only the newest 10 % of index nodes.
            int keep = INDEX_RING / 10;
            for (int n = 0; n < INDEX_RING - keep; n++) {
                int slot = (indexHead + n) & (INDEX_RING - 1);
                release(index[slot]);
                index[slot] = null;
            }
            Iterator<Map.Entry<Integer, Rec>> it = cache.entrySet().iterator();
            while (cache.size() > CACHE_CAPACITY / 10 && it.hasNext()) {
                Rec eldest = it.next().getValue();
                it.remove();
                release(eldest);
            }
            for (int i = 0; i < PAYLOAD_RING; i++) {
                release(payloads[i]);
                payloads[i] = null;
            }
        }

        /** Shutdown: everything goes. */
        void freeAll() {
            drainInbox(Integer.MAX_VALUE);
            for (Rec[] table : List.of(sessions, messages, index, payloads)) {
                for (int i = 0; i < table.length; i++) {
                    release(table[i]);
                    table[i] = null;
                }
            }
            for (Rec e : cache.values()) {
                release(e);
            }
            cache.clear();
        }

        long liveRecords() {
            long n = cache.size() + inbox.size();
            for (Rec[] table : List.of(sessions, messages, index, payloads)) {
                for (Rec r : table) {
                    if (r != null) {
                        n++;
                    }
                }
            }
            return n;
        }
    }

    // ---- driver ---------------------------------------------------------------------------------

    interface Phase {
        void run(Worker w);
    }

    /**
     * Keeps the process alive for a while after the steady state, with its records live, so that
     * {@code arena-dump} can inspect it (run with {@code -Dpymalloc4j.publish=demo}).
     *
     * @return true.
     */
    static boolean linger(Allocator heap, long seconds) throws InterruptedException {
        if (seconds > 0) {
            System.out.println();
            System.out.println("=== lingering " + seconds + " s: pid "
                    + ProcessHandle.current().pid()
                    + ", statistics file "
                    + heap.statsFile().map(Object::toString).orElse("none (run with -Dpymalloc4j.publish=NAME)")
                    + " ===");
            System.out.flush();
            Thread.sleep(seconds * 1000);
        }
        return true;
    }

    public static void main(String[] args) throws Exception {
        long lingerSeconds = Long.getLong("demo.linger", 0L);
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--linger") && i + 1 < args.length && args[i + 1].matches("\\d{1,9}")) {
                lingerSeconds = Long.parseLong(args[++i]);
            } else {
                System.err.println("demo: bad argument " + args[i] + " (usage: Demo [--linger SECONDS])");
                System.exit(1);
            }
        }
        Runtime.Version v = Runtime.version();
        System.out.println("=== pymalloc4j demo: a simulated service on one Allocator ===");
        System.out.println("java " + v + " (" + System.getProperty("java.vendor") + ", "
                + System.getProperty("java.home") + "), feature release " + v.feature()
                + ", " + Runtime.getRuntime().availableProcessors() + " CPUs, native access enabled: "
                + Demo.class.getModule().isNativeAccessEnabled());
        if (v.feature() < 25) {
            fail("expected JDK 25 or newer, running on " + v);
        }
        System.out.println("workers: " + WORKERS + ", seed 0x" + Long.toHexString(SEED) + ", steps: warm-up "
                + WARMUP_STEPS + " + steady " + STEADY_STEPS + " per worker");
        System.out.println("records per worker: sessions " + SESSIONS + " x 200-400 B (long-lived, realloc), "
                + "messages ring " + MESSAGE_RING
                + " x 32-256 B (short-lived, 1/8 freed by the other worker, 1/4 calloc), "
                + "index nodes " + INDEX_RING + " x " + INDEX_NODE_SIZE + " B (FIFO), cache LRU " + CACHE_CAPACITY
                + " x 64-512 B, payloads ring " + PAYLOAD_RING + " x 1-64 KiB");

        long start = System.nanoTime();
        Allocator heap = Allocator.builder()
                .arenaSize(1L << 20)
                .poolSize(16L << 10)
                .maxReservedBytes(256L << 20)
                .build();
        Worker[] workers = new Worker[WORKERS];
        for (int i = 0; i < WORKERS; i++) {
            workers[i] = new Worker(i, heap);
        }
        for (int i = 0; i < WORKERS; i++) {
            workers[i].peer = workers[(i + 1) % WORKERS];
        }
        AtomicInteger threadNo = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(WORKERS, r -> {
            Thread t = new Thread(r, "worker-" + threadNo.getAndIncrement());
            t.setDaemon(true);
            return t;
        });

        boolean ok = phase("warm-up", heap, workers, pool, Worker::warmUp)
                && phase("steady state", heap, workers, pool, Worker::steady)
                && linger(heap, lingerSeconds)
                && phase(
                        "load drop (90 % of sessions log out, queues drain, caches shrink)",
                        heap, workers, pool, Worker::loadDrop);

        Accounting finalAccounting = null;
        if (ok) {
            AllocatorStats s = heap.stats();
            finalAccounting = new Accounting(s);
            ok = phase("shutdown (every record freed)", heap, workers, pool, Worker::freeAll);
            if (ok) {
                // Without trim() the maintenance thread gives the memory back within a few purge delays;
                // trim() does it now: collects the workers' remote frees and unmaps all but one arena.
                heap.trim();
                AllocatorStats z = heap.stats();
                System.out.println();
                System.out.println("=== after trim(): memory returned to the OS ===");
                System.out.printf(
                        "arenas %d (reclaimed %d), committed %d B, free but not returned %d B, pools decommitted %d%n",
                        z.arenasCurrent(),
                        z.arenasReclaimed(),
                        z.committedBytes(),
                        z.freeNotReturnedBytes(),
                        z.poolsDecommitted());
                if (z.arenasCurrent() > 1 || z.freeNotReturnedBytes() != 0 || z.bytesPendingRemoteFree() != 0) {
                    fail("after trim(): " + z.arenasCurrent() + " arenas, " + z.freeNotReturnedBytes()
                            + " B free but not returned, " + z.bytesPendingRemoteFree() + " B pending remote frees");
                }
                if (z.bytesInAllocatedBlocks() != 0
                        || z.bytesRequested() != 0
                        || z.largeBytes() != 0
                        || z.largeAllocations() != 0
                        || z.mallocs() != z.frees()) {
                    fail("after freeing everything: allocated " + z.bytesInAllocatedBlocks() + " B, requested "
                            + z.bytesRequested() + " B, large " + z.largeAllocations() + " / " + z.largeBytes()
                            + " B, mallocs " + z.mallocs() + " != frees " + z.frees());
                }
            }
        }
        pool.shutdownNow();

        heap.close();
        heap.close(); // idempotent
        try {
            heap.malloc(16);
            fail("malloc after close() did not throw");
        } catch (IllegalStateException e) {
            if (e.getMessage() == null || !e.getMessage().contains("closed")) {
                fail("malloc after close(): message without 'closed': " + e.getMessage());
            }
        }

        long verifyFailures = 0;
        long verified = 0;
        for (Worker w : workers) {
            verifyFailures += w.verifyFailures;
            verified += w.verified;
        }
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        System.out.println();
        System.out.println("=== summary ===");
        System.out.println("records verified: " + verified + ", verification failures: " + verifyFailures);
        if (finalAccounting != null) {
            // Checked after every phase above; repeated here for the last state with live records.
            System.out.println("accounting identity, state after the load drop:");
            System.out.println(finalAccounting.breakdown());
            System.out.println(finalAccounting.line());
        }
        int failures = FAILURES.get();
        System.out.println("elapsed: " + elapsedMs + " ms");
        if (failures == 0 && ok) {
            System.out.println("demo: OK (0 failed checks)");
            System.out.flush();
            System.exit(0);
        } else {
            System.out.println("demo: FAILED (" + failures + " failed checks)");
            System.out.flush();
            System.exit(1);
        }
    }

    /** The accounting identity of one snapshot, checked when made. */
    static final class Accounting {
        final long allocated, pending, available, unused, quantization, sum, arenaBytes;

        Accounting(AllocatorStats s) {
            allocated = s.bytesInAllocatedBlocks();
            pending = s.bytesPendingRemoteFree();
            available = s.bytesInAvailableBlocks();
            unused = s.bytesInFreePools();
            quantization = s.bytesLostToQuantization();
            sum = allocated + pending + available + unused + quantization;
            arenaBytes = s.arenaBytes();
        }

        boolean holds() {
            return sum == arenaBytes;
        }

        String line() {
            return holds()
                    ? "accounting: OK, " + sum + " bytes = " + arenaBytes + " bytes reserved in arenas"
                    : "accounting: BROKEN, " + sum + " bytes != " + arenaBytes + " bytes reserved in arenas";
        }

        String breakdown() {
            return "  " + allocated + " allocated + " + pending + " freed remotely, not yet collected + " + available
                    + " available + " + unused + " in free pools + " + quantization + " lost to quantization = " + sum
                    + " B";
        }
    }

    static boolean phase(String name, Allocator heap, Worker[] workers, ExecutorService pool, Phase body)
            throws InterruptedException {
        System.out.println();
        System.out.println("=== phase: " + name + " ===");
        long t0 = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        for (Worker w : workers) {
            futures.add(pool.submit(() -> body.run(w)));
        }
        boolean ok = true;
        for (int i = 0; i < futures.size(); i++) {
            try {
                futures.get(i).get();
            } catch (ExecutionException e) {
                ok = false;
                fail("worker-" + i + " threw " + e.getCause());
                e.getCause().printStackTrace(System.out);
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;

        long live = 0, liveSmall = 0, liveLargeCount = 0, liveLarge = 0, allocs = 0, frees = 0, reallocs = 0;
        long handed = 0, received = 0, hits = 0, misses = 0;
        long records = 0;
        for (Worker w : workers) {
            live += w.liveCount;
            liveSmall += w.liveSmallRequested;
            liveLargeCount += w.liveLargeCount;
            liveLarge += w.liveLargeRequested;
            allocs += w.allocations;
            frees += w.frees;
            reallocs += w.reallocs;
            handed += w.handedOff;
            received += w.received;
            hits += w.cacheHits;
            misses += w.cacheMisses;
            records += w.liveRecords();
        }
        System.out.println("took " + ms + " ms; so far: " + allocs + " allocations, " + frees + " frees, "
                + reallocs + " reallocs, " + handed + " messages handed to the other worker (" + received
                + " freed there), cache hits/misses " + hits + "/" + misses);
        System.out.println("live records: " + records + " (" + liveSmall + " B in small blocks, " + liveLargeCount
                + " payloads = " + liveLarge + " B)");

        AllocatorStats s = heap.stats();
        System.out.println("--- stats().toText() ---");
        System.out.println(s.toText().strip());
        System.out.println("--- checks ---");

        Accounting acc = new Accounting(s);
        System.out.println(acc.breakdown());
        System.out.println(acc.line());
        if (!acc.holds()) {
            fail("accounting identity broken after " + name + ": " + acc.sum + " != " + acc.arenaBytes);
        }
        expect("accountedBytes()", s.accountedBytes(), s.arenaBytes());
        expect("arenaBytes()", s.arenaBytes(), s.arenasCurrent() * s.arenaSize());
        expect("reservedBytes()", s.reservedBytes(), s.arenaBytes() + s.largeBytes());
        expect("sizeClasses().size()", s.sizeClasses().size(), 32);
        long inUse = 0;
        long requested = 0;
        for (AllocatorStats.SizeClassStats c : s.sizeClasses()) {
            inUse += c.bytesInUse();
            requested += c.bytesRequested();
        }
        expect("sum of size-class bytesInUse()", inUse, s.bytesInAllocatedBlocks());
        expect("sum of size-class bytesRequested()", requested, s.bytesRequested());
        expect("arenas().size()", s.arenas().size(), s.arenasCurrent());
        expect("mallocs() - frees() vs live records", s.mallocs() - s.frees(), live);
        expect("live records tracked vs tables", records, live);
        expect("bytesRequested() vs live small bytes", s.bytesRequested(), liveSmall);
        expect("largeAllocations() vs live payloads", s.largeAllocations(), liveLargeCount);
        expect("largeBytes() vs live payload bytes", s.largeBytes(), liveLarge);
        expect("reallocs()", s.reallocs(), reallocs);
        expect(
                "internalFragmentationBytes()",
                s.internalFragmentationBytes(),
                s.bytesInAllocatedBlocks() - s.bytesRequested());
        System.out.println("failed checks so far: " + FAILURES.get());
        return ok;
    }

    static void expect(String what, long actual, long expected) {
        if (actual != expected) {
            fail(what + ": " + actual + " (expected " + expected + ")");
        }
    }

    private Demo() {}
}
