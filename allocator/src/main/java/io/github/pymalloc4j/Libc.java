package io.github.pymalloc4j;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The C library calls the allocator makes: the system allocator for large blocks and
 * {@code mmap}/{@code munmap} for arenas. Every pointer is typed {@code long}, so a call
 * creates no {@code MemorySegment}.
 */
final class Libc {
    static final int PROT_NONE = 0x0;
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_FIXED = 0x10;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    /** {@code (void *)-1}. */
    static final long MAP_FAILED = -1L;

    static final int MADV_DONTNEED = 4;

    private static final MethodHandle MALLOC;
    private static final MethodHandle CALLOC;
    private static final MethodHandle REALLOC;
    private static final MethodHandle FREE;
    private static final MethodHandle ALIGNED_ALLOC;
    private static final MethodHandle MALLOC_USABLE_SIZE;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle MADVISE;
    /** {@code long syscall(long number, int, int)}: variadic after the number. */
    private static final MethodHandle SYSCALL_INT_INT;
    /** The size of a page, {@code getpagesize()}. */
    static final long PAGE_SIZE;

    static {
        final Linker linker = Linker.nativeLinker();
        final SymbolLookup libc = linker.defaultLookup();
        MALLOC = handle(linker, libc, "malloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        CALLOC = handle(linker, libc, "calloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        REALLOC = handle(linker, libc, "realloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        FREE = handle(linker, libc, "free", FunctionDescriptor.ofVoid(JAVA_LONG));
        ALIGNED_ALLOC = handle(linker, libc, "aligned_alloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        MALLOC_USABLE_SIZE = handle(linker, libc, "malloc_usable_size", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        MMAP = handle(
                linker,
                libc,
                "mmap",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        MUNMAP = handle(linker, libc, "munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
        MADVISE = handle(linker, libc, "madvise", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
        SYSCALL_INT_INT = linker.downcallHandle(
                libc.find("syscall").orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: syscall")),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(1));
        try {
            PAGE_SIZE = (int) handle(linker, libc, "getpagesize", FunctionDescriptor.of(JAVA_INT))
                    .invokeExact();
        } catch (final Throwable t) {
            throw new ExceptionInInitializerError(t);
        }
    }

    private Libc() {}

    private static MethodHandle handle(
            final Linker linker, final SymbolLookup lookup, final String name, final FunctionDescriptor descriptor) {
        return linker.downcallHandle(
                lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name)),
                descriptor);
    }

    static long malloc(final long size) {
        try {
            return (long) MALLOC.invokeExact(size);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    static long calloc(final long count, final long size) {
        try {
            return (long) CALLOC.invokeExact(count, size);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    static long realloc(final long address, final long size) {
        try {
            return (long) REALLOC.invokeExact(address, size);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    static void free(final long address) {
        try {
            FREE.invokeExact(address);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * {@code malloc_usable_size}: the bytes the C library holds usable at a live block it returned, at
     * least the size asked for (its chunk header and, for an aligned block, the space skipped before it
     * are not included).
     */
    static long mallocUsableSize(final long address) {
        try {
            return (long) MALLOC_USABLE_SIZE.invokeExact(address);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * {@code aligned_alloc}; the size is rounded up to a multiple of the alignment as C11 asks.
     */
    static long alignedAlloc(final long alignment, final long size) {
        try {
            return (long) ALIGNED_ALLOC.invokeExact(alignment, (size + alignment - 1) & -alignment);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * Anonymous private read-write mapping, not backed by swap reservation.
     *
     * @return the address, or {@link #MAP_FAILED}.
     */
    static long mmapAnonymous(final long length) {
        try {
            return (long) MMAP.invokeExact(
                    0L, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * Reserves address space: an anonymous private mapping with no access, which holds no memory.
     *
     * @return the address, or {@link #MAP_FAILED}.
     */
    static long mmapReserve(final long length) {
        try {
            return (long) MMAP.invokeExact(0L, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * Replaces {@code [address, address + length)}, which must lie in a mapping of ours, by fresh
     * zero-filled anonymous memory with protection {@code prot} ({@code MAP_FIXED}); the pages it held go
     * back to the OS.
     *
     * @return {@code address}, or {@link #MAP_FAILED}.
     */
    static long mmapFixed(final long address, final long length, final int prot) {
        try {
            return (long) MMAP.invokeExact(
                    address, length, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0L);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * @return 0 on success, -1 on failure.
     */
    static int munmap(final long address, final long length) {
        try {
            return (int) MUNMAP.invokeExact(address, length);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * @return 0 on success, -1 on failure.
     */
    static int madvise(final long address, final long length, final int advice) {
        try {
            return (int) MADVISE.invokeExact(address, length, advice);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * {@code syscall(number, a, b)}.
     *
     * @return the system call's result; -1 on failure.
     */
    static long syscall(final long number, final int a, final int b) {
        try {
            return (long) SYSCALL_INT_INT.invokeExact(number, a, b);
        } catch (final Throwable t) {
            throw new AssertionError(t);
        }
    }
}
