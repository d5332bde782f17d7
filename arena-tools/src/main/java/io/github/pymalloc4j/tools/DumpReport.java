package io.github.pymalloc4j.tools;

import io.github.pymalloc4j.AllocatorStats;
import io.github.pymalloc4j.Statistic;
import io.github.pymalloc4j.StatsFile;
import java.time.Duration;
import java.util.Locale;

/**
 * Renders a {@link StatsFile.Snapshot}: the text report, the occupancy map as text, SVG and HTML.
 */
final class DumpReport {

    private DumpReport() {}

    /** Class characters of the occupancy map: index in base 32. */
    static final String CLASS_CHARS = "0123456789abcdefghijklmnopqrstuv";

    // ------------------------------------------------------------------ text report

    /**
     * The report.
     *
     * @param s    the snapshot.
     * @param prev the previous snapshot of the same file (for --watch deltas), or null.
     */
    static String text(StatsFile.Snapshot s, StatsFile.Snapshot prev) {
        StringBuilder b = new StringBuilder();
        Duration up = Duration.between(s.startTime(), s.heartbeat());
        f(
                b,
                "pymalloc4j arena-dump: process %d \"%s\", up %s, update #%d at %s (every %d ms)%n",
                s.pid(),
                s.name(),
                duration(up),
                s.publishCount(),
                s.heartbeat(),
                s.publishPeriodMillis());
        f(
                b,
                "file %s%s%n",
                StatsFile.printable(String.valueOf(s.path())),
                s.staleReason(Duration.ZERO).map(r -> "  [STALE: " + r + "]").orElse(""));

        // size classes
        f(b, "%nSize classes (pools of %s)%n", bytes(s.poolSize()));
        f(
                b,
                "%5s %5s %6s %12s %12s %6s %14s %14s %12s%n",
                "class",
                "size",
                "pools",
                "in use",
                "available",
                "util",
                "in-use bytes",
                "requested",
                "int. waste");
        long pools = 0, inUse = 0, avail = 0, inUseBytes = 0, requested = 0;
        for (AllocatorStats.SizeClassStats c : s.sizeClasses()) {
            if (c.pools() == 0 && c.blocksInUse() == 0 && c.blocksAvailable() == 0) {
                continue;
            }
            f(
                    b,
                    "%5d %5d %6d %12d %12d %5.1f%% %14d %14d %12d%n",
                    c.index(),
                    c.blockSize(),
                    c.pools(),
                    c.blocksInUse(),
                    c.blocksAvailable(),
                    100 * c.utilisation(),
                    c.bytesInUse(),
                    c.bytesRequested(),
                    c.internalWaste());
            pools += c.pools();
            inUse += c.blocksInUse();
            avail += c.blocksAvailable();
            inUseBytes += c.bytesInUse();
            requested += c.bytesRequested();
        }
        double util = inUse + avail == 0 ? 0 : 100.0 * inUse / (inUse + avail);
        f(
                b,
                "%5s %5s %6d %12d %12d %5.1f%% %14d %14d %12d%n",
                "total",
                "",
                pools,
                inUse,
                avail,
                util,
                inUseBytes,
                requested,
                inUseBytes - requested);

        // arenas
        long carved = 0, free = 0;
        for (StatsFile.ArenaRecord a : s.arenas()) {
            carved += a.poolsCarved();
            free += a.poolsFree();
        }
        f(
                b,
                "%nArenas: %s each = %d pools of %s; pools carved %d, free %d%s%n",
                bytes(s.arenaSize()),
                s.poolsPerArena(),
                bytes(s.poolSize()),
                carved,
                free,
                s.arenasTruncated()
                        ? " (file holds only the first " + s.arenas().size() + " arenas)"
                        : "");
        counts(b, s, Statistic.Group.ARENAS);
        counts(b, s, Statistic.Group.TOP);

        // byte accounting: every statistic of the bytes group; the five categories with their share
        long arenaBytes = s.get(Statistic.ARENA_BYTES);
        f(b, "%nByte accounting%n");
        int accountingLeft = Statistic.ACCOUNTING.size();
        for (Statistic st : Statistic.Group.BYTES.statistics()) {
            if (st.unit() == Statistic.Unit.FRACTION) {
                f(b, "  %-38s %15.1f%%%n", label(st), 100 * s.fraction(st));
            } else if (Statistic.ACCOUNTING.contains(st)) {
                category(b, label(st), s.get(st), arenaBytes);
                if (--accountingLeft == 0) {
                    long sum = s.accountedBytes();
                    f(
                            b,
                            "  %-38s %16d  %s%n",
                            "  (sum of the five)",
                            sum,
                            sum == arenaBytes ? "= arena bytes" : "MISMATCH: " + (sum - arenaBytes) + " B off");
                }
            } else {
                f(b, "  %-38s %16d  %10s%n", label(st), s.get(st), bytes(s.get(st)));
            }
        }
        f(
                b,
                "  %-38s %16s%n",
                "max reserved",
                s.maxReservedBytes() == Long.MAX_VALUE ? "unlimited" : Long.toString(s.maxReservedBytes()));

        f(b, "%nLarge allocations (system allocator, > %d B)%n", s.smallRequestThreshold());
        counts(b, s, Statistic.Group.LARGE);

        // counters
        double secs = Math.max(seconds(up), 0.001);
        Duration interval = prev == null ? null : Duration.between(prev.heartbeat(), s.heartbeat());
        boolean deltas = interval != null && !interval.isNegative() && !interval.isZero();
        if (prev != null) {
            f(
                    b,
                    "%nCounters                          since start        per second%s%n",
                    deltas
                            ? String.format(Locale.ROOT, "   last %-6s       per second", duration(interval))
                            : "   (no update since the last refresh)");
        } else {
            f(b, "%nCounters                          since start        per second%n");
        }
        double dsecs = deltas ? seconds(interval) : 1;
        for (Statistic st : Statistic.Group.COUNTERS.statistics()) {
            counter(b, label(st), s.get(st), prev == null ? 0 : prev.get(st), secs, deltas, dsecs);
        }
        if (deltas) {
            long inUseNow = plus(s.bytesInAllocatedBlocks(), s.largeBytes());
            f(
                    b,
                    "%-33s %12d B%s%n",
                    "in use (delta)",
                    inUseNow,
                    String.format(
                            Locale.ROOT,
                            "   %+d B in %s",
                            minus(inUseNow, plus(prev.bytesInAllocatedBlocks(), prev.largeBytes())),
                            duration(interval)));
        }
        f(b, "%nOrphans (pools of dead threads)%n");
        counts(b, s, Statistic.Group.ORPHANS);
        f(
                b,
                "%nmaintenance %s; lock-free owners %s%n",
                s.maintenanceFailed() ? "HAS FAILED" : "ok",
                s.lockFreeOwners());
        return b.toString();
    }

    /** The report's label of a statistic: its text label without the leading "# ". */
    static String label(Statistic st) {
        return st.label().startsWith("# ") ? st.label().substring(2) : st.label();
    }

    /** One line per statistic of the group: label and value (and the value for humans if it is bytes). */
    private static void counts(StringBuilder b, StatsFile.Snapshot s, Statistic.Group group) {
        for (Statistic st : group.statistics()) {
            if (st.unit() == Statistic.Unit.BYTES) {
                f(b, "  %-38s %16d  %10s%n", label(st), s.get(st), bytes(s.get(st)));
            } else {
                f(b, "  %-38s %16d%n", label(st), s.get(st));
            }
        }
    }

    private static void category(StringBuilder b, String label, long value, long total) {
        f(
                b,
                "  %-38s %16d  %10s  %5.1f%%%n",
                "  " + label,
                value,
                bytes(value),
                total == 0 ? 0.0 : 100.0 * value / total);
    }

    private static void counter(
            StringBuilder b, String label, long now, long before, double secs, boolean deltas, double dsecs) {
        f(b, "%-33s %12d %17.1f", label, now, now / secs);
        if (deltas) {
            long delta = minus(now, before);
            f(b, "   %+12d %13.1f", delta, delta / dsecs);
        }
        b.append('\n');
    }

    private static void f(StringBuilder b, String format, Object... args) {
        b.append(String.format(Locale.ROOT, format, args));
    }

    /** @return bytes for humans: 1.5 MiB, -8.0 EiB (any long, Long.MIN_VALUE included). */
    static String bytes(long n) {
        if (n > -1024 && n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = Math.abs((double) n);
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%s%.1f %s", n < 0 ? "-" : "", v, units[u]);
    }

    /** @return a duration as 1d 02:03:04, 02:03:04 or 3.2 s; a negative one as 0.0 s. Any duration. */
    static String duration(Duration d) {
        if (d.isNegative()) {
            return "0.0 s";
        }
        long s = d.getSeconds();
        if (s < 60) {
            return String.format(Locale.ROOT, "%.1f s", (s * 1000 + d.getNano() / 1_000_000) / 1000.0);
        }
        String hms = String.format(Locale.ROOT, "%02d:%02d:%02d", s / 3600 % 24, s / 60 % 60, s % 60);
        return s >= 86_400 ? s / 86_400 + "d " + hms : hms;
    }

    /** @return a duration in seconds, for rates (never overflows, unlike {@link Duration#toMillis()}). */
    static double seconds(Duration d) {
        return d.getSeconds() + d.getNano() / 1e9;
    }

    /** @return {@code a - b}, saturating at the ends of the long range instead of wrapping around. */
    static long minus(long a, long b) {
        long d = a - b;
        return ((a ^ b) & (a ^ d)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : d;
    }

    /** @return {@code a + b}, saturating at the ends of the long range instead of wrapping around. */
    static long plus(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : r;
    }

    static String jsonString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    int type = Character.getType(c);
                    if (c < 0x20
                            || c >= 0x7f && c <= 0x9f
                            || type == Character.FORMAT
                            || type == Character.SURROGATE
                            || type == Character.LINE_SEPARATOR
                            || type == Character.PARAGRAPH_SEPARATOR) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    // ------------------------------------------------------------------ occupancy map, text

    static char classChar(StatsFile.PoolRecord p) {
        if (p.sizeClass() == StatsFile.PoolRecord.NEVER_CARVED) {
            return '.';
        }
        if (p.sizeClass() < 0 || p.sizeClass() >= CLASS_CHARS.length()) {
            return '_';
        }
        return CLASS_CHARS.charAt(p.sizeClass());
    }

    static char fillChar(StatsFile.PoolRecord p) {
        if (p.sizeClass() == StatsFile.PoolRecord.NEVER_CARVED) {
            return '.';
        }
        if (p.sizeClass() < 0) {
            return '_';
        }
        return p.fillPercent() >= 100 ? '#' : (char) ('0' + Math.min(9, p.fillPercent() / 10));
    }

    /** One line per arena: address, pools carved/free, class per pool, fill per pool. */
    static String arenaMap(StatsFile.Snapshot s) {
        StringBuilder b = new StringBuilder();
        int width = s.poolsPerArena();
        f(
                b,
                "Occupancy map of process %d \"%s\": %d arenas x %d pools of %s%n",
                s.pid(),
                s.name(),
                s.arenas().size(),
                width,
                bytes(s.poolSize()));
        f(b, "classes: 0-9a-v = size class index (block size 16 x (index + 1)), _ = free pool, . = never carved%n");
        f(
                b,
                "fill:    0-9 = tens of percent of the pool's blocks in use, # = full, _ = free pool, . = never carved%n%n");
        f(b, "%-18s %8s %6s  %-" + width + "s  %s%n", "arena", "blocks", "free", "classes", "fill");
        for (StatsFile.ArenaRecord a : s.arenas()) {
            StringBuilder classes = new StringBuilder(width);
            StringBuilder fill = new StringBuilder(width);
            for (StatsFile.PoolRecord p : a.pools()) {
                classes.append(classChar(p));
                fill.append(fillChar(p));
            }
            f(
                    b,
                    "0x%016x %8d %3d/%-2d  %-" + width + "s  %s%n",
                    a.address(),
                    a.blocksInUse(),
                    a.poolsFree(),
                    a.poolsTotal(),
                    classes,
                    fill);
        }
        if (s.arenasTruncated()) {
            f(
                    b,
                    "(only the first %d of %d arenas are in the file)%n",
                    s.arenas().size(),
                    s.arenasCurrent());
        }
        return b.toString();
    }

    // ------------------------------------------------------------------ occupancy map, SVG and HTML

    static final int CELL = 10;
    /**
     * Pool cells the picture draws at most: all of the largest default file (4096 arenas of 64 pools); of a file
     * declaring more (up to 64 arenas of 2^18 pools), the first arenas that fit, so the page stays drawable.
     */
    static final int MAX_CELLS = 1 << 18;

    /** Colour of a pool cell: grey if empty, white (hatched) if never carved, else blue by fill. */
    static String cellFill(StatsFile.PoolRecord p) {
        if (p.sizeClass() == StatsFile.PoolRecord.NEVER_CARVED) {
            return "url(#never)";
        }
        if (p.sizeClass() < 0) {
            return "#d9d9d9";
        }
        int pct = Math.min(100, p.fillPercent());
        // light yellow (0 %) to dark red (100 %)
        int r = 255 - pct * 75 / 100;
        int g = 237 - pct * 217 / 100;
        int bl = 160 - pct * 140 / 100;
        return String.format(Locale.ROOT, "#%02x%02x%02x", r, g, bl);
    }

    static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** The map (arenas x pools) and the per-class table as one SVG document. */
    static String svg(StatsFile.Snapshot s) {
        int pools = Math.min(s.poolsPerArena(), MAX_CELLS);
        int rows = Math.min(s.arenas().size(), Math.max(1, MAX_CELLS / Math.max(pools, 1)));
        int left = 150;
        int top = 50;
        int gridW = pools * CELL;
        int gridH = Math.max(rows, 1) * CELL;
        int tableTop = top + gridH + 50;
        int classRows = 0;
        for (AllocatorStats.SizeClassStats c : s.sizeClasses()) {
            if (c.pools() > 0 || c.blocksInUse() > 0) {
                classRows++;
            }
        }
        int width = Math.max(left + gridW + 20, 900); // the caption line is ~105 monospace characters of 11 px
        int height = tableTop + (classRows + 3) * 16 + 20;
        StringBuilder b = new StringBuilder();
        f(
                b,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                        + "font-family=\"monospace\" font-size=\"11\">%n",
                width,
                height,
                width,
                height);
        f(b, "<title>%s</title>%n", xml("pymalloc4j arena map: process " + s.pid() + " " + s.name()));
        b.append("<defs><pattern id=\"never\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\">"
                + "<rect width=\"4\" height=\"4\" fill=\"#ffffff\"/><path d=\"M0,4 L4,0\" stroke=\"#bbbbbb\" "
                + "stroke-width=\"0.7\"/></pattern></defs>\n");
        f(b, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>%n", width, height);
        f(
                b,
                "<text x=\"10\" y=\"18\" font-size=\"13\">%s</text>%n",
                xml("process " + s.pid() + " \"" + s.name()
                        + "\" at " + s.heartbeat() + ": " + s.arenas().size() + " arenas x " + s.poolsPerArena()
                        + " pools of "
                        + bytes(s.poolSize())
                        + (rows < s.arenas().size() || pools < s.poolsPerArena()
                                ? " (the first " + rows + " x " + pools + " drawn)"
                                : "")));
        f(
                b,
                "<text x=\"10\" y=\"36\">%s</text>%n",
                xml("colour = pool fill (light = few blocks in use, dark red = full); "
                        + "grey = empty; hatched = never carved; hover a pool for its class"));
        int row = 0;
        for (StatsFile.ArenaRecord a : s.arenas()) {
            if (row >= rows) {
                break;
            }
            int y = top + row * CELL;
            f(b, "<text x=\"10\" y=\"%d\" font-size=\"9\">0x%016x</text>%n", y + CELL - 1, a.address());
            for (StatsFile.PoolRecord p : a.pools()) {
                if (p.index() >= pools) {
                    break;
                }
                String tip;
                if (p.sizeClass() == StatsFile.PoolRecord.NEVER_CARVED) {
                    tip = "pool " + p.index() + ": never carved";
                } else if (p.sizeClass() < 0) {
                    tip = "pool " + p.index() + ": empty";
                } else {
                    tip = "pool " + p.index() + ": class " + p.sizeClass() + " (" + p.blockSize() + " B), "
                            + p.blocksInUse() + "/" + p.capacity() + " blocks, " + p.fillPercent() + "% full";
                }
                f(
                        b,
                        "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#999999\" "
                                + "stroke-width=\"0.3\"><title>%s</title></rect>%n",
                        left + p.index() * CELL,
                        y,
                        CELL,
                        CELL,
                        cellFill(p),
                        xml("arena 0x" + Long.toHexString(a.address()) + " " + tip));
            }
            row++;
        }
        // legend
        int ly = top + gridH + 20;
        for (int pct = 0; pct <= 100; pct += 10) {
            StatsFile.PoolRecord p = new StatsFile.PoolRecord(0, 0, 16, 1024, pct * 1024 / 100, pct);
            f(
                    b,
                    "<rect x=\"%d\" y=\"%d\" width=\"20\" height=\"10\" fill=\"%s\"/>%n",
                    left + pct * 2 + pct / 10 * 10,
                    ly,
                    cellFill(p));
        }
        f(b, "<text x=\"10\" y=\"%d\">fill 0%% .. 100%%</text>%n", ly + 9);
        // class table
        String head = String.format(
                Locale.ROOT,
                "%5s %5s %6s %12s %12s %6s %14s %12s",
                "class",
                "size",
                "pools",
                "in use",
                "available",
                "util",
                "in-use bytes",
                "int. waste");
        f(b, "<text x=\"10\" y=\"%d\" font-weight=\"bold\" xml:space=\"preserve\">%s</text>%n", tableTop, xml(head));
        int i = 1;
        for (AllocatorStats.SizeClassStats c : s.sizeClasses()) {
            if (c.pools() == 0 && c.blocksInUse() == 0) {
                continue;
            }
            String line = String.format(
                    Locale.ROOT,
                    "%5d %5d %6d %12d %12d %5.1f%% %14d %12d",
                    c.index(),
                    c.blockSize(),
                    c.pools(),
                    c.blocksInUse(),
                    c.blocksAvailable(),
                    100 * c.utilisation(),
                    c.bytesInUse(),
                    c.internalWaste());
            f(b, "<text x=\"10\" y=\"%d\" xml:space=\"preserve\">%s</text>%n", tableTop + i * 16, xml(line));
            i++;
        }
        b.append("</svg>\n");
        return b.toString();
    }

    /** A self-contained HTML page: the SVG map and the per-class table. */
    static String html(StatsFile.Snapshot s) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
        f(b, "<title>%s</title>%n", xml("arena-dump: process " + s.pid() + " " + s.name()));
        b.append("<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
                + "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right;font-family:monospace}</style>\n");
        b.append("</head><body>\n");
        f(b, "<h1>%s</h1>%n", xml("pymalloc4j process " + s.pid() + " \"" + s.name() + "\""));
        f(
                b,
                "<p>%s</p>%n",
                xml("update #" + s.publishCount() + " at " + s.heartbeat() + "; "
                        + s.arenas().size()
                        + " arenas of " + bytes(s.arenaSize()) + "; in allocated blocks "
                        + bytes(s.bytesInAllocatedBlocks())
                        + "; reserved " + bytes(s.reservedBytes())
                        + s.staleReason(Duration.ZERO).map(r -> "; STALE: " + r).orElse("")));
        b.append(
                "<h2>Size classes</h2>\n<table><tr><th>class</th><th>size</th><th>pools</th><th>blocks in use</th>"
                        + "<th>available</th><th>util</th><th>in-use bytes</th><th>requested</th><th>internal waste</th></tr>\n");
        for (AllocatorStats.SizeClassStats c : s.sizeClasses()) {
            if (c.pools() == 0 && c.blocksInUse() == 0) {
                continue;
            }
            f(
                    b,
                    "<tr><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%.1f%%</td><td>%d</td><td>%d</td>"
                            + "<td>%d</td></tr>%n",
                    c.index(),
                    c.blockSize(),
                    c.pools(),
                    c.blocksInUse(),
                    c.blocksAvailable(),
                    100 * c.utilisation(),
                    c.bytesInUse(),
                    c.bytesRequested(),
                    c.internalWaste());
        }
        b.append("</table>\n<h2>Arenas x pools</h2>\n");
        b.append(svg(s));
        b.append("</body></html>\n");
        return b.toString();
    }
}
