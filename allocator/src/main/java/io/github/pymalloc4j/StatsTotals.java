package io.github.pymalloc4j;

/**
 * What both a live {@link AllocatorStats} snapshot and a published {@link StatsFile.Snapshot} carry: the
 * {@link Statistic} totals, so that one writer ({@link StatsFormat#totalsJson}) renders them for both JSON
 * forms and one report loop prints them.
 */
interface StatsTotals {
    /**
     * @param statistic a {@link Statistic.Unit#BYTES} or {@link Statistic.Unit#COUNT} total.
     * @return its value.
     */
    long get(Statistic statistic);

    /**
     * @param statistic a {@link Statistic.Unit#FRACTION} total.
     * @return its value, from 0 to 1.
     */
    double fraction(Statistic statistic);

    /** A stored or derived long total of {@code stored}, refusing a fraction with a clear message. */
    static long value(final Statistic statistic, final long[] stored) {
        if (statistic.unit() == Statistic.Unit.FRACTION) {
            throw new IllegalArgumentException(statistic + " is a fraction: read it with fraction()");
        }
        return statistic.value(stored);
    }

    /** A fraction total of {@code stored}, refusing a long total with a clear message. */
    static double fraction(final Statistic statistic, final long[] stored) {
        if (statistic.unit() != Statistic.Unit.FRACTION) {
            throw new IllegalArgumentException(statistic + " is not a fraction: read it with get()");
        }
        return statistic.fraction(stored);
    }

    /** The {@link Statistic#ACCOUNTING} categories added up (equal to {@link Statistic#ARENA_BYTES}). */
    static long accounted(final StatsTotals totals) {
        long sum = 0;
        for (final Statistic s : Statistic.ACCOUNTING) {
            sum += totals.get(s);
        }
        return sum;
    }
}
