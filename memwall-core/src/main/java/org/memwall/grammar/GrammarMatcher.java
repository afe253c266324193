package org.memwall.grammar;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs a {@link Grammar} over bytes as a pushdown automaton whose configurations are interned:
 * a stack is a chain of nodes (a grammar position and the node to return to), a {@link State} is the
 * sorted set of stacks whose top is a byte set, plus whether the input so far is a complete match.
 * Each state's transitions are computed once per byte and remembered, so after the first steps a
 * byte costs one array load; this is what makes masking a whole vocabulary cheap.
 *
 * <p>Not thread-safe: callers that share one hold its lock ({@link MaskCache} shares them between requests).
 */
public final class GrammarMatcher {
    /** Nodes and states beyond this mean a runaway grammar (e.g. unbounded nesting); refuse to grow. */
    private static final int MAX_NODES = 4_000_000;

    /** A set of parse stacks. {@link #DEAD} (no stacks, not accepting) is where every mismatch goes. */
    public static final class State {
        final int[] stacks;
        final boolean accepting;
        final State[] next = new State[256];
        int cost = -1;

        State(int[] stacks, boolean accepting) {
            this.stacks = stacks;
            this.accepting = accepting;
        }

        /** Whether the bytes so far form a complete match. */
        public boolean accepting() {
            return accepting;
        }

        public boolean dead() {
            return stacks.length == 0 && !accepting;
        }
    }

    private final Grammar g;
    private int[] nodePos = new int[1024];
    private int[] nodeParent = new int[1024];
    private int[] nodeCost = new int[1024];
    private int nodes;
    private final Map<Long, Integer> nodeIds = new HashMap<>();
    private final Map<Key, State> states = new HashMap<>();
    final State dead = new State(new int[0], false);
    private final State start;
    // Scratch for building one state.
    private int[] scratch = new int[64];
    private int scratchSize;
    private boolean scratchAccepts;

    public GrammarMatcher(Grammar grammar) {
        this.g = grammar;
        begin();
        for (int a : g.alternatives[g.root]) {
            expand(a, -1, 0);
        }
        start = intern();
    }

    public State start() {
        return start;
    }

    /** The state after byte {@code b} (0..255), or {@link #dead()}. */
    public State next(State s, int b) {
        State n = s.next[b];
        if (n == null) {
            n = step(s, b);
            s.next[b] = n;
        }
        return n;
    }

    /** The state after all of {@code bytes}. */
    public State next(State s, byte[] bytes) {
        for (byte b : bytes) {
            s = next(s, b & 0xFF);
            if (s == dead) {
                return dead;
            }
        }
        return s;
    }

    public State dead() {
        return dead;
    }

    /** Parse-stack nodes made so far (what the matcher's memory grows with). */
    int nodeCount() {
        return nodes;
    }

    /** Whether {@code text} (UTF-8) is a complete match. */
    public boolean matches(byte[] text) {
        return next(start, text).accepting;
    }

    /**
     * The fewest bytes that complete a match from {@code s} (0 when it is complete already), from
     * the grammar's per-position minimum lengths summed down each stack.
     */
    public int cost(State s) {
        if (s.cost < 0) {
            int best = s.accepting ? 0 : Integer.MAX_VALUE;
            for (int node : s.stacks) {
                best = Math.min(best, nodeCost(node));
            }
            s.cost = best;
        }
        return s.cost;
    }

    private int nodeCost(int node) {
        if (nodeCost[node] < 0) {
            int parent = nodeParent[node];
            long c = (long) g.minSuffix[nodePos[node]] + (parent < 0 ? 0 : nodeCost(parent));
            nodeCost[node] = (int) Math.min(Integer.MAX_VALUE / 2, c);
        }
        return nodeCost[node];
    }

    private State step(State s, int b) {
        begin();
        for (int node : s.stacks) {
            int pos = nodePos[node];
            if (g.matches(pos, b)) {
                expand(pos + 1, nodeParent[node], 0);
            }
        }
        return intern();
    }

    /**
     * Adds to the scratch state every stack reachable from position {@code pos} with return node
     * {@code parent} without consuming a byte: rule references push, alternative ends pop.
     */
    private void expand(int pos, int parent, int depth) {
        if (depth > 10_000) {
            throw new GrammarException("the grammar nests too deeply");
        }
        switch (g.kind[pos]) {
            case Grammar.END -> {
                if (parent < 0) {
                    scratchAccepts = true;
                } else {
                    expand(nodePos[parent], nodeParent[parent], depth + 1);
                }
            }
            case Grammar.REF -> {
                // A reference that ends its alternative returns straight to our parent (a tail call),
                // so repetitions do not grow the stack.
                int cont = g.kind[pos + 1] == Grammar.END ? parent : node(pos + 1, parent);
                for (int a : g.alternatives[g.arg[pos]]) {
                    expand(a, cont, depth + 1);
                }
            }
            default -> {
                if (scratchSize == scratch.length) {
                    scratch = Arrays.copyOf(scratch, scratchSize * 2);
                }
                scratch[scratchSize++] = node(pos, parent);
            }
        }
    }

    private int node(int pos, int parent) {
        long key = (long) pos << 32 | (parent & 0xFFFFFFFFL);
        Integer id = nodeIds.get(key);
        if (id != null) {
            return id;
        }
        if (nodes == MAX_NODES) {
            throw new GrammarException("the grammar's parse stacks grew beyond " + MAX_NODES + " nodes");
        }
        if (nodes == nodePos.length) {
            nodePos = Arrays.copyOf(nodePos, nodes * 2);
            nodeParent = Arrays.copyOf(nodeParent, nodes * 2);
            nodeCost = Arrays.copyOf(nodeCost, nodes * 2);
        }
        nodePos[nodes] = pos;
        nodeParent[nodes] = parent;
        nodeCost[nodes] = -1;
        nodeIds.put(key, nodes);
        return nodes++;
    }

    private void begin() {
        scratchSize = 0;
        scratchAccepts = false;
    }

    private State intern() {
        int[] stacks = Arrays.copyOf(scratch, scratchSize);
        Arrays.sort(stacks);
        int n = 0;
        for (int i = 0; i < stacks.length; i++) {
            if (i == 0 || stacks[i] != stacks[i - 1]) {
                stacks[n++] = stacks[i];
            }
        }
        if (n == 0 && !scratchAccepts) {
            return dead;
        }
        Key key = new Key(n == stacks.length ? stacks : Arrays.copyOf(stacks, n), scratchAccepts);
        return states.computeIfAbsent(key, k -> new State(k.stacks, k.accepting));
    }

    private record Key(int[] stacks, boolean accepting) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.accepting == accepting && Arrays.equals(k.stacks, stacks);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(stacks) * 2 + (accepting ? 1 : 0);
        }
    }
}
