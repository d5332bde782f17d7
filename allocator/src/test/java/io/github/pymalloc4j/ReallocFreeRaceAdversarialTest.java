package io.github.pymalloc4j;

import static io.github.pymalloc4j.AdversarialSupport.figure;

import io.github.pymalloc4j.ReallocFreeRaceTest.Figures;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * realloc(p, n) racing free(p) for as long as the adversarial run lasts, in allocators of every purge delay (zero:
 * the pool of p may go back to its arena in the middle of the race; the default; a minute), with the second racer a
 * platform or a virtual thread. After every allocator's races: no leak, the limit's counter back to the arenas, one
 * late-detected double free per race where both calls returned.
 */
@Tag("adversarial")
class ReallocFreeRaceAdversarialTest {
    private static final long SEED = 0x5EED_0502L;

    @Test
    @Timeout(value = 30, unit = TimeUnit.MINUTES)
    void reallocRacingFreeNeverLeaksAndFreesTheBlockOnce() throws Exception {
        System.out.println("[ReallocFreeRaceAdversarialTest] seed 0x" + Long.toHexString(SEED) + ", "
                + AdversarialSupport.seconds() + " s");
        long deadline = AdversarialSupport.deadline();
        long trials = 0, races = 0, verified = 0, bothReturned = 0;
        Throwable failure = null;
        try {
            do {
                long seed = SEED + trials;
                Random r = new Random(seed);
                Duration delay = switch (r.nextInt(3)) {
                    case 0 -> Duration.ZERO;
                    case 1 -> Duration.ofMillis(10);
                    default -> Duration.ofMinutes(1);
                };
                boolean virtual = r.nextBoolean();
                String ctx = "trial seed 0x" + Long.toHexString(seed) + " (purge delay " + delay + ", B "
                        + (virtual ? "virtual" : "platform") + ")";
                try (Allocator a = Allocator.builder().purgeDelay(delay).build()) {
                    long end = Math.min(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
                    Figures f = ReallocFreeRaceTest.run(a, seed, 200_000, end, virtual);
                    races += f.races;
                    verified += f.verified;
                    bothReturned += f.bothReturned;
                    trials++;
                    ReallocFreeRaceTest.checkEnd(a, f, 0, ctx);
                } catch (Throwable t) {
                    failure = new AssertionError(
                            ctx + " (base seed 0x" + Long.toHexString(SEED) + "): " + t.getMessage(), t);
                    break;
                }
            } while (System.nanoTime() < deadline);
        } finally {
            System.out.println("[ReallocFreeRaceAdversarialTest] " + figure(trials) + " allocators, " + figure(races)
                    + " realloc/free races, " + figure(bothReturned) + " double frees caught late, " + figure(verified)
                    + " blocks verified, " + (failure == null ? "no leak" : "FAILED"));
        }
        if (failure != null) {
            throw (AssertionError) failure;
        }
    }
}
