package org.memwall.grammar;

import java.util.ArrayDeque;
import org.memwall.sample.TokenConstraint;
import org.memwall.tokenizer.Tokenizer;

/**
 * Constrained decoding: before each pick, every token whose bytes the grammar cannot accept next
 * gets logit −∞; an end-of-generation token is allowed only once the text is a complete match. The
 * mask of a state comes from one walk of the vocabulary's {@link TokenTrie} and is kept for the
 * next time the state recurs (inside a JSON string, nearly every step).
 *
 * <p>It also keeps the reply within {@code maxTokens}: a token is allowed only if the shortest
 * completion after it, and then an end token, still fit in the tokens left (at one byte per token),
 * so even a model that
 * would ramble — a random-weight one — ends with text the grammar accepts.
 */
public final class GrammarConstraint implements TokenConstraint {
    /** Masks kept per generation (each is vocabulary/8 bytes). */
    private static final int CACHED_MASKS = 256;

    private final GrammarMatcher matcher;
    private final TokenTrie trie;
    private final Tokenizer tokenizer;
    private final int maxTokens;
    private final int[] ends;
    private final ArrayDeque<GrammarMatcher.State> cached = new ArrayDeque<>();
    private GrammarMatcher.State state;
    private int generated;
    // Scratch for the trie walk.
    private final GrammarMatcher.State[] path;

    public GrammarConstraint(Grammar grammar, Tokenizer tokenizer, int maxTokens) {
        this.matcher = new GrammarMatcher(grammar);
        this.trie = TokenTrie.of(tokenizer);
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.ends = tokenizer.vocabulary().endOfGeneration();
        this.state = matcher.start();
        this.path = new GrammarMatcher.State[trie.maxDepth + 1];
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
        if (tokenizer.isEndOfGeneration(token)) {
            return;
        }
        GrammarMatcher.State next = matcher.next(state, tokenizer.tokenBytes(token));
        if (next.dead()) {
            throw new IllegalStateException("token " + token + " was not allowed by the grammar");
        }
        state = next;
    }

    /** The tokens allowed now, as a bit set over the vocabulary. */
    long[] allowed() {
        // Tokens left after this one, keeping the last for the end token (it takes a slot of max_tokens).
        int left = maxTokens - generated - 2;
        if (state.mask == null) {
            state.maskMaxCost = walk(state, Integer.MAX_VALUE, state.mask = newMask());
            if (isEmpty(state.mask)) {
                for (int e : ends) {
                    state.mask[e >>> 6] |= 1L << e; // a dead end: let the model stop rather than pick at random
                }
            }
            cached.add(state);
            if (cached.size() > CACHED_MASKS) {
                cached.poll().mask = null;
            }
        }
        if (state.maskMaxCost <= left) {
            return state.mask;
        }
        long[] budget = newMask();
        walk(state, left, budget);
        if (isEmpty(budget)) {
            return state.mask; // cannot finish in time anyway: at least stay in the grammar
        }
        return budget;
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
            if (e < trie.vocabulary) {
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
