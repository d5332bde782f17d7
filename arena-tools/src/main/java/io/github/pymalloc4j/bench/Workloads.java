package io.github.pymalloc4j.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Request-size sequences and orders shared by the benchmarks, computed before measurement. */
final class Workloads {

    /** Seed of the random 1..512 B mix: the same sequence on every run. */
    static final long MIX_SEED = 42L;
    /** Seed of the shuffled free order of {@link BatchBench}. */
    static final long ORDER_SEED = 43L;

    private Workloads() {}

    /**
     * {@code length} request sizes for the {@code size} parameter: every entry equal to the number,
     * or for {@code "mix"} uniformly random in 1..512 from a fixed seed.
     */
    static long[] sizes(String size, int length) {
        long[] out = new long[length];
        if ("mix".equals(size)) {
            SplittableRandom rnd = new SplittableRandom(MIX_SEED);
            for (int i = 0; i < length; i++) {
                out[i] = 1 + rnd.nextInt(512);
            }
        } else {
            long fixed = Long.parseLong(size);
            if (fixed < 1) {
                throw new IllegalArgumentException("size must be 1 or more, or mix: " + size);
            }
            Arrays.fill(out, fixed);
        }
        return out;
    }

    /** 0..n-1 in a random order (Fisher-Yates) from a fixed seed: the same permutation on every run. */
    static int[] shuffledIndices(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        SplittableRandom rnd = new SplittableRandom(ORDER_SEED);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = out[i];
            out[i] = out[j];
            out[j] = t;
        }
        return out;
    }
}
