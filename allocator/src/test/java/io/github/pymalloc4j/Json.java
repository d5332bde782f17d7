package io.github.pymalloc4j;

import java.math.BigDecimal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A tiny strict JSON (RFC 8259) recursive-descent parser for tests: objects, arrays, strings, numbers, literals. */
final class Json {
    /** Marker for JSON null (maps may not hold Java null values distinctly from "absent" in lookups). */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    private final String s;
    private int i;

    private Json(String s) {
        this.s = s;
    }

    /** Parses a complete JSON text; throws IllegalArgumentException with the offset on any syntax error. */
    static Object parse(String text) {
        Json p = new Json(text);
        p.ws();
        Object v = p.value(0);
        p.ws();
        if (p.i != text.length()) {
            throw p.error("trailing characters");
        }
        return v;
    }

    private IllegalArgumentException error(String what) {
        int from = Math.max(0, i - 30), to = Math.min(s.length(), i + 30);
        return new IllegalArgumentException(
                "invalid JSON at offset " + i + ": " + what + " near \u00ab" + s.substring(from, to) + "\u00bb");
    }

    private void ws() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                i++;
            } else {
                break;
            }
        }
    }

    private Object value(int depth) {
        if (depth > 200) {
            throw error("nesting too deep");
        }
        if (i >= s.length()) {
            throw error("unexpected end");
        }
        char c = s.charAt(i);
        switch (c) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", NULL);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw error("unexpected character '" + c + "'");
        }
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, i)) {
            throw error("expected " + word);
        }
        i += word.length();
        return v;
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> m = new LinkedHashMap<>();
        i++; // {
        ws();
        if (i < s.length() && s.charAt(i) == '}') {
            i++;
            return m;
        }
        while (true) {
            ws();
            if (i >= s.length() || s.charAt(i) != '"') {
                throw error("expected member name");
            }
            String k = string();
            ws();
            expect(':');
            ws();
            Object v = value(depth + 1);
            if (m.put(k, v) != null) {
                throw error("duplicate key " + k);
            }
            ws();
            if (i < s.length() && s.charAt(i) == ',') {
                i++;
                continue;
            }
            expect('}');
            return m;
        }
    }

    private List<Object> array(int depth) {
        List<Object> l = new ArrayList<>();
        i++; // [
        ws();
        if (i < s.length() && s.charAt(i) == ']') {
            i++;
            return l;
        }
        while (true) {
            ws();
            l.add(value(depth + 1));
            ws();
            if (i < s.length() && s.charAt(i) == ',') {
                i++;
                continue;
            }
            expect(']');
            return l;
        }
    }

    private void expect(char c) {
        if (i >= s.length() || s.charAt(i) != c) {
            throw error("expected '" + c + "'");
        }
        i++;
    }

    private String string() {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            if (i >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(i++);
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20) {
                throw error("control character in string");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i >= s.length()) {
                throw error("unterminated escape");
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"' -> b.append('"');
                case '\\' -> b.append('\\');
                case '/' -> b.append('/');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (i + 4 > s.length()) {
                        throw error("short \\u escape");
                    }
                    String hex = s.substring(i, i + 4);
                    if (!hex.matches("[0-9a-fA-F]{4}")) {
                        throw error("bad \\u escape");
                    }
                    b.append((char) Integer.parseInt(hex, 16));
                    i += 4;
                }
                default -> throw error("bad escape \\" + e);
            }
        }
    }

    private BigDecimal number() {
        int start = i;
        if (s.charAt(i) == '-') {
            i++;
        }
        if (i >= s.length()) {
            throw error("bad number");
        }
        if (s.charAt(i) == '0') {
            i++;
        } else if (s.charAt(i) >= '1' && s.charAt(i) <= '9') {
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
        } else {
            throw error("bad number");
        }
        if (i < s.length() && s.charAt(i) == '.') {
            i++;
            int d = i;
            while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
            }
            if (i == d) {
                throw error("digits expected after '.'");
            }
        }
        if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            int d = i;
            while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
            }
            if (i == d) {
                throw error("digits expected in exponent");
            }
        }
        return new BigDecimal(s.substring(start, i));
    }

    // ------------------------------------------------------------------ lookup helpers

    /** Lower case without '_' and '-': "bytes_in_use" and "bytesInUse" compare equal. */
    static String norm(String key) {
        return key.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
    }

    /** The shallowest value stored under a key that normalises to {@code key}, searching breadth first; null if none. */
    static Object find(Object root, String key) {
        String k = norm(key);
        Deque<Object> q = new ArrayDeque<>();
        q.add(root);
        while (!q.isEmpty()) {
            Object o = q.poll();
            if (o instanceof Map<?, ?> m) {
                for (var e : m.entrySet()) {
                    if (norm((String) e.getKey()).equals(k)) {
                        return e.getValue();
                    }
                }
                q.addAll(m.values());
            } else if (o instanceof List<?> l) {
                q.addAll(l);
            }
        }
        return null;
    }

    /** All keys anywhere in the document (for failure messages). */
    static List<String> allKeys(Object root) {
        List<String> keys = new ArrayList<>();
        Deque<Object> q = new ArrayDeque<>();
        q.add(root);
        while (!q.isEmpty()) {
            Object o = q.poll();
            if (o instanceof Map<?, ?> m) {
                for (var e : m.entrySet()) {
                    if (!keys.contains((String) e.getKey())) {
                        keys.add((String) e.getKey());
                    }
                }
                q.addAll(m.values());
            } else if (o instanceof List<?> l) {
                q.addAll(l);
            }
        }
        return keys;
    }

    /** The first array (breadth first) of {@code n} objects that all have a key normalising to {@code key}. */
    static List<?> findArrayOfObjectsWith(Object root, int n, String key) {
        Deque<Object> q = new ArrayDeque<>();
        q.add(root);
        while (!q.isEmpty()) {
            Object o = q.poll();
            if (o instanceof Map<?, ?> m) {
                q.addAll(m.values());
            } else if (o instanceof List<?> l) {
                if (l.size() == n && l.stream().allMatch(x -> x instanceof Map<?, ?> mm && get(mm, key) != null)) {
                    return l;
                }
                q.addAll(l);
            }
        }
        return null;
    }

    static Object get(Map<?, ?> m, String key) {
        String k = norm(key);
        for (var e : m.entrySet()) {
            if (norm((String) e.getKey()).equals(k)) {
                return e.getValue();
            }
        }
        return null;
    }
}
