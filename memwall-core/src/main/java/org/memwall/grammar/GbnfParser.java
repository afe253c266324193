package org.memwall.grammar;

import java.util.ArrayList;
import java.util.List;
import org.memwall.grammar.Grammar.Element;

/**
 * llama.cpp's GBNF: {@code name ::= alternatives}, alternatives separated by {@code |}, sequences of
 * {@code "literals"}, {@code [character classes]} (ranges, {@code ^} negation), {@code .}, rule names
 * and {@code ( groups )}, each optionally followed by {@code * + ?} or {@code {m}}, {@code {m,}},
 * {@code {m,n}}; {@code #} starts a comment. Characters are Unicode code points, matched as their UTF-8
 * bytes. Repetitions and groups become generated rules. A memwall extension: a special token written
 * bare, {@code <|channel|>} (outside quotes), matches that one token and not its text spelled out.
 */
final class GbnfParser {
    /** Upper bound on a counted repetition: each copy is an element of the compiled grammar. */
    static final int MAX_REPEAT = 1000;

    private final String src;
    private int pos;
    private final Grammar.Builder builder = new Grammar.Builder();

    private GbnfParser(String src) {
        this.src = src;
    }

    static Grammar parse(String gbnf) {
        GbnfParser p = new GbnfParser(gbnf);
        p.rules();
        return p.builder.build("root");
    }

    private void rules() {
        skipSpace();
        if (pos >= src.length()) {
            throw new GrammarException("the grammar is empty");
        }
        while (pos < src.length()) {
            String name = name();
            skipSpace();
            if (!src.startsWith("::=", pos)) {
                throw error("expected '::=' after rule name '" + name + "'");
            }
            pos += 3;
            int id = builder.rule(name);
            if (builder.defined(id)) {
                throw error("rule '" + name + "' is defined twice");
            }
            builder.define(id, alternatives(name, false));
            skipSpace();
        }
    }

    private List<List<Element>> alternatives(String rule, boolean nested) {
        List<List<Element>> alts = new ArrayList<>();
        alts.add(sequence(rule, nested));
        while (pos < src.length() && src.charAt(pos) == '|') {
            pos++;
            alts.add(sequence(rule, nested));
        }
        return alts;
    }

    private List<Element> sequence(String rule, boolean nested) {
        List<Element> seq = new ArrayList<>();
        while (true) {
            skipSpace();
            if (pos >= src.length()) {
                break;
            }
            char c = src.charAt(pos);
            if (c == '|' || c == ')' || (!nested && ruleStartsHere())) {
                break;
            }
            List<Element> atom = atom(rule);
            skipSpace();
            if (pos < src.length() && "*+?{".indexOf(src.charAt(pos)) >= 0) {
                seq.addAll(repeat(rule, single(rule, atom)));
            } else {
                seq.addAll(atom);
            }
        }
        return seq;
    }

    private List<Element> atom(String rule) {
        char c = src.charAt(pos);
        switch (c) {
            case '"' -> {
                pos++;
                List<Element> lit = new ArrayList<>();
                while (pos < src.length() && src.charAt(pos) != '"') {
                    for (byte b : Utf8Ranges.encode(character())) {
                        lit.add(Element.bytes(set(b & 0xFF, b & 0xFF)));
                    }
                }
                expectChar('"');
                return lit;
            }
            case '[' -> {
                pos++;
                boolean negate = pos < src.length() && src.charAt(pos) == '^';
                if (negate) {
                    pos++;
                }
                CodePointSet cps = new CodePointSet();
                while (pos < src.length() && src.charAt(pos) != ']') {
                    int lo = character();
                    int hi = lo;
                    if (pos + 1 < src.length() && src.charAt(pos) == '-' && src.charAt(pos + 1) != ']') {
                        pos++;
                        hi = character();
                        if (hi < lo) {
                            throw error("character range is backwards");
                        }
                    }
                    cps.add(lo, hi);
                }
                expectChar(']');
                return List.of(characters(rule, negate ? cps.complement() : cps));
            }
            case '.' -> {
                pos++;
                return List.of(characters(rule, new CodePointSet().complement()));
            }
            case '<' -> {
                int end = src.indexOf("|>", pos + 2);
                if (!src.startsWith("<|", pos) || end < 0 || src.substring(pos + 2, end).matches(".*[\\s<>|\"].*")) {
                    throw error("a special token is written <|name|>");
                }
                String text = src.substring(pos, end + 2);
                pos = end + 2;
                return builder.special(text);
            }
            case '(' -> {
                pos++;
                int id = builder.fresh(rule);
                builder.define(id, alternatives(rule, true));
                skipSpace();
                expectChar(')');
                return List.of(Element.ref(id));
            }
            default -> {
                if (!isNameChar(c)) {
                    throw error("unexpected '" + c + "'");
                }
                return List.of(Element.ref(builder.rule(name())));
            }
        }
    }

    /** An element matching any one code point of {@code cps}, as UTF-8. */
    private Element characters(String rule, CodePointSet cps) {
        long[] single = new long[4];
        List<List<Element>> multi = new ArrayList<>();
        for (int[] r : cps.ranges()) {
            for (List<Utf8Ranges.ByteRange> seq : Utf8Ranges.of(r[0], r[1])) {
                if (seq.size() == 1) {
                    addRange(single, seq.getFirst().lo(), seq.getFirst().hi());
                } else {
                    List<Element> alt = new ArrayList<>();
                    for (Utf8Ranges.ByteRange br : seq) {
                        alt.add(Element.bytes(set(br.lo(), br.hi())));
                    }
                    multi.add(alt);
                }
            }
        }
        boolean anySingle = (single[0] | single[1] | single[2] | single[3]) != 0;
        if (multi.isEmpty()) {
            if (!anySingle) {
                throw new GrammarException("a character class in rule '" + rule + "' matches nothing");
            }
            return Element.bytes(single);
        }
        if (anySingle) {
            multi.add(List.of(Element.bytes(single)));
        }
        int id = builder.fresh(rule);
        builder.define(id, multi);
        return Element.ref(id);
    }

    /** Wraps a multi-element atom in a rule so a repetition applies to all of it. */
    private Element single(String rule, List<Element> atom) {
        if (atom.size() == 1) {
            return atom.getFirst();
        }
        int id = builder.fresh(rule);
        builder.define(id, List.of(atom));
        return Element.ref(id);
    }

    private List<Element> repeat(String rule, Element x) {
        char c = src.charAt(pos++);
        int min;
        int max;
        switch (c) {
            case '*' -> { min = 0; max = -1; }
            case '+' -> { min = 1; max = -1; }
            case '?' -> { min = 0; max = 1; }
            default -> {
                skipSpace();
                min = number();
                skipSpace();
                max = min;
                if (peek() == ',') {
                    pos++;
                    skipSpace();
                    max = Character.isDigit(peek()) ? number() : -1;
                    skipSpace();
                }
                expectChar('}');
                if (max >= 0 && max < min) {
                    throw error("repetition {" + min + "," + max + "} has its maximum below its minimum");
                }
            }
        }
        return repetition(builder, rule, x, min, max);
    }

    /** {@code x{min,max}} ({@code max < 0}: unbounded) as elements, generating the rules it needs. */
    static List<Element> repetition(Grammar.Builder builder, String rule, Element x, int min, int max) {
        if (min > MAX_REPEAT || max > MAX_REPEAT) {
            throw new GrammarException("repetition counts above " + MAX_REPEAT + " are not supported (rule '" + rule + "')");
        }
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < min; i++) {
            out.add(x);
        }
        if (max < 0) {
            int star = builder.fresh(rule);
            builder.define(star, List.of(List.of(x, Element.ref(star)), List.of()));
            out.add(Element.ref(star));
        } else if (max > min) {
            // x (x (x)?)? nested, so the optional tail has linear size.
            int tail = -1;
            for (int i = min; i < max; i++) {
                int opt = builder.fresh(rule);
                builder.define(opt, List.of(tail < 0 ? List.of(x) : List.of(x, Element.ref(tail)), List.of()));
                tail = opt;
            }
            out.add(Element.ref(tail));
        }
        return out;
    }

    /** One code point of a literal or class, escapes decoded. */
    private int character() {
        if (pos >= src.length()) {
            throw error("unexpected end of grammar");
        }
        int c = src.codePointAt(pos);
        pos += Character.charCount(c);
        if (c != '\\') {
            return c;
        }
        if (pos >= src.length()) {
            throw error("unexpected end after '\\'");
        }
        char e = src.charAt(pos++);
        return switch (e) {
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'x' -> hex(2);
            case 'u' -> hex(4);
            case 'U' -> hex(8);
            default -> e;
        };
    }

    private int hex(int digits) {
        if (pos + digits > src.length()) {
            throw error("short hex escape");
        }
        try {
            int v = Integer.parseInt(src.substring(pos, pos + digits), 16);
            pos += digits;
            if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
                throw error("escape \\u" + Integer.toHexString(v) + " is not a Unicode scalar value");
            }
            return v;
        } catch (NumberFormatException e) {
            throw error("bad hex escape");
        }
    }

    private int number() {
        int start = pos;
        while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
            pos++;
        }
        if (start == pos || pos - start > 6) {
            throw error("expected a repetition count");
        }
        return Integer.parseInt(src.substring(start, pos));
    }

    private String name() {
        int start = pos;
        while (pos < src.length() && isNameChar(src.charAt(pos))) {
            pos++;
        }
        if (start == pos) {
            throw error("expected a rule name");
        }
        return src.substring(start, pos);
    }

    private boolean ruleStartsHere() {
        int save = pos;
        try {
            while (pos < src.length() && isNameChar(src.charAt(pos))) {
                pos++;
            }
            if (pos == save) {
                return false;
            }
            skipSpace();
            return src.startsWith("::=", pos);
        } finally {
            pos = save;
        }
    }

    private static boolean isNameChar(char c) {
        return c == '-' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    private void skipSpace() {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c == '#') {
                while (pos < src.length() && src.charAt(pos) != '\n') {
                    pos++;
                }
            } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                pos++;
            } else {
                return;
            }
        }
    }

    private char peek() {
        return pos < src.length() ? src.charAt(pos) : '\0';
    }

    private void expectChar(char c) {
        if (pos >= src.length() || src.charAt(pos) != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private GrammarException error(String what) {
        int line = 1;
        int col = 1;
        for (int i = 0; i < Math.min(pos, src.length()); i++) {
            if (src.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new GrammarException("grammar error at line " + line + ", column " + col + ": " + what);
    }

    static long[] set(int lo, int hi) {
        long[] s = new long[4];
        addRange(s, lo, hi);
        return s;
    }

    private static void addRange(long[] s, int lo, int hi) {
        for (int b = lo; b <= hi; b++) {
            s[b >>> 6] |= 1L << (b & 63);
        }
    }
}
