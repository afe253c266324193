package org.memwall.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.memwall.chat.Node.Expr;

/**
 * Parses Jinja source into {@link Node}s, with Hugging Face's settings: {@code trim_blocks} (the
 * first newline after a block or comment tag is dropped) and {@code lstrip_blocks} (spaces and tabs
 * before a block or comment tag at the start of a line are dropped), plus {@code -} / {@code +}
 * whitespace control on every tag.
 */
final class TemplateParser {
    private enum Kind { TEXT, VAR, BLOCK }

    private record Segment(Kind kind, String text, int line, int column) {
    }

    /** Tokens of an expression: kind is one of name, string, int, float, op, end. */
    private record Tok(String kind, String text, Object value) {
    }

    private final List<Segment> segments = new ArrayList<>();
    private int seg;
    private List<Tok> toks;
    private int t;
    private int line;
    /** Column (1-based) where the current tag's text starts. */
    private int column;
    /** Inside an if body, Jinja2 reports unknown filters and tests only if they run. */
    private int ifBodies;

    private TemplateParser() {
    }

    static List<Node> parse(String source) {
        TemplateParser p = new TemplateParser();
        p.scan(source);
        List<Node> body = p.body(Set.of());
        if (p.seg < p.segments.size()) {
            throw p.error("unexpected '" + p.segments.get(p.seg).text().strip() + "'");
        }
        return body;
    }

    private TemplateException error(String what) {
        return new TemplateException("TemplateSyntaxError: " + what + " (line " + line + ")");
    }

    /** An error at offset {@code i} of the current tag's text {@code s}, naming line and column in the template. */
    private TemplateException errorAt(String s, int i, String what) {
        int lastBreak = s.lastIndexOf('\n', i - 1);
        int l = line + (int) s.substring(0, i).chars().filter(ch -> ch == '\n').count();
        int col = lastBreak < 0 ? column + i : i - lastBreak;
        return new TemplateException("TemplateSyntaxError: " + what + " (line " + l + ", column " + col + ")");
    }

    /** The value of {@code digits} hex digits at {@code from}, or -1 when they are not all there. */
    private static int hex(String s, int from, int digits) {
        if (from + digits > s.length()) {
            return -1;
        }
        int v = 0;
        for (int k = from; k < from + digits; k++) {
            int d = Character.digit(s.charAt(k), 16);
            if (d < 0) {
                return -1;
            }
            v = v * 16 + d;
        }
        return v;
    }

    // ---- scanning source into segments ----

    private void scan(String src) {
        int pos = 0;
        int n = src.length();
        boolean stripNext = false;
        while (pos < n) {
            int open = nextTag(src, pos);
            String text = open < 0 ? src.substring(pos) : src.substring(pos, open);
            if (open < 0) {
                addText(stripNext ? text.stripLeading() : text, lineOf(src, pos));
                break;
            }
            char kind = src.charAt(open + 1);
            char flag = open + 2 < n ? src.charAt(open + 2) : ' ';
            if (flag == '-') {
                text = text.stripTrailing();
            } else if (flag != '+' && kind != '{') {
                // lstrip_blocks: drop spaces/tabs between the line start and a block or comment tag.
                int lineStart = src.lastIndexOf('\n', open - 1) + 1;
                if (lineStart >= pos && src.substring(lineStart, open).chars().allMatch(c -> c == ' ' || c == '\t')) {
                    text = text.substring(0, text.length() - (open - lineStart));
                }
            }
            if (stripNext) {
                text = text.stripLeading();
            }
            stripNext = false;
            addText(text, lineOf(src, pos));
            int bodyStart = open + 2 + (flag == '-' || flag == '+' ? 1 : 0);
            String close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
            int end = kind == '#' ? src.indexOf(close, bodyStart) : findClose(src, bodyStart, close);
            if (end < 0) {
                line = lineOf(src, open);
                throw error("unclosed tag '" + src.substring(open, Math.min(n, open + 2)) + "'");
            }
            boolean rightStrip = end > bodyStart && src.charAt(end - 1) == '-';
            String inner = src.substring(bodyStart, rightStrip ? end - 1 : end);
            pos = end + 2;
            int tagLine = lineOf(src, open);
            boolean raw = kind == '%' && inner.strip().equals("raw");
            if (kind != '{' && !rightStrip && !raw && pos < n && src.charAt(pos) == '\n') {
                pos++; // trim_blocks (as Jinja's lexer, not after a raw tag: what follows it is the raw text)
            }
            stripNext = rightStrip;
            if (kind == '#') {
                continue;
            }
            if (raw) {
                int tagStart = findEndRaw(src, pos);
                if (tagStart < 0) {
                    line = tagLine;
                    throw error("missing endraw");
                }
                // The end of that tag; not the last "{%" before it, which a tag right after endraw's "%}" would be.
                int endRaw = src.indexOf("%}", tagStart + 2) + 2;
                String rawText = src.substring(pos, tagStart);
                if (rightStrip) { // "-%}" closing the raw tag strips the start of the raw text, not what follows endraw
                    rawText = rawText.stripLeading();
                }
                if (src.charAt(tagStart + 2) == '-') {
                    rawText = rawText.stripTrailing();
                }
                addText(rawText, tagLine);
                pos = endRaw;
                stripNext = src.charAt(endRaw - 3) == '-';
                if (!stripNext && pos < n && src.charAt(pos) == '\n') {
                    pos++;
                }
                continue;
            }
            segments.add(new Segment(kind == '{' ? Kind.VAR : Kind.BLOCK, inner, tagLine, bodyStart - src.lastIndexOf('\n', bodyStart - 1)));
        }
    }

    private void addText(String text, int line) {
        if (!text.isEmpty()) {
            segments.add(new Segment(Kind.TEXT, text, line, 1));
        }
    }

    private static int lineOf(String src, int pos) {
        int l = 1;
        for (int i = 0; i < pos && i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                l++;
            }
        }
        return l;
    }

    private static int nextTag(String src, int from) {
        int i = src.indexOf('{', from);
        while (i >= 0 && i + 1 < src.length()) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
            i = src.indexOf('{', i + 1);
        }
        return -1;
    }

    /** The position of {@code close} ending a tag, skipping string literals inside it. */
    private static int findClose(String src, int from, String close) {
        char quote = 0;
        for (int i = from; i < src.length() - 1; i++) {
            char c = src.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (src.startsWith(close, i)) {
                return i;
            }
        }
        return -1;
    }

    /** After a raw tag: where the matching {@code endraw} tag starts, or -1. */
    private static int findEndRaw(String src, int from) {
        int i = from;
        while ((i = src.indexOf("{%", i)) >= 0) {
            int j = i + 2;
            if (j < src.length() && (src.charAt(j) == '-' || src.charAt(j) == '+')) {
                j++;
            }
            int close = src.indexOf("%}", j);
            if (close < 0) {
                return -1;
            }
            String inner = src.substring(j, close);
            if (inner.endsWith("-")) {
                inner = inner.substring(0, inner.length() - 1);
            }
            if (inner.strip().equals("endraw")) {
                return i;
            }
            i = close;
        }
        return -1;
    }

    // ---- statements ----

    /** Parses nodes until a block tag whose first word is in {@code stops} (left unconsumed). */
    private List<Node> body(Set<String> stops) {
        List<Node> nodes = new ArrayList<>();
        while (seg < segments.size()) {
            Segment s = segments.get(seg);
            line = s.line();
            column = s.column();
            switch (s.kind()) {
                case TEXT -> {
                    nodes.add(new Node.Text(s.text()));
                    seg++;
                }
                case VAR -> {
                    start(s.text());
                    Expr e = expression();
                    finish();
                    nodes.add(new Node.Output(e));
                    seg++;
                }
                case BLOCK -> {
                    start(s.text());
                    String word = peek().kind().equals("name") ? peek().text() : "";
                    if (stops.contains(word)) {
                        return nodes;
                    }
                    seg++;
                    nodes.add(statement(word));
                }
            }
        }
        if (!stops.isEmpty()) {
            throw error("unexpected end of template; expected one of " + stops);
        }
        return nodes;
    }

    /** Consumes the block tag {@code word} that {@link #body} stopped at. */
    private void closeTag(String word) {
        if (seg >= segments.size()) {
            throw error("missing '" + word + "'");
        }
        start(segments.get(seg).text());
        expectName(word);
        finish();
        seg++;
    }

    private String stopWord() {
        start(segments.get(seg).text());
        return next().text();
    }

    private Node statement(String word) {
        next();
        switch (word) {
            case "if" -> {
                List<Expr> tests = new ArrayList<>();
                List<List<Node>> bodies = new ArrayList<>();
                tests.add(expression());
                finish();
                List<Node> otherwise = List.of();
                while (true) {
                    ifBodies++;
                    bodies.add(body(Set.of("elif", "else", "endif")));
                    ifBodies--;
                    String stop = stopWord();
                    if (stop.equals("elif")) {
                        tests.add(expression());
                        finish();
                        seg++;
                    } else if (stop.equals("else")) {
                        finish();
                        seg++;
                        ifBodies++;
                        otherwise = body(Set.of("endif"));
                        ifBodies--;
                        closeTag("endif");
                        break;
                    } else {
                        finish();
                        seg++;
                        break;
                    }
                }
                return new Node.If(tests, bodies, otherwise);
            }
            case "for" -> {
                int forLine = line;
                List<String> targets = new ArrayList<>();
                do {
                    if (peek().text().equals("(")) {
                        next();
                    }
                    targets.add(expectName(null));
                    if (peek().text().equals(")")) {
                        next();
                    }
                } while (accept(","));
                expectName("in");
                Expr iterable = orExpr();
                Expr filter = null;
                boolean recursive = false;
                if (peek().text().equals("if")) {
                    next();
                    filter = orExpr();
                }
                if (peek().text().equals("recursive")) {
                    next();
                    recursive = true;
                }
                finish();
                List<Node> body = body(Set.of("else", "endfor"));
                List<Node> otherwise = List.of();
                if (stopWord().equals("else")) {
                    finish();
                    seg++;
                    otherwise = body(Set.of("endfor"));
                }
                closeTag("endfor");
                return new Node.For(targets, iterable, filter, body, otherwise, recursive, forLine);
            }
            case "set" -> {
                String first = expectName(null);
                if (peek().text().equals(".")) {
                    next();
                    String attr = expectName(null);
                    expectOp("=");
                    Expr value = expression();
                    finish();
                    return new Node.Set(List.of(), new Expr.Name(first), attr, value);
                }
                List<String> names = new ArrayList<>(List.of(first));
                while (accept(",")) {
                    names.add(expectName(null));
                }
                if (accept("=")) {
                    Expr value = expression();
                    finish();
                    return new Node.Set(names, null, null, value);
                }
                List<Expr.Filter> filters = new ArrayList<>();
                while (accept("|")) {
                    filters.add(filterCall(null));
                }
                finish();
                List<Node> body = body(Set.of("endset"));
                closeTag("endset");
                return new Node.SetBlock(first, body, filters);
            }
            case "macro" -> {
                String name = expectName(null);
                List<String> params = new ArrayList<>();
                List<Expr> defaults = new ArrayList<>();
                parameters(params, defaults);
                finish();
                List<Node> body = body(Set.of("endmacro"));
                closeTag("endmacro");
                return new Node.Macro(name, params, defaults, body);
            }
            case "call" -> {
                List<String> params = new ArrayList<>();
                List<Expr> defaults = new ArrayList<>();
                if (peek().text().equals("(")) {
                    parameters(params, defaults);
                }
                Expr call = primaryWithPostfix();
                if (!(call instanceof Expr.Call c)) {
                    throw error("expected a macro call after 'call'");
                }
                finish();
                List<Node> body = body(Set.of("endcall"));
                closeTag("endcall");
                return new Node.CallBlock(c, params, defaults, body);
            }
            case "filter" -> {
                List<Expr.Filter> filters = new ArrayList<>();
                filters.add(filterCall(null));
                while (accept("|")) {
                    filters.add(filterCall(null));
                }
                finish();
                List<Node> body = body(Set.of("endfilter"));
                closeTag("endfilter");
                return new Node.FilterBlock(filters, body);
            }
            case "break" -> {
                finish();
                return new Node.Break();
            }
            case "continue" -> {
                finish();
                return new Node.Continue();
            }
            default -> throw error(word.isEmpty() ? "empty block tag" : "unknown tag '" + word + "'");
        }
    }

    private void parameters(List<String> params, List<Expr> defaults) {
        expectOp("(");
        while (!peek().text().equals(")")) {
            params.add(expectName(null));
            defaults.add(accept("=") ? expression() : null);
            if (!accept(",")) {
                break;
            }
        }
        expectOp(")");
    }

    // ---- expression tokens ----

    private void start(String text) {
        toks = tokenize(text);
        t = 0;
    }

    private void finish() {
        if (!peek().kind().equals("end")) {
            throw error("unexpected '" + peek().text() + "'");
        }
    }

    private Tok peek() {
        return toks.get(t);
    }

    private Tok next() {
        Tok tok = toks.get(t);
        if (t < toks.size() - 1) {
            t++;
        }
        return tok;
    }

    private boolean accept(String op) {
        Tok p = peek();
        if (p.kind().equals("op") && p.text().equals(op)) {
            next();
            return true;
        }
        return false;
    }

    private void expectOp(String op) {
        if (!accept(op)) {
            throw error("expected '" + op + "', found '" + peek().text() + "'");
        }
    }

    private String expectName(String expected) {
        Tok tok = next();
        if (!tok.kind().equals("name") || (expected != null && !tok.text().equals(expected))) {
            throw error("expected " + (expected == null ? "a name" : "'" + expected + "'") + ", found '" + tok.text() + "'");
        }
        return tok.text();
    }

    private static final String[] OPS = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "|", ".", ",", ":", "(", ")",
            "[", "]", "{", "}", "<", ">", "="};

    private List<Tok> tokenize(String s) {
        List<Tok> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (Character.isLetter(c) || c == '_') {
                int j = i;
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
                out.add(new Tok("name", s.substring(i, j), null));
                i = j;
            } else if (Character.isDigit(c)) {
                int j = i;
                boolean isFloat = false;
                while (j < s.length() && (Character.isDigit(s.charAt(j)) || s.charAt(j) == '_'
                        || (s.charAt(j) == '.' && !isFloat && j + 1 < s.length() && Character.isDigit(s.charAt(j + 1))))) {
                    isFloat |= s.charAt(j) == '.';
                    j++;
                }
                if (j < s.length() && (s.charAt(j) == 'e' || s.charAt(j) == 'E')) {
                    int k = j + 1;
                    if (k < s.length() && (s.charAt(k) == '+' || s.charAt(k) == '-')) {
                        k++;
                    }
                    if (k < s.length() && Character.isDigit(s.charAt(k))) {
                        isFloat = true;
                        j = k;
                        while (j < s.length() && Character.isDigit(s.charAt(j))) {
                            j++;
                        }
                    }
                }
                String num = s.substring(i, j).replace("_", "");
                try {
                    out.add(isFloat ? new Tok("float", num, Double.parseDouble(num)) : new Tok("int", num, Long.parseLong(num)));
                } catch (NumberFormatException e) {
                    throw error("number out of range: " + num);
                }
                i = j;
            } else if (c == '\'' || c == '"') {
                StringBuilder b = new StringBuilder();
                int j = i + 1;
                while (true) {
                    if (j >= s.length()) {
                        throw error("unterminated string");
                    }
                    char d = s.charAt(j);
                    if (d == c) {
                        break;
                    }
                    if (d == '\\' && j + 1 < s.length()) {
                        char e = s.charAt(++j);
                        switch (e) {
                            case 'n' -> b.append('\n');
                            case 't' -> b.append('\t');
                            case 'r' -> b.append('\r');
                            case '\\' -> b.append('\\');
                            case '\'' -> b.append('\'');
                            case '"' -> b.append('"');
                            case 'u', 'x' -> {
                                int digits = e == 'u' ? 4 : 2;
                                int code = hex(s, j + 1, digits);
                                if (code < 0) {
                                    int end = j + 1;
                                    while (end < Math.min(s.length(), j + 1 + digits) && s.charAt(end) != c) {
                                        end++;
                                    }
                                    throw errorAt(s, j - 1, "malformed escape '" + s.substring(j - 1, end) + "' in a string");
                                }
                                b.append((char) code);
                                j += digits;
                            }
                            default -> b.append('\\').append(e);
                        }
                    } else {
                        b.append(d);
                    }
                    j++;
                }
                out.add(new Tok("string", s.substring(i, j + 1), b.toString()));
                i = j + 1;
            } else {
                String op = null;
                for (String o : OPS) {
                    if (s.startsWith(o, i)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) {
                    throw error("unexpected character '" + c + "'");
                }
                out.add(new Tok("op", op, null));
                i += op.length();
            }
        }
        out.add(new Tok("end", "end of tag", null));
        return out;
    }

    // ---- expressions (Jinja2's precedence) ----

    private Expr expression() {
        Expr e = orExpr();
        if (peek().text().equals("if") && peek().kind().equals("name")) {
            next();
            Expr test = orExpr();
            Expr otherwise = null;
            if (peek().text().equals("else") && peek().kind().equals("name")) {
                next();
                otherwise = expression();
            }
            return new Expr.Conditional(test, e, otherwise);
        }
        return e;
    }

    private boolean word(String w) {
        Tok p = peek();
        return p.kind().equals("name") && p.text().equals(w);
    }

    private Expr orExpr() {
        Expr left = andExpr();
        while (word("or")) {
            next();
            left = new Expr.Binary("or", left, andExpr());
        }
        return left;
    }

    private Expr andExpr() {
        Expr left = notExpr();
        while (word("and")) {
            next();
            left = new Expr.Binary("and", left, notExpr());
        }
        return left;
    }

    private Expr notExpr() {
        if (word("not")) {
            next();
            return new Expr.Unary("not", notExpr());
        }
        return compare();
    }

    private Expr compare() {
        Expr first = math1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Tok p = peek();
            if (p.kind().equals("op") && Set.of("==", "!=", "<", ">", "<=", ">=").contains(p.text())) {
                next();
                ops.add(p.text());
            } else if (word("in")) {
                next();
                ops.add("in");
            } else if (word("not") && toks.get(t + 1).text().equals("in")) {
                next();
                next();
                ops.add("not in");
            } else {
                break;
            }
            rest.add(math1());
        }
        return ops.isEmpty() ? first : new Expr.Compare(first, ops, rest);
    }

    private Expr math1() {
        Expr left = concat();
        while (peek().kind().equals("op") && (peek().text().equals("+") || peek().text().equals("-"))) {
            String op = next().text();
            left = new Expr.Binary(op, left, concat());
        }
        return left;
    }

    private Expr concat() {
        Expr left = math2();
        while (accept("~")) {
            left = new Expr.Binary("~", left, math2());
        }
        return left;
    }

    private Expr math2() {
        Expr left = pow();
        while (peek().kind().equals("op") && Set.of("*", "/", "//", "%").contains(peek().text())) {
            String op = next().text();
            left = new Expr.Binary(op, left, pow());
        }
        return left;
    }

    private Expr pow() {
        Expr left = unary(true);
        while (accept("**")) {
            left = new Expr.Binary("**", left, unary(true));
        }
        return left;
    }

    private Expr unary(boolean withFilter) {
        Expr e;
        if (accept("-")) {
            e = new Expr.Unary("-", unary(false));
        } else if (accept("+")) {
            e = unary(false);
        } else {
            e = primaryWithPostfix();
        }
        return withFilter ? filters(e) : e;
    }

    private Expr filters(Expr e) {
        while (true) {
            if (accept("|")) {
                e = filterCall(e);
            } else if (word("is")) {
                next();
                boolean negated = false;
                if (word("not")) {
                    next();
                    negated = true;
                }
                Tok nameTok = next();
                String name = nameTok.text();
                if (!Builtins.TESTS.contains(name) && ifBodies == 0) {
                    throw error("no test named '" + name + "'");
                }
                List<Expr> args = new ArrayList<>();
                if (peek().text().equals("(") && peek().kind().equals("op")) {
                    Expr.Call c = callArgs(null);
                    args.addAll(c.args());
                } else if (startsPrimary(peek()) && !word("and") && !word("or") && !word("else") && !word("if") && !word("in") && !word("is")) {
                    args.add(primaryWithPostfix());
                }
                e = new Expr.Test(e, name, args, negated);
            } else {
                return e;
            }
        }
    }

    private static boolean startsPrimary(Tok tok) {
        return switch (tok.kind()) {
            case "name", "string", "int", "float" -> true;
            case "op" -> tok.text().equals("(") || tok.text().equals("[") || tok.text().equals("{");
            default -> false;
        };
    }

    private Expr.Filter filterCall(Expr target) {
        StringBuilder name = new StringBuilder(expectName(null));
        while (peek().text().equals(".") && toks.get(t + 1).kind().equals("name")) {
            next();
            name.append('.').append(next().text());
        }
        if (!Builtins.FILTERS.contains(name.toString()) && ifBodies == 0) {
            throw error("no filter named '" + name + "'");
        }
        if (peek().text().equals("(") && peek().kind().equals("op")) {
            Expr.Call c = callArgs(null);
            return new Expr.Filter(target, name.toString(), c.args(), c.names(), c.kwargs());
        }
        return new Expr.Filter(target, name.toString(), List.of(), List.of(), List.of());
    }

    private Expr.Call callArgs(Expr target) {
        expectOp("(");
        List<Expr> args = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Expr> kwargs = new ArrayList<>();
        while (!peek().text().equals(")") || !peek().kind().equals("op")) {
            if (peek().kind().equals("name") && toks.get(t + 1).text().equals("=") && toks.get(t + 1).kind().equals("op")) {
                names.add(next().text());
                next();
                kwargs.add(expression());
            } else {
                if (!names.isEmpty()) {
                    throw error("positional argument after keyword argument");
                }
                args.add(expression());
            }
            if (!accept(",")) {
                break;
            }
        }
        expectOp(")");
        return new Expr.Call(target, args, names, kwargs);
    }

    private Expr primaryWithPostfix() {
        Expr e = primary();
        while (true) {
            if (peek().kind().equals("op") && peek().text().equals(".")) {
                next();
                Tok name = next();
                if (name.kind().equals("int")) {
                    e = new Expr.Item(e, new Expr.Literal(name.value()));
                } else if (name.kind().equals("name")) {
                    e = new Expr.Attr(e, name.text());
                } else {
                    throw error("expected an attribute name after '.'");
                }
            } else if (peek().kind().equals("op") && peek().text().equals("[")) {
                next();
                Expr start = null, stop = null, step = null;
                boolean slice = false;
                if (!peek().text().equals(":")) {
                    start = expression();
                }
                if (accept(":")) {
                    slice = true;
                    if (!peek().text().equals("]") && !peek().text().equals(":")) {
                        stop = expression();
                    }
                    if (accept(":") && !peek().text().equals("]")) {
                        step = expression();
                    }
                }
                expectOp("]");
                e = slice ? new Expr.Slice(e, start, stop, step) : new Expr.Item(e, start);
            } else if (peek().kind().equals("op") && peek().text().equals("(")) {
                e = callArgs(e);
            } else {
                return e;
            }
        }
    }

    private Expr primary() {
        Tok tok = next();
        switch (tok.kind()) {
            case "string" -> {
                StringBuilder b = new StringBuilder((String) tok.value());
                while (peek().kind().equals("string")) {
                    b.append((String) next().value());
                }
                return new Expr.Literal(b.toString());
            }
            case "int", "float" -> {
                return new Expr.Literal(tok.value());
            }
            case "name" -> {
                return switch (tok.text()) {
                    case "true", "True" -> new Expr.Literal(Boolean.TRUE);
                    case "false", "False" -> new Expr.Literal(Boolean.FALSE);
                    case "none", "None" -> new Expr.Literal(null);
                    default -> new Expr.Name(tok.text());
                };
            }
            case "op" -> {
                switch (tok.text()) {
                    case "(" -> {
                        if (accept(")")) {
                            return new Expr.ListLit(List.of());
                        }
                        Expr e = expression();
                        if (peek().text().equals(",")) {
                            List<Expr> items = new ArrayList<>(List.of(e));
                            while (accept(",") && !peek().text().equals(")")) {
                                items.add(expression());
                            }
                            expectOp(")");
                            return new Expr.ListLit(items);
                        }
                        expectOp(")");
                        return e;
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        while (!peek().text().equals("]")) {
                            items.add(expression());
                            if (!accept(",")) {
                                break;
                            }
                        }
                        expectOp("]");
                        return new Expr.ListLit(items);
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>();
                        List<Expr> values = new ArrayList<>();
                        while (!peek().text().equals("}")) {
                            keys.add(expression());
                            expectOp(":");
                            values.add(expression());
                            if (!accept(",")) {
                                break;
                            }
                        }
                        expectOp("}");
                        return new Expr.DictLit(keys, values);
                    }
                    default -> {
                    }
                }
            }
            default -> {
            }
        }
        throw error("unexpected '" + tok.text() + "'");
    }
}
