package io.github.pymalloc4j;

import java.util.Locale;

/**
 * Renders {@link AllocatorStats} as the text report and as JSON (schema version
 * {@value AllocatorStats#JSON_SCHEMA_VERSION}, documented in {@code docs/stats-format.md}).
 */
final class StatsFormat {
    private StatsFormat() {}

    static String text(final AllocatorStats s) {
        final StringBuilder b = new StringBuilder(4096);
        b.append(String.format(
                Locale.ROOT,
                "pymalloc4j: small requests <= %d bytes in %d size classes; arena %s, pool %s; %s%n%n",
                s.smallRequestThreshold(),
                s.sizeClasses().size(),
                bytes(s.arenaSize()),
                bytes(s.poolSize()),
                s.maxReservedBytes() == Long.MAX_VALUE
                        ? "reserved bytes unlimited"
                        : "at most " + bytes(s.maxReservedBytes()) + " reserved"));
        b.append(
                "class   size   num pools   blocks in use  avail blocks  remote pending    util   bytes requested   internal waste\n");
        b.append(
                "-----   ----   ---------   -------------  ------------  --------------  ------   ---------------   --------------\n");
        for (final AllocatorStats.SizeClassStats c : s.sizeClasses()) {
            if (c.pools() == 0) {
                continue;
            }
            b.append(String.format(
                    Locale.ROOT,
                    "%5d   %4d   %9d   %13d  %12d  %14d  %5.1f%%   %15d   %14d%n",
                    c.index(),
                    c.blockSize(),
                    c.pools(),
                    c.blocksInUse(),
                    c.blocksAvailable(),
                    c.pendingRemoteFrees(),
                    100.0 * c.utilisation(),
                    c.bytesRequested(),
                    c.internalWaste()));
        }
        b.append('\n');
        b.append(String.format(
                Locale.ROOT,
                "heaps: %d (%s), purge delay %.1f ms%s%n",
                s.heaps().size(),
                s.lockFreeOwners() ? "owners lock-free" : "owners locked: no membarrier",
                s.purgeDelayNanos() / 1e6,
                s.maintenanceFailure() == null ? "" : ", last maintenance failure: " + s.maintenanceFailure()));
        b.append("   id  owner                          pools   blocks in use     bytes in use  remote pending\n");
        for (final AllocatorStats.HeapStats h : s.heaps()) {
            if (h.pools() == 0 && h.mallocs() == 0) {
                continue;
            }
            b.append(String.format(
                    Locale.ROOT,
                    "%5d  %-30s %6d  %14d  %15d  %14d%n",
                    h.id(),
                    h.shared() ? "(shared by virtual threads)" : abbreviate(h.threadName(), 30),
                    h.pools(),
                    h.blocksInUse(),
                    h.bytesInUse(),
                    h.pendingRemoteFrees()));
        }
        if (s.orphanPools() > 0) {
            b.append(String.format(
                    Locale.ROOT,
                    "    -  %-30s %6d  %14d%n",
                    "(orphaned: thread died)",
                    s.orphanPools(),
                    s.orphanedBlocksInUse()));
        }
        totalsText(b, s);
        return b.toString();
    }

    private static String abbreviate(final String s, final int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "~";
    }

    /**
     * Every {@link Statistic}, a block per group, in their order; after the last {@link Statistic#ACCOUNTING}
     * category, their sum and whether it equals the arena bytes.
     */
    static void totalsText(final StringBuilder b, final StatsTotals s) {
        for (final Statistic.Group group : Statistic.Group.values()) {
            b.append('\n');
            int accountingLeft = Statistic.ACCOUNTING.size();
            for (final Statistic statistic : group.statistics()) {
                if (statistic.unit() == Statistic.Unit.FRACTION) {
                    b.append(String.format(
                            Locale.ROOT, "%-40s= %21.1f%%%n", statistic.label(), 100.0 * s.fraction(statistic)));
                    continue;
                }
                line(b, statistic.label(), s.get(statistic));
                if (Statistic.ACCOUNTING.contains(statistic) && --accountingLeft == 0) {
                    final long accounted = Statistic.accounted(s);
                    final long arenaBytes = s.get(Statistic.ARENA_BYTES);
                    line(b, "Total", accounted);
                    b.append(
                            accounted == arenaBytes
                                    ? "  (= bytes reserved in arenas)\n"
                                    : "  (!= " + arenaBytes + " bytes reserved in arenas: ACCOUNTING ERROR)\n");
                }
            }
        }
    }

    private static void line(final StringBuilder b, final String label, final long value) {
        b.append(String.format(Locale.ROOT, "%-40s= %,21d%n", label, value));
    }

    private static String bytes(final long n) {
        if (n % (1L << 20) == 0) {
            return (n >> 20) + " MiB";
        }
        return n % 1024 == 0 ? (n >> 10) + " KiB" : n + " B";
    }

    static String json(final AllocatorStats s) {
        final StringBuilder b = new StringBuilder(8192);
        b.append("{\"schema\":\"pymalloc4j-stats\",\"version\":").append(AllocatorStats.JSON_SCHEMA_VERSION);
        configJson(
                b,
                s.arenaSize(),
                s.poolSize(),
                s.smallRequestThreshold(),
                s.maxReservedBytes(),
                s.purgeDelayNanos(),
                s.lockFreeOwners());
        b.append(",\"sizeClasses\":");
        sizeClassesJson(b, s.sizeClasses());
        openArenasJson(b, s);
        boolean first = true;
        for (final AllocatorStats.ArenaStats a : s.arenas()) {
            openArenaJson(b, first, a.address(), a.poolsTotal(), a.poolsCarved(), a.poolsFree());
            b.append(",\"pools\":[");
            boolean firstPool = true;
            for (final AllocatorStats.PoolStats p : a.pools()) {
                openPoolJson(b, firstPool, p.index(), p.sizeClass(), p.blocksInUse(), p.capacity());
                b.append(",\"pendingRemoteFrees\":")
                        .append(p.pendingRemoteFrees())
                        .append(",\"heap\":")
                        .append(p.heapId())
                        .append('}');
                firstPool = false;
            }
            b.append("]}");
            first = false;
        }
        b.append("]}");
        topJson(b, s);
        b.append(",\"heaps\":[");
        first = true;
        for (final AllocatorStats.HeapStats h : s.heaps()) {
            b.append(first ? "" : ",")
                    .append("{\"id\":")
                    .append(h.id())
                    .append(",\"thread\":")
                    .append(h.threadName() == null ? "null" : quote(h.threadName()))
                    .append(",\"shared\":")
                    .append(h.shared())
                    .append(",\"pools\":")
                    .append(h.pools())
                    .append(",\"blocksInUse\":")
                    .append(h.blocksInUse())
                    .append(",\"bytesInUse\":")
                    .append(h.bytesInUse())
                    .append(",\"pendingRemoteFrees\":")
                    .append(h.pendingRemoteFrees())
                    .append(",\"mallocs\":")
                    .append(h.mallocs())
                    .append(",\"frees\":")
                    .append(h.frees())
                    .append('}');
            first = false;
        }
        b.append(']');
        totalsJson(b, s);
        b.append('}');
        return b.toString();
    }

    /**
     * The {@code orphans}, {@code bytes}, {@code large} and {@code counters} objects (each preceded by a
     * comma), one member per {@link Statistic} of the group; shared with the statistics file's JSON.
     */
    static void totalsJson(final StringBuilder b, final StatsTotals s) {
        for (final Statistic.Group group : Statistic.Group.values()) {
            if (group == Statistic.Group.TOP || group == Statistic.Group.ARENAS) {
                continue; // written by topJson and openArenasJson
            }
            b.append(",\"").append(group.jsonKey()).append("\":{");
            members(b, s, group);
            b.append('}');
        }
    }

    /** Opens one arena object of an {@code arenas.list} with the members both JSON forms share. */
    static void openArenaJson(
            final StringBuilder b,
            final boolean first,
            final long address,
            final int poolsTotal,
            final int poolsCarved,
            final int poolsFree) {
        b.append(first ? "" : ",")
                .append("{\"address\":\"0x")
                .append(Long.toHexString(address))
                .append("\",\"poolsTotal\":")
                .append(poolsTotal)
                .append(",\"poolsCarved\":")
                .append(poolsCarved)
                .append(",\"poolsFree\":")
                .append(poolsFree);
    }

    /** Opens one pool object of an arena's {@code pools} with the members both JSON forms share. */
    static void openPoolJson(
            final StringBuilder b,
            final boolean first,
            final int index,
            final int sizeClass,
            final int blocksInUse,
            final int capacity) {
        b.append(first ? "" : ",")
                .append("{\"index\":")
                .append(index)
                .append(",\"class\":")
                .append(sizeClass)
                .append(",\"blocksInUse\":")
                .append(blocksInUse)
                .append(",\"capacity\":")
                .append(capacity);
    }

    /** The top-level totals ({@link Statistic.Group#TOP}), each preceded by a comma. */
    static void topJson(final StringBuilder b, final StatsTotals s) {
        b.append(',');
        members(b, s, Statistic.Group.TOP);
    }

    /** Opens the {@code arenas} object with its totals, up to its {@code list} array; shared with the file's JSON. */
    static void openArenasJson(final StringBuilder b, final StatsTotals s) {
        b.append(",\"arenas\":{");
        members(b, s, Statistic.Group.ARENAS);
        b.append(",\"list\":[");
    }

    private static void members(final StringBuilder b, final StatsTotals s, final Statistic.Group group) {
        boolean first = true;
        for (final Statistic statistic : group.statistics()) {
            b.append(first ? "\"" : ",\"").append(statistic.jsonKey()).append("\":");
            if (statistic.unit() == Statistic.Unit.FRACTION) {
                b.append(number(s.fraction(statistic)));
            } else {
                b.append(s.get(statistic));
            }
            first = false;
        }
    }

    /** The {@code config} object of schema 2; shared with the statistics file's JSON. */
    static void configJson(
            final StringBuilder b,
            final long arenaSize,
            final long poolSize,
            final int smallRequestThreshold,
            final long maxReservedBytes,
            final long purgeDelayNanos,
            final boolean lockFreeOwners) {
        b.append(",\"config\":{\"arenaSize\":")
                .append(arenaSize)
                .append(",\"poolSize\":")
                .append(poolSize)
                .append(",\"smallRequestThreshold\":")
                .append(smallRequestThreshold)
                .append(",\"maxReservedBytes\":")
                .append(maxReservedBytes == Long.MAX_VALUE ? "null" : Long.toString(maxReservedBytes))
                .append(",\"purgeDelayNanos\":")
                .append(purgeDelayNanos)
                .append(",\"lockFreeOwners\":")
                .append(lockFreeOwners)
                .append('}');
    }

    /** The {@code sizeClasses} array of schema 2; shared with the statistics file's JSON. */
    static void sizeClassesJson(final StringBuilder b, final java.util.List<AllocatorStats.SizeClassStats> classes) {
        b.append('[');
        boolean first = true;
        for (final AllocatorStats.SizeClassStats c : classes) {
            b.append(first ? "" : ",")
                    .append("{\"class\":")
                    .append(c.index())
                    .append(",\"blockSize\":")
                    .append(c.blockSize())
                    .append(",\"pools\":")
                    .append(c.pools())
                    .append(",\"blocksInUse\":")
                    .append(c.blocksInUse())
                    .append(",\"blocksAvailable\":")
                    .append(c.blocksAvailable())
                    .append(",\"pendingRemoteFrees\":")
                    .append(c.pendingRemoteFrees())
                    .append(",\"utilisation\":")
                    .append(number(c.utilisation()))
                    .append(",\"bytesInUse\":")
                    .append(c.bytesInUse())
                    .append(",\"bytesRequested\":")
                    .append(c.bytesRequested())
                    .append(",\"internalWaste\":")
                    .append(c.internalWaste())
                    .append('}');
            first = false;
        }
        b.append(']');
    }

    /**
     * A JSON string. Besides what JSON requires ({@code "}, the backslash and C0 controls), DEL, C1 controls,
     * format characters (the bidirectional overrides among them), line and paragraph separators and unpaired
     * surrogates are escaped as <code>&#92;uNNNN</code>, so that the JSON printed on a terminal cannot drive it and is
     * valid UTF-8.
     */
    static String quote(final String text) {
        final StringBuilder q = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            final char ch = text.charAt(i);
            if (ch == '"' || ch == '\\') {
                q.append('\\').append(ch);
            } else if (ch < 0x20 || mustEscape(text, i, ch)) {
                q.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
            } else {
                q.append(ch);
            }
        }
        return q.append('"').toString();
    }

    private static boolean mustEscape(final String text, final int i, final char ch) {
        if (ch >= 0x7F && ch <= 0x9F) {
            return true;
        }
        if (Character.isHighSurrogate(ch)) {
            return i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1));
        }
        if (Character.isLowSurrogate(ch)) {
            return i == 0 || !Character.isHighSurrogate(text.charAt(i - 1));
        }
        final int type = Character.getType(ch);
        return type == Character.FORMAT || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
    }

    static String number(final double d) {
        return String.format(Locale.ROOT, "%.6f", d);
    }
}
