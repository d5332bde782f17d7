package io.github.pymalloc4j;

import static io.github.pymalloc4j.AdversarialSupport.figure;
import static io.github.pymalloc4j.TestSupport.assertPattern;
import static io.github.pymalloc4j.TestSupport.assertSameFingerprint;
import static io.github.pymalloc4j.TestSupport.fill;
import static io.github.pymalloc4j.TestSupport.fingerprint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.pymalloc4j.BadFreeMessageTest.Expect;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The messages of refused frees, for as long as the adversarial run lasts: random pool sizes, random size classes,
 * pools with a random number of blocks handed out and a random part of those freed (by the owner or another
 * thread, collected or pending), then random bad addresses in them: freed blocks (a double free), blocks past the
 * bump pointer (never handed out), addresses in the pool's tail, and interior pointers of live blocks, each freed,
 * sized and reallocated from the owner and from another thread. Every refusal must say what the address is, and
 * change nothing.
 */
@Tag("adversarial")
class BadFreeMessageAdversarialTest {
    private static final long SEED = 0x5EED_0801L;

    /** A bad address and what its refusal must say. */
    record Probe(long address, Expect expect) {}

    /** Refusals checked in one allocator, and what was wrong with them. */
    record Outcome(long checked, List<String> wrong, Map<String, Long> wrongByKind) {}

    @Test
    void refusedFreesOfRandomBadAddressesSayWhatTheAddressIs() throws Exception {
        System.out.println("[BadFreeMessageAdversarialTest] seed 0x" + Long.toHexString(SEED) + ", "
                + AdversarialSupport.seconds() + " s");
        long deadline = AdversarialSupport.deadline();
        ExecutorService other = Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name("probe-other").unstarted(r));
        long trials = 0, probes = 0, wrongCount = 0;
        List<String> wrong = new ArrayList<>();
        Map<String, Long> wrongByKind = new TreeMap<>();
        try {
            do {
                long seed = SEED + trials;
                Outcome o = trial(seed, other);
                probes += o.checked();
                wrongCount += o.wrong().size();
                o.wrongByKind().forEach((k, v) -> wrongByKind.merge(k, v, Long::sum));
                for (String s : o.wrong()) {
                    if (wrong.size() < 12) {
                        wrong.add("trial seed 0x" + Long.toHexString(seed) + ": " + s);
                    }
                }
                trials++;
            } while (System.nanoTime() < deadline);
        } finally {
            other.shutdownNow();
            other.awaitTermination(10, TimeUnit.SECONDS);
        }
        System.out.println("[BadFreeMessageAdversarialTest] " + figure(trials) + " allocators, " + figure(probes)
                + " refusals checked, " + figure(wrongCount) + " saying the wrong thing " + wrongByKind);
        if (wrongCount > 0) {
            fail(wrongCount + " of " + probes + " refusals say the wrong thing (base seed 0x" + Long.toHexString(SEED)
                    + "), first ones:\n  " + String.join("\n  ", wrong));
        }
    }

    /** One allocator with random pools and random bad addresses in them. */
    private static Outcome trial(long seed, ExecutorService other) throws Exception {
        Random r = new Random(seed);
        long poolSize = 4096L << r.nextInt(5); // 4 to 64 KiB
        List<String> wrong = new ArrayList<>();
        Map<String, Long> wrongByKind = new TreeMap<>();
        long checked = 0;
        try (Allocator a = Allocator.builder()
                .poolSize(poolSize)
                .purgeDelay(Duration.ofMinutes(1))
                .build()) {
            List<Integer> classes = new ArrayList<>();
            for (int c = 0; c < 32; c++) {
                classes.add(c);
            }
            Collections.shuffle(classes, r);
            classes = classes.subList(0, 1 + r.nextInt(6));
            List<Probe> probes = new ArrayList<>();
            List<long[]> live = new ArrayList<>(); // address, size, seed
            List<Long> otherFrees = new ArrayList<>();
            for (int c : classes) {
                long bs = 16L * (c + 1), capacity = poolSize / bs;
                long k = 1 + r.nextInt((int) capacity); // blocks handed out, in address order from the pool's base
                long[] blocks = new long[(int) k];
                for (int i = 0; i < k; i++) {
                    blocks[i] = a.malloc(bs - r.nextInt(16));
                }
                long base = blocks[0];
                if ((base & (poolSize - 1)) != 0) {
                    throw new AssertionError("test premise: the first block of class " + c + " opens a fresh pool");
                }
                boolean[] freed = new boolean[(int) k];
                for (int i = 1; i < k; i++) { // block 0 stays live: the pool stays in use
                    if (r.nextInt(3) == 0) {
                        freed[i] = true;
                        if (r.nextBoolean()) {
                            a.free(blocks[i]);
                        } else {
                            otherFrees.add(blocks[i]);
                        }
                    }
                }
                for (int i = 0; i < k; i++) {
                    if (!freed[i]) {
                        long s = seed * 1_000 + live.size();
                        fill(blocks[i], bs, s);
                        live.add(new long[] {blocks[i], bs, s});
                    }
                }
                for (int n = 0; n < 8; n++) {
                    switch (r.nextInt(4)) {
                        case 0 -> {
                            int i = r.nextInt((int) k);
                            if (freed[i]) {
                                probes.add(new Probe(blocks[i], Expect.doubleFree()));
                            }
                        }
                        case 1 -> {
                            if (k < capacity) {
                                long i = k + r.nextInt((int) (capacity - k));
                                probes.add(new Probe(base + i * bs, Expect.neverHandedOut()));
                            }
                        }
                        case 2 -> {
                            long tail = capacity * bs;
                            if (tail < poolSize) {
                                long off = tail + r.nextInt((int) (poolSize - tail));
                                if (r.nextBoolean()) {
                                    off &= ~15L; // also 16-aligned, as a block address would be
                                    off = Math.max(off, tail);
                                }
                                probes.add(new Probe(base + off, Expect.tail()));
                            }
                        }
                        default -> {
                            int i = r.nextInt((int) k);
                            if (!freed[i]) {
                                probes.add(new Probe(blocks[i] + 1 + r.nextInt((int) bs - 1), Expect.interior()));
                            }
                        }
                    }
                }
            }
            other.submit(() -> {
                        for (long p : otherFrees) {
                            a.free(p);
                        }
                        return null;
                    })
                    .get(30, TimeUnit.SECONDS);
            if (r.nextBoolean()) {
                a.trim(); // the other thread's frees collected onto the owner's lists (the owner is idle)
            }
            Collections.shuffle(probes, r);
            var before = fingerprint(a.stats());
            for (Probe p : probes) {
                List<String> w = r.nextBoolean()
                        ? BadFreeMessageTest.refusals(a, p.address(), p.expect(), "owner thread")
                        : other.submit(() -> BadFreeMessageTest.refusals(a, p.address(), p.expect(), "other thread"))
                                .get(30, TimeUnit.SECONDS);
                wrong.addAll(w);
                if (!w.isEmpty()) {
                    wrongByKind.merge(p.expect().what(), (long) w.size(), Long::sum);
                }
                checked += 3;
            }
            assertSameFingerprint(
                    before,
                    fingerprint(a.stats()),
                    "seed 0x" + Long.toHexString(seed) + ": after " + probes.size() + " refused addresses");
            assertNull(a.checkInvariants(), "seed 0x" + Long.toHexString(seed));
            for (long[] b : live) {
                assertPattern(
                        b[0], b[1], b[2], () -> "seed 0x" + Long.toHexString(seed) + ": live block after the probes");
                a.free(b[0]);
            }
            a.trim();
            assertEquals(0, TestSupport.totalBlocksInUse(a.stats()), "seed 0x" + Long.toHexString(seed));
        }
        return new Outcome(checked, wrong, wrongByKind);
    }
}
