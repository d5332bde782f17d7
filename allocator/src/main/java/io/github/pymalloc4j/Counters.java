package io.github.pymalloc4j;

/**
 * Event counts of one heap (or of the arena set, for ownerless pools). Written with plain stores by
 * the single thread that owns them at the time; statistics read them racily, so totals are exact once
 * the threads are quiet and never torn (longs on 64-bit JVMs).
 */
final class Counters {
    long mallocs;
    long localFrees;
    long remoteFreesCollected;
    long doubleFreesDetected;

    /** Adds another set into this one (a retiring heap's counts). */
    void add(final Counters other) {
        mallocs += other.mallocs;
        localFrees += other.localFrees;
        remoteFreesCollected += other.remoteFreesCollected;
        doubleFreesDetected += other.doubleFreesDetected;
    }
}
