package io.github.pymalloc4j;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Text from a file someone else may have written, made safe to print: nothing in it can move the cursor,
 * change the terminal's title, clear the screen or reorder what follows. What is not printable is replaced by a
 * visible escape: a byte that is not UTF-8 by {@code \xNN}; C0 controls and DEL (ESC, BEL, CR, LF...) by
 * {@code \xNN}; C1 controls (U+0080..U+009F, CSI among them), format characters (the bidirectional overrides),
 * line and paragraph separators, unpaired surrogates, private-use and unassigned code points and U+FFFD by
 * <code>&#92;uNNNN</code> (or <code>&#92;u{NNNNN}</code>); a backslash by two, so that an escape is never ambiguous.
 */
final class TerminalText {
    private TerminalText() {}

    /**
     * Escapes a string.
     *
     * @param text the text, or null.
     * @return the printable text ("null" for null).
     */
    static String printable(final String text) {
        if (text == null) {
            return "null";
        }
        final StringBuilder b = new StringBuilder(text.length() + 8);
        append(b, text);
        return b.toString();
    }

    /**
     * Decodes UTF-8 bytes and escapes them; bytes that are not UTF-8 become {@code \xNN}.
     *
     * @param bytes  the bytes.
     * @param offset the first.
     * @param length how many.
     * @return the printable text.
     */
    static String printable(final byte[] bytes, final int offset, final int length) {
        final CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        final ByteBuffer in = ByteBuffer.wrap(bytes, offset, length);
        final CharBuffer out = CharBuffer.allocate(length + 1);
        final StringBuilder b = new StringBuilder(length + 8);
        while (in.hasRemaining()) {
            final CoderResult r = decoder.decode(in, out, true);
            out.flip();
            append(b, out);
            out.clear();
            if (r.isError()) {
                for (int i = 0; i < r.length() && in.hasRemaining(); i++) {
                    b.append(String.format(Locale.ROOT, "\\x%02x", in.get() & 0xFF));
                }
            } else if (r.isUnderflow()) {
                break; // everything decoded: at the end of the input an incomplete sequence is an error
            }
        }
        return b.toString();
    }

    private static void append(final StringBuilder b, final CharSequence text) {
        for (int i = 0; i < text.length(); ) {
            final char ch = text.charAt(i);
            final int cp;
            if (Character.isHighSurrogate(ch)
                    && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                cp = Character.toCodePoint(ch, text.charAt(i + 1));
            } else {
                cp = ch;
            }
            i += Character.charCount(cp);
            if (cp == '\\') {
                b.append("\\\\");
            } else if (cp < 0x20 || cp == 0x7F) {
                b.append(String.format(Locale.ROOT, "\\x%02x", cp));
            } else if (!printable(cp)) {
                b.append(
                        cp > 0xFFFF
                                ? String.format(Locale.ROOT, "\\u{%x}", cp)
                                : String.format(Locale.ROOT, "\\u%04x", cp));
            } else {
                b.appendCodePoint(cp);
            }
        }
    }

    /** @return whether a code point (not a C0 control) may reach a terminal as it is. */
    static boolean printable(final int cp) {
        if (cp >= 0x80 && cp <= 0x9F || cp == 0xFFFD) {
            return false;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL,
                    Character.FORMAT,
                    Character.LINE_SEPARATOR,
                    Character.PARAGRAPH_SEPARATOR,
                    Character.SURROGATE,
                    Character.PRIVATE_USE,
                    Character.UNASSIGNED -> false;
            default -> true;
        };
    }
}
