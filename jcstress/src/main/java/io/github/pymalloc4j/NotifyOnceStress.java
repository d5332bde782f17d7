package io.github.pymalloc4j;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * The first handshake, freer against freer: an armed full pool is pushed on its heap's notified stack
 * exactly once.
 *
 * <p>A pool of two blocks is filled by its owner, which arms it ({@code NOTIFY}) and detaches it. Two
 * other threads each free one of its blocks at once ({@link Pool#freeRemote}); each that wins the CAS
 * {@code NOTIFY -> NOTIFIED} pushes the pool ({@link Notification#push}). The pool has one
 * {@code nextNotified} link: pushed twice it would be linked to itself and a drain would take it
 * twice.
 *
 * <p>The result: {@code pushed by the first freer}, {@code pushed by the second}, the notify state and
 * {@code stacked} (the heap's stack is not empty), read when both are done.
 * <ul>
 *   <li>ACCEPTABLE {@code 1, 0, 2, 1} and {@code 0, 1, 2, 1}: one freer claimed the notification and
 *       pushed the pool, the other saw it claimed; the pool is NOTIFIED and on the stack.</li>
 *   <li>FORBIDDEN {@code 1, 1, ...}: both pushed: the pool is on the stack twice (invariant "a pool is on
 *       its heap's notified stack at most once"). A check-then-set instead of the CAS allows it.</li>
 *   <li>FORBIDDEN {@code 0, 0, ...}: neither pushed: the owner is never told of the two free blocks.</li>
 *   <li>FORBIDDEN anything else.</li>
 * </ul>
 */
@JCStressTest
@Description("Two remote frees into an armed full pool: exactly one claims NOTIFY -> NOTIFIED and pushes it")
@Outcome(
        id = {"1, 0, 2, 1", "0, 1, 2, 1"},
        expect = ACCEPTABLE,
        desc = "one freer claimed and pushed the pool; it is on the stack once")
@Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "both freers pushed: the pool is on the notified stack twice")
@Outcome(id = "0, 0, .*", expect = FORBIDDEN, desc = "no freer pushed: the owner is never told of the free blocks")
@Outcome(expect = FORBIDDEN, desc = "any other state breaks the notification protocol")
@State
public class NotifyOnceStress {
    private final Heap heap = StressFixtures.heap(false);
    private final Pool pool = StressFixtures.listedPool(heap, 2);
    private final long a = heap.allocate(StressFixtures.CLASS, StressFixtures.BLOCK);
    private final long b = armed(heap.allocate(StressFixtures.CLASS, StressFixtures.BLOCK));

    private long armed(final long block) {
        if (pool.listed || Notification.stateVolatile(pool) != Notification.NOTIFY) {
            throw new IllegalStateException("the full pool was not armed and detached");
        }
        return block;
    }

    @Actor
    public void freer1(final IIII_Result r) {
        r.r1 = claimAndPush(a);
    }

    @Actor
    public void freer2(final IIII_Result r) {
        r.r2 = claimAndPush(b);
    }

    private int claimAndPush(final long block) {
        final Heap notify = pool.freeRemote(block);
        if (notify == null) {
            return 0;
        }
        Notification.push(notify, pool);
        return 1;
    }

    @Arbiter
    public void arbiter(final IIII_Result r) {
        r.r3 = Notification.stateVolatile(pool);
        r.r4 = Notification.hasNotifiedVolatile(heap) ? 1 : 0;
    }
}
