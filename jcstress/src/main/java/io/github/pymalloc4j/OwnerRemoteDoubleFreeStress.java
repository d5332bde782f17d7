package io.github.pymalloc4j;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;

/**
 * The remote double-free race against the owner: the owner frees a block ({@link Heap#freeLocal}, a
 * plain clear of its live bit after checking its remote bit) and then collects its pool's remote frees
 * ({@link Pool#collectRemote}), while another thread frees the same block ({@link Pool#freeRemote}).
 *
 * <p>Here the remote freer can pass its live check, and set its bit after the owner freed the block: its
 * post-check then finds the block not live and takes the bit back (refused), unless the owner's
 * collection consumed it first, which counts it as a double free ({@code doubleFreesDetected}) and
 * frees nothing. The arbiter collects once more, as the owner's next collection would.
 *
 * <p>The result: {@code remote free returned}, {@code owner free returned} (1) or was refused (0),
 * double frees counted, {@code used} at the end (one other block stays live), remote bits left.
 * <ul>
 *   <li>ACCEPTABLE {@code 1, 0, 0, 1, 0}: the remote free came first; the owner's free was refused, its
 *       collection freed the block.</li>
 *   <li>ACCEPTABLE {@code 0, 1, 0, 1, 0}: the owner's free came first; the remote free was refused (by
 *       its live check, or it took its bit back).</li>
 *   <li>ACCEPTABLE {@code 1, 1, 1, 1, 0}: both returned, and the remote bit that landed on the freed block
 *       was counted as a late-detected double free; the block was freed once.</li>
 *   <li>FORBIDDEN {@code 1, 1, 0, ...}: both frees took effect and nothing counted the second.</li>
 *   <li>FORBIDDEN {@code 0, 0, ...}: both refused: the free is lost.</li>
 *   <li>FORBIDDEN {@code used != 1} or bits left: a block freed twice, lost, or a stray bit that would
 *       free the block's next holder.</li>
 * </ul>
 */
@JCStressTest
@Description(
        "Owner free + collection against a remote free of the same block: one takes effect, the other is refused or counted")
@Outcome(id = "1, 0, 0, 1, 0", expect = ACCEPTABLE, desc = "the remote free won; the owner's free was refused")
@Outcome(id = "0, 1, 0, 1, 0", expect = ACCEPTABLE, desc = "the owner's free won; the remote free was refused")
@Outcome(
        id = "1, 1, 1, 1, 0",
        expect = ACCEPTABLE,
        desc = "both returned; the late remote bit was counted as a double free, nothing freed twice")
@Outcome(id = "1, 1, 0, .*", expect = FORBIDDEN, desc = "both frees took effect, uncounted")
@Outcome(id = "0, 0, .*", expect = FORBIDDEN, desc = "both refused: the free is lost")
@Outcome(expect = FORBIDDEN, desc = "a block freed twice or lost, or a stray remote bit left behind")
@State
public class OwnerRemoteDoubleFreeStress {
    private final Heap heap = StressFixtures.heap(false);
    private final Pool pool = StressFixtures.listedPool(heap, 4);
    private final long a = heap.allocate(StressFixtures.CLASS, StressFixtures.BLOCK);
    private final long b = heap.allocate(StressFixtures.CLASS, StressFixtures.BLOCK);

    @Actor
    public void remote(final IIIII_Result r) {
        r.r1 = StressFixtures.freeRemote(pool, a);
    }

    @Actor
    public void owner(final IIIII_Result r) {
        try {
            heap.freeLocal(pool, a);
            r.r2 = 1;
        } catch (final IllegalArgumentException refused) {
            r.r2 = 0;
        }
        pool.collectRemote(heap.counters);
    }

    @Arbiter
    public void arbiter(final IIIII_Result r) {
        pool.collectRemote(heap.counters);
        r.r3 = (int) heap.counters.doubleFreesDetected;
        r.r4 = b == 0 ? -1 : pool.used;
        r.r5 = pool.pendingRemoteFreesOpaque();
    }
}
