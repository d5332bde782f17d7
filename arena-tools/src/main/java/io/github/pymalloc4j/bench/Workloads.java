package io.github.pymalloc4j.bench;

import java.util.SplittableRandom;

/** Request-size sequences shared by the benchmarks, computed before measurement. */
final class Workloads {

    /** Seed of the random 1..512 B mix: the same sequence on every run. */
    static final long MIX_SEED = 42L;

    private Workloads() {
    }

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
            java.util.Arrays.fill(out, fixed);
        }
        return out;
    }

    static boolean isPymalloc(String impl) {
        return switch (impl) {
            case "pymalloc4j" -> true;
            case "malloc" -> false;
            default -> throw new IllegalArgumentException("impl must be pymalloc4j or malloc: " + impl);
        };
    }
}
