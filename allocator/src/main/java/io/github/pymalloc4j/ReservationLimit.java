package io.github.pymalloc4j;

/**
 * Bytes the allocator holds from the operating system (arenas and large blocks) against the
 * configured maximum. Not thread-safe: the allocator's lock serialises access.
 */
final class ReservationLimit
{
    private final long max;
    private long reserved;

    ReservationLimit(final long max)
    {
        this.max = max;
    }

    /**
     * Accounts for {@code bytes} more, or refuses.
     *
     * @param bytes bytes about to be obtained.
     * @param what  what they are for, for the message.
     * @throws OutOfMemoryError if the maximum would be exceeded; nothing is accounted then.
     */
    void reserve(final long bytes, final String what)
    {
        if (bytes > max - reserved)
        {
            throw new OutOfMemoryError("pymalloc4j: reserved-bytes limit " + max + " bytes reached: holding " +
                reserved + " bytes, " + what + " needs " + bytes + " more");
        }
        reserved += bytes;
    }

    void release(final long bytes)
    {
        reserved -= bytes;
    }

    long reserved()
    {
        return reserved;
    }

    long max()
    {
        return max;
    }
}
