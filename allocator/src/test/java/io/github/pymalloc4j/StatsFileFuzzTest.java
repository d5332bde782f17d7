package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fuzzer for the statistics file's reader: real published files, mutated (bytes flipped, extreme values at
 * field boundaries, header counts and sizes made up, files cut or extended) before they are opened and, in a
 * third of the cases, while they are mapped. Every outcome must be a valid read, whose every accessor, record
 * and JSON works, or a {@link StatsFileException}; nothing else may escape, no read may take long, and the heap
 * must not grow by what a header declares.
 */
@Tag("adversarial")
class StatsFileFuzzTest {
    private static final long SEED = 0xF0220F11EL;
    /** Byte offsets of the header fields (layout version 1, docs/dump-format.md). */
    private static final int[] HEADER_FIELDS = {
        0, 8, 12, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 92, 96, 100, 104, 152, 156, 160, 164, 168, 172, 176, 184
    };

    private static final long[] EXTREMES = {
        0,
        1,
        -1,
        Long.MIN_VALUE,
        Long.MAX_VALUE,
        Integer.MAX_VALUE,
        Integer.MIN_VALUE,
        0xFFFF_FFFFL,
        1L << 31,
        1L << 32,
        1L << 40,
        1L << 62
    };

    @TempDir
    Path dir;

    @Test
    void mutatedFilesReadOrFailWithStatsFileExceptionOnly() throws Exception {
        List<byte[]> seeds = publishedFiles();
        long deadline = AdversarialSupport.deadline();
        SplittableRandom random = new SplittableRandom(SEED);
        long files = 0;
        long valid = 0;
        long refused = 0;
        long changedWhileMapped = 0;
        long slowest = 0;
        Path p = dir.resolve("fuzz.pm4j");
        do {
            long caseSeed = random.nextLong();
            SplittableRandom r = new SplittableRandom(caseSeed);
            byte[] bytes = mutate(seeds.get(r.nextInt(seeds.size())), r);
            Files.deleteIfExists(p);
            Files.write(p, bytes);
            boolean whileMapped = r.nextInt(3) == 0;
            long t0 = System.nanoTime();
            try (StatsFile f = StatsFile.open(p)) {
                if (whileMapped) {
                    changeUnderneath(p, bytes, r);
                    changedWhileMapped++;
                }
                for (int i = 0; i < 2; i++) {
                    exercise(f.read());
                }
                valid++;
            } catch (StatsFileException e) {
                refused++;
                assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "a refusal says why");
                StatsFile.printable(e.getMessage());
            } catch (Throwable t) {
                Path kept = dir.resolve("failing-" + Long.toHexString(caseSeed) + ".pm4j");
                Files.write(kept, bytes);
                throw new AssertionError(
                        "case seed 0x" + Long.toHexString(caseSeed) + " (test seed 0x"
                                + Long.toHexString(SEED) + ", file " + files + ", changed while mapped: " + whileMapped
                                + "): " + t,
                        t);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            slowest = Math.max(slowest, ms);
            if (ms > 10_000) {
                fail("case seed 0x" + Long.toHexString(caseSeed) + ": one file took " + ms + " ms");
            }
            files++;
        } while (System.nanoTime() < deadline);
        System.out.println(
                "[StatsFileFuzzTest] seed 0x" + Long.toHexString(SEED) + ": " + AdversarialSupport.figure(files)
                        + " files fuzzed (" + AdversarialSupport.figure(changedWhileMapped) + " changed while mapped), "
                        + AdversarialSupport.figure(valid) + " read, " + AdversarialSupport.figure(refused)
                        + " refused with StatsFileException, slowest " + slowest + " ms");
        assertTrue(files > 0);
    }

    /** Files of allocators with different geometries and contents, as published. */
    private List<byte[]> publishedFiles() throws IOException {
        List<byte[]> out = new ArrayList<>();
        long[][] geometries = {{1 << 20, 16 << 10}, {256 << 10, 4 << 10}, {1 << 20, 64 << 10}};
        for (long[] g : geometries) {
            try (Allocator a = Allocator.builder()
                    .arenaSize(g[0])
                    .poolSize(g[1])
                    .publishStats("fuzz")
                    .publishDirectory(dir)
                    .publishPeriod(Duration.ofHours(1))
                    .build()) {
                List<Long> live = new ArrayList<>();
                for (int i = 0; i < 4000; i++) {
                    live.add(a.malloc(1 + (i * 37) % 512));
                }
                live.add(a.malloc(5000));
                for (int i = 0; i < live.size(); i += 3) {
                    a.free(live.get(i));
                }
                a.publishNow();
                out.add(Files.readAllBytes(a.statsFile().orElseThrow()));
            }
        }
        return out;
    }

    private static byte[] mutate(byte[] original, SplittableRandom r) {
        byte[] b = original.clone();
        int mutations = 1 + r.nextInt(r.nextBoolean() ? 3 : 40);
        for (int m = 0; m < mutations; m++) {
            switch (r.nextInt(8)) {
                case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8)); // a bit flip anywhere
                case 1 -> b[r.nextInt(Math.min(b.length, 256))] = (byte) r.nextInt(256); // a header byte
                case 2 -> putLong(b, HEADER_FIELDS[r.nextInt(HEADER_FIELDS.length)], extreme(r)); // a header field
                case 3 -> putInt(b, HEADER_FIELDS[r.nextInt(HEADER_FIELDS.length)], (int) extreme(r));
                case 4 -> putLong(b, 256 + 8 * r.nextInt(64), extreme(r)); // a total
                case 5 -> putLong(b, 768 + 8 * r.nextInt(256), extreme(r)); // a size-class record field
                case 6 -> {
                    int at = 2816 + r.nextInt(Math.max(1, b.length - 2816 - 8));
                    putLong(b, at & ~3, extreme(r)); // an arena record
                }
                default -> {
                    int len = r.nextInt(b.length + 1); // cut or extended
                    b = r.nextBoolean() ? Arrays.copyOf(b, len) : Arrays.copyOf(b, b.length + r.nextInt(4096));
                    if (b.length == 0) {
                        return b;
                    }
                }
            }
        }
        return b;
    }

    /** What another process could do to a mapped file: rewrite a header field, cut it, or grow it. */
    private static void changeUnderneath(Path p, byte[] bytes, SplittableRandom r) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            switch (r.nextInt(3)) {
                case 0 -> {
                    ByteBuffer v = ByteBuffer.allocate(8)
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .putLong(0, extreme(r));
                    ch.write(v, HEADER_FIELDS[r.nextInt(HEADER_FIELDS.length)]);
                }
                case 1 -> ch.truncate(r.nextInt(Math.max(1, bytes.length)));
                default -> ch.write(ByteBuffer.wrap(new byte[] {1}), bytes.length + r.nextInt(8192));
            }
        }
    }

    /** Every accessor of a read snapshot, its records and its JSON. */
    private static void exercise(StatsFile.Snapshot s) {
        String json = s.toJson();
        Json.parse(json);
        s.toString();
        s.name();
        s.pid();
        s.startTime();
        s.heartbeat();
        s.heartbeatAge();
        s.publishPeriod();
        s.staleReason(Duration.ZERO);
        s.staleReason(Duration.ofDays(365_000));
        s.processAlive();
        s.accountedBytes();
        s.internalFragmentationBytes();
        s.externalFragmentation();
        s.freeNotReturnedBytes();
        for (AllocatorStats.SizeClassStats c : s.sizeClasses()) {
            c.toString();
        }
        for (StatsFile.ArenaRecord a : s.arenas()) {
            a.toString();
            a.blocksInUse();
            for (StatsFile.PoolRecord pool : a.pools()) {
                pool.carved();
            }
        }
    }

    private static long extreme(SplittableRandom r) {
        return r.nextInt(4) == 0 ? r.nextLong() : EXTREMES[r.nextInt(EXTREMES.length)];
    }

    private static void putLong(byte[] b, int at, long v) {
        if (at >= 0 && at + 8 <= b.length) {
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
        }
    }

    private static void putInt(byte[] b, int at, int v) {
        if (at >= 0 && at + 4 <= b.length) {
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
        }
    }
}
