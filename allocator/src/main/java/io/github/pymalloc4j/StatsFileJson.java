package io.github.pymalloc4j;

import java.time.Duration;

/**
 * Renders a {@link StatsFile.Snapshot} as JSON (schema {@value StatsFile#JSON_SCHEMA}, version
 * {@value StatsFile#JSON_SCHEMA_VERSION}, documented in {@code docs/dump-format.md}): the names and nesting
 * of {@link StatsFormat#json(AllocatorStats)} where the file carries the data, plus a {@code file} object.
 */
final class StatsFileJson {
    private StatsFileJson() {}

    static String json(final StatsFile.Snapshot s) {
        final StringBuilder b = new StringBuilder(8192);
        b.append("{\"schema\":")
                .append(StatsFormat.quote(StatsFile.JSON_SCHEMA))
                .append(",\"version\":")
                .append(StatsFile.JSON_SCHEMA_VERSION);
        b.append(",\"file\":{\"path\":")
                .append(StatsFormat.quote(s.path().toString()))
                .append(",\"layoutVersion\":")
                .append(s.layoutVersion())
                .append(",\"pid\":")
                .append(s.pid())
                .append(",\"name\":")
                .append(StatsFormat.quote(s.name()))
                .append(",\"startTimeEpochMs\":")
                .append(s.startTime().toEpochMilli())
                .append(",\"heartbeatEpochMs\":")
                .append(s.heartbeat().toEpochMilli())
                .append(",\"publishPeriodMs\":")
                .append(s.publishPeriod().toMillis())
                .append(",\"publishCount\":")
                .append(s.publishCount())
                .append(",\"processAlive\":")
                .append(s.processAlive())
                .append(",\"writerClosed\":")
                .append(s.writerClosed());
        final String stale = s.staleReason(Duration.ZERO).orElse(null);
        b.append(",\"stale\":")
                .append(stale != null)
                .append(",\"staleReason\":")
                .append(stale == null ? "null" : StatsFormat.quote(stale))
                .append(",\"arenaCapacity\":")
                .append(s.arenaCapacity())
                .append(",\"arenasTruncated\":")
                .append(s.arenasTruncated())
                .append(",\"statsNanos\":")
                .append(s.statsNanos())
                .append('}');
        StatsFormat.configJson(
                b,
                s.arenaSize(),
                s.poolSize(),
                s.smallRequestThreshold(),
                s.maxReservedBytes(),
                s.purgeDelayNanos(),
                s.lockFreeOwners());
        b.append(",\"sizeClasses\":");
        StatsFormat.sizeClassesJson(b, s.sizeClasses());
        StatsFormat.openArenasJson(b, s);
        boolean first = true;
        for (final StatsFile.ArenaRecord a : s.arenas()) {
            StatsFormat.openArenaJson(b, first, a.address(), a.poolsTotal(), a.poolsCarved(), a.poolsFree());
            b.append(",\"blocksInUse\":").append(a.blocksInUse()).append(",\"pools\":[");
            boolean firstPool = true;
            for (final StatsFile.PoolRecord p : a.pools()) {
                if (!p.carved()) {
                    continue; // as in the stats JSON: never-carved pools are not listed
                }
                StatsFormat.openPoolJson(b, firstPool, p.index(), p.sizeClass(), p.blocksInUse(), p.capacity());
                b.append(",\"fill\":").append(p.fillPercent()).append('}');
                firstPool = false;
            }
            b.append("]}");
            first = false;
        }
        b.append("]}");
        StatsFormat.topJson(b, s);
        StatsFormat.totalsJson(b, s);
        b.append('}');
        return b.toString();
    }
}
