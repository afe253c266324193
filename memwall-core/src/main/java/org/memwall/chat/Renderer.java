package org.memwall.chat;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.memwall.chat.Node.Expr;

/**
 * Walks the syntax tree. The only objects a template can reach are the value model's; there is no
 * reflection and no access to Java objects. Budgets bound output size, loop iterations, call depth
 * and time, so a hostile template fails quickly with a clear message.
 */
final class Renderer {
    /** Budgets for one render. */
    record Limits(int maxOutputChars, long maxIterations, int maxDepth, long maxNanos) {
        static final Limits DEFAULT = new Limits(4 << 20, 1_000_000, 200, 2_000_000_000L);
    }

    private enum Flow { NORMAL, BREAK, CONTINUE }

    /** A variable scope; lookups walk outward. */
    static final class Scope {
        final Map<String, Object> vars = new HashMap<>();
        final Scope parent;

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.vars.containsKey(name)) {
                    return s.vars.get(name);
                }
            }
            return new Undefined(name);
        }
    }

    private record MacroValue(Node.Macro def, Scope closure, Renderer renderer, Node.CallBlock callBlock, Scope callerScope)
            implements JinjaCallable {
        @Override
        public Object call(List<Object> args, Map<String, Object> kwargs) {
            return renderer.callMacro(this, args, kwargs);
        }
    }

    private final Limits limits;
    private final long deadline;
    private final Clock clock;
    private long iterations;
    private int depth;
    private int outputChars;

    Renderer(Limits limits, Clock clock) {
        this.limits = limits;
        this.clock = clock;
        this.deadline = System.nanoTime() + limits.maxNanos();
    }

    String render(List<Node> nodes, Map<String, Object> variables) {
        Scope globals = new Scope(null);
        Builtins.addGlobals(globals.vars, clock);
        Scope root = new Scope(globals);
        root.vars.putAll(variables);
        StringBuilder out = new StringBuilder();
        exec(nodes, root, out);
        return out.toString();
    }

    private void append(StringBuilder out, String s) {
        outputChars += s.length();
        if (outputChars > limits.maxOutputChars() || out.length() + s.length() > limits.maxOutputChars()) {
            throw new TemplateException("template output exceeds the limit of " + limits.maxOutputChars() + " characters");
        }
        out.append(s);
    }

    void tick() {
        if (++iterations > limits.maxIterations()) {
            throw new TemplateException("template exceeded the limit of " + limits.maxIterations() + " loop iterations");
        }
        if ((iterations & 1023) == 0 && System.nanoTime() > deadline) {
            throw new TemplateException("template exceeded the time limit of " + limits.maxNanos() / 1_000_000 + " ms");
        }
    }

    long remainingIterations() {
        return limits.maxIterations() - iterations;
    }

    int maxOutput() {
        return limits.maxOutputChars();
    }

    private Flow exec(List<Node> nodes, Scope scope, StringBuilder out) {
        for (Node n : nodes) {
            Flow f = exec(n, scope, out);
            if (f != Flow.NORMAL) {
                return f;
            }
        }
        return Flow.NORMAL;
    }

    private Flow exec(Node node, Scope scope, StringBuilder out) {
        switch (node) {
            case Node.Text t -> append(out, t.text());
            case Node.Output o -> {
                Object v = eval(o.expr(), scope);
                append(out, Values.str(v));
            }
            case Node.If f -> {
                for (int i = 0; i < f.tests().size(); i++) {
                    if (Values.truthy(eval(f.tests().get(i), scope))) {
                        return exec(f.bodies().get(i), scope, out);
                    }
                }
                return exec(f.otherwise(), scope, out);
            }
            case Node.For f -> {
                return loop(f, eval(f.iterable(), scope), scope, out, 0);
            }
            case Node.Set s -> {
                Object value = eval(s.value(), scope);
                if (s.namespace() != null) {
                    Object ns = eval(s.namespace(), scope);
                    if (!(ns instanceof Namespace namespace)) {
                        throw new TemplateException("TemplateRuntimeError: cannot assign attribute on non-namespace object");
                    }
                    namespace.values().put(s.attribute(), value);
                } else {
                    assign(scope, s.names(), value);
                }
            }
            case Node.SetBlock s -> {
                StringBuilder captured = new StringBuilder();
                exec(s.body(), new Scope(scope), captured);
                Object v = captured.toString();
                for (Expr.Filter f : s.filters()) {
                    v = Builtins.filter(this, f.name(), v, evalAll(f.args(), scope), evalKwargs(f.names(), f.kwargs(), scope));
                }
                scope.vars.put(s.name(), v);
            }
            case Node.Macro m -> scope.vars.put(m.name(), new MacroValue(m, scope, this, null, null));
            case Node.CallBlock c -> {
                Object target = eval(c.call().target(), scope);
                if (!(target instanceof MacroValue macro)) {
                    throw new TemplateException("TypeError: 'call' block needs a macro");
                }
                MacroValue withCaller = new MacroValue(macro.def(), macro.closure(), this, c, scope);
                append(out, Values.str(withCaller.call(evalAll(c.call().args(), scope), evalKwargs(c.call().names(), c.call().kwargs(), scope))));
            }
            case Node.FilterBlock fb -> {
                StringBuilder captured = new StringBuilder();
                exec(fb.body(), new Scope(scope), captured);
                Object v = captured.toString();
                for (Expr.Filter f : fb.filters()) {
                    v = Builtins.filter(this, f.name(), v, evalAll(f.args(), scope), evalKwargs(f.names(), f.kwargs(), scope));
                }
                append(out, Values.str(v));
            }
            case Node.Break b -> {
                return Flow.BREAK;
            }
            case Node.Continue c -> {
                return Flow.CONTINUE;
            }
        }
        return Flow.NORMAL;
    }

    private void assign(Scope scope, List<String> names, Object value) {
        if (names.size() == 1) {
            scope.vars.put(names.get(0), value);
            return;
        }
        List<Object> items = Values.iterate(value);
        if (items.size() != names.size()) {
            throw new TemplateException("ValueError: cannot unpack " + items.size() + " values into " + names.size() + " names");
        }
        for (int i = 0; i < names.size(); i++) {
            scope.vars.put(names.get(i), items.get(i));
        }
    }

    private Flow loop(Node.For f, Object iterable, Scope scope, StringBuilder out, int depth0) {
        List<Object> all = iterable instanceof Builtins.Range r ? r.materialize(this) : Values.iterate(iterable);
        Scope loopScope = new Scope(scope);
        List<Object> items = all;
        if (f.filter() != null) {
            items = new ArrayList<>();
            for (Object item : all) {
                tick();
                assign(loopScope, f.targets(), item);
                if (Values.truthy(eval(f.filter(), loopScope))) {
                    items.add(item);
                }
            }
        }
        if (items.isEmpty()) {
            return exec(f.otherwise(), scope, out);
        }
        Map<String, Object> loop = new LinkedHashMap<>();
        loopScope.vars.put("loop", new LoopVar(loop));
        for (int i = 0; i < items.size(); i++) {
            tick();
            Object item = items.get(i);
            assign(loopScope, f.targets(), item);
            int n = items.size();
            loop.put("index0", (long) i);
            loop.put("index", (long) i + 1);
            loop.put("revindex0", (long) (n - i - 1));
            loop.put("revindex", (long) (n - i));
            loop.put("first", i == 0);
            loop.put("last", i == n - 1);
            loop.put("length", (long) n);
            loop.put("depth0", (long) depth0);
            loop.put("depth", (long) depth0 + 1);
            loop.put("previtem", i > 0 ? items.get(i - 1) : new Undefined("loop.previtem"));
            loop.put("nextitem", i + 1 < n ? items.get(i + 1) : new Undefined("loop.nextitem"));
            final int index = i;
            loop.put("cycle", (JinjaCallable) (args, kw) -> args.isEmpty() ? new Undefined("cycle") : args.get(index % args.size()));
            if (f.recursive()) {
                loop.put("__call__", (JinjaCallable) (args, kw) -> {
                    StringBuilder nested = new StringBuilder();
                    loop(f, args.isEmpty() ? List.of() : args.get(0), scope, nested, depth0 + 1);
                    return nested.toString();
                });
            }
            Flow flow = exec(f.body(), loopScope, out);
            if (flow == Flow.BREAK) {
                break;
            }
        }
        return Flow.NORMAL;
    }

    /** The {@code loop} variable: attributes, and callable in recursive loops. */
    record LoopVar(Map<String, Object> attrs) implements JinjaCallable {
        @Override
        public Object call(List<Object> args, Map<String, Object> kwargs) {
            Object f = attrs.get("__call__");
            if (f instanceof JinjaCallable c) {
                return c.call(args, kwargs);
            }
            throw new TemplateException("TypeError: the loop is not recursive");
        }
    }

    private Object callMacro(MacroValue m, List<Object> args, Map<String, Object> kwargs) {
        if (++depth > limits.maxDepth()) {
            throw new TemplateException("template exceeded the call depth limit of " + limits.maxDepth());
        }
        try {
            Node.Macro def = m.def();
            Scope local = new Scope(m.closure());
            List<Object> varargs = new ArrayList<>();
            Map<String, Object> extra = new LinkedHashMap<>(kwargs);
            for (int i = 0; i < def.params().size(); i++) {
                String p = def.params().get(i);
                if (i < args.size()) {
                    local.vars.put(p, args.get(i));
                } else if (extra.containsKey(p)) {
                    local.vars.put(p, extra.remove(p));
                } else if (def.defaults().get(i) != null) {
                    local.vars.put(p, eval(def.defaults().get(i), local));
                } else {
                    local.vars.put(p, new Undefined(p));
                }
            }
            for (int i = def.params().size(); i < args.size(); i++) {
                varargs.add(args.get(i));
            }
            local.vars.put("varargs", varargs);
            local.vars.put("kwargs", extra);
            if (m.callBlock() != null) {
                Node.CallBlock cb = m.callBlock();
                Scope callerScope = m.callerScope();
                local.vars.put("caller", (JinjaCallable) (cargs, ckw) -> {
                    Scope cs = new Scope(callerScope);
                    for (int i = 0; i < cb.params().size(); i++) {
                        String p = cb.params().get(i);
                        cs.vars.put(p, i < cargs.size() ? cargs.get(i)
                                : ckw.containsKey(p) ? ckw.get(p)
                                : cb.defaults().get(i) != null ? eval(cb.defaults().get(i), cs) : new Undefined(p));
                    }
                    StringBuilder body = new StringBuilder();
                    exec(cb.body(), cs, body);
                    return body.toString();
                });
            }
            StringBuilder out = new StringBuilder();
            exec(def.body(), local, out);
            return out.toString();
        } finally {
            depth--;
        }
    }

    List<Object> evalAll(List<Expr> exprs, Scope scope) {
        List<Object> out = new ArrayList<>(exprs.size());
        for (Expr e : exprs) {
            out.add(eval(e, scope));
        }
        return out;
    }

    Map<String, Object> evalKwargs(List<String> names, List<Expr> values, Scope scope) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            out.put(names.get(i), eval(values.get(i), scope));
        }
        return out;
    }

    Object eval(Expr e, Scope scope) {
        return switch (e) {
            case Expr.Literal l -> l.value();
            case Expr.Name n -> scope.lookup(n.name());
            case Expr.ListLit l -> new ArrayList<>(evalAll(l.items(), scope));
            case Expr.DictLit d -> {
                Map<Object, Object> m = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    m.put(eval(d.keys().get(i), scope), eval(d.values().get(i), scope));
                }
                yield m;
            }
            case Expr.Attr a -> Builtins.attribute(eval(a.target(), scope), a.name());
            case Expr.Item i -> Builtins.item(eval(i.target(), scope), eval(i.key(), scope));
            case Expr.Slice s -> Builtins.slice(eval(s.target(), scope), s.start() == null ? null : eval(s.start(), scope),
                    s.stop() == null ? null : eval(s.stop(), scope), s.step() == null ? null : eval(s.step(), scope));
            case Expr.Call c -> {
                Object target = eval(c.target(), scope);
                List<Object> args = evalAll(c.args(), scope);
                Map<String, Object> kwargs = evalKwargs(c.names(), c.kwargs(), scope);
                if (target instanceof JinjaCallable f) {
                    yield f.call(args, kwargs);
                }
                if (target instanceof Undefined u) {
                    throw u.error();
                }
                throw new TemplateException("TypeError: '" + Values.typeName(target) + "' object is not callable");
            }
            case Expr.Filter f -> Builtins.filter(this, f.name(), eval(f.target(), scope), evalAll(f.args(), scope),
                    evalKwargs(f.names(), f.kwargs(), scope));
            case Expr.Test t -> {
                boolean r = Builtins.test(this, t.name(), eval(t.target(), scope), evalAll(t.args(), scope));
                yield t.negated() != r;
            }
            case Expr.Unary u -> switch (u.op()) {
                case "not" -> !Values.truthy(eval(u.operand(), scope));
                default -> Builtins.negate(eval(u.operand(), scope));
            };
            case Expr.Binary b -> switch (b.op()) {
                case "and" -> {
                    Object l = eval(b.left(), scope);
                    yield Values.truthy(l) ? eval(b.right(), scope) : l;
                }
                case "or" -> {
                    Object l = eval(b.left(), scope);
                    yield Values.truthy(l) ? l : eval(b.right(), scope);
                }
                default -> Builtins.binary(this, b.op(), eval(b.left(), scope), eval(b.right(), scope));
            };
            case Expr.Compare c -> {
                Object left = eval(c.first(), scope);
                boolean result = true;
                for (int i = 0; i < c.ops().size() && result; i++) {
                    Object right = eval(c.rest().get(i), scope);
                    result = Builtins.compare(c.ops().get(i), left, right);
                    left = right;
                }
                yield result;
            }
            case Expr.Conditional c -> Values.truthy(eval(c.test(), scope)) ? eval(c.then(), scope)
                    : c.otherwise() == null ? new Undefined("inline if") : eval(c.otherwise(), scope);
        };
    }
}
