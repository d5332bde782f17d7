package io.github.pymalloc4j;

import static io.github.pymalloc4j.TestSupport.assertSameFingerprint;
import static io.github.pymalloc4j.TestSupport.fingerprint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * What a refused free, usableSize or realloc says must match what the address is: a block past the pool's bump
 * pointer was never handed out (not a double free), an address in the bytes after a pool's last whole block is in
 * the pool's tail (not some bytes into a block), and a block that was handed out and freed is a double free. The
 * messages are how a user finds their bug; a wrong one sends them after the wrong one. From the owner thread and from
 * another thread, since the two take different paths to the same check.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadFreeMessageTest {
    /** "N bytes into a block", "into a 416-byte block", "into an ... block". */
    static final Pattern INTO_A_BLOCK = Pattern.compile("into an? (\\d+-byte )?block|bytes into a");

    private Allocator a;
    private ExecutorService other;

    @BeforeEach
    void setUp() {
        // nothing moves behind the test's back: no maintenance round returns or collects anything for a minute
        a = Allocator.builder().purgeDelay(Duration.ofMinutes(1)).build();
        other = Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name("message-other").unstarted(r));
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        StressSupport.closeAfter(a, other);
    }

    /** What the message of a refused call must and must not say. */
    record Expect(String what, List<String> mustSay, List<String> mustNotSay, boolean noIntoABlock) {
        static Expect neverHandedOut() {
            return new Expect(
                    "a block past the bump pointer", List.of("never handed out"), List.of("double free"), false);
        }

        static Expect tail() {
            return new Expect("an address in the pool's tail", List.of("tail"), List.of("double free"), true);
        }

        static Expect doubleFree() {
            return new Expect("a block handed out and freed", List.of("double free"), List.of(), false);
        }

        static Expect interior() {
            return new Expect("an address inside a block", List.of("interior"), List.of("tail"), false);
        }

        /** Null when {@code message} says what it must, else what is wrong with it. */
        String check(String message) {
            if (message == null) {
                return "no message";
            }
            String lower = message.toLowerCase(Locale.ROOT);
            for (String w : mustSay) {
                if (!lower.contains(w)) {
                    return "does not say \"" + w + "\"";
                }
            }
            for (String w : mustNotSay) {
                if (lower.contains(w)) {
                    return "says \"" + w + "\"";
                }
            }
            if (noIntoABlock && INTO_A_BLOCK.matcher(lower).find()) {
                return "says the address is some bytes into a block";
            }
            return null;
        }
    }

    /** The three calls that validate an address, each of which must refuse it with the expected message. */
    static Map<String, Executable> validatingCalls(Allocator a, long address) {
        return Map.of(
                "free", () -> a.free(address),
                "usableSize", () -> a.usableSize(address),
                "realloc", () -> a.realloc(address, 8));
    }

    /** Null when every validating call refuses {@code address} as expected and changes nothing, else the failures. */
    static List<String> refusals(Allocator a, long address, Expect expect, String ctx) {
        List<String> wrong = new ArrayList<>();
        for (var call : validatingCalls(a, address).entrySet()) {
            String where = ctx + ": " + call.getKey() + "(0x" + Long.toHexString(address) + "), " + expect.what();
            try {
                call.getValue().execute();
                wrong.add(where + ": accepted");
            } catch (IllegalArgumentException e) {
                String problem = expect.check(e.getMessage());
                if (problem != null) {
                    wrong.add(where + ": message " + problem + ": \"" + e.getMessage() + "\"");
                }
            } catch (Throwable t) {
                wrong.add(where + ": threw " + t);
            }
        }
        return wrong;
    }

    private <T> T onOther(Callable<T> task) throws Exception {
        try {
            return other.submit(task).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw (Error) e.getCause();
        }
    }

    /** Checks from this (the owner) thread and from another one; then that nothing changed. */
    private void expectRefused(long address, Expect expect, List<String> failures) throws Exception {
        var before = fingerprint(a.stats());
        failures.addAll(refusals(a, address, expect, "owner thread"));
        failures.addAll(onOther(() -> refusals(a, address, expect, "other thread")));
        assertSameFingerprint(before, fingerprint(a.stats()), expect.what() + " at 0x" + Long.toHexString(address));
    }

    private static void assertNoFailures(List<String> failures) {
        if (!failures.isEmpty()) {
            fail(failures.size() + " refusals say the wrong thing, first ones:\n  "
                    + String.join("\n  ", failures.subList(0, Math.min(12, failures.size()))));
        }
    }

    /** One block of every size class, each in a fresh pool of its own: {@code first[c]} is at its pool's base. */
    private long[] oneBlockPerClass() {
        long[] first = new long[32];
        for (int c = 0; c < 32; c++) {
            first[c] = a.malloc(16L * (c + 1));
        }
        long poolSize = a.stats().poolSize();
        for (int c = 0; c < 32; c++) {
            assertEquals(0, first[c] & (poolSize - 1), "test premise: block of class " + c + " opens a fresh pool");
        }
        return first;
    }

    @Test
    void aBlockPastTheBumpPointerWasNeverHandedOutNotFreed() throws Exception {
        long p = a.malloc(410); // class 25, 416-byte blocks: the only block of a fresh pool
        long poolSize = a.stats().poolSize();
        assertEquals(0, p & (poolSize - 1), "test premise: a fresh pool");
        List<String> failures = new ArrayList<>();
        expectRefused(p + 416, Expect.neverHandedOut(), failures); // the next block the bump pointer would give
        expectRefused(p + 5 * 416, Expect.neverHandedOut(), failures);
        expectRefused(p + 38 * 416, Expect.neverHandedOut(), failures); // the last whole block (capacity 39)
        assertNoFailures(failures);
        a.free(p);
    }

    @Test
    void blocksPastTheBumpPointerOfEveryClassWereNeverHandedOut() throws Exception {
        long[] first = oneBlockPerClass();
        long poolSize = a.stats().poolSize();
        List<String> failures = new ArrayList<>();
        for (int c = 0; c < 32; c++) {
            long bs = 16L * (c + 1), capacity = poolSize / bs;
            for (long i : new long[] {1, capacity / 2, capacity - 1}) {
                expectRefused(first[c] + i * bs, Expect.neverHandedOut(), failures);
            }
        }
        assertNoFailures(failures);
        for (long p : first) {
            a.free(p);
        }
    }

    @Test
    void anAddressInAPoolsTailIsInTheTailNotIntoABlock() throws Exception {
        long p = a.malloc(410); // 416-byte blocks: 39 of them fill 16 224 bytes, the last 160 are the tail
        long poolSize = a.stats().poolSize();
        long tail = p + 39 * 416;
        assertEquals(160, p + poolSize - tail, "test premise: the 160-byte tail of a 16 KiB pool of 416-byte blocks");
        List<String> failures = new ArrayList<>();
        expectRefused(tail, Expect.tail(), failures); // where block 39 would start, if it fitted
        expectRefused(tail + 16, Expect.tail(), failures);
        expectRefused(tail + 8, Expect.tail(), failures);
        expectRefused(p + poolSize - 16, Expect.tail(), failures);
        assertNoFailures(failures);
        a.free(p);
    }

    @Test
    void theTailOfEveryClassWithOneIsTheTail() throws Exception {
        long[] first = oneBlockPerClass();
        long poolSize = a.stats().poolSize();
        List<String> failures = new ArrayList<>();
        int classesWithTail = 0;
        for (int c = 0; c < 32; c++) {
            long bs = 16L * (c + 1), capacity = poolSize / bs, tail = first[c] + capacity * bs;
            if (poolSize % bs == 0) {
                continue;
            }
            classesWithTail++;
            for (long x : new long[] {tail, tail + 16, first[c] + poolSize - 16}) {
                if (x < first[c] + poolSize) {
                    expectRefused(x, Expect.tail(), failures);
                }
            }
        }
        assertEquals(
                26,
                classesWithTail,
                "16 KiB pools: the classes whose block size (16 x n, n not a power of two) does not divide the pool");
        assertNoFailures(failures);
        for (long p : first) {
            a.free(p);
        }
    }

    @Test
    void aBlockHandedOutAndFreedIsStillADoubleFree() throws Exception {
        long p = a.malloc(410), q = a.malloc(410), r = a.malloc(410), s = a.malloc(410), keep = a.malloc(410);
        List<String> failures = new ArrayList<>();
        a.free(p); // on the owner's free list
        expectRefused(p, Expect.doubleFree(), failures);
        onOther(() -> {
            a.free(q); // pending: freed by another thread, not yet collected
            return null;
        });
        expectRefused(q, Expect.doubleFree(), failures);
        onOther(() -> {
            a.free(r);
            return null;
        });
        a.trim(); // r collected onto the owner's list: below the bump pointer, not live
        assertNull(a.checkInvariants());
        expectRefused(r, Expect.doubleFree(), failures);
        // and a genuine interior pointer is still an interior pointer
        expectRefused(s + 16, Expect.interior(), failures);
        assertNoFailures(failures);
        a.free(s);
        a.free(keep);
        var end = a.stats();
        assertEquals(0, TestSupport.totalBlocksInUse(end), StressSupport.summary(end));
        assertNotNull(end);
    }
}
