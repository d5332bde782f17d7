package io.github.pymalloc4j;

import java.io.IOException;

/**
 * A statistics file that {@link StatsFile} cannot use: not a pymalloc4j statistics file, an unsupported
 * layout version, truncated or corrupt, or a writer that never lets a consistent snapshot through. The
 * message is one line and names the file.
 */
public final class StatsFileException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with a one-line message.
     *
     * @param message what is wrong, naming the file.
     */
    public StatsFileException(final String message) {
        super(message);
    }

    /**
     * An exception with a one-line message and its cause.
     *
     * @param message what is wrong, naming the file.
     * @param cause   the underlying failure.
     */
    public StatsFileException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
