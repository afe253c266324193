package org.memwall.grammar;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.memwall.tokenizer.Tokenizer;

/**
 * The vocabulary as a byte trie, laid out in preorder: node {@code i} adds byte {@link #label}[i] at
 * depth {@link #depth}[i] to its parent's bytes, and its subtree ends before {@link #skip}[i]. A
 * grammar mask walks it once per state, dropping a whole subtree (every token sharing a rejected
 * prefix) at the first byte the grammar refuses. Built once per tokenizer.
 */
public final class TokenTrie {
    private static final Map<Tokenizer, TokenTrie> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

    final byte[] label;
    final int[] depth;
    final int[] skip;
    /** The first token whose bytes end at each node, or -1; more tokens with the same bytes chain through {@link #sameBytes}. */
    final int[] first;
    final int[] sameBytes;
    final int nodes;
    final int maxDepth;
    final int vocabulary;

    private TokenTrie(byte[][] bytes) {
        vocabulary = bytes.length;
        Integer[] order = new Integer[bytes.length];
        int count = 0;
        long total = 1;
        for (int id = 0; id < bytes.length; id++) {
            if (bytes[id].length > 0) {
                order[count++] = id;
                total += bytes[id].length;
            }
        }
        Integer[] ids = Arrays.copyOf(order, count);
        Arrays.sort(ids, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
        int cap = (int) Math.min(Integer.MAX_VALUE - 8, total);
        byte[] lab = new byte[cap];
        int[] dep = new int[cap];
        int[] skp = new int[cap];
        int[] fst = new int[cap];
        sameBytes = new int[bytes.length];
        Arrays.fill(sameBytes, -1);
        int longest = 0;
        for (Integer id : ids) {
            longest = Math.max(longest, bytes[id].length);
        }
        int[] path = new int[longest + 1]; // node at each depth along the current token
        int n = 1;
        fst[0] = -1;
        byte[] prev = new byte[0];
        for (int id : ids) {
            byte[] b = bytes[id];
            int lcp = 0;
            while (lcp < b.length && lcp < prev.length && b[lcp] == prev[lcp]) {
                lcp++;
            }
            // Nodes deeper than the shared prefix end their subtrees here.
            for (int d = lcp + 1; d <= prev.length; d++) {
                skp[path[d]] = n;
            }
            for (int d = lcp; d < b.length; d++) {
                lab[n] = b[d];
                dep[n] = d + 1;
                fst[n] = -1;
                path[d + 1] = n++;
            }
            int end = path[b.length];
            if (fst[end] < 0) {
                fst[end] = id;
            } else {
                int t = fst[end];
                while (sameBytes[t] >= 0) {
                    t = sameBytes[t];
                }
                sameBytes[t] = id;
            }
            prev = b;
        }
        for (int d = 1; d <= prev.length; d++) {
            skp[path[d]] = n;
        }
        nodes = n;
        maxDepth = longest;
        label = Arrays.copyOf(lab, n);
        depth = Arrays.copyOf(dep, n);
        skip = Arrays.copyOf(skp, n);
        first = Arrays.copyOf(fst, n);
    }

    /** The trie of {@code tokenizer}'s vocabulary (by each token's output bytes; tokens with none are left out). */
    public static TokenTrie of(Tokenizer tokenizer) {
        TokenTrie t = CACHE.get(tokenizer);
        if (t == null) {
            int size = tokenizer.vocabulary().size();
            byte[][] bytes = new byte[size][];
            for (int id = 0; id < size; id++) {
                bytes[id] = tokenizer.tokenBytes(id);
            }
            t = new TokenTrie(bytes);
            CACHE.put(tokenizer, t);
        }
        return t;
    }

    static TokenTrie of(byte[][] bytes) {
        return new TokenTrie(bytes);
    }

    public int nodeCount() {
        return nodes;
    }
}
