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
        b.append("class   size   num pools   blocks in use  avail blocks    util   bytes requested   internal waste\n");
        b.append("-----   ----   ---------   -------------  ------------  ------   ---------------   --------------\n");
        for (final AllocatorStats.SizeClassStats c : s.sizeClasses())
        {
            if (c.pools() == 0)
            {
                continue;
            }
            b.append(String.format(Locale.ROOT, "%5d   %4d   %9d   %13d  %12d  %5.1f%%   %15d   %14d%n",
                c.index(), c.blockSize(), c.pools(), c.blocksInUse(), c.blocksAvailable(),
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
        line(b, "# on-heap metadata bytes (estimate)", s.heapMetadataBytes());
        b.append('\n');
        line(b, "# mallocs", s.mallocs());
        line(b, "# frees", s.frees());
        line(b, "# reallocs", s.reallocs());
        line(b, "# large mallocs", s.largeMallocs());
        return b.toString();
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
        b.append(",\"config\":{\"arenaSize\":").append(s.arenaSize())
            .append(",\"poolSize\":").append(s.poolSize())
            .append(",\"smallRequestThreshold\":").append(s.smallRequestThreshold())
            .append(",\"maxReservedBytes\":")
            .append(s.maxReservedBytes() == Long.MAX_VALUE ? "null" : Long.toString(s.maxReservedBytes()))
            .append('}');
        b.append(",\"sizeClasses\":[");
        boolean first = true;
        for (final AllocatorStats.SizeClassStats c : s.sizeClasses())
        {
            b.append(first ? "" : ",").append("{\"class\":").append(c.index())
                .append(",\"blockSize\":").append(c.blockSize())
                .append(",\"pools\":").append(c.pools())
                .append(",\"blocksInUse\":").append(c.blocksInUse())
                .append(",\"blocksAvailable\":").append(c.blocksAvailable())
                .append(",\"utilisation\":").append(number(c.utilisation()))
                .append(",\"bytesInUse\":").append(c.bytesInUse())
                .append(",\"bytesRequested\":").append(c.bytesRequested())
                .append(",\"internalWaste\":").append(c.internalWaste()).append('}');
            first = false;
        }
        b.append("],\"arenas\":{\"allocatedTotal\":").append(s.arenasAllocatedTotal())
            .append(",\"reclaimed\":").append(s.arenasReclaimed())
            .append(",\"highWater\":").append(s.arenasHighWater())
            .append(",\"current\":").append(s.arenasCurrent())
            .append(",\"list\":[");
        first = true;
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
                    .append(",\"capacity\":").append(p.capacity()).append('}');
                firstPool = false;
            }
            b.append("]}");
            first = false;
        }
        b.append("]},\"bytes\":{\"arenas\":").append(s.arenaBytes())
            .append(",\"inAllocatedBlocks\":").append(s.bytesInAllocatedBlocks())
            .append(",\"inAvailableBlocks\":").append(s.bytesInAvailableBlocks())
            .append(",\"inUnusedPools\":").append(s.bytesInUnusedPools())
            .append(",\"quantization\":").append(s.bytesLostToQuantization())
            .append(",\"requested\":").append(s.bytesRequested())
            .append(",\"internalFragmentation\":").append(s.internalFragmentationBytes())
            .append(",\"externalFragmentation\":").append(number(s.externalFragmentation()))
            .append(",\"reserved\":").append(s.reservedBytes())
            .append(",\"heapMetadata\":").append(s.heapMetadataBytes())
            .append("},\"large\":{\"count\":").append(s.largeAllocations())
            .append(",\"bytes\":").append(s.largeBytes())
            .append("},\"counters\":{\"mallocs\":").append(s.mallocs())
            .append(",\"frees\":").append(s.frees())
            .append(",\"reallocs\":").append(s.reallocs())
            .append(",\"largeMallocs\":").append(s.largeMallocs())
            .append("}}");
        return b.toString();
    }

    private static String number(final double d)
    {
        return String.format(Locale.ROOT, "%.6f", d);
    }
}
