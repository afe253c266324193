package org.memwall.grammar;

import org.memwall.sample.TokenConstraint;
import org.memwall.tokenizer.Tokenizer;

/**
 * Constrained decoding: before each pick, every token whose bytes the grammar cannot accept next
 * gets logit −∞; an end-of-generation token is allowed only once the text is a complete match (unless
 * the grammar names it as a special token, such as harmony's {@code <|call|>}: then where the grammar
 * puts it). The mask of a state comes from one walk of the vocabulary's {@link TokenTrie} and is kept
 * in the {@link MaskCache} shared by all requests, so a state's walk is paid once per grammar and
 * vocabulary, not once per request.
 *
 * <p>It also keeps the reply within {@code maxTokens}: a token is allowed only if the shortest
 * completion after it, and then an end token, still fit in the tokens left (at one byte per token),
 * so even a model that would ramble — a random-weight one — ends with text the grammar accepts.
 */
public final class GrammarConstraint implements TokenConstraint {
    private final GrammarMatcher matcher;
    private final TokenTrie trie;
    private final Tokenizer tokenizer;
    private final int maxTokens;
    private final int[] ends;
    private final MaskCache cache;
    private GrammarMatcher.State state;
    private int generated;
    // Scratch for the trie walk.
    private final GrammarMatcher.State[] path;

    public GrammarConstraint(Grammar grammar, Tokenizer tokenizer, int maxTokens) {
        this(grammar, tokenizer, maxTokens, MaskCache.SHARED);
    }

    GrammarConstraint(Grammar grammar, Tokenizer tokenizer, int maxTokens, MaskCache cache) {
        this.trie = TokenTrie.of(tokenizer, grammar.specialTokens());
        this.cache = cache;
        this.matcher = cache.matcher(trie, grammar);
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.ends = tokenizer.vocabulary().endOfGeneration();
        synchronized (matcher) {
            this.state = matcher.start();
        }
        this.path = new GrammarMatcher.State[trie.maxDepth + 1];
    }

    /** Forgets every shared matcher and mask, so the next request walks the trie afresh (for benchmarks). */
    public static void forgetSharedMasks() {
        MaskCache.SHARED.clear();
    }

    /** Whether the text so far is a complete match. */
    public boolean complete() {
        return state.accepting();
    }

    @Override
    public void mask(float[] logits, int n) {
        long[] allowed = allowed();
        for (int i = 0; i < n; i++) {
            if (i >= trie.vocabulary || (allowed[i >>> 6] >>> i & 1L) == 0) {
                logits[i] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    @Override
    public void accept(int token) {
        generated++;
        if (tokenizer.isEndOfGeneration(token) && !trie.isGrammarSpecial(token)) {
            return;
        }
        GrammarMatcher.State next;
        synchronized (matcher) {
            next = matcher.next(state, trie.bytes(tokenizer, token));
        }
        if (next.dead()) {
            throw new IllegalStateException("token " + token + " was not allowed by the grammar");
        }
        state = next;
    }

    /** The tokens allowed now, as a bit set over the vocabulary. */
    long[] allowed() {
        // Tokens left after this one, keeping the last for the end token (it takes a slot of max_tokens).
        int left = maxTokens - generated - 2;
        synchronized (matcher) {
            MaskCache.Mask mask = cache.mask(state);
            if (mask == null) {
                long[] bits = newMask();
                int maxCost = walk(state, Integer.MAX_VALUE, bits);
                if (isEmpty(bits)) {
                    for (int e : ends) {
                        bits[e >>> 6] |= 1L << e; // a dead end: let the model stop rather than pick at random
                    }
                }
                mask = new MaskCache.Mask(bits, maxCost);
                cache.put(state, mask);
            }
            if (mask.maxCost() <= left) {
                return mask.bits();
            }
            long[] budget = newMask();
            walk(state, left, budget);
            return isEmpty(budget) ? mask.bits() : budget; // cannot finish in time anyway: at least stay in the grammar
        }
    }

    /** Marks tokens whose bytes keep {@code from} alive with a completion of at most {@code maxCost} bytes; returns the largest such cost. */
    private int walk(GrammarMatcher.State from, int maxCost, long[] bits) {
        int worst = 0;
        path[0] = from;
        byte[] label = trie.label;
        int[] depth = trie.depth;
        int[] first = trie.first;
        int i = 1;
        while (i < trie.nodes) {
            int d = depth[i];
            GrammarMatcher.State q = matcher.next(path[d - 1], label[i] & 0xFF);
            if (q.stacks.length == 0 && !q.accepting) {
                i = trie.skip[i];
                continue;
            }
            path[d] = q;
            if (first[i] >= 0) {
                int c = matcher.cost(q);
                if (c <= maxCost) {
                    worst = Math.max(worst, c);
                    for (int t = first[i]; t >= 0; t = trie.sameBytes[t]) {
                        bits[t >>> 6] |= 1L << t;
                    }
                }
            }
            i++;
        }
        // An end token ends the reply whatever its text: allowed exactly when the match is complete.
        for (int e : ends) {
            if (e < trie.vocabulary && !trie.isGrammarSpecial(e)) {
                bits[e >>> 6] = from.accepting() ? bits[e >>> 6] | 1L << e : bits[e >>> 6] & ~(1L << e);
            }
        }
        return worst;
    }

    private long[] newMask() {
        return new long[(trie.vocabulary + 63) >>> 6];
    }

    private static boolean isEmpty(long[] bits) {
        for (long b : bits) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}
