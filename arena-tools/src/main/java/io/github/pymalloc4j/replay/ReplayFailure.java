package io.github.pymalloc4j.replay;

/**
 * A replay stopped: the allocator under test threw (refused a request, took a trace's free for a bad one) or
 * an object's contents were found wrong. The message names the target, the event and the object.
 */
public final class ReplayFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message the description.
     * @param cause   what was thrown.
     */
    public ReplayFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
