package io.github.pymalloc4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The notification protocol: how a full pool, which is on no list, comes back to its heap when another
 * thread frees one of its blocks (package-info, "Notification"). Every step is here; the fields it uses
 * ({@code Pool.notifyState}, {@code Pool.nextNotified}, {@code Heap.notified}) are touched by nothing else.
 *
 * <pre>
 *   owner                                   a remote freer (any other thread)
 *   -----                                   ---------------------------------
 *   pool fills: armOrCollect                freeRemote: OR the block's remote bit (Pool)
 *     arm: state = NOTIFY   (volatile)        claim: state NOTIFY -&gt; NOTIFIED (CAS; reads the state
 *          read every remote word (volatile)         after its OR: the Dekker pair with arm)
 *     a bit found? cancel, collect, stay      push: the pool on the heap's stack (CAS on the head)
 *     listed; else detached, armed
 *   allocateSlow: takeAll (swap the head), for each: taken (NOTIFIED -&gt; NONE), collect, list or re-arm
 *   the pool listed again by an own free: disarm (NOTIFY -&gt; NONE by CAS)
 * </pre>
 *
 * Law: arming and a remote free each write, then read what the other writes, so at least one sees the
 * other: no remote free into a full pool is missed (the owner collects it, or the freer claims the pool).
 * A pool is on a heap's notified stack at most once: only the thread whose CAS made it NOTIFIED pushes
 * it, and it is re-armed only after its owner took it off (package-info, invariant 8). Proved on the real
 * classes by the jcstress tests {@code FullPoolArmingStress} and {@code NotifyOnceStress}.
 */
final class Notification {
    /** Not armed: a listed, orphaned or free pool, or a detached one its owner is bringing back. */
    static final int NONE = 0;
    /** Full and detached: the next remote free must tell the heap. */
    static final int NOTIFY = 1;
    /** A remote free has claimed the notification and pushes (or pushed) the pool on the heap's stack. */
    static final int NOTIFIED = 2;

    private static final VarHandle STATE;
    private static final VarHandle STACK;

    static {
        try {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(Pool.class, "notifyState", int.class);
            STACK = lookup.findVarHandle(Heap.class, "notified", Pool.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Notification() {}

    // ------------------------------------------------------------------ state

    /** The pool's notify state. */
    static int stateVolatile(final Pool pool) {
        return (int) STATE.getVolatile(pool);
    }

    /** A new life of the pool starts unarmed (under the arena lock, before any block is handed out). */
    static void resetVolatile(final Pool pool) {
        STATE.setVolatile(pool, NONE);
    }

    // ------------------------------------------------------------------ owner: arming

    /**
     * Owner, for a full pool: collects remote frees until it has room (false: keep it listed, or list it),
     * or arms it so that the next remote free notifies its heap (true: it stays detached; it may be
     * NOTIFIED already).
     *
     * @param collector the owner heap's counters.
     */
    static boolean armOrCollect(final Pool pool, final Counters collector) {
        while (true) {
            if (pool.collectRemote(collector) > 0) {
                return false;
            }
            if (stateVolatile(pool) == NOTIFIED) {
                return true; // a remote free claimed it: it is on, or on its way to, the notified stack
            }
            if (arm(pool)) {
                return true;
            }
            if (!cancel(pool)) {
                return true; // claimed between arm and cancel
            }
        }
    }

    /**
     * Arms the notification, then looks for remote frees that raced in: the volatile write here and the
     * remote free's atomic OR are each followed by a read of the other side (a Dekker pair).
     *
     * @return true if armed with no remote free pending; false if some are pending (the caller cancels
     *         and collects them).
     */
    private static boolean arm(final Pool pool) {
        assert pool.isFull() : "only a full pool is armed";
        STATE.setVolatile(pool, NOTIFY);
        return !pool.hasRemoteBitVolatile();
    }

    /**
     * Owner: the pool is back in its list; stop asking for notifications. If a remote free already claimed
     * it, the pool also arrives on the notified stack, where {@code Pool.listed} tells the owner to ignore it.
     */
    static void disarm(final Pool pool) {
        STATE.compareAndSet(pool, NOTIFY, NONE);
    }

    /** Whether a CAS moved the state from NOTIFY to NONE (the owner cancels, or thread death orphans it). */
    static boolean cancel(final Pool pool) {
        return STATE.compareAndSet(pool, NOTIFY, NONE);
    }

    /**
     * Whether a CAS moved an unarmed pool's state to NOTIFIED: a pool taken off the wrong heap's stack
     * is sent to its own heap as if a remote free had claimed it.
     */
    static boolean claimUnarmed(final Pool pool) {
        return STATE.compareAndSet(pool, NONE, NOTIFIED);
    }

    // ------------------------------------------------------------------ remote freer: claim and push

    /**
     * A remote freer, after its OR landed on a live block: whether it claimed the notification (NOTIFY
     * to NOTIFIED by CAS); the claimer then {@link #push}es the pool.
     */
    static boolean claim(final Pool pool) {
        return (int) STATE.getVolatile(pool) == NOTIFY && STATE.compareAndSet(pool, NOTIFY, NOTIFIED);
    }

    /**
     * The thread whose claim succeeded: pushes the pool on its heap's stack. One CAS on the stack head,
     * once per fill/refill cycle of the pool.
     */
    static void push(final Heap heap, final Pool pool) {
        assert stateVolatile(pool) == NOTIFIED && pool.nextNotified == null
                : "a pool is pushed once, by the thread whose CAS made it NOTIFIED";
        Pool head;
        do {
            head = (Pool) STACK.getVolatile(heap);
            pool.nextNotified = head; // published by the CAS
        } while (!STACK.compareAndSet(heap, head, pool));
    }

    // ------------------------------------------------------------------ owner: drain

    /** Whether pools wait on the heap's stack. */
    static boolean hasNotifiedVolatile(final Heap heap) {
        return STACK.getVolatile(heap) != null;
    }

    /** Owner: takes the whole stack (null if empty); walk it with {@link #taken}. */
    static Pool takeAll(final Heap heap) {
        return STACK.getVolatile(heap) == null ? null : (Pool) STACK.getAndSet(heap, (Pool) null);
    }

    /**
     * Owner: one pool of a taken stack is off it: unlinks it and moves it from NOTIFIED to NONE, so that it
     * can be armed again.
     *
     * @return the next pool of the taken stack, or null.
     */
    static Pool taken(final Pool pool) {
        assert stateVolatile(pool) == NOTIFIED : "only a NOTIFIED pool is on the stack";
        final Pool next = pool.nextNotified;
        pool.nextNotified = null;
        STATE.setVolatile(pool, NONE);
        return next;
    }
}
