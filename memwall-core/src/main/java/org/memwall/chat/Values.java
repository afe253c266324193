package org.memwall.chat;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Python semantics for template values: how they print ({@code str}/{@code repr}), which are true,
 * how they compare. Values are String, Long, Double, Boolean, null (None), List, Map, {@link Undefined},
 * {@link Namespace}, callables and lazy sequences.
 */
final class Values {
    private Values() {
    }

    static boolean truthy(Object v) {
        return switch (Markup.unwrap(v)) {
            case null -> false;
            case Undefined u -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case Double d -> d != 0;
            case String s -> !s.isEmpty();
            case List<?> l -> !l.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> true;
        };
    }

    /** Python's {@code str(v)}. */
    static String str(Object v) {
        return switch (v) {
            case null -> "None";
            case Undefined u -> "";
            case String s -> s;
            case Markup m -> m.text();
            case Boolean b -> b ? "True" : "False";
            case Long l -> Long.toString(l);
            case Double d -> floatRepr(d, false);
            case List<?> l -> {
                StringBuilder b = new StringBuilder("[");
                for (int i = 0; i < l.size(); i++) {
                    b.append(i > 0 ? ", " : "").append(repr(l.get(i)));
                }
                yield b.append(']').toString();
            }
            case Map<?, ?> m -> {
                StringBuilder b = new StringBuilder("{");
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    b.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                    first = false;
                }
                yield b.append('}').toString();
            }
            case Namespace ns -> "<Namespace " + str(ns.values()) + ">";
            case Lazy g -> "<generator object at 0x0>";
            default -> v.toString();
        };
    }

    /** Python's {@code repr(v)}. */
    static String repr(Object v) {
        v = Markup.unwrap(v);
        if (v instanceof String s) {
            char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
            StringBuilder b = new StringBuilder().append(q);
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (c == q) {
                            b.append('\\').append(c);
                        } else if (c < 0x20 || c == 0x7f) {
                            b.append(String.format("\\x%02x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            return b.append(q).toString();
        }
        if (v instanceof Undefined) {
            return "Undefined";
        }
        return str(v);
    }

    /** Python's float repr: shortest round-trip digits, fixed notation for exponents in [-4, 16). */
    static String floatRepr(double d, boolean json) {
        if (Double.isNaN(d)) {
            return json ? "NaN" : "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? (json ? "Infinity" : "inf") : (json ? "-Infinity" : "-inf");
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        int exponent = bd.precision() - bd.scale() - 1;
        if (exponent >= -5 + 1 && exponent < 16) {
            String plain = bd.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = bd.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (d < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "NoneType";
            case String s -> "str";
            case Markup m -> "Markup";
            case Long l -> "int";
            case Double d -> "float";
            case Boolean b -> "bool";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            case Undefined u -> "Undefined";
            case Lazy g -> "generator";
            case Namespace n -> "Namespace";
            default -> "function";
        };
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static double toDouble(Object v) {
        return switch (v) {
            case Long l -> l;
            case Double d -> d;
            case Boolean b -> b ? 1 : 0;
            default -> throw new TemplateException("TypeError: expected a number, got " + typeName(v));
        };
    }

    /** Python {@code ==}. */
    static boolean equal(Object a, Object b) {
        a = Markup.unwrap(a);
        b = Markup.unwrap(b);
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) == toDouble(b);
            }
            return toLong(a) == toLong(b);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!equal(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    static long toLong(Object v) {
        return switch (v) {
            case Long l -> l;
            case Boolean b -> b ? 1 : 0;
            case Double d -> (long) (double) d;
            default -> throw new TemplateException("TypeError: expected an integer, got " + typeName(v));
        };
    }

    /** Python ordering for numbers and strings (and lists of them). */
    static int compare(Object a, Object b) {
        a = Markup.unwrap(a);
        b = Markup.unwrap(b);
        if (isNumber(a) && isNumber(b)) {
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String x && b instanceof String y) {
            return codePointCompare(x, y);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                int c = compare(x.get(i), y.get(i));
                if (c != 0) {
                    return c;
                }
            }
            return Integer.compare(x.size(), y.size());
        }
        throw new TemplateException("TypeError: '<' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    private static int codePointCompare(String x, String y) {
        int i = 0;
        while (i < x.length() && i < y.length()) {
            int a = x.codePointAt(i);
            int b = y.codePointAt(i);
            if (a != b) {
                return Integer.compare(a, b);
            }
            i += Character.charCount(a);
        }
        return Integer.compare(x.length() - i, y.length() - i);
    }

    /** The items of an iterable value: list elements, dict keys, string characters. */
    static List<Object> iterate(Object v) {
        return switch (Markup.unwrap(v)) {
            case null -> throw new TemplateException("TypeError: 'NoneType' object is not iterable");
            case Undefined u -> List.of();
            case List<?> l -> new ArrayList<>(l);
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case String s -> {
                List<Object> chars = new ArrayList<>();
                s.codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
                yield chars;
            }
            case Lazy g -> g.items();
            default -> throw new TemplateException("TypeError: '" + typeName(v) + "' object is not iterable");
        };
    }

    /** Python {@code len()}. */
    static long length(Object v) {
        return switch (Markup.unwrap(v)) {
            case String s -> s.codePointCount(0, s.length());
            case List<?> l -> l.size();
            case Map<?, ?> m -> m.size();
            case Undefined u -> 0;
            case Namespace ns -> ns.values().size();
            default -> throw new TemplateException("TypeError: object of type '" + typeName(v) + "' has no len()");
        };
    }
}
