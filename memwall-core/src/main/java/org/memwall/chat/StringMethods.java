package org.memwall.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Python {@code str} methods and the string filters built on them. */
final class StringMethods {
    private StringMethods() {
    }

    static JinjaCallable method(String s, String name) {
        return switch (name) {
            case "strip" -> (a, kw) -> strip(s, arg(a), true, true);
            case "lstrip" -> (a, kw) -> strip(s, arg(a), true, false);
            case "rstrip" -> (a, kw) -> strip(s, arg(a), false, true);
            case "split" -> (a, kw) -> split(s, a.isEmpty() || a.get(0) == null ? (String) null : Values.str(a.get(0)),
                    a.size() > 1 ? Values.toLong(a.get(1)) : Values.toLong(kw.getOrDefault("maxsplit", -1L)));
            case "rsplit" -> (a, kw) -> rsplit(s, a.isEmpty() || a.get(0) == null ? null : Values.str(a.get(0)),
                    a.size() > 1 ? Values.toLong(a.get(1)) : Values.toLong(kw.getOrDefault("maxsplit", -1L)));
            case "splitlines" -> (a, kw) -> new ArrayList<Object>(List.of(s.split("\r\n|\r|\n", -1))).subList(0, s.isEmpty() ? 0
                    : s.split("\r\n|\r|\n", -1).length - (s.endsWith("\n") || s.endsWith("\r") ? 1 : 0));
            case "startswith" -> (a, kw) -> affix(s, a.get(0), true);
            case "endswith" -> (a, kw) -> affix(s, a.get(0), false);
            case "replace" -> (a, kw) -> replace(s, Values.str(a.get(0)), Values.str(a.get(1)), a.size() > 2 ? Values.toLong(a.get(2)) : -1);
            case "upper" -> (a, kw) -> s.toUpperCase(Locale.ROOT);
            case "lower" -> (a, kw) -> s.toLowerCase(Locale.ROOT);
            case "title" -> (a, kw) -> title(s);
            case "capitalize" -> (a, kw) -> capitalize(s);
            case "find" -> (a, kw) -> (long) s.indexOf(Values.str(a.get(0)));
            case "rfind" -> (a, kw) -> (long) s.lastIndexOf(Values.str(a.get(0)));
            case "index" -> (a, kw) -> {
                int i = s.indexOf(Values.str(a.get(0)));
                if (i < 0) {
                    throw new TemplateException("ValueError: substring not found");
                }
                return (long) i;
            };
            case "count" -> (a, kw) -> {
                String sub = Values.str(a.get(0));
                if (sub.isEmpty()) {
                    return (long) s.length() + 1;
                }
                long c = 0;
                for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
                    c++;
                }
                return c;
            };
            case "join" -> (a, kw) -> {
                StringBuilder b = new StringBuilder();
                boolean first = true;
                for (Object o : Values.iterate(a.get(0))) {
                    b.append(first ? "" : s).append(Values.str(o));
                    first = false;
                }
                return b.toString();
            };
            case "format" -> (a, kw) -> format(s, a, kw);
            case "isdigit" -> (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
            case "isalnum" -> (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isLetterOrDigit);
            case "isspace" -> (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
            case "islower" -> (a, kw) -> s.equals(s.toLowerCase(Locale.ROOT)) && !s.equals(s.toUpperCase(Locale.ROOT));
            case "isupper" -> (a, kw) -> s.equals(s.toUpperCase(Locale.ROOT)) && !s.equals(s.toLowerCase(Locale.ROOT));
            default -> null;
        };
    }

    private static String arg(List<Object> a) {
        return a.isEmpty() || a.get(0) == null ? null : Values.str(a.get(0));
    }

    private static boolean affix(String s, Object what, boolean prefix) {
        if (what instanceof List<?> options) {
            for (Object o : options) {
                if (prefix ? s.startsWith(Values.str(o)) : s.endsWith(Values.str(o))) {
                    return true;
                }
            }
            return false;
        }
        return prefix ? s.startsWith(Values.str(what)) : s.endsWith(Values.str(what));
    }

    /** Python's strip: whitespace, or any of {@code chars}. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int a = 0, b = s.length();
        while (left && a < b && (chars == null ? Character.isWhitespace(s.charAt(a)) : chars.indexOf(s.charAt(a)) >= 0)) {
            a++;
        }
        while (right && b > a && (chars == null ? Character.isWhitespace(s.charAt(b - 1)) : chars.indexOf(s.charAt(b - 1)) >= 0)) {
            b--;
        }
        return s.substring(a, b);
    }

    static List<Object> split(String s, String sep, long max) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            String rest = strip(s, null, true, false);
            while (!rest.isEmpty()) {
                if (max >= 0 && out.size() == max) {
                    out.add(strip(rest, null, false, true));
                    return out;
                }
                int i = 0;
                while (i < rest.length() && !Character.isWhitespace(rest.charAt(i))) {
                    i++;
                }
                out.add(rest.substring(0, i));
                rest = strip(rest.substring(i), null, true, false);
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new TemplateException("ValueError: empty separator");
        }
        int start = 0;
        for (int i = s.indexOf(sep); i >= 0 && (max < 0 || out.size() < max); i = s.indexOf(sep, start)) {
            out.add(s.substring(start, i));
            start = i + sep.length();
        }
        out.add(s.substring(start));
        return out;
    }

    private static List<Object> rsplit(String s, String sep, long max) {
        if (sep == null || max < 0) {
            return split(s, sep, max);
        }
        List<Object> out = new ArrayList<>();
        int end = s.length();
        for (int i = s.lastIndexOf(sep); i >= 0 && out.size() < max; i = s.lastIndexOf(sep, i - 1)) {
            out.add(0, s.substring(i + sep.length(), end));
            end = i;
            if (i == 0) {
                break;
            }
        }
        out.add(0, s.substring(0, end));
        return out;
    }

    static String replace(String s, String old, String with, long count) {
        if (count < 0) {
            return s.replace(old, with);
        }
        StringBuilder b = new StringBuilder();
        int start = 0;
        for (long n = 0; n < count; n++) {
            int i = s.indexOf(old, start);
            if (i < 0) {
                break;
            }
            b.append(s, start, i).append(with);
            start = i + old.length();
            if (old.isEmpty()) {
                break;
            }
        }
        return b.append(s.substring(start)).toString();
    }

    static String title(String s) {
        StringBuilder b = new StringBuilder();
        boolean prevCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevCased = Character.isLetter(c);
        }
        return b.toString();
    }

    static String capitalize(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&#34;").replace("'", "&#39;");
    }

    /** Jinja's indent filter: indents every line but the first (unless first), skipping blank lines (unless blank). */
    /** Python's " " * n: nothing for n ≤ 0; refused past 65,536 (a template's indent, not a way to fill memory). */
    private static int padWidth(long n) {
        if (n > 1 << 16) {
            throw new TemplateException("indent: a width of " + n + " is over 65536 spaces");
        }
        return (int) Math.max(0, n);
    }

    static String indent(String s, Object width, boolean first, boolean blank) {
        String pad = width instanceof String w ? w : " ".repeat(padWidth(Values.toLong(width)));
        String[] lines = s.split("\n", -1);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) {
                b.append('\n');
            }
            String line = lines[i];
            boolean indentIt = (i > 0 || first) && (blank || !line.isBlank());
            b.append(indentIt ? pad : "").append(line);
        }
        return b.toString();
    }

    /** Python {@code str.format}: {}, {0}, {name}, {name.attr}, with simple format specs. */
    static String format(String s, List<Object> args, Map<String, Object> kw) {
        StringBuilder b = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' && i + 1 < s.length() && s.charAt(i + 1) == '{') {
                b.append('{');
                i++;
            } else if (c == '}' && i + 1 < s.length() && s.charAt(i + 1) == '}') {
                b.append('}');
                i++;
            } else if (c == '{') {
                int end = s.indexOf('}', i);
                if (end < 0) {
                    throw new TemplateException("ValueError: Single '{' encountered in format string");
                }
                String field = s.substring(i + 1, end);
                String spec = "";
                int colon = field.indexOf(':');
                if (colon >= 0) {
                    spec = field.substring(colon + 1);
                    field = field.substring(0, colon);
                }
                Object v;
                if (field.isEmpty()) {
                    v = auto < args.size() ? args.get(auto++) : missing(field);
                } else if (field.chars().allMatch(Character::isDigit)) {
                    int idx = Integer.parseInt(field);
                    v = idx < args.size() ? args.get(idx) : missing(field);
                } else {
                    String[] parts = field.split("\\.");
                    v = kw.containsKey(parts[0]) ? kw.get(parts[0]) : missing(parts[0]);
                    for (int p = 1; p < parts.length; p++) {
                        v = Builtins.attribute(v, parts[p]);
                    }
                }
                b.append(applySpec(Values.str(v), spec));
                i = end;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static Object missing(String field) {
        throw new TemplateException("IndexError: Replacement index " + field + " out of range for positional args tuple");
    }

    private static String applySpec(String v, String spec) {
        if (spec.isEmpty()) {
            return v;
        }
        char align = '<';
        int k = 0;
        if (!spec.isEmpty() && "<>^".indexOf(spec.charAt(0)) >= 0) {
            align = spec.charAt(0);
            k = 1;
        }
        String digits = spec.substring(k).replaceAll("[^0-9].*", "");
        if (digits.isEmpty()) {
            return v;
        }
        int width = Integer.parseInt(digits);
        int pad = Math.max(0, width - v.length());
        return switch (align) {
            case '>' -> " ".repeat(pad) + v;
            case '^' -> " ".repeat(pad / 2) + v + " ".repeat(pad - pad / 2);
            default -> v + " ".repeat(pad);
        };
    }

    /** Python {@code %} formatting with %s, %d, %r. */
    static String percent(String s, Object args) {
        List<Object> values = args instanceof List<?> l ? new ArrayList<>(l) : List.of(args);
        StringBuilder b = new StringBuilder();
        int k = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '%' || i + 1 >= s.length()) {
                b.append(c);
                continue;
            }
            char f = s.charAt(++i);
            switch (f) {
                case '%' -> b.append('%');
                case 's' -> b.append(Values.str(values.get(k++)));
                case 'r' -> b.append(Values.repr(values.get(k++)));
                case 'd', 'i' -> b.append(Values.toLong(values.get(k++)));
                default -> b.append('%').append(f);
            }
        }
        return b.toString();
    }
}
