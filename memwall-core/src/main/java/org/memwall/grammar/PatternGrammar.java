package org.memwall.grammar;

/**
 * A JSON Schema {@code pattern} (the common regular-expression subset: literals, escapes such as
 * {@code \d \w \s}, classes, {@code .}, groups, {@code |}, {@code * + ?} and counted repetition) as a
 * GBNF expression for the <em>inside</em> of a JSON string: literal characters are written in their
 * JSON-escaped form, and classes leave out the characters a JSON string must escape. The whole value
 * matches the pattern (which also satisfies the unanchored search JSON Schema specifies).
 */
final class PatternGrammar {
    private final String p;
    private int pos;

    private PatternGrammar(String pattern) {
        this.p = pattern;
    }

    static String toGbnf(String pattern) {
        PatternGrammar g = new PatternGrammar(pattern);
        if (g.p.startsWith("^")) {
            g.pos++;
        }
        String expr = g.alternation();
        if (g.pos < g.p.length()) {
            throw g.error("unexpected ')'");
        }
        return expr;
    }

    private String alternation() {
        StringBuilder b = new StringBuilder("(").append(sequence());
        while (pos < p.length() && p.charAt(pos) == '|') {
            pos++;
            b.append(" | ").append(sequence());
        }
        return b.append(")").toString();
    }

    private String sequence() {
        StringBuilder b = new StringBuilder("\"\"");
        while (pos < p.length() && p.charAt(pos) != '|' && p.charAt(pos) != ')') {
            if (p.charAt(pos) == '$' && (pos + 1 == p.length() || p.charAt(pos + 1) == ')' || p.charAt(pos + 1) == '|')) {
                pos++;
                continue;
            }
            String atom = atom();
            b.append(' ').append(quantified(atom));
        }
        return b.toString();
    }

    private String quantified(String atom) {
        if (pos >= p.length()) {
            return atom;
        }
        char c = p.charAt(pos);
        String q;
        if (c == '*' || c == '+' || c == '?') {
            pos++;
            q = String.valueOf(c);
        } else if (c == '{' && p.indexOf('}', pos) > pos) {
            int end = p.indexOf('}', pos);
            String body = p.substring(pos + 1, end);
            if (!body.matches("\\d{1,4}(,\\d{0,4})?")) {
                throw error("bad repetition {" + body + "}");
            }
            pos = end + 1;
            q = "{" + body + "}";
        } else {
            return atom;
        }
        if (pos < p.length() && (p.charAt(pos) == '?' || p.charAt(pos) == '+')) {
            pos++; // lazy or possessive: the same language
        }
        return "(" + atom + ")" + q;
    }

    private String atom() {
        char c = p.charAt(pos);
        switch (c) {
            case '(' -> {
                pos++;
                if (p.startsWith("?:", pos)) {
                    pos += 2;
                } else if (p.startsWith("?<", pos) && pos + 2 < p.length() && p.charAt(pos + 2) != '=' && p.charAt(pos + 2) != '!') {
                    pos = p.indexOf('>', pos) + 1;
                } else if (pos < p.length() && p.charAt(pos) == '?') {
                    throw error("lookarounds and inline flags are not supported");
                }
                String inner = alternation();
                if (pos >= p.length() || p.charAt(pos) != ')') {
                    throw error("missing ')'");
                }
                pos++;
                return inner;
            }
            case '[' -> {
                pos++;
                return charClass(classBody());
            }
            case '.' -> {
                pos++;
                return charClass(new CodePointSet().add('\n', '\n').complement());
            }
            case '^', '$' -> throw error("anchors inside a pattern are not supported");
            case '*', '+', '?', '{' -> throw error("nothing to repeat");
            case '\\' -> {
                pos++;
                CodePointSet cls = classEscape();
                return cls != null ? charClass(cls) : literal(escapedChar());
            }
            default -> {
                int cp = p.codePointAt(pos);
                pos += Character.charCount(cp);
                return literal(cp);
            }
        }
    }

    private CodePointSet classBody() {
        boolean negate = pos < p.length() && p.charAt(pos) == '^';
        if (negate) {
            pos++;
        }
        CodePointSet set = new CodePointSet();
        while (pos < p.length() && p.charAt(pos) != ']') {
            int lo;
            if (p.charAt(pos) == '\\') {
                pos++;
                CodePointSet cls = classEscape();
                if (cls != null) {
                    set.addAll(cls);
                    continue;
                }
                lo = escapedChar();
            } else {
                lo = p.codePointAt(pos);
                pos += Character.charCount(lo);
            }
            int hi = lo;
            if (pos + 1 < p.length() && p.charAt(pos) == '-' && p.charAt(pos + 1) != ']') {
                pos++;
                if (p.charAt(pos) == '\\') {
                    pos++;
                    hi = escapedChar();
                } else {
                    hi = p.codePointAt(pos);
                    pos += Character.charCount(hi);
                }
                if (hi < lo) {
                    throw error("character range is backwards");
                }
            }
            set.add(lo, hi);
        }
        if (pos >= p.length()) {
            throw error("missing ']'");
        }
        pos++;
        return negate ? set.complement() : set;
    }

    /** {@code \d \w \s} and their negations (after the backslash), or null for another escape. */
    private CodePointSet classEscape() {
        if (pos >= p.length()) {
            throw error("pattern ends with '\\'");
        }
        CodePointSet set = switch (Character.toLowerCase(p.charAt(pos))) {
            case 'd' -> new CodePointSet().add('0', '9');
            case 'w' -> new CodePointSet().add('a', 'z').add('A', 'Z').add('0', '9').add('_', '_');
            case 's' -> new CodePointSet().add(' ', ' ').add('\t', '\r');
            default -> null;
        };
        if (set == null) {
            return null;
        }
        boolean upper = Character.isUpperCase(p.charAt(pos));
        pos++;
        return upper ? set.complement() : set;
    }

    private int escapedChar() {
        char e = p.charAt(pos++);
        return switch (e) {
            case 'n' -> '\n';
            case 't' -> '\t';
            case 'r' -> '\r';
            case 'f' -> '\f';
            case 'v' -> 0x0B;
            case 'x' -> hex(2);
            case 'u' -> hex(4);
            default -> {
                if (Character.isLetterOrDigit(e)) {
                    throw error("the escape \\" + e + " is not supported");
                }
                yield e;
            }
        };
    }

    private int hex(int n) {
        if (pos + n > p.length()) {
            throw error("short hex escape");
        }
        try {
            int v = Integer.parseInt(p.substring(pos, pos + n), 16);
            pos += n;
            return v;
        } catch (NumberFormatException e) {
            throw error("bad hex escape");
        }
    }

    /** The character as it appears inside a JSON string, as a GBNF literal. */
    private static String literal(int cp) {
        return JsonSchemaGrammar.literal(JsonSchemaGrammar.jsonString(new String(Character.toChars(cp))).replaceAll("^\"|\"$", ""));
    }

    /** A class, less what a JSON string cannot hold unescaped, as a GBNF class. */
    private String charClass(CodePointSet set) {
        CodePointSet unsafe = new CodePointSet().add(0, 0x1F).add('"', '"').add('\\', '\\').add(0x7F, 0x7F).add(0xD800, 0xDFFF);
        StringBuilder b = new StringBuilder("[");
        for (int[] r : set.minus(unsafe).ranges()) {
            b.append(String.format("\\U%08X", r[0]));
            if (r[1] > r[0]) {
                b.append('-').append(String.format("\\U%08X", r[1]));
            }
        }
        if (b.length() == 1) {
            throw error("a character class matches nothing a JSON string can hold unescaped");
        }
        return b.append(']').toString();
    }

    private GrammarException error(String what) {
        return new GrammarException("pattern '" + p + "' at " + pos + ": " + what);
    }
}
