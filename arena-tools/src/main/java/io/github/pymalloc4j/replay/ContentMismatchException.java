package io.github.pymalloc4j.replay;

/**
 * A replayed object's contents changed while it was live (or a {@code calloc} block was not zeroed): the
 * allocator under test, or the replay, corrupted memory.
 */
public final class ContentMismatchException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int objectId;
    private final int eventIndex;

    /**
     * @param objectId   the object whose contents are wrong.
     * @param eventIndex the event at which that was found.
     * @param message    the whole description.
     */
    public ContentMismatchException(int objectId, int eventIndex, String message) {
        super(message);
        this.objectId = objectId;
        this.eventIndex = eventIndex;
    }

    /** @return the object whose contents are wrong. */
    public int objectId() {
        return objectId;
    }

    /** @return the event at which it was found. */
    public int eventIndex() {
        return eventIndex;
    }
}
