package org.memwall.chat;

import java.time.Clock;
import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Globals, filters, tests, operators and the methods of strings, lists and dicts, with Python semantics. */
final class Builtins {
    private Builtins() {
    }

    static final Set<String> FILTERS = Set.of("tojson", "length", "count", "trim", "default", "d", "string", "join", "upper", "lower",
            "items", "safe", "dictsort", "list", "selectattr", "rejectattr", "select", "reject", "indent", "map", "replace", "int", "float",
            "unique", "sort", "min", "max", "first", "last", "abs", "round", "title", "capitalize", "sum", "escape", "e", "wordcount",
            "batch", "center", "reverse", "attr", "format", "striptags", "truncate");

    static final Set<String> TESTS = Set.of("defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable",
            "sequence", "boolean", "true", "false", "callable", "odd", "even", "divisibleby", "equalto", "eq", "==", "ne", "!=", "lt", "<",
            "le", "<=", "gt", ">", "ge", ">=", "in", "lower", "upper", "sameas", "escaped");

    /** {@code range(...)}, kept lazy so {@code range(10**9)} costs nothing until iterated (and then hits the budget). */
    record Range(long start, long stop, long step) {
        long size() {
            if (step > 0) {
                return Math.max(0, (stop - start + step - 1) / step);
            }
            return Math.max(0, (start - stop - step - 1) / -step);
        }

        List<Object> materialize(Renderer r) {
            if (size() > r.remainingIterations()) {
                throw new TemplateException("template exceeded the limit of loop iterations (range of " + size() + ")");
            }
            List<Object> out = new ArrayList<>();
            for (long v = start; step > 0 ? v < stop : v > stop; v += step) {
                out.add(v);
            }
            return out;
        }
    }

    static void addGlobals(Map<String, Object> g, Clock clock) {
        g.put("range", (JinjaCallable) (args, kw) -> {
            long a = args.size() > 1 ? Values.toLong(args.get(0)) : 0;
            long b = Values.toLong(args.get(args.size() > 1 ? 1 : 0));
            long step = args.size() > 2 ? Values.toLong(args.get(2)) : 1;
            if (step == 0) {
                throw new TemplateException("ValueError: range() arg 3 must not be zero");
            }
            return new Range(a, b, step);
        });
        g.put("namespace", (JinjaCallable) (args, kw) -> {
            Namespace ns = new Namespace();
            for (Object a : args) {
                if (a instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> ns.values().put(Values.str(k), v));
                }
            }
            ns.values().putAll(kw);
            return ns;
        });
        g.put("dict", (JinjaCallable) (args, kw) -> {
            Map<Object, Object> m = new LinkedHashMap<>();
            for (Object a : args) {
                if (a instanceof Map<?, ?> src) {
                    m.putAll(src);
                }
            }
            m.putAll(kw);
            return m;
        });
        g.put("raise_exception", (JinjaCallable) (args, kw) -> {
            throw new TemplateRaisedException(args.isEmpty() ? "" : Values.str(args.get(0)));
        });
        g.put("strftime_now", (JinjaCallable) (args, kw) -> strftime(Values.str(args.isEmpty() ? "" : args.get(0)), LocalDateTime.now(clock)));
    }

    static String strftime(String fmt, LocalDateTime t) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 == fmt.length()) {
                b.append(c);
                continue;
            }
            char f = fmt.charAt(++i);
            boolean noPad = f == '-' && i + 1 < fmt.length();
            if (noPad) {
                f = fmt.charAt(++i);
            }
            switch (f) {
                case 'Y' -> b.append(t.getYear());
                case 'y' -> b.append(String.format("%02d", t.getYear() % 100));
                case 'm' -> b.append(noPad ? "" + t.getMonthValue() : String.format("%02d", t.getMonthValue()));
                case 'd' -> b.append(noPad ? "" + t.getDayOfMonth() : String.format("%02d", t.getDayOfMonth()));
                case 'H' -> b.append(noPad ? "" + t.getHour() : String.format("%02d", t.getHour()));
                case 'M' -> b.append(noPad ? "" + t.getMinute() : String.format("%02d", t.getMinute()));
                case 'S' -> b.append(noPad ? "" + t.getSecond() : String.format("%02d", t.getSecond()));
                case 'b' -> b.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> b.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'j' -> b.append(String.format("%03d", t.getDayOfYear()));
                case '%' -> b.append('%');
                default -> b.append('%').append(f);
            }
        }
        return b.toString();
    }

    // ---- attribute and item access ----

    private static final Set<String> UNSAFE_LIST = Set.of("append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort");
    private static final Set<String> UNSAFE_DICT = Set.of("clear", "pop", "popitem", "setdefault", "update");

    static Object attribute(Object target, String name) {
        switch (Markup.unwrap(target)) {
            case Undefined u -> throw u.error();
            case Namespace ns -> {
                return ns.values().containsKey(name) ? ns.values().get(name) : new Undefined(name);
            }
            case Renderer.LoopVar loop -> {
                return loop.attrs().containsKey(name) ? loop.attrs().get(name) : new Undefined("loop." + name);
            }
            case Map<?, ?> m -> {
                JinjaCallable method = dictMethod(m, name);
                if (method != null) {
                    return method;
                }
                return m.containsKey(name) ? m.get(name) : new Undefined(name);
            }
            case String s -> {
                JinjaCallable method = StringMethods.method(s, name);
                return method != null ? method : new Undefined(name);
            }
            case List<?> l -> {
                if (UNSAFE_LIST.contains(name)) {
                    return unsafe(name, "list");
                }
                if (name.equals("index") || name.equals("count")) {
                    return (JinjaCallable) (args, kw) -> {
                        long c = 0;
                        for (int i = 0; i < l.size(); i++) {
                            if (Values.equal(l.get(i), args.get(0))) {
                                if (name.equals("index")) {
                                    return (long) i;
                                }
                                c++;
                            }
                        }
                        if (name.equals("index")) {
                            throw new TemplateException("ValueError: value is not in list");
                        }
                        return c;
                    };
                }
                return new Undefined(name);
            }
            default -> {
                return new Undefined(name);
            }
        }
    }

    private static JinjaCallable unsafe(String name, String type) {
        return (args, kw) -> {
            throw new TemplateException("SecurityError: access to attribute '" + name + "' of '" + type + "' object is unsafe.");
        };
    }

    private static JinjaCallable dictMethod(Map<?, ?> m, String name) {
        if (UNSAFE_DICT.contains(name)) {
            return unsafe(name, "dict");
        }
        return switch (name) {
            case "get" -> (args, kw) -> m.containsKey(args.get(0)) ? m.get(args.get(0)) : args.size() > 1 ? args.get(1) : null;
            case "items" -> (args, kw) -> items(m);
            case "keys" -> (args, kw) -> new ArrayList<Object>(m.keySet());
            case "values" -> (args, kw) -> new ArrayList<Object>(m.values());
            default -> null;
        };
    }

    static List<Object> items(Map<?, ?> m) {
        List<Object> out = new ArrayList<>();
        m.forEach((k, v) -> out.add(new ArrayList<>(java.util.Arrays.asList(k, v))));
        return out;
    }

    static Object item(Object target, Object key) {
        key = Markup.unwrap(key);
        switch (Markup.unwrap(target)) {
            case Undefined u -> throw u.error();
            case Map<?, ?> m -> {
                if (m.containsKey(key)) {
                    return m.get(key);
                }
                return key instanceof String s && dictMethod(m, s) != null ? dictMethod(m, s) : new Undefined(Values.str(key));
            }
            case List<?> l -> {
                if (!(key instanceof Long) && !(key instanceof Boolean)) {
                    return new Undefined(Values.str(key));
                }
                long i = Values.toLong(key);
                if (i < 0) {
                    i += l.size();
                }
                return i >= 0 && i < l.size() ? l.get((int) i) : new Undefined("index " + key);
            }
            case String s -> {
                if (key instanceof Long idx) {
                    int[] cps = s.codePoints().toArray();
                    long i = idx < 0 ? idx + cps.length : idx;
                    return i >= 0 && i < cps.length ? new String(Character.toChars(cps[(int) i])) : new Undefined("index " + key);
                }
                return attribute(s, Values.str(key));
            }
            case Namespace ns -> {
                return attribute(ns, Values.str(key));
            }
            case Renderer.LoopVar loop -> {
                return attribute(loop, Values.str(key));
            }
            default -> {
                return new Undefined(Values.str(key));
            }
        }
    }

    static Object slice(Object target, Object start, Object stop, Object step) {
        List<Object> items;
        boolean string = target instanceof String;
        if (target instanceof Undefined u) {
            throw u.error();
        }
        items = Values.iterate(target instanceof Map<?, ?> ? List.of() : target);
        int n = items.size();
        long st = step == null ? 1 : Values.toLong(step);
        if (st == 0) {
            throw new TemplateException("ValueError: slice step cannot be zero");
        }
        long a, b;
        if (st > 0) {
            a = start == null ? 0 : clampIndex(Values.toLong(start), n, false);
            b = stop == null ? n : clampIndex(Values.toLong(stop), n, false);
        } else {
            a = start == null ? n - 1 : clampIndex(Values.toLong(start), n, true);
            b = stop == null ? -1 : clampIndex(Values.toLong(stop), n, true);
        }
        List<Object> out = new ArrayList<>();
        for (long i = a; st > 0 ? i < b : i > b; i += st) {
            out.add(items.get((int) i));
        }
        if (string) {
            StringBuilder sb = new StringBuilder();
            out.forEach(o -> sb.append((String) o));
            return sb.toString();
        }
        return out;
    }

    private static long clampIndex(long i, int n, boolean negativeStep) {
        if (i < 0) {
            i += n;
            if (i < 0) {
                return negativeStep ? -1 : 0;
            }
        }
        if (i >= n) {
            return negativeStep ? n - 1 : n;
        }
        return i;
    }

    // ---- operators ----

    static Object negate(Object v) {
        if (v instanceof Double d) {
            return -d;
        }
        if (v instanceof Undefined u) {
            throw u.error();
        }
        return -Values.toLong(v);
    }

    static Object binary(Renderer r, String op, Object a, Object b) {
        if (op.equals("~")) {
            return Values.str(a) + Values.str(b);
        }
        if (op.equals("+") && (a instanceof Markup || b instanceof Markup)) {
            if (!(a instanceof String || a instanceof Markup) || !(b instanceof String || b instanceof Markup)) {
                Object plain = a instanceof Markup ? b : a;
                throw new TemplateException("TypeError: can only concatenate str (not \"" + Values.typeName(plain) + "\") to str");
            }
            String left = a instanceof Markup m ? m.text() : StringMethods.escape((String) a);
            String right = b instanceof Markup m ? m.text() : StringMethods.escape((String) b);
            return new Markup(left + right);
        }
        if (a instanceof Undefined u) {
            throw u.error();
        }
        if (b instanceof Undefined u) {
            throw u.error();
        }
        switch (op) {
            case "+" -> {
                if (a instanceof String x && b instanceof String y) {
                    return x + y;
                }
                if (a instanceof List<?> x && b instanceof List<?> y) {
                    List<Object> out = new ArrayList<>(x);
                    out.addAll(y);
                    return out;
                }
                if (Values.isNumber(a) && Values.isNumber(b)) {
                    return a instanceof Double || b instanceof Double ? (Object) (Values.toDouble(a) + Values.toDouble(b))
                            : (Object) Math.addExact(Values.toLong(a), Values.toLong(b));
                }
                if (a instanceof String) {
                    throw new TemplateException("TypeError: can only concatenate str (not \"" + Values.typeName(b) + "\") to str");
                }
                throw new TemplateException("TypeError: unsupported operand type(s) for +: '" + Values.typeName(a) + "' and '" + Values.typeName(b) + "'");
            }
            case "*" -> {
                if (a instanceof String s && b instanceof Long n || b instanceof String && a instanceof Long) {
                    String s2 = a instanceof String x ? x : (String) b;
                    long times = a instanceof Long x ? x : (Long) b;
                    if (times > 0 && (long) s2.length() * times > r.maxOutput()) {
                        throw new TemplateException("template string repetition exceeds the limit of " + r.maxOutput() + " characters");
                    }
                    return times <= 0 ? "" : s2.repeat((int) times);
                }
                if (a instanceof List<?> l && b instanceof Long n) {
                    if (l.size() * Math.max(0, n) > r.remainingIterations()) {
                        throw new TemplateException("template list repetition exceeds the iteration limit");
                    }
                    List<Object> out = new ArrayList<>();
                    for (long i = 0; i < n; i++) {
                        out.addAll(l);
                    }
                    return out;
                }
                return arithmetic(op, a, b);
            }
            default -> {
                return arithmetic(op, a, b);
            }
        }
    }

    private static Object arithmetic(String op, Object a, Object b) {
        if (!Values.isNumber(a) || !Values.isNumber(b)) {
            if (op.equals("%") && a instanceof String s) {
                return StringMethods.percent(s, b);
            }
            throw new TemplateException("TypeError: unsupported operand type(s) for " + op + ": '" + Values.typeName(a) + "' and '" + Values.typeName(b) + "'");
        }
        boolean floating = a instanceof Double || b instanceof Double;
        switch (op) {
            case "-" -> {
                return floating ? (Object) (Values.toDouble(a) - Values.toDouble(b)) : (Object) Math.subtractExact(Values.toLong(a), Values.toLong(b));
            }
            case "*" -> {
                return floating ? (Object) (Values.toDouble(a) * Values.toDouble(b)) : (Object) Math.multiplyExact(Values.toLong(a), Values.toLong(b));
            }
            case "/" -> {
                if (Values.toDouble(b) == 0) {
                    throw new TemplateException("ZeroDivisionError: division by zero");
                }
                return Values.toDouble(a) / Values.toDouble(b);
            }
            case "//" -> {
                if (Values.toDouble(b) == 0) {
                    throw new TemplateException("ZeroDivisionError: integer division or modulo by zero");
                }
                return floating ? (Object) Math.floor(Values.toDouble(a) / Values.toDouble(b)) : (Object) Math.floorDiv(Values.toLong(a), Values.toLong(b));
            }
            case "%" -> {
                if (Values.toDouble(b) == 0) {
                    throw new TemplateException("ZeroDivisionError: integer division or modulo by zero");
                }
                if (floating) {
                    double x = Values.toDouble(a), y = Values.toDouble(b);
                    return x - Math.floor(x / y) * y;
                }
                return Math.floorMod(Values.toLong(a), Values.toLong(b));
            }
            case "**" -> {
                if (floating || Values.toLong(b) < 0) {
                    return Math.pow(Values.toDouble(a), Values.toDouble(b));
                }
                // by squaring: one multiplication per bit of the exponent (one per unit let `1 ** 10**18` run for
                // ever, found by the template fuzzer); a square is computed only when a higher bit needs it, so it
                // overflows only when the result would
                long base = Values.toLong(a), result = 1;
                for (long e = Values.toLong(b); e > 0; ) {
                    if ((e & 1) != 0) {
                        result = Math.multiplyExact(result, base);
                    }
                    e >>= 1;
                    if (e > 0) {
                        base = Math.multiplyExact(base, base);
                    }
                }
                return result;
            }
            default -> throw new TemplateException("unknown operator " + op);
        }
    }

    static boolean compare(String op, Object a, Object b) {
        return switch (op) {
            case "==" -> Values.equal(a, b);
            case "!=" -> !Values.equal(a, b);
            case "<" -> Values.compare(a, b) < 0;
            case ">" -> Values.compare(a, b) > 0;
            case "<=" -> Values.compare(a, b) <= 0;
            case ">=" -> Values.compare(a, b) >= 0;
            case "in" -> contains(b, a);
            case "not in" -> !contains(b, a);
            default -> throw new TemplateException("unknown comparison " + op);
        };
    }

    static boolean contains(Object container, Object item) {
        item = Markup.unwrap(item);
        return switch (Markup.unwrap(container)) {
            case String s -> {
                if (!(item instanceof String sub)) {
                    throw new TemplateException("TypeError: 'in <string>' requires string as left operand, not " + Values.typeName(item));
                }
                yield s.contains(sub);
            }
            case Map<?, ?> m -> m.containsKey(item);
            case Namespace ns -> ns.values().containsKey(item);
            case Undefined u -> false;
            default -> {
                for (Object o : Values.iterate(container)) {
                    if (Values.equal(o, item)) {
                        yield true;
                    }
                }
                yield false;
            }
        };
    }

    // ---- tests ----

    static boolean test(Renderer r, String name, Object v, List<Object> args) {
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "string" -> v instanceof String || v instanceof Markup;
            case "number" -> v instanceof Long || v instanceof Double;
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "mapping" -> v instanceof Map<?, ?> || v instanceof Namespace;
            case "iterable" -> v instanceof List<?> || v instanceof Map<?, ?> || v instanceof String || v instanceof Lazy || v instanceof Range
                    || v instanceof Undefined;
            case "sequence" -> v instanceof List<?> || v instanceof Map<?, ?> || v instanceof String;
            case "callable" -> v instanceof JinjaCallable;
            case "odd" -> Values.toLong(v) % 2 != 0;
            case "even" -> Values.toLong(v) % 2 == 0;
            case "divisibleby" -> Values.toLong(v) % Values.toLong(args.get(0)) == 0;
            case "equalto", "eq", "==" -> Values.equal(v, args.get(0));
            case "ne", "!=" -> !Values.equal(v, args.get(0));
            case "lt", "<" -> Values.compare(v, args.get(0)) < 0;
            case "le", "<=" -> Values.compare(v, args.get(0)) <= 0;
            case "gt", ">" -> Values.compare(v, args.get(0)) > 0;
            case "ge", ">=" -> Values.compare(v, args.get(0)) >= 0;
            case "in" -> contains(args.get(0), v);
            case "lower" -> v instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
            case "upper" -> v instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
            case "sameas" -> v == args.get(0) || Values.equal(v, args.get(0)) && (v == null || v instanceof Boolean);
            case "escaped" -> false;
            default -> throw new TemplateException("no test named '" + name + "'");
        };
    }

    // ---- filters ----

    static Object filter(Renderer r, String name, Object v, List<Object> args, Map<String, Object> kw) {
        if (v instanceof Undefined u && name.equals("tojson")) {
            throw u.error();
        }
        if (name.equals("safe")) {
            return v instanceof Markup ? v : new Markup(Values.str(v));
        }
        if (name.equals("escape") || name.equals("e")) {
            return v instanceof Markup ? v : new Markup(StringMethods.escape(Values.str(v)));
        }
        v = Markup.unwrap(v);
        Object arg0 = args.isEmpty() ? null : args.get(0);
        return switch (name) {
            case "default", "d" -> {
                Object fallback = args.isEmpty() ? kw.getOrDefault("default_value", "") : arg0;
                boolean bool = args.size() > 1 ? Values.truthy(args.get(1)) : Values.truthy(kw.getOrDefault("boolean", false));
                yield v instanceof Undefined || (bool && !Values.truthy(v)) ? fallback : v;
            }
            case "tojson" -> {
                if (v instanceof Lazy) {
                    throw new TemplateException("TypeError: Object of type generator is not JSON serializable");
                }
                Object indent = args.isEmpty() ? kw.get("indent") : arg0;
                yield Json.write(v, indent == null ? null : (int) Values.toLong(indent));
            }
            case "length", "count" -> Values.length(v);
            case "string" -> Values.str(v);
            case "trim" -> StringMethods.strip(Values.str(v), arg0 == null ? null : Values.str(arg0), true, true);
            case "upper" -> Values.str(v).toUpperCase(Locale.ROOT);
            case "lower" -> Values.str(v).toLowerCase(Locale.ROOT);
            case "title" -> StringMethods.title(Values.str(v));
            case "capitalize" -> StringMethods.capitalize(Values.str(v));
            case "replace" -> StringMethods.replace(Values.str(v), Values.str(args.get(0)), Values.str(args.get(1)),
                    args.size() > 2 ? Values.toLong(args.get(2)) : -1);
            case "join" -> {
                String sep = arg0 == null ? Values.str(kw.getOrDefault("d", "")) : Values.str(arg0);
                Object attr = args.size() > 1 ? args.get(1) : kw.get("attribute");
                StringBuilder b = new StringBuilder();
                boolean first = true;
                for (Object o : Values.iterate(v)) {
                    b.append(first ? "" : sep).append(Values.str(attr == null ? o : attribute(o, Values.str(attr))));
                    first = false;
                }
                yield b.toString();
            }
            case "items" -> v instanceof Map<?, ?> m ? items(m) : v instanceof Undefined ? List.of() : fail("items", v);
            case "dictsort" -> {
                if (!(v instanceof Map<?, ?> m)) {
                    yield fail("dictsort", v);
                }
                boolean caseSensitive = Values.truthy(args.isEmpty() ? kw.getOrDefault("case_sensitive", false) : arg0);
                String by = Values.str(args.size() > 1 ? args.get(1) : kw.getOrDefault("by", "key"));
                boolean reverse = Values.truthy(args.size() > 2 ? args.get(2) : kw.getOrDefault("reverse", false));
                List<Object> pairs = items(m);
                int idx = by.equals("value") ? 1 : 0;
                Comparator<Object> cmp = (a, b) -> Values.compare(sortKey(((List<?>) a).get(idx), caseSensitive), sortKey(((List<?>) b).get(idx), caseSensitive));
                pairs.sort(reverse ? cmp.reversed() : cmp);
                yield pairs;
            }
            case "list" -> v instanceof Range range ? range.materialize(r) : new ArrayList<>(Values.iterate(v));
            case "first" -> {
                List<Object> items = Values.iterate(v);
                yield items.isEmpty() ? new Undefined("first") : items.get(0);
            }
            case "last" -> {
                List<Object> items = Values.iterate(v);
                yield items.isEmpty() ? new Undefined("last") : items.get(items.size() - 1);
            }
            case "reverse" -> {
                if (v instanceof String s) {
                    yield new StringBuilder(s).reverse().toString();
                }
                List<Object> items = new ArrayList<>(Values.iterate(v));
                java.util.Collections.reverse(items);
                yield items;
            }
            case "unique" -> {
                List<Object> out = new ArrayList<>();
                for (Object o : Values.iterate(v)) {
                    boolean seen = false;
                    for (Object p : out) {
                        seen |= Values.equal(sortKey(p, false), sortKey(o, false));
                    }
                    if (!seen) {
                        out.add(o);
                    }
                }
                yield out;
            }
            case "sort" -> {
                boolean reverse = Values.truthy(args.isEmpty() ? kw.getOrDefault("reverse", false) : arg0);
                boolean caseSensitive = Values.truthy(args.size() > 1 ? args.get(1) : kw.getOrDefault("case_sensitive", false));
                Object attr = args.size() > 2 ? args.get(2) : kw.get("attribute");
                List<Object> items = new ArrayList<>(Values.iterate(v));
                Comparator<Object> cmp = (a, b) -> Values.compare(sortKey(attr == null ? a : attribute(a, Values.str(attr)), caseSensitive),
                        sortKey(attr == null ? b : attribute(b, Values.str(attr)), caseSensitive));
                items.sort(reverse ? cmp.reversed() : cmp);
                yield items;
            }
            case "min", "max" -> {
                List<Object> items = Values.iterate(v);
                if (items.isEmpty()) {
                    yield new Undefined(name);
                }
                Object best = items.get(0);
                for (Object o : items) {
                    int c = Values.compare(sortKey(o, false), sortKey(best, false));
                    if (name.equals("min") ? c < 0 : c > 0) {
                        best = o;
                    }
                }
                yield best;
            }
            case "sum" -> {
                Object total = args.size() > 1 ? args.get(1) : kw.getOrDefault("start", 0L);
                Object attr = arg0 != null ? arg0 : kw.get("attribute");
                for (Object o : Values.iterate(v)) {
                    total = binary(r, "+", total, attr == null ? o : attribute(o, Values.str(attr)));
                }
                yield total;
            }
            case "abs" -> v instanceof Double d ? (Object) Math.abs(d) : (Object) Math.abs(Values.toLong(v));
            case "round" -> {
                long precision = arg0 == null ? 0 : Values.toLong(arg0);
                double scale = Math.pow(10, precision);
                yield Math.rint(Values.toDouble(v) * scale) / scale;
            }
            case "int" -> toInt(v, arg0);
            case "float" -> {
                try {
                    yield v instanceof String s ? Double.parseDouble(s.strip()) : Values.toDouble(v);
                } catch (RuntimeException e) {
                    yield arg0 == null ? 0.0 : arg0;
                }
            }
            case "indent" -> StringMethods.indent(Values.str(v), args.isEmpty() ? kw.getOrDefault("width", 4L) : arg0,
                    Values.truthy(args.size() > 1 ? args.get(1) : kw.getOrDefault("first", false)),
                    Values.truthy(args.size() > 2 ? args.get(2) : kw.getOrDefault("blank", false)));
            case "map" -> {
                List<Object> out = new ArrayList<>();
                for (Object o : Values.truthy(v) ? Values.iterate(v) : List.of()) {
                    r.tick();
                    if (kw.containsKey("attribute")) {
                        Object a = attributePath(o, Values.str(kw.get("attribute")));
                        out.add(a instanceof Undefined && kw.containsKey("default") ? kw.get("default") : a);
                    } else {
                        out.add(filter(r, Values.str(arg0), o, args.subList(1, args.size()), Map.of()));
                    }
                }
                yield new Lazy(out);
            }
            case "select", "reject" -> {
                List<Object> out = new ArrayList<>();
                for (Object o : Values.truthy(v) ? Values.iterate(v) : List.of()) {
                    r.tick();
                    boolean ok = arg0 == null ? Values.truthy(o) : test(r, Values.str(arg0), o, args.subList(1, args.size()));
                    if (ok == name.equals("select")) {
                        out.add(o);
                    }
                }
                yield new Lazy(out);
            }
            case "selectattr", "rejectattr" -> {
                List<Object> out = new ArrayList<>();
                for (Object o : Values.truthy(v) ? Values.iterate(v) : List.of()) {
                    r.tick();
                    Object a = attributePath(o, Values.str(arg0));
                    boolean ok = args.size() < 2 ? Values.truthy(a) : test(r, Values.str(args.get(1)), a, args.subList(2, args.size()));
                    if (ok == name.equals("selectattr")) {
                        out.add(o);
                    }
                }
                yield new Lazy(out);
            }
            case "attr" -> attribute(v, Values.str(arg0));
            case "wordcount" -> (long) Values.str(v).strip().split("\\s+").length;
            case "center" -> {
                String s = Values.str(v);
                int width = (int) (arg0 == null ? 80 : Values.toLong(arg0));
                int pad = Math.max(0, width - s.length());
                yield " ".repeat(pad / 2) + s + " ".repeat(pad - pad / 2);
            }
            case "format" -> StringMethods.percent(Values.str(v), args.size() == 1 ? arg0 : args);
            case "batch" -> {
                int size = (int) Values.toLong(arg0);
                List<Object> out = new ArrayList<>();
                List<Object> cur = new ArrayList<>();
                for (Object o : Values.iterate(v)) {
                    cur.add(o);
                    if (cur.size() == size) {
                        out.add(cur);
                        cur = new ArrayList<>();
                    }
                }
                if (!cur.isEmpty()) {
                    if (args.size() > 1) {
                        while (cur.size() < size) {
                            cur.add(args.get(1));
                        }
                    }
                    out.add(cur);
                }
                yield out;
            }
            case "striptags" -> Values.str(v).replaceAll("<[^>]*>", "").replaceAll("\\s+", " ").strip();
            case "truncate" -> {
                String s = Values.str(v);
                int length = (int) (arg0 == null ? 255 : Values.toLong(arg0));
                yield s.length() <= length ? s : s.substring(0, Math.max(0, length - 3)) + "...";
            }
            default -> throw new TemplateException("no filter named '" + name + "'");
        };
    }

    private static Object fail(String filter, Object v) {
        throw new TemplateException("TypeError: filter '" + filter + "' cannot take a " + Values.typeName(v));
    }

    private static Object sortKey(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String s ? s.toLowerCase(Locale.ROOT) : v;
    }

    /** {@code attribute="a.b.0"} as Jinja's attribute getters take it. */
    private static Object attributePath(Object o, String path) {
        Object cur = o;
        for (String part : path.split("\\.")) {
            if (cur instanceof Undefined) {
                return cur;
            }
            cur = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? item(cur, Long.parseLong(part)) : item(cur, part);
        }
        return cur;
    }

    private static Object toInt(Object v, Object fallback) {
        try {
            return switch (v) {
                case Long l -> l;
                case Double d -> (long) (double) d;
                case Boolean b -> b ? 1L : 0L;
                case String s -> {
                    String t = s.strip();
                    try {
                        yield Long.parseLong(t);
                    } catch (NumberFormatException e) {
                        yield (long) Double.parseDouble(t);
                    }
                }
                default -> fallback == null ? 0L : fallback;
            };
        } catch (RuntimeException e) {
            return fallback == null ? 0L : fallback;
        }
    }
}
