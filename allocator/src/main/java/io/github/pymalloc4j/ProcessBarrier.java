package io.github.pymalloc4j;

/**
 * A process-wide memory barrier: Linux {@code membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)}, which
 * makes every running thread of this process execute a full fence before the call returns. It lets
 * the maintenance thread pair with owner threads that use no fence at all on their fast path (the
 * "asymmetric Dekker" of userspace RCU and Folly's {@code asymmetricHeavyBarrier}). About 10 us a call
 * here, paid once per maintenance round, never on an allocation.
 */
final class ProcessBarrier {
    private static final int MEMBARRIER_CMD_QUERY = 0;
    private static final int MEMBARRIER_CMD_PRIVATE_EXPEDITED = 1 << 3;
    private static final int MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4;

    private static final boolean AVAILABLE = probe();

    private ProcessBarrier() {}

    /** Whether the barrier works on this machine (Linux 4.14+ on x86-64 or AArch64, not filtered). */
    static boolean isAvailable() {
        return AVAILABLE;
    }

    /**
     * Issues the barrier.
     *
     * @throws IllegalStateException if it failed (it was available at start-up, so this is not expected).
     */
    static void fence() {
        if (Libc.syscall(syscallNumber(), MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) != 0) {
            throw new IllegalStateException("membarrier(PRIVATE_EXPEDITED) failed");
        }
    }

    private static boolean probe() {
        if (!"Linux".equals(System.getProperty("os.name")) || Boolean.getBoolean("pymalloc4j.noMembarrier")) {
            return false;
        }
        final long number = syscallNumber();
        if (number < 0) {
            return false;
        }
        try {
            final long supported = Libc.syscall(number, MEMBARRIER_CMD_QUERY, 0);
            return supported > 0
                    && (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0
                    && Libc.syscall(number, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0
                    && Libc.syscall(number, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0;
        } catch (final RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static long syscallNumber() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> 324;
            case "aarch64" -> 283;
            default -> -1;
        };
    }
}
