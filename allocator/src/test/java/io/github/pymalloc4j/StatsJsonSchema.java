package io.github.pymalloc4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Generates {@code docs/stats.schema.json}, the one JSON Schema of both {@code AllocatorStats.toJson()} and
 * {@code StatsFile.Snapshot.toJson()}: the structure is written here, every total comes from {@link Statistic}.
 * {@link StatsJsonSchemaTest} checks that the committed file is what this generates.
 */
final class StatsJsonSchema {

    private StatsJsonSchema() {}

    /** The schema document, pretty-printed with two-space indents and a final newline. */
    static String generate() {
        Obj root = new Obj()
                .put("$schema", str("https://json-schema.org/draft/2020-12/schema"))
                .put("$id", str("https://github.com/pymalloc4j/pymalloc4j/blob/main/docs/stats.schema.json"))
                .put("title", str("pymalloc4j statistics"))
                .put(
                        "description",
                        str("The JSON of AllocatorStats.toJson() (schema \"pymalloc4j-stats\") and of a"
                                + " published statistics file, StatsFile.Snapshot.toJson() (schema \"pymalloc4j-stats-file\")."
                                + " Generated from io.github.pymalloc4j.Statistic by StatsJsonSchema: do not edit."))
                .put("type", str("object"));
        Obj props = new Obj()
                .put("schema", new Obj().put("enum", arr(str("pymalloc4j-stats"), str(StatsFile.JSON_SCHEMA))))
                .put("version", integer("the version of the document's schema"))
                .put("file", fileObject())
                .put("config", configObject())
                .put("sizeClasses", new Obj().put("type", str("array")).put("items", sizeClassObject()))
                .put("arenas", arenasObject());
        List<String> required = new ArrayList<>(List.of("schema", "version", "config", "sizeClasses", "arenas"));
        for (Statistic s : Statistic.Group.TOP.statistics()) {
            props.put(s.jsonKey(), statistic(s));
            required.add(s.jsonKey());
        }
        props.put(
                "heaps",
                new Obj()
                        .put("description", str("live heaps, by id (AllocatorStats only)"))
                        .put("type", str("array"))
                        .put("items", heapObject()));
        for (Statistic.Group g : Statistic.Group.values()) {
            if (g == Statistic.Group.TOP || g == Statistic.Group.ARENAS) {
                continue;
            }
            props.put(g.jsonKey(), groupObject(g, new Obj(), new ArrayList<>()));
            required.add(g.jsonKey());
        }
        return root.put("required", strings(required))
                        .put("additionalProperties", lit("false"))
                        .put("properties", props)
                        .render(0)
                + "\n";
    }

    private static Obj groupObject(Statistic.Group g, Obj extra, List<String> extraRequired) {
        Obj props = new Obj();
        List<String> required = new ArrayList<>();
        for (Statistic s : g.statistics()) {
            props.put(s.jsonKey(), statistic(s));
            required.add(s.jsonKey());
        }
        props.putAll(extra);
        required.addAll(extraRequired);
        return strict(props, required);
    }

    private static Obj statistic(Statistic s) {
        String unit = switch (s.unit()) {
            case BYTES -> "bytes";
            case COUNT -> "count";
            case FRACTION -> "fraction from 0 to 1";
        };
        return new Obj()
                .put("description", str(s.description() + " (" + unit + ")"))
                .put("type", str(s.unit() == Statistic.Unit.FRACTION ? "number" : "integer"));
    }

    private static Obj arenasObject() {
        Obj arena = strict(
                new Obj()
                        .put("address", new Obj().put("type", str("string")).put("pattern", str("^0x[0-9a-f]+$")))
                        .put("poolsTotal", integer("pools the arena is cut into"))
                        .put("poolsCarved", integer("pools handed out at least once"))
                        .put("poolsFree", integer("pools that can be handed out"))
                        .put("blocksInUse", integer("live blocks in the arena (statistics file only)"))
                        .put("pools", new Obj().put("type", str("array")).put("items", poolObject())),
                List.of("address", "poolsTotal", "poolsCarved", "poolsFree", "pools"));
        return groupObject(
                Statistic.Group.ARENAS,
                new Obj().put("list", new Obj().put("type", str("array")).put("items", arena)),
                List.of("list"));
    }

    private static Obj poolObject() {
        return strict(
                new Obj()
                        .put("index", integer("index in its arena"))
                        .put("class", integer("size class served, -1 if the pool is free"))
                        .put("blocksInUse", integer("live blocks"))
                        .put("capacity", integer("blocks the pool holds, 0 if free"))
                        .put(
                                "pendingRemoteFrees",
                                integer("blocks freed by other threads, not collected (AllocatorStats only)"))
                        .put("heap", integer("the owning heap's id, -1 when free or orphaned (AllocatorStats only)"))
                        .put("fill", integer("blocksInUse as a percentage of capacity (statistics file only)")),
                List.of("index", "class", "blocksInUse", "capacity"));
    }

    private static Obj sizeClassObject() {
        return strict(
                new Obj()
                        .put("class", integer("class index"))
                        .put("blockSize", integer("bytes per block"))
                        .put("pools", integer("pools serving the class"))
                        .put("blocksInUse", integer("live blocks"))
                        .put("blocksAvailable", integer("free blocks in those pools"))
                        .put("pendingRemoteFrees", integer("blocks freed by other threads, not collected"))
                        .put("utilisation", new Obj().put("type", str("number")))
                        .put("bytesInUse", integer("blocksInUse times blockSize"))
                        .put("bytesRequested", integer("sizes requested for the live blocks"))
                        .put("internalWaste", integer("bytesInUse minus bytesRequested")),
                List.of(
                        "class",
                        "blockSize",
                        "pools",
                        "blocksInUse",
                        "blocksAvailable",
                        "pendingRemoteFrees",
                        "utilisation",
                        "bytesInUse",
                        "bytesRequested",
                        "internalWaste"));
    }

    private static Obj heapObject() {
        return strict(
                new Obj()
                        .put("id", integer("heap id"))
                        .put("thread", new Obj().put("type", arr(str("string"), str("null"))))
                        .put("shared", new Obj().put("type", str("boolean")))
                        .put("pools", integer("pools it holds"))
                        .put("blocksInUse", integer("live blocks in its pools"))
                        .put("bytesInUse", integer("bytes of those blocks"))
                        .put("pendingRemoteFrees", integer("blocks freed by other threads, not collected"))
                        .put("mallocs", integer("allocations it served"))
                        .put("frees", integer("frees it served")),
                List.of(
                        "id",
                        "thread",
                        "shared",
                        "pools",
                        "blocksInUse",
                        "bytesInUse",
                        "pendingRemoteFrees",
                        "mallocs",
                        "frees"));
    }

    private static Obj configObject() {
        return strict(
                new Obj()
                        .put("arenaSize", integer("bytes per arena"))
                        .put("poolSize", integer("bytes per pool"))
                        .put("smallRequestThreshold", integer("the largest request served from pools"))
                        .put(
                                "maxReservedBytes",
                                new Obj()
                                        .put("description", str("the limit, null when unlimited"))
                                        .put("type", arr(str("integer"), str("null"))))
                        .put("purgeDelayNanos", integer("the purge delay"))
                        .put("lockFreeOwners", new Obj().put("type", str("boolean"))),
                List.of(
                        "arenaSize",
                        "poolSize",
                        "smallRequestThreshold",
                        "maxReservedBytes",
                        "purgeDelayNanos",
                        "lockFreeOwners"));
    }

    private static Obj fileObject() {
        List<String> names = List.of(
                "path",
                "layoutVersion",
                "pid",
                "name",
                "startTimeEpochMs",
                "heartbeatEpochMs",
                "publishPeriodMs",
                "publishCount",
                "processAlive",
                "writerClosed",
                "stale",
                "staleReason",
                "arenaCapacity",
                "arenasTruncated",
                "statsNanos");
        Obj props = new Obj();
        for (String n : names) {
            props.put(
                    n,
                    switch (n) {
                        case "path", "name" -> new Obj().put("type", str("string"));
                        case "staleReason" -> new Obj().put("type", arr(str("string"), str("null")));
                        case "processAlive", "writerClosed", "stale", "arenasTruncated" ->
                            new Obj().put("type", str("boolean"));
                        default -> new Obj().put("type", str("integer"));
                    });
        }
        return strict(props, names).put("description", str("the statistics file (StatsFile.Snapshot only)"));
    }

    private static Obj strict(Obj properties, List<String> required) {
        return new Obj()
                .put("type", str("object"))
                .put("required", strings(required))
                .put("additionalProperties", lit("false"))
                .put("properties", properties);
    }

    private static Obj integer(String description) {
        return new Obj().put("description", str(description)).put("type", str("integer"));
    }

    // ------------------------------------------------------------------ a tiny JSON writer

    private interface Node {
        String render(int indent);
    }

    private static Node lit(String text) {
        return indent -> text;
    }

    private static Node str(String text) {
        return indent -> StatsFormat.quote(text);
    }

    private static Node strings(List<String> values) {
        return arr(values.stream().map(StatsJsonSchema::str).toArray(Node[]::new));
    }

    private static Node arr(Node... items) {
        return indent -> {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < items.length; i++) {
                b.append(i == 0 ? "" : ", ").append(items[i].render(indent));
            }
            return b.append(']').toString();
        };
    }

    private static final class Obj implements Node {
        private final List<String> keys = new ArrayList<>();
        private final List<Node> values = new ArrayList<>();

        Obj put(String key, Node value) {
            if (keys.contains(key)) {
                throw new IllegalStateException("duplicate key " + key);
            }
            keys.add(key);
            values.add(value);
            return this;
        }

        void putAll(Obj other) {
            for (int i = 0; i < other.keys.size(); i++) {
                put(other.keys.get(i), other.values.get(i));
            }
        }

        @Override
        public String render(int indent) {
            String pad = " ".repeat(indent + 2);
            StringBuilder b = new StringBuilder("{\n");
            for (int i = 0; i < keys.size(); i++) {
                b.append(pad)
                        .append(StatsFormat.quote(keys.get(i)))
                        .append(": ")
                        .append(values.get(i).render(indent + 2))
                        .append(i + 1 < keys.size() ? ",\n" : "\n");
            }
            return b.append(" ".repeat(indent)).append('}').toString();
        }
    }

    /** The JSON path of a statistic, as {@code bytes.inAllocatedBlocks}. */
    static String path(Statistic s) {
        return s.group().jsonKey() == null ? s.jsonKey() : s.group().jsonKey() + "." + s.jsonKey();
    }

    /** The markdown table of the totals for {@code docs/stats-format.md}: JSON path, unit, text label, meaning. */
    static String totalsTable() {
        StringBuilder b = new StringBuilder("| JSON path | unit | text report | meaning |\n|---|---|---|---|\n");
        for (Statistic s : Statistic.values()) {
            b.append("| `")
                    .append(path(s))
                    .append("` | ")
                    .append(s.unit().name().toLowerCase(java.util.Locale.ROOT))
                    .append(" | ")
                    .append(s.label())
                    .append(" | ")
                    .append(s.description())
                    .append(s.derived() ? " (derived, not stored)" : "")
                    .append(" |\n");
        }
        return b.toString();
    }

    /** The markdown table of the totals area for {@code docs/dump-format.md}: offset, content, JSON path. */
    static String slotTable() {
        java.util.TreeMap<Integer, String[]> rows = new java.util.TreeMap<>();
        for (Statistic s : Statistic.values()) {
            if (!s.derived()) {
                rows.put(s.slot(), new String[] {"`" + s.name() + "`: " + s.description(), "`" + path(s) + "`"});
            }
        }
        rows.put(StatsFileLayout.T_MAX_RESERVED, new String[] {
            "maximum reserved bytes (−1 = unlimited)", "`config.maxReservedBytes` (null = unlimited)"
        });
        rows.put(
                StatsFileLayout.T_PURGE_DELAY_NANOS,
                new String[] {"purge delay in nanoseconds", "`config.purgeDelayNanos`"});
        rows.put(
                StatsFileLayout.T_STATUS,
                new String[] {"status: bit 0 lockFreeOwners, bit 1 maintenance has failed", "`config.lockFreeOwners`"});
        rows.put(
                StatsFileLayout.T_SMALL_REQUEST_THRESHOLD,
                new String[] {"the largest request served from pools (512)", "`config.smallRequestThreshold`"});
        rows.put(
                StatsFileLayout.T_STATS_NANOS,
                new String[] {"time the writer spent in `Allocator.stats()`", "`file.statsNanos`"});
        StringBuilder b =
                new StringBuilder("| offset | slot | content | JSON path in `toJson()` |\n|---:|---:|---|---|\n");
        for (var e : rows.entrySet()) {
            b.append("| ")
                    .append(StatsFileLayout.total(e.getKey()))
                    .append(" | ")
                    .append(e.getKey())
                    .append(" | ")
                    .append(e.getValue()[0])
                    .append(" | ")
                    .append(e.getValue()[1])
                    .append(" |\n");
        }
        int next = rows.lastKey() + 1;
        b.append("| ")
                .append(StatsFileLayout.total(next))
                .append("–")
                .append(StatsFileLayout.TOTALS_OFFSET + StatsFileLayout.TOTALS_SIZE - 1)
                .append(" | ")
                .append(next)
                .append("–")
                .append(StatsFileLayout.TOTAL_SLOTS - 1)
                .append(" | reserved, zero | |\n");
        return b.toString();
    }

    /**
     * {@code text} with the part between {@code <!-- NAME:begin -->} and {@code <!-- NAME:end -->} replaced.
     *
     * @throws IllegalStateException if the markers are missing.
     */
    static String replaceSection(String text, String name, String content) {
        String begin = "<!-- " + name + ":begin (generated from Statistic: do not edit) -->\n";
        String end = "<!-- " + name + ":end -->";
        int a = text.indexOf(begin);
        int e = text.indexOf(end);
        if (a < 0 || e < a) {
            throw new IllegalStateException("no markers " + begin.strip() + " ... " + end);
        }
        return text.substring(0, a + begin.length()) + content + text.substring(e);
    }

    /** Prints the schema (to regenerate the file: see {@link StatsJsonSchemaTest}). */
    public static void main(String[] args) {
        System.out.print(generate());
    }
}
