package io.github.pymalloc4j.replay;

import java.util.function.Supplier;

/** The allocators {@code arena-replay} compares. */
public enum Implementation {
    /** pymalloc4j, a fresh {@code Allocator} with the default settings per replay. */
    PYMALLOC4J("pymalloc4j", PymallocTarget::new),
    /** glibc's {@code malloc} family through FFM downcalls, the process heap. */
    MALLOC("malloc", GlibcTarget::new);

    private final String label;
    private final Supplier<ReplayTarget> maker;

    Implementation(String label, Supplier<ReplayTarget> maker) {
        this.label = label;
        this.maker = maker;
    }

    /** @return the name in reports and on the command line. */
    public String label() {
        return label;
    }

    /**
     * Makes a target for one replay; it records the memory state now as its zero.
     *
     * @return the new target.
     */
    public ReplayTarget create() {
        return maker.get();
    }

    /**
     * The implementation of a name.
     *
     * @param label {@code pymalloc4j} or {@code malloc}.
     * @return the implementation.
     * @throws IllegalArgumentException for another name.
     */
    public static Implementation of(String label) {
        for (Implementation i : values()) {
            if (i.label.equals(label)) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown implementation '" + label + "' (pymalloc4j, malloc)");
    }
}
