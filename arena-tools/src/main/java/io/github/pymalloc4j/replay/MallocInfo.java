package io.github.pymalloc4j.replay;

/**
 * glibc's {@code struct mallinfo2}, summed over all arenas (see {@code man mallinfo2}).
 *
 * @param arena    bytes obtained with {@code sbrk} or as thread-arena heaps (free chunks included).
 * @param ordblks  free chunks.
 * @param smblks   free fastbin chunks.
 * @param hblks    chunks obtained with {@code mmap}.
 * @param hblkhd   bytes in chunks obtained with {@code mmap}.
 * @param usmblks  always 0.
 * @param fsmblks  bytes in free fastbin chunks.
 * @param uordblks bytes in chunks in use (not counting {@code mmap}ed ones).
 * @param fordblks bytes in free chunks.
 * @param keepcost bytes at the top of the main heap that {@code malloc_trim} could give back.
 */
public record MallocInfo(
        long arena,
        long ordblks,
        long smblks,
        long hblks,
        long hblkhd,
        long usmblks,
        long fsmblks,
        long uordblks,
        long fordblks,
        long keepcost) {

    /**
     * Bytes glibc holds from the OS: its heaps (free chunks included) and its {@code mmap}ed chunks.
     *
     * @return {@code arena + hblkhd}.
     */
    public long heldBytes() {
        return arena + hblkhd;
    }

    /**
     * Bytes in chunks handed out, headers included.
     *
     * @return {@code uordblks + hblkhd}.
     */
    public long inUseBytes() {
        return uordblks + hblkhd;
    }

    /**
     * Reads glibc's statistics now.
     *
     * @return the current {@code mallinfo2()}.
     */
    public static MallocInfo now() {
        return Glibc.mallinfo2();
    }
}
