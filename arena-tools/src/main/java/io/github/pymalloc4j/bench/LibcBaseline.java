package io.github.pymalloc4j.bench;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The baseline: the C library's {@code malloc}/{@code free} as plain FFM downcalls, typed
 * {@code (long)long} and {@code (long)void} so that no {@code MemorySegment} is created per call.
 * The handles are {@code static final}, so the JIT binds the calls as constants.
 */
@SuppressWarnings("restricted")
public final class LibcBaseline {

    private static final Linker LINKER = Linker.nativeLinker();

    private static final MethodHandle MALLOC = LINKER.downcallHandle(
            LINKER.defaultLookup().find("malloc").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));

    private static final MethodHandle FREE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("free").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG));

    private LibcBaseline() {
    }

    /** {@code malloc(size)}; returns 0 when the C library does. */
    public static long malloc(long size) {
        try {
            return (long) MALLOC.invokeExact(size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code free(address)}; 0 is a no-op, as in C. */
    public static void free(long address) {
        try {
            FREE.invokeExact(address);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
