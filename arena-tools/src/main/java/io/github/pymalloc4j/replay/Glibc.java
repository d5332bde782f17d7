package io.github.pymalloc4j.replay;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The C library's allocator as FFM downcalls, every pointer typed {@code long} (as the allocator's own
 * {@code Libc} and the benchmarks' {@code LibcBaseline} do: no {@code MemorySegment} per call, no
 * {@code Linker.Option}), plus glibc's {@code mallinfo2()} and {@code malloc_trim()} for measuring it.
 */
@SuppressWarnings("restricted")
final class Glibc {

    /** {@code struct mallinfo2}: ten {@code size_t} fields. */
    private static final StructLayout MALLINFO2_LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("arena"),
            JAVA_LONG.withName("ordblks"),
            JAVA_LONG.withName("smblks"),
            JAVA_LONG.withName("hblks"),
            JAVA_LONG.withName("hblkhd"),
            JAVA_LONG.withName("usmblks"),
            JAVA_LONG.withName("fsmblks"),
            JAVA_LONG.withName("uordblks"),
            JAVA_LONG.withName("fordblks"),
            JAVA_LONG.withName("keepcost"));

    private static final MethodHandle MALLOC;
    private static final MethodHandle CALLOC;
    private static final MethodHandle REALLOC;
    private static final MethodHandle ALIGNED_ALLOC;
    private static final MethodHandle FREE;
    private static final MethodHandle MALLINFO2;
    private static final MethodHandle MALLOC_TRIM;
    private static final MethodHandle OPEN_MEMSTREAM;
    private static final MethodHandle MALLOC_INFO;
    private static final MethodHandle FCLOSE;
    /** Where {@code mallinfo2} writes its result: allocated once, so measuring does not call malloc. */
    private static final MemorySegment MALLINFO2_RESULT = Arena.global().allocate(MALLINFO2_LAYOUT);

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        MALLOC = handle(linker, libc, "malloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        CALLOC = handle(linker, libc, "calloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        REALLOC = handle(linker, libc, "realloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        ALIGNED_ALLOC = handle(linker, libc, "aligned_alloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        FREE = handle(linker, libc, "free", FunctionDescriptor.ofVoid(JAVA_LONG));
        MALLINFO2 = handle(linker, libc, "mallinfo2", FunctionDescriptor.of(MALLINFO2_LAYOUT));
        MALLOC_TRIM = handle(linker, libc, "malloc_trim", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        OPEN_MEMSTREAM = handle(linker, libc, "open_memstream", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        MALLOC_INFO = handle(linker, libc, "malloc_info", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
        FCLOSE = handle(linker, libc, "fclose", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    }

    private Glibc() {}

    private static MethodHandle handle(Linker linker, SymbolLookup lookup, String name, FunctionDescriptor d) {
        return linker.downcallHandle(
                lookup.find(name)
                        .orElseThrow(() -> new UnsatisfiedLinkError(
                                "C library symbol not found: " + name + " (arena-replay needs glibc 2.33 or newer)")),
                d);
    }

    static long malloc(long size) {
        try {
            return (long) MALLOC.invokeExact(size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static long calloc(long count, long size) {
        try {
            return (long) CALLOC.invokeExact(count, size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static long realloc(long address, long size) {
        try {
            return (long) REALLOC.invokeExact(address, size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code aligned_alloc(alignment, size)} with the size as traced (glibc does not ask for a multiple). */
    static long alignedAlloc(long alignment, long size) {
        try {
            return (long) ALIGNED_ALLOC.invokeExact(alignment, size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static void free(long address) {
        try {
            FREE.invokeExact(address);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code malloc_trim(0)}: gives free memory at the top of each heap and whole free pages back to the OS. */
    static void mallocTrim() {
        try {
            int ignored = (int) MALLOC_TRIM.invokeExact(0L);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * {@code malloc_info(0, f)} into an {@code open_memstream} buffer: glibc's per-arena statistics as XML. The
     * buffer is allocated with {@code malloc} by the calling thread.
     *
     * @return the XML text.
     */
    static String mallocInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment where = a.allocate(JAVA_LONG);
            MemorySegment length = a.allocate(JAVA_LONG);
            long file = (long) OPEN_MEMSTREAM.invokeExact(where.address(), length.address());
            if (file == 0) {
                throw new IllegalStateException("open_memstream failed");
            }
            int status = (int) MALLOC_INFO.invokeExact(0, file);
            int closed = (int) FCLOSE.invokeExact(file);
            long buffer = where.get(JAVA_LONG, 0);
            try {
                if (status != 0 || closed != 0) {
                    throw new IllegalStateException("malloc_info failed");
                }
                byte[] text = MemorySegment.ofAddress(buffer)
                        .reinterpret(length.get(JAVA_LONG, 0))
                        .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                return new String(text, java.nio.charset.StandardCharsets.US_ASCII);
            } finally {
                free(buffer);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code mallinfo2()}, summed by glibc over all its arenas. */
    static synchronized MallocInfo mallinfo2() {
        try {
            MemorySegment m = (MemorySegment)
                    MALLINFO2.invokeExact((SegmentAllocator) (byteSize, byteAlignment) -> MALLINFO2_RESULT);
            return new MallocInfo(
                    m.get(JAVA_LONG, 0),
                    m.get(JAVA_LONG, 8),
                    m.get(JAVA_LONG, 16),
                    m.get(JAVA_LONG, 24),
                    m.get(JAVA_LONG, 32),
                    m.get(JAVA_LONG, 40),
                    m.get(JAVA_LONG, 48),
                    m.get(JAVA_LONG, 56),
                    m.get(JAVA_LONG, 64),
                    m.get(JAVA_LONG, 72));
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
