package org.memwall.chat;

import java.util.List;

/** The template syntax tree: statements render output, expressions compute values. */
sealed interface Node {
    /** Literal template text. */
    record Text(String text) implements Node {
    }

    /** {@code {{ expr }}}. */
    record Output(Expr expr) implements Node {
    }

    /** {@code if / elif / else}: tests and bodies pairwise; {@code otherwise} may be empty. */
    record If(List<Expr> tests, List<List<Node>> bodies, List<Node> otherwise) implements Node {
    }

    /** {@code for targets in iterable [if filter] [recursive]}, with an {@code else} body for no iterations. */
    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> otherwise, boolean recursive, int line) implements Node {
    }

    /** {@code set target = value}; target is names (unpacking) or {@code ns.attr}. */
    record Set(List<String> names, Expr namespace, String attribute, Expr value) implements Node {
    }

    /** {@code set name %}...{% endset}, optionally filtered. */
    record SetBlock(String name, List<Node> body, List<Expr.Filter> filters) implements Node {
    }

    record Macro(String name, List<String> params, List<Expr> defaults, List<Node> body) implements Node {
    }

    /** {@code call(params) macro(...)}: the body becomes {@code caller()} inside the macro. */
    record CallBlock(Expr.Call call, List<String> params, List<Expr> defaults, List<Node> body) implements Node {
    }

    /** {@code filter f | g %}...{% endfilter}: the body's output through filters (applied to a placeholder). */
    record FilterBlock(List<Expr.Filter> filters, List<Node> body) implements Node {
    }

    record Break() implements Node {
    }

    record Continue() implements Node {
    }

    /** Expressions. */
    sealed interface Expr {
        record Literal(Object value) implements Expr {
        }

        record Name(String name) implements Expr {
        }

        record ListLit(List<Expr> items) implements Expr {
        }

        record DictLit(List<Expr> keys, List<Expr> values) implements Expr {
        }

        record Attr(Expr target, String name) implements Expr {
        }

        record Item(Expr target, Expr key) implements Expr {
        }

        record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr {
        }

        record Call(Expr target, List<Expr> args, List<String> names, List<Expr> kwargs) implements Expr {
        }

        /** {@code target | name(args)}; target null inside a filter block until applied. */
        record Filter(Expr target, String name, List<Expr> args, List<String> names, List<Expr> kwargs) implements Expr {
        }

        record Test(Expr target, String name, List<Expr> args, boolean negated) implements Expr {
        }

        record Unary(String op, Expr operand) implements Expr {
        }

        record Binary(String op, Expr left, Expr right) implements Expr {
        }

        record Compare(Expr first, List<String> ops, List<Expr> rest) implements Expr {
        }

        record Conditional(Expr test, Expr then, Expr otherwise) implements Expr {
        }
    }
}
