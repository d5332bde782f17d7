package io.github.pymalloc4j.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Scanner;

/**
 * The text form in which a measurement process hands its {@link Measurement} to the timing process: one line
 * per sample, space-separated numbers, doubles in {@link Double#toString(double)} form (exact round trip).
 */
final class MeasurementCodec {

    static final String HEADER = "arena-replay-measurement/1";

    private MeasurementCodec() {}

    static String encode(Measurement m) {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        b.append(m.impl())
                .append(' ')
                .append(m.samples())
                .append(' ')
                .append(m.process())
                .append(' ')
                .append(m.replayArenas())
                .append(' ')
                .append(m.reusedArenas())
                .append('\n');
        for (MemorySample s : List.of(m.largestFootprint(), m.largestRss(), m.atLivePeak(), m.end(), m.trimmed())) {
            b.append(s.events())
                    .append(' ')
                    .append(s.footprintBytes())
                    .append(' ')
                    .append(s.inUseBytes())
                    .append(' ')
                    .append(s.rssBytes())
                    .append(' ')
                    .append(s.glibcHeldBytes())
                    .append(' ')
                    .append(s.glibcInUseBytes())
                    .append(' ')
                    .append(s.processGlibcHeldBytes());
            MemorySample.PoolUse u = s.pools();
            if (u == null) {
                b.append(" -");
            } else {
                b.append(" pools ")
                        .append(u.arenaBytes())
                        .append(' ')
                        .append(u.committedBytes())
                        .append(' ')
                        .append(u.bytesInBlocks())
                        .append(' ')
                        .append(u.bytesRequested())
                        .append(' ')
                        .append(u.bytesPendingRemoteFree())
                        .append(' ')
                        .append(u.largeBytes())
                        .append(' ')
                        .append(u.externalFragmentation())
                        .append(' ')
                        .append(u.heapMetadataBytes())
                        .append(' ')
                        .append(u.classes().size());
                for (MemorySample.SizeClassUse c : u.classes()) {
                    b.append(' ')
                            .append(c.blockSize())
                            .append(' ')
                            .append(c.pools())
                            .append(' ')
                            .append(c.blocksInUse())
                            .append(' ')
                            .append(c.capacity())
                            .append(' ')
                            .append(c.bytesRequested())
                            .append(' ')
                            .append(c.utilisation());
                }
            }
            b.append('\n');
        }
        return b.toString();
    }

    /**
     * @throws IllegalArgumentException if the text is not an encoded measurement.
     */
    static Measurement decode(String text) {
        int at = text.indexOf(HEADER);
        if (at < 0) {
            throw new IllegalArgumentException("no measurement in the output");
        }
        try (Scanner in = new Scanner(text.substring(at + HEADER.length()))) {
            String impl = in.next();
            int samples = in.nextInt();
            String process = in.next();
            int arenas = in.nextInt();
            int reused = in.nextInt();
            MemorySample[] s = new MemorySample[5];
            for (int k = 0; k < s.length; k++) {
                long events = in.nextLong();
                long fp = in.nextLong();
                long inUse = in.nextLong();
                long rss = in.nextLong();
                long held = in.nextLong();
                long glibcInUse = in.nextLong();
                long processHeld = in.nextLong();
                MemorySample.PoolUse pools = null;
                if (in.next().equals("pools")) {
                    long arena = in.nextLong();
                    long committed = in.nextLong();
                    long blocks = in.nextLong();
                    long requested = in.nextLong();
                    long pending = in.nextLong();
                    long large = in.nextLong();
                    double ext = Double.parseDouble(in.next());
                    long meta = in.nextLong();
                    int n = in.nextInt();
                    List<MemorySample.SizeClassUse> classes = new ArrayList<>();
                    for (int c = 0; c < n; c++) {
                        classes.add(new MemorySample.SizeClassUse(
                                in.nextInt(),
                                in.nextInt(),
                                in.nextLong(),
                                in.nextLong(),
                                in.nextLong(),
                                Double.parseDouble(in.next())));
                    }
                    pools = new MemorySample.PoolUse(
                            arena, committed, blocks, requested, pending, large, ext, meta, List.copyOf(classes));
                }
                s[k] = new MemorySample(events, fp, inUse, rss, held, glibcInUse, processHeld, pools);
            }
            return new Measurement(impl, s[0], s[1], s[2], s[3], s[4], samples, process, arenas, reused);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("malformed measurement: " + e, e);
        }
    }
}
