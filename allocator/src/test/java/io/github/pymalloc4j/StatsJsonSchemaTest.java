package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The statistics are defined once ({@link Statistic}) and both JSON forms follow one schema,
 * {@code docs/stats.schema.json}, generated from that list, as are the totals tables of
 * {@code docs/stats-format.md} and {@code docs/dump-format.md}. After adding a statistic, rewrite them with
 * {@code mvn -B -pl allocator test -Dtest=StatsJsonSchemaTest -Dpymalloc4j.writeSchema=true}.
 */
class StatsJsonSchemaTest {
    static final Path SCHEMA_FILE = Path.of("..", "docs", "stats.schema.json");
    static final Path STATS_FORMAT = Path.of("..", "docs", "stats-format.md");
    static final Path DUMP_FORMAT = Path.of("..", "docs", "dump-format.md");

    private static Schema schema;

    @TempDir
    Path dir;

    @BeforeAll
    static void loadSchema() throws IOException {
        if (Boolean.getBoolean("pymalloc4j.writeSchema")) {
            Files.writeString(SCHEMA_FILE, StatsJsonSchema.generate());
            Files.writeString(
                    STATS_FORMAT,
                    StatsJsonSchema.replaceSection(
                            Files.readString(STATS_FORMAT), "totals", StatsJsonSchema.totalsTable()));
            Files.writeString(
                    DUMP_FORMAT,
                    StatsJsonSchema.replaceSection(
                            Files.readString(DUMP_FORMAT), "slots", StatsJsonSchema.slotTable()));
        }
        schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(Files.readString(SCHEMA_FILE), InputFormat.JSON);
    }

    private static List<Error> errors(String json) {
        return schema.validate(json, InputFormat.JSON);
    }

    @Test
    void theCommittedSchemaIsTheOneGeneratedFromTheStatistics() throws IOException {
        assertEquals(
                StatsJsonSchema.generate(),
                Files.readString(SCHEMA_FILE),
                SCHEMA_FILE + " is out of date: run mvn -pl allocator test -Dtest=StatsJsonSchemaTest"
                        + " -Dpymalloc4j.writeSchema=true");
    }

    @Test
    void theTablesOfTheDocsAreTheOnesGeneratedFromTheStatistics() throws IOException {
        String stats = Files.readString(STATS_FORMAT);
        assertEquals(
                StatsJsonSchema.replaceSection(stats, "totals", StatsJsonSchema.totalsTable()),
                stats,
                STATS_FORMAT + " is out of date: regenerate as said in "
                        + getClass().getSimpleName());
        String dump = Files.readString(DUMP_FORMAT);
        assertEquals(
                StatsJsonSchema.replaceSection(dump, "slots", StatsJsonSchema.slotTable()),
                dump,
                DUMP_FORMAT + " is out of date: regenerate as said in "
                        + getClass().getSimpleName());
    }

    @Test
    void everyStatisticHasAUniqueSlotKeyAndLabel() {
        Set<Integer> slots = new HashSet<>(Set.of(
                StatsFileLayout.T_MAX_RESERVED,
                StatsFileLayout.T_PURGE_DELAY_NANOS,
                StatsFileLayout.T_STATUS,
                StatsFileLayout.T_SMALL_REQUEST_THRESHOLD,
                StatsFileLayout.T_STATS_NANOS));
        Set<String> keys = new HashSet<>();
        Set<String> labels = new HashSet<>();
        for (Statistic s : Statistic.values()) {
            if (!s.derived()) {
                assertTrue(s.slot() >= 0 && s.slot() < StatsFileLayout.TOTAL_SLOTS, s + ": slot " + s.slot());
                assertTrue(slots.add(s.slot()), s + ": slot " + s.slot() + " is taken");
            }
            assertTrue(keys.add(s.group() + "." + s.jsonKey()), s + ": JSON key taken");
            assertTrue(labels.add(s.label()), s + ": label taken");
            assertFalse(s.description().isBlank(), s + ": no description");
        }
    }

    @Test
    void aLiveSnapshotFollowsTheSchema() {
        try (Allocator a = Allocator.create()) {
            List<Long> keep = busy(a);
            String json = a.stats().toJson();
            assertEquals(List.of(), errors(json), json);
            keep.forEach(a::free);
        }
    }

    @Test
    void aPublishedFileFollowsTheSameSchema() throws Exception {
        try (Allocator a = Allocator.builder()
                .publishStats("schema-test")
                .publishDirectory(dir)
                .build()) {
            List<Long> keep = busy(a);
            a.publishNow();
            Path file = StatsFile.list(dir).getFirst();
            try (StatsFile f = StatsFile.open(file)) {
                String json = f.read().toJson();
                assertEquals(List.of(), errors(json), json);
                // every statistic reads back as written
                AllocatorStats live = a.stats();
                StatsFile.Snapshot copy = f.read();
                for (Statistic s : Statistic.values()) {
                    if (s.unit() != Statistic.Unit.FRACTION
                            && s != Statistic.HEAP_METADATA
                            && s.group() != Statistic.Group.COUNTERS) {
                        assertEquals(live.get(s), copy.get(s), s + " in the file");
                    }
                }
            }
            keep.forEach(a::free);
        }
    }

    @Test
    void theSchemaRefusesADocumentThatLacksOrAddsATotal() {
        try (Allocator a = Allocator.create()) {
            String json = a.stats().toJson();
            String without = json.replaceFirst(",\"remoteFrees\":\\d+", "");
            assertFalse(errors(without).isEmpty(), "a missing counter must be refused: " + without);
            String extra = json.replaceFirst("\"mallocs\":", "\"unknownCounter\":1,\"mallocs\":");
            assertFalse(errors(extra).isEmpty(), "an unknown counter must be refused: " + extra);
            String wrongType = json.replaceFirst("\"lockFreeOwners\":(true|false)", "\"lockFreeOwners\":1");
            assertFalse(errors(wrongType).isEmpty(), "a wrong type must be refused: " + wrongType);
        }
    }

    @Test
    void readingAFractionAsALongAndTheReverseIsRefusedWithAClearMessage() {
        try (Allocator a = Allocator.create()) {
            AllocatorStats s = a.stats();
            var e = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, () -> s.get(Statistic.EXTERNAL_FRAGMENTATION));
            assertTrue(e.getMessage().contains("fraction()"), e.getMessage());
            var f = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, () -> s.fraction(Statistic.MALLOCS));
            assertTrue(f.getMessage().contains("get()"), f.getMessage());
            assertEquals(s.externalFragmentation(), s.fraction(Statistic.EXTERNAL_FRAGMENTATION));
            assertEquals(s.bytesInAllocatedBlocks() - s.bytesRequested(), s.get(Statistic.INTERNAL_FRAGMENTATION));
        }
    }

    private static List<Long> busy(Allocator a) {
        Random r = new Random(11);
        List<Long> keep = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            keep.add(a.malloc(1 + r.nextInt(600)));
        }
        keep.add(a.malloc(100_000));
        for (int i = 0; i < keep.size(); i += 3) {
            a.free(keep.set(i, 0L));
        }
        keep.removeIf(p -> p == 0L);
        return keep;
    }
}
