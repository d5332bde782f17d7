package io.github.pymalloc4j;

/**
 * The allocator-wide byte figures and counters that both a live {@link AllocatorStats} snapshot and a
 * published {@link StatsFile.Snapshot} carry, under the same names, so that one writer
 * ({@link StatsFormat#totalsJson}) renders them for both JSON forms.
 */
interface StatsTotals
{
    long arenaBytes();

    long bytesInAllocatedBlocks();

    long bytesPendingRemoteFree();

    long bytesInAvailableBlocks();

    long bytesInUnusedPools();

    long bytesLostToQuantization();

    long bytesRequested();

    long internalFragmentationBytes();

    double externalFragmentation();

    long reservedBytes();

    long committedBytes();

    long freeNotReturnedBytes();

    long heapMetadataBytes();

    long largeAllocations();

    long largeBytes();

    long mallocs();

    long frees();

    long remoteFrees();

    long reallocs();

    long largeMallocs();

    long doubleFreesDetected();

    long poolsDecommitted();

    long maintenanceRounds();
}
