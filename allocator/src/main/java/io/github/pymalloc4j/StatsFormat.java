package io.github.pymalloc4j;

import java.util.Locale;

/**
 * Renders {@link AllocatorStats} as the text report and as JSON (schema version
 * {@value AllocatorStats#JSON_SCHEMA_VERSION}, documented in {@code docs/stats-format.md}).
 */
final class StatsFormat
{
    private StatsFormat()
    {
    }

    static String text(final AllocatorStats s)
    {
        final StringBuilder b = new StringBuilder(4096);
        b.append(String.format(Locale.ROOT,
            "pymalloc4j: small requests <= %d bytes in %d size classes; arena %s, pool %s%n%n",
            s.smallRequestThreshold(), s.sizeClasses().size(), bytes(s.arenaSize()), bytes(s.poolSize())));
        b.append("class   size   num pools   blocks in use  avail blocks  remote pending    util   bytes requested   internal waste\n");
        b.append("-----   ----   ---------   -------------  ------------  --------------  ------   ---------------   --------------\n");
        for (final AllocatorStats.SizeClassStats c : s.sizeClasses())
        {
            if (c.pools() == 0)
            {
                continue;
            }
            b.append(String.format(Locale.ROOT, "%5d   %4d   %9d   %13d  %12d  %14d  %5.1f%%   %15d   %14d%n",
                c.index(), c.blockSize(), c.pools(), c.blocksInUse(), c.blocksAvailable(), c.pendingRemoteFrees(),
                100.0 * c.utilisation(), c.bytesRequested(), c.internalWaste()));
        }
        b.append('\n');
        line(b, "# arenas allocated total", s.arenasAllocatedTotal());
        line(b, "# arenas reclaimed", s.arenasReclaimed());
        line(b, "# arenas highwater mark", s.arenasHighWater());
        line(b, "# arenas allocated current", s.arenasCurrent());
        line(b, s.arenasCurrent() + " arenas * " + s.arenaSize() + " bytes/arena", s.arenaBytes());
        b.append('\n');
        line(b, "# bytes in allocated blocks", s.bytesInAllocatedBlocks());
        line(b, "# bytes freed remotely, not collected", s.bytesPendingRemoteFree());
        line(b, "# bytes in available blocks", s.bytesInAvailableBlocks());
        line(b, (s.bytesInUnusedPools() / s.poolSize()) + " unused pools * " + s.poolSize() + " bytes",
            s.bytesInUnusedPools());
        line(b, "# bytes lost to quantization", s.bytesLostToQuantization());
        line(b, "Total", s.accountedBytes());
        b.append(s.accountedBytes() == s.arenaBytes() ? "  (= bytes reserved in arenas)\n" :
            "  (!= " + s.arenaBytes() + " bytes reserved in arenas: ACCOUNTING ERROR)\n");
        b.append('\n');
        line(b, "# bytes requested in live blocks", s.bytesRequested());
        line(b, "# internal fragmentation bytes", s.internalFragmentationBytes());
        b.append(String.format(Locale.ROOT, "%-40s= %21.1f%%%n", "# external fragmentation",
            100.0 * s.externalFragmentation()));
        line(b, "# large allocations (system malloc)", s.largeAllocations());
        line(b, "# bytes in large allocations", s.largeBytes());
        line(b, "# bytes reserved (arenas + large)", s.reservedBytes());
        if (s.maxReservedBytes() != Long.MAX_VALUE)
        {
            line(b, "# maximum reserved bytes", s.maxReservedBytes());
        }
        line(b, "# bytes committed (upper bound)", s.committedBytes());
        line(b, "# bytes free, not returned to the OS", s.freeNotReturnedBytes());
        line(b, "# pools decommitted (madvise)", s.poolsDecommitted());
        line(b, "# on-heap metadata bytes (estimate)", s.heapMetadataBytes());
        b.append('\n');
        b.append(String.format(Locale.ROOT, "heaps: %d (%s), purge delay %.1f ms, maintenance rounds %d%s%n",
            s.heaps().size(), s.lockFreeOwners() ? "owners lock-free" : "owners locked: no membarrier",
            s.purgeDelayNanos() / 1e6, s.maintenanceRounds(),
            s.maintenanceFailure() == null ? "" : ", last maintenance failure: " + s.maintenanceFailure()));
        b.append("   id  owner                          pools   blocks in use     bytes in use  remote pending\n");
        for (final AllocatorStats.HeapStats h : s.heaps())
        {
            if (h.pools() == 0 && h.mallocs() == 0)
            {
                continue;
            }
            b.append(String.format(Locale.ROOT, "%5d  %-30s %6d  %14d  %15d  %14d%n", h.id(),
                h.shared() ? "(shared by virtual threads)" : abbreviate(h.threadName(), 30),
                h.pools(), h.blocksInUse(), h.bytesInUse(), h.pendingRemoteFrees()));
        }
        if (s.orphanPools() > 0)
        {
            b.append(String.format(Locale.ROOT, "    -  %-30s %6d  %14d%n", "(orphaned: thread died)",
                s.orphanPools(), s.orphanedBlocksInUse()));
        }
        b.append('\n');
        line(b, "# mallocs", s.mallocs());
        line(b, "# frees", s.frees());
        line(b, "# remote frees", s.remoteFrees());
        line(b, "# reallocs", s.reallocs());
        line(b, "# large mallocs", s.largeMallocs());
        line(b, "# double frees detected late", s.doubleFreesDetected());
        return b.toString();
    }

    private static String abbreviate(final String s, final int max)
    {
        return s.length() <= max ? s : s.substring(0, max - 1) + "~";
    }

    private static void line(final StringBuilder b, final String label, final long value)
    {
        b.append(String.format(Locale.ROOT, "%-40s= %,21d%n", label, value));
    }

    private static String bytes(final long n)
    {
        if (n % (1L << 20) == 0)
        {
            return (n >> 20) + " MiB";
        }
        return n % 1024 == 0 ? (n >> 10) + " KiB" : n + " B";
    }

    static String json(final AllocatorStats s)
    {
        final StringBuilder b = new StringBuilder(8192);
        b.append("{\"schema\":\"pymalloc4j-stats\",\"version\":").append(AllocatorStats.JSON_SCHEMA_VERSION);
        configJson(b, s.arenaSize(), s.poolSize(), s.smallRequestThreshold(), s.maxReservedBytes(),
            s.purgeDelayNanos(), s.lockFreeOwners());
        b.append(",\"sizeClasses\":");
        sizeClassesJson(b, s.sizeClasses());
        arenaCountersJson(b, s.arenasAllocatedTotal(), s.arenasReclaimed(), s.arenasHighWater(), s.arenasCurrent());
        boolean first = true;
        for (final AllocatorStats.ArenaStats a : s.arenas())
        {
            b.append(first ? "" : ",").append("{\"address\":\"0x").append(Long.toHexString(a.address()))
                .append("\",\"poolsTotal\":").append(a.poolsTotal())
                .append(",\"poolsCarved\":").append(a.poolsCarved())
                .append(",\"poolsFree\":").append(a.poolsFree())
                .append(",\"pools\":[");
            boolean firstPool = true;
            for (final AllocatorStats.PoolStats p : a.pools())
            {
                b.append(firstPool ? "" : ",").append("{\"index\":").append(p.index())
                    .append(",\"class\":").append(p.sizeClass())
                    .append(",\"blocksInUse\":").append(p.blocksInUse())
                    .append(",\"capacity\":").append(p.capacity())
                    .append(",\"pendingRemoteFrees\":").append(p.pendingRemoteFrees())
                    .append(",\"heap\":").append(p.heapId()).append('}');
                firstPool = false;
            }
            b.append("]}");
            first = false;
        }
        b.append("]},\"heaps\":[");
        first = true;
        for (final AllocatorStats.HeapStats h : s.heaps())
        {
            b.append(first ? "" : ",").append("{\"id\":").append(h.id())
                .append(",\"thread\":").append(h.threadName() == null ? "null" : quote(h.threadName()))
                .append(",\"shared\":").append(h.shared())
                .append(",\"pools\":").append(h.pools())
                .append(",\"blocksInUse\":").append(h.blocksInUse())
                .append(",\"bytesInUse\":").append(h.bytesInUse())
                .append(",\"pendingRemoteFrees\":").append(h.pendingRemoteFrees())
                .append(",\"mallocs\":").append(h.mallocs())
                .append(",\"frees\":").append(h.frees()).append('}');
            first = false;
        }
        b.append("],\"orphans\":{\"pools\":").append(s.orphanPools())
            .append(",\"blocksInUse\":").append(s.orphanedBlocksInUse()).append('}');
        totalsJson(b, s);
        b.append('}');
        return b.toString();
    }

    /**
     * The {@code bytes}, {@code large} and {@code counters} objects of schema 2 (each preceded by a comma);
     * shared with the statistics file's JSON.
     */
    static void totalsJson(final StringBuilder b, final StatsTotals s)
    {
        b.append(",\"bytes\":{\"arenas\":").append(s.arenaBytes())
            .append(",\"inAllocatedBlocks\":").append(s.bytesInAllocatedBlocks())
            .append(",\"pendingRemoteFree\":").append(s.bytesPendingRemoteFree())
            .append(",\"inAvailableBlocks\":").append(s.bytesInAvailableBlocks())
            .append(",\"inUnusedPools\":").append(s.bytesInUnusedPools())
            .append(",\"quantization\":").append(s.bytesLostToQuantization())
            .append(",\"requested\":").append(s.bytesRequested())
            .append(",\"internalFragmentation\":").append(s.internalFragmentationBytes())
            .append(",\"externalFragmentation\":").append(number(s.externalFragmentation()))
            .append(",\"reserved\":").append(s.reservedBytes())
            .append(",\"committed\":").append(s.committedBytes())
            .append(",\"freeNotReturned\":").append(s.freeNotReturnedBytes())
            .append(",\"heapMetadata\":").append(s.heapMetadataBytes())
            .append("},\"large\":{\"count\":").append(s.largeAllocations())
            .append(",\"bytes\":").append(s.largeBytes())
            .append("},\"counters\":{\"mallocs\":").append(s.mallocs())
            .append(",\"frees\":").append(s.frees())
            .append(",\"remoteFrees\":").append(s.remoteFrees())
            .append(",\"reallocs\":").append(s.reallocs())
            .append(",\"largeMallocs\":").append(s.largeMallocs())
            .append(",\"doubleFreesDetected\":").append(s.doubleFreesDetected())
            .append(",\"poolsDecommitted\":").append(s.poolsDecommitted())
            .append(",\"maintenanceRounds\":").append(s.maintenanceRounds())
            .append('}');
    }

    /** The {@code config} object of schema 2; shared with the statistics file's JSON. */
    static void configJson(
        final StringBuilder b, final long arenaSize, final long poolSize, final int smallRequestThreshold,
        final long maxReservedBytes, final long purgeDelayNanos, final boolean lockFreeOwners)
    {
        b.append(",\"config\":{\"arenaSize\":").append(arenaSize)
            .append(",\"poolSize\":").append(poolSize)
            .append(",\"smallRequestThreshold\":").append(smallRequestThreshold)
            .append(",\"maxReservedBytes\":")
            .append(maxReservedBytes == Long.MAX_VALUE ? "null" : Long.toString(maxReservedBytes))
            .append(",\"purgeDelayNanos\":").append(purgeDelayNanos)
            .append(",\"lockFreeOwners\":").append(lockFreeOwners)
            .append('}');
    }

    /** Opens the {@code arenas} object of schema 2 up to its {@code list} array; shared with the file's JSON. */
    static void arenaCountersJson(
        final StringBuilder b, final long allocatedTotal, final long reclaimed, final long highWater, final long current)
    {
        b.append(",\"arenas\":{\"allocatedTotal\":").append(allocatedTotal)
            .append(",\"reclaimed\":").append(reclaimed)
            .append(",\"highWater\":").append(highWater)
            .append(",\"current\":").append(current)
            .append(",\"list\":[");
    }

    /** The {@code sizeClasses} array of schema 2; shared with the statistics file's JSON. */
    static void sizeClassesJson(final StringBuilder b, final java.util.List<AllocatorStats.SizeClassStats> classes)
    {
        b.append('[');
        boolean first = true;
        for (final AllocatorStats.SizeClassStats c : classes)
        {
            b.append(first ? "" : ",").append("{\"class\":").append(c.index())
                .append(",\"blockSize\":").append(c.blockSize())
                .append(",\"pools\":").append(c.pools())
                .append(",\"blocksInUse\":").append(c.blocksInUse())
                .append(",\"blocksAvailable\":").append(c.blocksAvailable())
                .append(",\"pendingRemoteFrees\":").append(c.pendingRemoteFrees())
                .append(",\"utilisation\":").append(number(c.utilisation()))
                .append(",\"bytesInUse\":").append(c.bytesInUse())
                .append(",\"bytesRequested\":").append(c.bytesRequested())
                .append(",\"internalWaste\":").append(c.internalWaste()).append('}');
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
    static String quote(final String text)
    {
        final StringBuilder q = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++)
        {
            final char ch = text.charAt(i);
            if (ch == '"' || ch == '\\')
            {
                q.append('\\').append(ch);
            }
            else if (ch < 0x20 || mustEscape(text, i, ch))
            {
                q.append(String.format(Locale.ROOT, "\\u%04x", (int)ch));
            }
            else
            {
                q.append(ch);
            }
        }
        return q.append('"').toString();
    }

    private static boolean mustEscape(final String text, final int i, final char ch)
    {
        if (ch >= 0x7F && ch <= 0x9F)
        {
            return true;
        }
        if (Character.isHighSurrogate(ch))
        {
            return i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1));
        }
        if (Character.isLowSurrogate(ch))
        {
            return i == 0 || !Character.isHighSurrogate(text.charAt(i - 1));
        }
        final int type = Character.getType(ch);
        return type == Character.FORMAT || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
    }

    static String number(final double d)
    {
        return String.format(Locale.ROOT, "%.6f", d);
    }
}
