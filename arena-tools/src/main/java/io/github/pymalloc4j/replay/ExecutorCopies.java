package io.github.pymalloc4j.replay;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Gives each implementation a replay loop of its own: {@link TraceEventExecutor} is defined once more, as a
 * hidden class, for every target class. The JIT profiles and compiles each copy separately, so the call from the
 * loop into the allocator sees one receiver type and is inlined for it alone, as if each implementation ran in a
 * process of its own; with one shared loop the alternating replays would make that call site bimorphic, and the
 * larger implementation's inlined code would crowd the smaller's out of the compilation.
 */
final class ExecutorCopies {

    private static final MethodType CONSTRUCTOR = MethodType.methodType(
            void.class, Trace.class, long[].class, ReplayTarget.class, boolean.class, boolean.class);
    private static final byte[] CLASS_FILE = classFile();
    private static final Map<Class<?>, MethodHandle> COPIES = new ConcurrentHashMap<>();

    private ExecutorCopies() {}

    private static byte[] classFile() {
        String name = TraceEventExecutor.class.getSimpleName() + ".class";
        try (InputStream in = TraceEventExecutor.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("class file " + name + " not found");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Makes an executor whose class is the copy for {@code target}'s class.
     *
     * @param trace   the events.
     * @param handles one slot per object, all 0.
     * @param target  the allocator.
     * @param touch   write every byte of each new block.
     * @param verify  write and check patterns.
     * @return the executor.
     */
    static EventExecutor create(Trace trace, long[] handles, ReplayTarget target, boolean touch, boolean verify) {
        MethodHandle constructor = COPIES.computeIfAbsent(target.getClass(), c -> define());
        try {
            return (EventExecutor) constructor.invoke(trace, handles, target, touch, verify);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MethodHandle define() {
        try {
            MethodHandles.Lookup copy = MethodHandles.lookup().defineHiddenClass(CLASS_FILE, true);
            return copy.findConstructor(copy.lookupClass(), CONSTRUCTOR);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot copy " + TraceEventExecutor.class.getName() + ": " + e, e);
        }
    }
}
