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
 * The first handshake: arming a full pool against a remote free.
 *
 * <p>A pool of two blocks has block {@code a} handed out. The owner hands out the last block
 * ({@link Heap#allocate}), which fills the pool: {@code Heap.onFull} collects remote frees, else arms
 * the pool ({@link Pool#arm}: {@code notifyState = NOTIFY} with a volatile store, then volatile reads of
 * the remote bitmap) and detaches it from its class list. At the same time another thread frees
 * {@code a} ({@link Pool#freeRemote}: an atomic OR on the remote bitmap, then a volatile read of the
 * notify state, and a CAS NOTIFY to NOTIFIED whose winner pushes the pool on the heap's notified stack).
 * Each side writes, then reads what the other writes (a Dekker pair), so at least one sees the other.
 *
 * <p>The result, read when both are done: {@code listed} (the pool is in its heap's class list),
 * {@code stacked} (the heap's notified stack is not empty), {@code pending} (remote frees not yet
 * collected), {@code pushed} (the freer claimed the notification and pushed).
 * <ul>
 *   <li>ACCEPTABLE {@code 1, 0, 0, 0}: the owner saw the free while filling the pool (its collection, or
 *       arming found the remote bit and collected it): the pool stays listed with room.</li>
 *   <li>ACCEPTABLE {@code 0, 1, 1, 1}: the free saw the pool armed, claimed it and pushed it: the owner
 *       will take it back when it drains its stack.</li>
 *   <li>FORBIDDEN {@code 0, 0, 1, 0}: the lost wake-up. The pool is detached with a free block that no
 *       one will ever tell the owner about: the owner missed a remote free of a full pool. This is what
 *       arming with a plain store, or reading the bitmap before the store is visible, would allow.</li>
 *   <li>FORBIDDEN anything else, e.g. a listed pool with a free not collected, or a pool on the stack
 *       that no freer pushed.</li>
 * </ul>
 */
@JCStressTest
@Description(
        "Arming a full pool (Notification.arm) against a remote free (Pool.freeRemote): no remote free of a full pool is missed")
@Outcome(
        id = "1, 0, 0, 0",
        expect = ACCEPTABLE,
        desc = "the owner collected the remote free while filling the pool; it stays listed")
@Outcome(
        id = "0, 1, 1, 1",
        expect = ACCEPTABLE,
        desc = "the pool was armed first; the freer claimed it and pushed it on the notified stack")
@Outcome(
        id = "0, 0, 1, 0",
        expect = FORBIDDEN,
        desc = "lost wake-up: detached full pool with a free block, not on the notified stack")
@Outcome(expect = FORBIDDEN, desc = "any other state breaks the notification protocol")
@State
public class FullPoolArmingStress {
    private final Heap heap = StressFixtures.heap(false);
    private final Pool pool = StressFixtures.listedPool(heap, 2);
    private final long a = heap.allocate(StressFixtures.CLASS, StressFixtures.BLOCK);
    private int pushed;

    @Actor
    public void owner() {
        heap.allocate(StressFixtures.CLASS, StressFixtures.BLOCK);
    }

    @Actor
    public void remote() {
        final Heap notify = pool.freeRemote(a);
        if (notify != null) {
            Notification.push(notify, pool);
            pushed = 1;
        }
    }

    @Arbiter
    public void arbiter(final IIII_Result r) {
        r.r1 = pool.listed ? 1 : 0;
        r.r2 = Notification.hasNotifiedVolatile(heap) ? 1 : 0;
        r.r3 = pool.pendingRemoteFreesOpaque();
        r.r4 = pushed;
    }
}
