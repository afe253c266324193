package org.memwall.grammar;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What constrained decoding remembers across requests, so that the second request with a schema
 * pays no trie walks: one {@link GrammarMatcher} per (vocabulary trie, grammar) — its interned
 * states and their byte transitions — and the token mask of each state it has walked.
 *
 * <p>Why the key is sound: a mask is a function of the trie (the vocabulary's bytes, with the
 * grammar's special tokens) and the matcher state, and a state is interned per matcher, so it stands
 * for its whole configuration (every parse stack and whether the text is complete). Matchers are
 * shared only between grammars that compile to the same arrays ({@link Grammar#equals}), which accept
 * the same bytes. A matcher is used under its own lock ({@code synchronized (matcher)}).
 *
 * <p>Bounded: at most {@link #MATCHERS} matchers (least recently used first out; one that has grown
 * past {@link #MATCHER_NODES} parse nodes is replaced by a fresh one) and {@link #MASK_BYTES} of masks
 * (least recently used first out; a mask is vocabulary/8 bytes).
 */
final class MaskCache {
    static final int MATCHERS = 32;
    static final int MATCHER_NODES = 1_000_000;
    static final long MASK_BYTES = 64L << 20;

    static final MaskCache SHARED = new MaskCache();

    /** A state's mask: the allowed tokens, and the longest completion (in bytes) any of them needs. */
    record Mask(long[] bits, int maxCost) {
    }

    private record Key(TokenTrie trie, Grammar grammar) {
        // TokenTrie has identity equality: one trie per tokenizer and special-token list.
    }

    private final Map<Key, GrammarMatcher> matchers = new LinkedHashMap<>(16, 0.75f, true);
    private final LinkedHashMap<GrammarMatcher.State, Mask> masks = new LinkedHashMap<>(256, 0.75f, true);
    private long maskBytes;

    /** The shared matcher of {@code grammar} over {@code trie}. */
    synchronized GrammarMatcher matcher(TokenTrie trie, Grammar grammar) {
        Key key = new Key(trie, grammar);
        GrammarMatcher m = matchers.get(key);
        if (m == null || m.nodeCount() > MATCHER_NODES) {
            m = new GrammarMatcher(grammar);
            matchers.put(key, m);
            if (matchers.size() > MATCHERS) {
                var eldest = matchers.entrySet().iterator();
                eldest.next();
                eldest.remove(); // its states' masks age out of the mask map unused
            }
        }
        return m;
    }

    synchronized Mask mask(GrammarMatcher.State state) {
        return masks.get(state);
    }

    synchronized void put(GrammarMatcher.State state, Mask mask) {
        if (masks.put(state, mask) == null) {
            maskBytes += mask.bits().length * 8L;
        }
        var eldest = masks.entrySet().iterator();
        while (maskBytes > MASK_BYTES && masks.size() > 1) {
            maskBytes -= eldest.next().getValue().bits().length * 8L;
            eldest.remove();
        }
    }

    synchronized void clear() {
        matchers.clear();
        masks.clear();
        maskBytes = 0;
    }
}
