package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code close()} racing every kind of call, in child JVMs because the failure this guards against is a crash
 * (SIGSEGV in a free-list link or a realloc copy in an arena already unmapped). Four threads malloc, free,
 * realloc, calloc, allocate aligned, ask usable sizes, take statistics, trim, and write and verify segments while the main thread closes the allocator at a
 * random moment. Every call must either complete normally or throw {@link IllegalStateException}; a segment read
 * after {@code close()} must throw too; no block may ever read back other than it was written; the child must
 * exit normally.
 */
@Tag("adversarial")
class CloseRaceAdversarialTest {

    @Test
    void closeRacingCallsNeverCrashesNorCorrupts() {
        long seconds = AdversarialSupport.seconds();
        long deadline = AdversarialSupport.deadline();
        long children = 0;
        long trials = 0;
        long calls = 0;
        long refused = 0;
        long seed = 0xC105EL;
        do {
            long childSeconds = Math.max(1, Math.min(seconds, 30));
            AdversarialSupport.Child c = AdversarialSupport.runChild(
                    Child.class,
                    childSeconds + 90,
                    List.of(),
                    Long.toString(childSeconds),
                    Long.toString(seed + children));
            assertFalse(
                    c.crashed(),
                    () -> "child JVM crashed (seed " + (seed) + "): " + AdversarialSupport.crashSummary(c.hsErrHead())
                            + "\n" + c.describe());
            assertEquals(0, c.exitCode(), c::describe);
            assertTrue(c.figure("trials") > 0, c::describe);
            trials += c.figure("trials");
            calls += c.figure("calls");
            refused += c.figure("refused");
            children++;
        } while (System.nanoTime() < deadline);
        System.out.println("[CloseRaceAdversarialTest] " + children + " child JVMs, "
                + AdversarialSupport.figure(trials)
                + " close() races, " + AdversarialSupport.figure(calls) + " racing calls, "
                + AdversarialSupport.figure(refused) + " refused with IllegalStateException, no crash, no corruption");
    }

    /** The child: trials of four workers and a close() at a random moment, for the given seconds. */
    static final class Child {
        static final int WORKERS = 4;

        public static void main(String[] args) throws Exception {
            long stopAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[0]));
            SplittableRandom random = new SplittableRandom(Long.parseLong(args[1]));
            AtomicLong calls = new AtomicLong();
            AtomicLong refused = new AtomicLong();
            long trials = 0;
            while (System.nanoTime() < stopAt) {
                trial(random.split(), calls, refused);
                trials++;
            }
            System.out.println("trials " + trials);
            System.out.println("calls " + calls.get());
            System.out.println("refused " + refused.get());
            System.exit(0);
        }

        static void trial(SplittableRandom random, AtomicLong calls, AtomicLong refused) throws Exception {
            Allocator a =
                    Allocator.builder().arenaSize(256 * 1024).poolSize(4096).build();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch started = new CountDownLatch(WORKERS);
            CountDownLatch closed = new CountDownLatch(1);
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                long seed = random.nextLong();
                int id = w;
                workers.add(Thread.ofPlatform().start(() -> {
                    try {
                        work(a, id, new SplittableRandom(seed), started, closed, calls, refused);
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }));
            }
            started.await();
            long delayNanos = random.nextLong(3_000_000);
            long t0 = System.nanoTime();
            while (System.nanoTime() - t0 < delayNanos) {
                Thread.onSpinWait();
            }
            a.close();
            closed.countDown();
            for (Thread t : workers) {
                t.join(TimeUnit.SECONDS.toMillis(60));
                if (t.isAlive()) {
                    System.out.println("a worker did not finish after close()");
                    System.exit(4);
                }
            }
            if (failure.get() != null) {
                System.out.println("unexpected outcome of a call racing close():");
                failure.get().printStackTrace(System.out);
                System.exit(3);
            }
        }

        /**
         * Calls until one is refused because the allocator is closing; once close() has returned, every held
         * segment must refuse access.
         */
        static void work(
                Allocator a,
                int id,
                SplittableRandom r,
                CountDownLatch started,
                CountDownLatch closed,
                AtomicLong calls,
                AtomicLong refused)
                throws InterruptedException {
            List<MemorySegment> segments = new ArrayList<>();
            List<Long> addresses = new ArrayList<>();
            long n = 0;
            started.countDown();
            try {
                while (true) {
                    n++;
                    int op = r.nextInt(10);
                    long size = 1 + r.nextInt(r.nextInt(8) == 0 ? 4096 : 512);
                    switch (op) {
                        case 0, 1, 2 -> {
                            MemorySegment s = a.allocate(size, 1L << r.nextInt(4));
                            fill(s, id, n);
                            segments.add(s);
                        }
                        case 3, 4 -> {
                            if (!segments.isEmpty()) {
                                MemorySegment s = segments.remove(r.nextInt(segments.size()));
                                verify(s, id);
                                a.free(s);
                            }
                        }
                        case 5 -> addresses.add(r.nextBoolean() ? a.malloc(size) : a.calloc(1, size));
                        case 6 -> addresses.add(a.mallocAligned(size, 1L << (3 + r.nextInt(10))));
                        case 7 -> {
                            if (!addresses.isEmpty()) {
                                int i = r.nextInt(addresses.size());
                                addresses.set(i, a.realloc(addresses.get(i), 1 + r.nextInt(2048)));
                            }
                        }
                        case 8 -> {
                            if (!addresses.isEmpty()) {
                                long p = addresses.remove(r.nextInt(addresses.size()));
                                a.usableSize(p);
                                a.free(p);
                            }
                        }
                        default -> {
                            int rare = r.nextInt(512);
                            if (rare == 0) {
                                a.stats();
                            } else if (rare == 1) {
                                a.trim();
                            } else if (!segments.isEmpty()) {
                                verify(segments.get(r.nextInt(segments.size())), id);
                            }
                        }
                    }
                    calls.incrementAndGet();
                    if (segments.size() > 64) {
                        MemorySegment s = segments.removeFirst();
                        verify(s, id);
                        a.free(s);
                    }
                    if (addresses.size() > 64) {
                        a.free(addresses.removeFirst());
                    }
                }
            } catch (IllegalStateException refusedCall) {
                refused.incrementAndGet();
            }
            // A segment access that raced the JDK's close of a shared arena is stopped by an asynchronous
            // exception, and HotSpot sets the interrupt flag of a thread it delivers one to: clear it.
            Thread.interrupted();
            closed.await(); // a call is refused as soon as close() begins; segments die before it returns
            for (MemorySegment s : segments) {
                try {
                    s.get(ValueLayout.JAVA_BYTE, 0);
                    throw new AssertionError("a segment of a closed allocator was still readable: " + s);
                } catch (IllegalStateException expected) {
                    refused.incrementAndGet();
                }
            }
        }

        /** Byte i of a segment of worker id: id in the top bits, the write number and i below. */
        static void fill(MemorySegment s, int id, long n) {
            byte tag = (byte) (id << 5 | (n & 31));
            s.set(ValueLayout.JAVA_BYTE, 0, tag);
            for (long i = 1; i < s.byteSize(); i++) {
                s.set(ValueLayout.JAVA_BYTE, i, (byte) (tag + i));
            }
        }

        static void verify(MemorySegment s, int id) {
            byte tag = s.get(ValueLayout.JAVA_BYTE, 0);
            if ((tag >> 5 & 7) != id) {
                throw new AssertionError(
                        "block " + s + " of worker " + id + " holds worker " + (tag >> 5 & 7) + "'s tag");
            }
            for (long i = 1; i < s.byteSize(); i++) {
                if (s.get(ValueLayout.JAVA_BYTE, i) != (byte) (tag + i)) {
                    throw new AssertionError("block " + s + " of worker " + id + " corrupt at offset " + i);
                }
            }
        }
    }
}
