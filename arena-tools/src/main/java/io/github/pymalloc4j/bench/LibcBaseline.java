package io.github.pymalloc4j.bench;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The baseline: the C library's {@code malloc}/{@code free} as FFM downcalls, typed {@code (long)long}
 * and {@code (long)void} so that no {@code MemorySegment} is created per call. Two pairs of handles:
 * plain ones, and ones made with {@link Linker.Option#critical(boolean) Linker.Option.critical(false)},
 * which skip the thread-state transition of a downcall (allowed because malloc and free neither block
 * for long nor call back into Java; {@code false}: no heap segment is passed). The handles are
 * {@code static final}, so the JIT binds the calls as constants.
 */
@SuppressWarnings("restricted")
public final class LibcBaseline {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor MALLOC_TYPE =
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    private static final FunctionDescriptor FREE_TYPE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG);

    private static final MethodHandle MALLOC =
            LINKER.downcallHandle(LINKER.defaultLookup().find("malloc").orElseThrow(), MALLOC_TYPE);
    private static final MethodHandle FREE =
            LINKER.downcallHandle(LINKER.defaultLookup().find("free").orElseThrow(), FREE_TYPE);
    private static final MethodHandle MALLOC_CRITICAL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("malloc").orElseThrow(), MALLOC_TYPE, Linker.Option.critical(false));
    private static final MethodHandle FREE_CRITICAL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("free").orElseThrow(), FREE_TYPE, Linker.Option.critical(false));

    private LibcBaseline() {}

    /**
     * {@code malloc(size)} through a plain downcall.
     *
     * @param size bytes.
     * @return the address; 0 when the C library returns NULL.
     */
    public static long malloc(long size) {
        try {
            return (long) MALLOC.invokeExact(size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * {@code free(address)} through a plain downcall; 0 is a no-op, as in C.
     *
     * @param address a block from {@code malloc}, or 0.
     */
    public static void free(long address) {
        try {
            FREE.invokeExact(address);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * {@code malloc(size)} through a critical downcall.
     *
     * @param size bytes.
     * @return the address; 0 when the C library returns NULL.
     */
    public static long mallocCritical(long size) {
        try {
            return (long) MALLOC_CRITICAL.invokeExact(size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * {@code free(address)} through a critical downcall; 0 is a no-op, as in C.
     *
     * @param address a block from {@code malloc}, or 0.
     */
    public static void freeCritical(long address) {
        try {
            FREE_CRITICAL.invokeExact(address);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
