package org.memwall.grammar;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.memwall.chat.Json;

/**
 * JSON Schema → GBNF, for the subset structured outputs use: {@code type} (one or a list),
 * {@code properties} with {@code required} (declared order; optional ones may be left out),
 * {@code additionalProperties} (a map when there are no properties), {@code enum}, {@code const},
 * {@code items} / {@code prefixItems} with {@code minItems} / {@code maxItems}, {@code $ref} into the
 * document ({@code $defs}, {@code definitions}, recursion allowed), {@code anyOf} / {@code oneOf}
 * (as alternatives), {@code allOf} of objects (merged), string {@code pattern}, {@code minLength} /
 * {@code maxLength}, the formats {@code date}, {@code time}, {@code date-time} and {@code uuid}, and
 * integer bounds of the forms llama.cpp's converter handles most often (a minimum of 0 or 1; a small
 * closed range). Keywords that would constrain values in ways the grammar cannot express are refused
 * with a clear error rather than ignored, so an accepted schema's output always validates.
 */
final class JsonSchemaGrammar {
    /** Shared rules: whitespace (bounded, so a rambling model cannot stall), strings, numbers, any value. */
    static final String PRIMITIVES = """
            space ::= "" | " " | "\\n" [ \\t]{0,20}
            json-char ::= [^"\\\\\\x7F\\x00-\\x1F] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})
            json-string ::= "\\"" json-char* "\\"" space
            json-int ::= "-"? ("0" | [1-9] [0-9]{0,15})
            json-integer ::= json-int space
            json-number ::= json-int ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})? space
            json-boolean ::= ("true" | "false") space
            json-null ::= "null" space
            json-value ::= json-object | json-array | json-string | json-number | json-boolean | json-null
            json-object ::= "{" space (json-string ":" space json-value ("," space json-string ":" space json-value)*)? "}" space
            json-array ::= "[" space (json-value ("," space json-value)*)? "]" space
            json-date ::= [0-9]{4} "-" ("0" [1-9] | "1" [0-2]) "-" ("0" [1-9] | [12] [0-9] | "3" [01])
            json-time ::= ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,3})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])
            json-uuid ::= [0-9a-f]{8} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{12}
            """;

    static final String JSON_OBJECT = "root ::= json-object\n" + PRIMITIVES;

    private static final Set<String> REFUSED = Set.of("not", "if", "then", "else", "patternProperties", "propertyNames",
            "dependentRequired", "dependentSchemas", "minProperties", "maxProperties", "uniqueItems", "contains", "minContains",
            "maxContains", "multipleOf", "exclusiveMaximum", "unevaluatedProperties", "unevaluatedItems");
    private static final Map<String, String> FORMATS = Map.of("date", "json-date", "time", "json-time",
            "date-time", "json-date \"T\" json-time", "uuid", "json-uuid");
    /** Largest integer range written out value by value. */
    private static final int MAX_ENUMERATED = 1000;

    private final Object root;
    private final String prefix;
    private final Map<String, String> rules = new LinkedHashMap<>();
    private final Map<String, String> byBody = new HashMap<>();
    private final Map<String, String> refs = new HashMap<>();

    private JsonSchemaGrammar(Object root, String prefix) {
        this.root = root;
        this.prefix = prefix;
    }

    /** The GBNF of documents valid against {@code schema}. */
    static String toGbnf(Object schema) {
        return rules(schema, "") + PRIMITIVES;
    }

    /**
     * The rules of documents valid against {@code schema}, each name starting with {@code prefix}
     * (the document's rule is {@code prefix + "root"}), without the {@link #PRIMITIVES} they use: so
     * several schemas can live in one grammar.
     */
    static String rules(Object schema, String prefix) {
        JsonSchemaGrammar g = new JsonSchemaGrammar(schema, prefix);
        String top = g.visit(schema, "root");
        StringBuilder b = new StringBuilder(prefix).append("root ::= ").append(top).append('\n');
        g.rules.forEach((name, body) -> b.append(name).append(" ::= ").append(body).append('\n'));
        return b.toString();
    }

    /** A rule with {@code body} (an existing one with the same body is reused); returns its name. */
    private String rule(String name, String body) {
        String existing = byBody.get(body);
        if (existing != null) {
            return existing;
        }
        String base = sanitize(name);
        if (base.startsWith("json-") || base.equals("space") || base.equals("root")) {
            base = "s-" + base;
        }
        if (!base.startsWith(prefix)) {
            base = prefix + base; // a $ref's rule name carries the prefix already
        }
        String unique = base;
        for (int i = 2; rules.containsKey(unique); i++) {
            unique = base + "-" + i;
        }
        rules.put(unique, body);
        byBody.put(body, unique);
        return unique;
    }

    @SuppressWarnings("unchecked")
    private String visit(Object schema, String name) {
        if (Boolean.TRUE.equals(schema)) {
            return "json-value";
        }
        if (!(schema instanceof Map<?, ?> raw)) {
            throw new GrammarException("schema at '" + name + "' must be an object or true, got " + Json.write(schema, null));
        }
        Map<String, Object> s = (Map<String, Object>) raw;
        for (String k : s.keySet()) {
            if (REFUSED.contains(k)) {
                throw new GrammarException("the JSON schema keyword '" + k + "' (at '" + name + "') is not supported for constrained output");
            }
        }
        if (s.get("$ref") instanceof String ref) {
            return ref(ref);
        }
        if (s.containsKey("const")) {
            return literal(Json.write(s.get("const"), null)) + " space";
        }
        if (s.get("enum") instanceof List<?> values) {
            if (values.isEmpty()) {
                throw new GrammarException("'enum' at '" + name + "' is empty");
            }
            List<String> alts = new ArrayList<>();
            for (Object v : values) {
                alts.add(literal(Json.write(v, null)));
            }
            return rule(name, "(" + String.join(" | ", alts) + ") space");
        }
        for (String key : new String[] {"anyOf", "oneOf"}) {
            if (s.get(key) instanceof List<?> options) {
                List<String> alts = new ArrayList<>();
                for (int i = 0; i < options.size(); i++) {
                    alts.add(visit(options.get(i), name + "-" + i));
                }
                return rule(name, String.join(" | ", alts));
            }
        }
        if (s.get("allOf") instanceof List<?> parts) {
            return visit(merge(s, parts, name), name);
        }
        Object type = s.get("type");
        if (type instanceof List<?> types) {
            List<String> alts = new ArrayList<>();
            for (Object t : types) {
                Map<String, Object> one = new LinkedHashMap<>(s);
                one.put("type", t);
                alts.add(visit(one, name + "-" + t));
            }
            return rule(name, String.join(" | ", alts));
        }
        if (type == null) {
            type = s.containsKey("properties") || s.containsKey("additionalProperties") ? "object"
                    : s.containsKey("items") || s.containsKey("prefixItems") ? "array"
                    : s.containsKey("pattern") || s.containsKey("minLength") || s.containsKey("maxLength") ? "string" : null;
        }
        if (type == null) {
            return "json-value";
        }
        return switch (String.valueOf(type)) {
            case "object" -> object(s, name);
            case "array" -> array(s, name);
            case "string" -> string(s, name);
            case "integer" -> integer(s, name);
            case "number" -> {
                refuseBounds(s, name);
                yield "json-number";
            }
            case "boolean" -> "json-boolean";
            case "null" -> "json-null";
            default -> throw new GrammarException("unknown JSON schema type '" + type + "' at '" + name + "'");
        };
    }

    @SuppressWarnings("unchecked")
    private String object(Map<String, Object> s, String name) {
        Map<String, Object> props = s.get("properties") instanceof Map<?, ?> p ? (Map<String, Object>) p : Map.of();
        Set<String> required = new LinkedHashSet<>();
        if (s.get("required") instanceof List<?> r) {
            for (Object x : r) {
                required.add(String.valueOf(x));
            }
        }
        for (String r : required) {
            if (!props.containsKey(r)) {
                throw new GrammarException("'" + r + "' is required at '" + name + "' but has no entry in 'properties'");
            }
        }
        if (props.isEmpty()) {
            Object extra = s.getOrDefault("additionalProperties", true);
            if (Boolean.FALSE.equals(extra)) {
                return rule(name, "\"{\" space \"}\" space");
            }
            String value = visit(extra, name + "-value");
            String kv = "json-string \":\" space " + value;
            return rule(name, "\"{\" space (" + kv + " (\",\" space " + kv + ")*)? \"}\" space");
        }
        // Properties in declared order; first[i]: the rest from property i when none is written yet,
        // rest[i]: the rest when one is (so a comma comes first). Optional properties may be skipped.
        List<String> keys = new ArrayList<>(props.keySet());
        int n = keys.size();
        String[] kv = new String[n];
        for (int i = 0; i < n; i++) {
            String key = keys.get(i);
            kv[i] = literal(jsonString(key)) + " space \":\" space " + visit(props.get(key), name + "-" + key);
        }
        String[] rest = new String[n + 1];
        String[] first = new String[n + 1];
        rest[n] = "\"\"";
        first[n] = "\"\"";
        for (int i = n - 1; i >= 0; i--) {
            boolean req = required.contains(keys.get(i));
            String comma = "\",\" space " + kv[i];
            rest[i] = rule(name + "-rest" + i, (req ? comma : "(" + comma + ")?") + " " + rest[i + 1]);
            first[i] = rule(name + "-from" + i, kv[i] + " " + rest[i + 1] + (req ? "" : " | " + first[i + 1]));
        }
        return rule(name, "\"{\" space " + first[0] + " \"}\" space");
    }

    private String array(Map<String, Object> s, String name) {
        int min = count(s, "minItems", 0, name);
        int max = count(s, "maxItems", -1, name);
        if (s.get("prefixItems") instanceof List<?> tuple) {
            if (tuple.size() < min || (max >= 0 && tuple.size() > max)) {
                throw new GrammarException("'prefixItems' at '" + name + "' does not fit minItems/maxItems");
            }
            StringBuilder b = new StringBuilder("\"[\" space");
            for (int i = 0; i < tuple.size(); i++) {
                b.append(i == 0 ? " " : " \",\" space ").append(visit(tuple.get(i), name + "-" + i));
            }
            return rule(name, b.append(" \"]\" space").toString());
        }
        String item = visit(s.getOrDefault("items", true), name + "-item");
        if (max == 0) {
            return rule(name, "\"[\" space \"]\" space");
        }
        String more = "(\",\" space " + item + "){" + Math.max(0, min - 1) + "," + (max < 0 ? "" : String.valueOf(max - 1)) + "}";
        String items = item + " " + more;
        return rule(name, "\"[\" space " + (min == 0 ? "(" + items + ")?" : items) + " \"]\" space");
    }

    private String string(Map<String, Object> s, String name) {
        if (s.get("pattern") instanceof String pattern) {
            return rule(name, "\"\\\"\" " + PatternGrammar.toGbnf(pattern) + " \"\\\"\" space");
        }
        if (s.get("format") instanceof String format && FORMATS.containsKey(format)) {
            return rule(name, "\"\\\"\" " + FORMATS.get(format) + " \"\\\"\" space");
        }
        int min = count(s, "minLength", 0, name);
        int max = count(s, "maxLength", -1, name);
        if (min == 0 && max < 0) {
            return "json-string";
        }
        return rule(name, "\"\\\"\" json-char{" + min + "," + (max < 0 ? "" : String.valueOf(max)) + "} \"\\\"\" space");
    }

    private String integer(Map<String, Object> s, String name) {
        Long min = bound(s, "minimum", name);
        Long max = bound(s, "maximum", name);
        Long exclusiveMin = bound(s, "exclusiveMinimum", name);
        if (exclusiveMin != null) {
            min = min == null ? exclusiveMin + 1 : Math.max(min, exclusiveMin + 1);
        }
        if (min == null && max == null) {
            return "json-integer";
        }
        if (min != null && max != null) {
            if (max < min) {
                throw new GrammarException("'maximum' is below 'minimum' at '" + name + "'");
            }
            if (max - min < MAX_ENUMERATED) {
                List<String> alts = new ArrayList<>();
                for (long v = min; v <= max; v++) {
                    alts.add(literal(Long.toString(v)));
                }
                return rule(name, "(" + String.join(" | ", alts) + ") space");
            }
        } else if (max == null && (min == 0 || min == 1)) {
            return rule(name, (min == 0 ? "(\"0\" | [1-9] [0-9]{0,15})" : "[1-9] [0-9]{0,15}") + " space");
        }
        throw new GrammarException("integer bounds at '" + name + "' are supported as a minimum of 0 or 1, or a range of under "
                + MAX_ENUMERATED + " values");
    }

    private static Long bound(Map<String, Object> s, String key, String name) {
        Object v = s.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            return n.longValue();
        }
        throw new GrammarException("'" + key + "' at '" + name + "' must be an integer here");
    }

    private static void refuseBounds(Map<String, Object> s, String name) {
        for (String k : new String[] {"minimum", "maximum", "exclusiveMinimum"}) {
            if (s.containsKey(k)) {
                throw new GrammarException("'" + k + "' on a number at '" + name + "' is not supported for constrained output");
            }
        }
    }

    private static int count(Map<String, Object> s, String key, int fallback, String name) {
        Object v = s.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n && n.longValue() >= 0 && n.longValue() <= GbnfParser.MAX_REPEAT) {
            return n.intValue();
        }
        throw new GrammarException("'" + key + "' at '" + name + "' must be an integer from 0 to " + GbnfParser.MAX_REPEAT);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> merge(Map<String, Object> s, List<?> parts, String name) {
        Map<String, Object> merged = new LinkedHashMap<>(s);
        merged.remove("allOf");
        Map<String, Object> props = new LinkedHashMap<>();
        List<Object> required = new ArrayList<>();
        for (Object part : parts) {
            Object p = part instanceof Map<?, ?> m && m.get("$ref") instanceof String ref ? resolve(ref) : part;
            if (!(p instanceof Map<?, ?> m) || (m.containsKey("type") && !"object".equals(m.get("type")))) {
                throw new GrammarException("'allOf' at '" + name + "' is supported for object schemas only");
            }
            if (m.get("properties") instanceof Map<?, ?> pp) {
                props.putAll((Map<String, Object>) pp);
            }
            if (m.get("required") instanceof List<?> r) {
                required.addAll(r);
            }
        }
        if (merged.get("properties") instanceof Map<?, ?> own) {
            props.putAll((Map<String, Object>) own);
        }
        if (merged.get("required") instanceof List<?> r) {
            required.addAll(r);
        }
        merged.put("type", "object");
        merged.put("properties", props);
        merged.put("required", required);
        return merged;
    }

    private String ref(String ref) {
        String known = refs.get(ref);
        if (known != null) {
            return known;
        }
        String base = prefix + "ref-" + sanitize(ref.substring(ref.lastIndexOf('/') + 1));
        String name = base;
        for (int i = 2; rules.containsKey(name); i++) {
            name = base + "-" + i;
        }
        refs.put(ref, name);
        rules.put(name, ""); // reserved: a recursive reference sees the name
        rules.put(name, visit(resolve(ref), name));
        return name;
    }

    private Object resolve(String ref) {
        if (!ref.startsWith("#")) {
            throw new GrammarException("only references into the same schema ('#/...') are supported, got '" + ref + "'");
        }
        Object at = root;
        for (String part : ref.substring(1).split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            String key = part.replace("~1", "/").replace("~0", "~");
            if (!(at instanceof Map<?, ?> m) || !m.containsKey(key)) {
                throw new GrammarException("the reference '" + ref + "' points to nothing");
            }
            at = m.get(key);
        }
        return at;
    }

    private static String sanitize(String name) {
        String s = name.replaceAll("[^A-Za-z0-9-]", "-");
        return s.isEmpty() ? "r" : s;
    }

    /** {@code text} as a JSON string literal. */
    static String jsonString(String text) {
        return Json.write(text, null);
    }

    /** {@code text} as a GBNF literal. */
    static String literal(String text) {
        StringBuilder b = new StringBuilder("\"");
        text.codePoints().forEach(c -> {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7F) {
                        b.append(String.format("\\x%02X", c));
                    } else {
                        b.appendCodePoint(c);
                    }
                }
            }
        });
        return b.append('"').toString();
    }
}
