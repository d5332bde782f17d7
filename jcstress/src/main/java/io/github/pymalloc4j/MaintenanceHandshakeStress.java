package io.github.pymalloc4j;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The second handshake: an owner's call against a maintenance round.
 *
 * <p>The owner's heap has a listed pool with two blocks handed out, one of them freed by another thread
 * and not yet collected ({@code used = 2}). The owner starts a call ({@link Heap#enter}: {@code inCall =
 * 1} with an opaque store, a compiler barrier, a read of {@code maintenanceRequested}; the lock only if
 * it was set), reads the pool's {@code used} as any owner operation would, and stays inside the call
 * until the arbiter ends it. At the same time a real maintenance round runs
 * ({@link Maintenance#runRound}: try-lock the heap, set the request, {@link ProcessBarrier#fence}, read
 * {@code inCall}, and only if the owner is out, {@link Heap#maintain}, which collects the remote free:
 * {@code used = 1}). The barrier makes every running thread execute a full fence, so either the owner
 * sees the request and waits on the lock, or maintenance sees the owner inside its call and skips the
 * heap. Where {@code membarrier} is not available the heap takes the lock on every call, as the
 * allocator's heaps then do, and the test checks that path instead.
 *
 * <p>The result: {@code locked} (the owner saw the request and took the lock), the {@code used} the
 * owner read inside its call, and the work of the round (1: it collected the free, 0: it skipped the
 * heap).
 * <ul>
 *   <li>ACCEPTABLE {@code 0, 2, 0}: the owner entered first; maintenance saw it in the call and skipped.</li>
 *   <li>ACCEPTABLE {@code 0, 1, 1}: the round ended before the call began; the owner sees its work.</li>
 *   <li>ACCEPTABLE {@code 1, 1, 1}: the owner saw the request, waited for the lock, then saw the work.</li>
 *   <li>ACCEPTABLE {@code 1, 2, 0}: the owner saw the request and backed off to the lock, but maintenance
 *       read {@code inCall} while it was still set and skipped (safe: no work done).</li>
 *   <li>FORBIDDEN {@code 0, 2, 1}: the owner is inside its call without the lock and read the heap
 *       before the collection, yet maintenance collected: maintenance changed a heap while its owner was
 *       inside a call (invariant 6 of the package). Without the barrier (or with a JIT that sank the
 *       owner's load above its store) this is reachable.</li>
 *   <li>FORBIDDEN {@code 1, 2, 1} and {@code x, 1, 0}: the owner missed work done before it took the
 *       lock, or saw work that was never done.</li>
 * </ul>
 */
@JCStressTest
@Description(
        "Heap.enter against Maintenance.runRound (ProcessBarrier): maintenance never works on a heap whose owner is in a call")
@Outcome(id = "0, 2, 0", expect = ACCEPTABLE, desc = "owner in its call; maintenance saw it and skipped the heap")
@Outcome(
        id = "0, 1, 1",
        expect = ACCEPTABLE,
        desc = "the round finished before the call; the owner sees the collection")
@Outcome(
        id = "1, 1, 1",
        expect = ACCEPTABLE,
        desc = "the owner saw the request, waited on the lock, sees the collection")
@Outcome(
        id = "1, 2, 0",
        expect = ACCEPTABLE,
        desc = "the owner saw the request; maintenance saw it still in a call and skipped")
@Outcome(id = "0, 2, 1", expect = FORBIDDEN, desc = "maintenance collected while the owner was inside a call")
@Outcome(expect = FORBIDDEN, desc = "the owner missed maintenance's work, or saw work not done")
@State
public class MaintenanceHandshakeStress {
    private final Heap heap = StressFixtures.heap(ProcessBarrier.isAvailable());
    private final Pool pool = StressFixtures.listedPool(heap, 4);
    private final Maintenance maintenance;

    public MaintenanceHandshakeStress() {
        heap.allocate(StressFixtures.CLASS, StressFixtures.BLOCK);
        final long freed = heap.allocate(StressFixtures.CLASS, StressFixtures.BLOCK);
        if (StressFixtures.freeRemote(pool, freed) != 1 || pool.used != 2) {
            throw new IllegalStateException("the remote free did not take effect");
        }
        final HeapSet heaps = new HeapSet(StressFixtures.ARENAS, 0, true);
        heaps.live().add(heap);
        maintenance = new Maintenance(heaps, StressFixtures.ARENAS, 10_000_000L); // never started: runRound only
    }

    @Actor
    public void owner(final III_Result r) {
        final boolean locked = heap.enter();
        r.r1 = locked ? 1 : 0;
        r.r2 = pool.used;
        if (locked) {
            heap.exit(true); // the lock is the owner thread's to release
        }
        // else the owner stays inside its call: the arbiter ends it
    }

    @Actor
    public void maintenance(final III_Result r) {
        r.r3 = maintenance.runRound(false);
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        if (r.r1 == 0) {
            heap.exit(false);
        }
    }
}
