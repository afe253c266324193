package org.memwall.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A context-free grammar over bytes, compiled for matching: every rule's alternatives are laid out
 * one after another in flat arrays, each alternative a run of elements ended by {@link #END}. An
 * element is a set of bytes ({@link #BYTES}) or a reference to a rule ({@link #REF}). Text grammars
 * (GBNF), JSON schemas and patterns all compile to this; {@link GrammarMatcher} runs it.
 *
 * <p>A special token (harmony's {@code <|channel|>}, ...) is a terminal of its own: the two bytes
 * {@link #SPECIAL_LEAD}, k, where k indexes {@link #specialTokens()}. UTF-8 text never holds byte
 * 0xFF, so no run of ordinary tokens can spell it; {@link TokenTrie} gives the token those bytes.
 *
 * <p>Two grammars are equal when they compile to the same arrays (and name the same special tokens):
 * they then accept exactly the same bytes, which is what lets masks be shared between requests.
 *
 * <p>Left recursion and rules that can never end are rejected when the grammar is built.
 */
public final class Grammar {
    static final int BYTES = 0, REF = 1, END = 2;
    /** The first byte of a special-token terminal; never part of UTF-8 text. */
    static final int SPECIAL_LEAD = 0xFF;
    /** At most this many distinct special tokens per grammar (k is one byte). */
    static final int MAX_SPECIALS = 255;
    private static final int INFINITE = Integer.MAX_VALUE / 4;

    final int[] kind;
    /** For {@link #BYTES}: the set's index into {@link #sets}; for {@link #REF}: the rule. */
    final int[] arg;
    /** Byte sets, four longs (256 bits) each. */
    final long[] sets;
    /** Per rule: the positions where its alternatives start. */
    final int[][] alternatives;
    final String[] names;
    final int root;
    /** The fewest bytes that complete the alternative from each position. */
    final int[] minSuffix;
    private final List<String> specialTokens;
    private final int hash;

    private Grammar(int[] kind, int[] arg, long[] sets, int[][] alternatives, String[] names, int root, int[] minSuffix,
                    List<String> specialTokens) {
        this.kind = kind;
        this.arg = arg;
        this.sets = sets;
        this.alternatives = alternatives;
        this.names = names;
        this.root = root;
        this.minSuffix = minSuffix;
        this.specialTokens = List.copyOf(specialTokens);
        this.hash = ((Arrays.hashCode(kind) * 31 + Arrays.hashCode(arg)) * 31 + Arrays.hashCode(sets)) * 31
                + Arrays.deepHashCode(alternatives) + root * 17 + this.specialTokens.hashCode();
    }

    /** Parses llama.cpp's GBNF; the start rule is {@code root}. */
    public static Grammar parse(String gbnf) {
        return GbnfParser.parse(gbnf);
    }

    /** The grammar of JSON documents valid against a JSON schema (parsed into maps, lists and scalars). */
    public static Grammar fromJsonSchema(Object schema) {
        return parse(JsonSchemaGrammar.toGbnf(schema));
    }

    /** Any JSON object, as OpenAI's {@code json_object} mode and Ollama's {@code "format": "json"} ask. */
    public static Grammar jsonObject() {
        return parse(JsonSchemaGrammar.JSON_OBJECT);
    }

    boolean matches(int pos, int b) {
        return (sets[arg[pos] * 4 + (b >>> 6)] >>> (b & 63) & 1L) != 0;
    }

    public int ruleCount() {
        return names.length;
    }

    /** The special tokens the grammar names, in the order of their index k (see the class comment). */
    public List<String> specialTokens() {
        return specialTokens;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Grammar g && g.hash == hash && g.root == root && Arrays.equals(g.kind, kind) && Arrays.equals(g.arg, arg)
                && Arrays.equals(g.sets, sets) && Arrays.deepEquals(g.alternatives, alternatives) && g.specialTokens.equals(specialTokens);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    /** One element of an alternative while a grammar is being built. */
    record Element(int kind, long[] set, int rule) {
        static Element bytes(long[] set) {
            return new Element(BYTES, set, -1);
        }

        static Element ref(int rule) {
            return new Element(REF, null, rule);
        }
    }

    /** Collects rules by name, then lays them out and checks them. */
    static final class Builder {
        private final List<String> names = new ArrayList<>();
        private final Map<String, Integer> ids = new HashMap<>();
        private final List<List<List<Element>>> rules = new ArrayList<>();
        private final List<String> specials = new ArrayList<>();
        private int generated;

        /** The two elements that match special token {@code text} (and nothing else). */
        List<Element> special(String text) {
            int k = specials.indexOf(text);
            if (k < 0) {
                if (specials.size() == MAX_SPECIALS) {
                    throw new GrammarException("a grammar may name at most " + MAX_SPECIALS + " special tokens");
                }
                k = specials.size();
                specials.add(text);
            }
            return List.of(Element.bytes(GbnfParser.set(SPECIAL_LEAD, SPECIAL_LEAD)), Element.bytes(GbnfParser.set(k, k)));
        }

        int rule(String name) {
            Integer id = ids.get(name);
            if (id == null) {
                id = names.size();
                ids.put(name, id);
                names.add(name);
                rules.add(null);
            }
            return id;
        }

        /** A new rule for a group or repetition inside {@code base}. */
        int fresh(String base) {
            String name;
            do {
                name = base + "-" + (++generated);
            } while (ids.containsKey(name));
            return rule(name);
        }

        boolean defined(int rule) {
            return rules.get(rule) != null;
        }

        void define(int rule, List<List<Element>> alternatives) {
            rules.set(rule, alternatives);
        }

        Grammar build(String rootName) {
            Integer root = ids.get(rootName);
            if (root == null || rules.get(root) == null) {
                throw new GrammarException("the grammar has no '" + rootName + "' rule");
            }
            int n = names.size();
            for (int r = 0; r < n; r++) {
                if (rules.get(r) == null) {
                    throw new GrammarException("rule '" + names.get(r) + "' is used but not defined");
                }
            }
            int[] minRule = minimumLengths(n);
            checkLeftRecursion(n, minRule);
            int size = 0;
            for (List<List<Element>> alts : rules) {
                for (List<Element> alt : alts) {
                    size += alt.size() + 1;
                }
            }
            int[] kind = new int[size];
            int[] arg = new int[size];
            int[] minSuffix = new int[size];
            int[][] starts = new int[n][];
            Map<String, Integer> setIds = new LinkedHashMap<>();
            List<long[]> sets = new ArrayList<>();
            int pos = 0;
            for (int r = 0; r < n; r++) {
                List<List<Element>> alts = rules.get(r);
                starts[r] = new int[alts.size()];
                for (int a = 0; a < alts.size(); a++) {
                    starts[r][a] = pos;
                    for (Element e : alts.get(a)) {
                        kind[pos] = e.kind();
                        if (e.kind() == BYTES) {
                            arg[pos] = setIds.computeIfAbsent(Arrays.toString(e.set()), k -> {
                                sets.add(e.set());
                                return sets.size() - 1;
                            });
                        } else {
                            arg[pos] = e.rule();
                        }
                        pos++;
                    }
                    kind[pos++] = END;
                }
            }
            // Suffix lengths, back to front within each alternative.
            for (int p = size - 1; p >= 0; p--) {
                minSuffix[p] = switch (kind[p]) {
                    case END -> 0;
                    case BYTES -> minSuffix[p + 1] + 1;
                    default -> Math.min(INFINITE, minSuffix[p + 1] + minRule[arg[p]]);
                };
            }
            long[] flat = new long[sets.size() * 4];
            for (int i = 0; i < sets.size(); i++) {
                System.arraycopy(sets.get(i), 0, flat, i * 4, 4);
            }
            return new Grammar(kind, arg, flat, starts, names.toArray(String[]::new), root, minSuffix, specials);
        }

        /** The fewest bytes each rule can produce; a rule that can never end is an error. */
        private int[] minimumLengths(int n) {
            int[] min = new int[n];
            Arrays.fill(min, INFINITE);
            boolean changed = true;
            while (changed) {
                changed = false;
                for (int r = 0; r < n; r++) {
                    for (List<Element> alt : rules.get(r)) {
                        long sum = 0;
                        for (Element e : alt) {
                            sum += e.kind() == BYTES ? 1 : min[e.rule()];
                        }
                        if (sum < min[r]) {
                            min[r] = (int) sum;
                            changed = true;
                        }
                    }
                }
            }
            for (int r = 0; r < n; r++) {
                if (min[r] >= INFINITE) {
                    throw new GrammarException("rule '" + names.get(r) + "' can never end (every alternative refers back to it)");
                }
            }
            return min;
        }

        /** Left recursion (also {@code x*} where x can be empty) would make matching loop: reject it. */
        private void checkLeftRecursion(int n, int[] minRule) {
            List<List<Integer>> left = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                List<Integer> refs = new ArrayList<>();
                for (List<Element> alt : rules.get(r)) {
                    for (Element e : alt) {
                        if (e.kind() == BYTES) {
                            break;
                        }
                        refs.add(e.rule());
                        if (minRule[e.rule()] > 0) {
                            break;
                        }
                    }
                }
                left.add(refs);
            }
            int[] state = new int[n]; // 0 new, 1 on the path, 2 done
            for (int r = 0; r < n; r++) {
                visit(r, left, state);
            }
        }

        private void visit(int r, List<List<Integer>> left, int[] state) {
            if (state[r] == 2) {
                return;
            }
            if (state[r] == 1) {
                throw new GrammarException("rule '" + names.get(r) + "' is left-recursive (or repeats something that can be empty)");
            }
            state[r] = 1;
            for (int x : left.get(r)) {
                visit(x, left, state);
            }
            state[r] = 2;
        }
    }
}
