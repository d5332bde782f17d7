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
 * The remote double-free race: two threads that do not own the pool free the same live block at once
 * ({@link Pool#freeRemote}: live check, atomic OR on the remote bitmap, post-check).
 *
 * <p>The OR returns the word's old value, so exactly one freer finds the bit clear: its free takes
 * effect, the other's is refused with {@code IllegalArgumentException} and changes nothing. The owner
 * then collects ({@link Pool#collectRemote}, as it does when its list runs dry).
 *
 * <p>The result: {@code first freer took effect}, {@code second freer took effect} (1) or was refused
 * (0), remote bits pending before the collection, blocks collected, and double frees the owner counted.
 * <ul>
 *   <li>ACCEPTABLE {@code 1, 0, 1, 1, 0} and {@code 0, 1, 1, 1, 0}: one free took effect, one bit was
 *       set, the owner collected the block once.</li>
 *   <li>FORBIDDEN {@code 1, 1, ...}: both frees returned: the block was freed twice (or its bit set
 *       twice and one free lost). A plain read-then-write of the bitmap word instead of the atomic OR
 *       allows it.</li>
 *   <li>FORBIDDEN {@code 0, 0, ...}: both refused: the block's free is lost (it leaks).</li>
 *   <li>FORBIDDEN anything else: a bit lost or a block collected twice.</li>
 * </ul>
 * (A double free counted late, rather than refused, needs the owner to consume the bit in between;
 * {@link OwnerRemoteDoubleFreeStress} races that.)
 */
@JCStressTest
@Description("Two remote frees of the same block (Pool.freeRemote): exactly one takes effect, the other is refused")
@Outcome(
        id = {"1, 0, 1, 1, 0", "0, 1, 1, 1, 0"},
        expect = ACCEPTABLE,
        desc = "one free took effect, the other was refused; collected once")
@Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "both frees took effect: the block was freed twice")
@Outcome(id = "0, 0, .*", expect = FORBIDDEN, desc = "both frees were refused: the free is lost")
@Outcome(expect = FORBIDDEN, desc = "a remote bit lost or set twice")
@State
public class RemoteDoubleFreeStress {
    private final Heap heap = StressFixtures.heap(false);
    private final Pool pool = StressFixtures.listedPool(heap, 4);
    private final long a = heap.allocate(StressFixtures.CLASS, StressFixtures.BLOCK);
    private final long b = heap.allocate(StressFixtures.CLASS, StressFixtures.BLOCK);

    @Actor
    public void freer1(final IIIII_Result r) {
        r.r1 = StressFixtures.freeRemote(pool, a);
    }

    @Actor
    public void freer2(final IIIII_Result r) {
        r.r2 = StressFixtures.freeRemote(pool, a);
    }

    @Arbiter
    public void arbiter(final IIIII_Result r) {
        r.r3 = pool.pendingRemoteFreesOpaque();
        r.r4 = pool.collectRemote(heap.counters);
        r.r5 = (int) heap.counters.doubleFreesDetected;
        if (pool.used != 1 || b == 0) {
            r.r4 = -1; // block b must stay live: a free of a must never touch it
        }
    }
}
