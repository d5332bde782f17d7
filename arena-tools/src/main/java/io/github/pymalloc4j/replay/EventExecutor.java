package io.github.pymalloc4j.replay;

/**
 * Performs trace events against one {@link ReplayTarget}: {@code handles[id] = malloc(size)},
 * {@code free(handles[id])}, {@code handles[id] = realloc(handles[oldId], size)} and so on, optionally touching
 * or verifying the blocks ({@link TraceEventExecutor}). Made by {@link ExecutorCopies#create}.
 */
interface EventExecutor {

    /** @return the target the events go to. */
    ReplayTarget target();

    /** @return the handles, one per object id: 0 before the object's creation and after its end. */
    long[] handles();

    /**
     * Performs events {@code from .. to-1} in order.
     *
     * @param from first event.
     * @param to   one past the last event.
     * @throws ContentMismatchException if verifying and an object's contents are wrong.
     * @throws ReplayFailure            if the target threw.
     */
    void run(int from, int to);

    /**
     * Performs one event; its object dependencies must be done (the threaded replay waits for them).
     *
     * @param i the event.
     * @throws ContentMismatchException if verifying and an object's contents are wrong.
     */
    void execute(int i);

    /**
     * Frees every object still live (the trace never ended it), checking its contents first when verifying.
     *
     * @param events the number of events replayed (for messages).
     */
    void freeRemaining(int events);

    /**
     * Describes what the target threw at an event.
     *
     * @param i the event.
     * @param e what was thrown.
     * @return the failure to throw, naming the event, the op and the objects.
     */
    ReplayFailure failure(int i, Throwable e);
}
