package io.github.pymalloc4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.SynchronousQueue;
import org.junit.jupiter.api.Test;

/**
 * While maintenance collects an idle owner's remote frees, every {@link Allocator#stats()} snapshot must
 * count each free exactly once: as pending or as collected, never both and never neither. An owner thread
 * allocates a batch and goes idle; this thread frees the whole batch remotely and then takes snapshots as
 * fast as it can while maintenance (1 ms purge delay) collects the batch; mallocs - frees must be 0 and
 * remoteFrees must equal every remote free made, in every snapshot.
 */
class CountersDuringCollectionTest {

    private static final int BATCH = 20_000;
    private static final int ROUNDS = 20;

    @Test
    void everySnapshotCountsEachRemoteFreeOnce() throws Exception {
        try (Allocator a = Allocator.builder().purgeDelay(Duration.ofMillis(1)).build()) {
            SynchronousQueue<long[]> batches = new SynchronousQueue<>();
            SynchronousQueue<Boolean> requests = new SynchronousQueue<>();
            Thread owner = Thread.ofPlatform().name("owner").start(() -> {
                try {
                    while (requests.take()) {
                        long[] blocks = new long[BATCH];
                        for (int i = 0; i < BATCH; i++) {
                            blocks[i] = a.malloc(64);
                        }
                        batches.put(blocks); // then idle until the next request
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            long remoteFreesMade = 0;
            long snapshots = 0;
            long collectedWhileWatching = 0;
            for (int round = 0; round < ROUNDS; round++) {
                requests.put(true);
                long[] blocks = batches.take();
                for (long b : blocks) {
                    a.free(b);
                }
                remoteFreesMade += BATCH;
                long deadline = System.nanoTime() + 50_000_000L;
                long pendingAtStart = -1;
                while (System.nanoTime() < deadline) {
                    AllocatorStats s = a.stats();
                    snapshots++;
                    long pending = s.bytesPendingRemoteFree() / 64;
                    if (pendingAtStart < 0) {
                        pendingAtStart = pending;
                    }
                    String ctx = "round " + round + ", snapshot " + snapshots + ", pending blocks " + pending;
                    assertEquals(0, s.mallocs() - s.frees(), ctx + ": mallocs - frees with every block freed");
                    assertEquals(remoteFreesMade, s.remoteFrees(), ctx + ": remote frees counted once each");
                    if (pending == 0) {
                        break;
                    }
                }
                if (pendingAtStart > 0) {
                    collectedWhileWatching++;
                }
            }
            requests.put(false);
            owner.join();
            assertTrue(snapshots >= ROUNDS, "snapshots were taken");
            assertTrue(
                    collectedWhileWatching > 0,
                    "maintenance collected remote frees while snapshots were taken in at least one round");
        }
    }
}
