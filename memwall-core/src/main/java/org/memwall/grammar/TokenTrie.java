package org.memwall.grammar;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.memwall.tokenizer.Tokenizer;
import org.memwall.tokenizer.Vocabulary;

/**
 * The vocabulary as a byte trie, laid out in preorder: node {@code i} adds byte {@link #label}[i] at
 * depth {@link #depth}[i] to its parent's bytes, and its subtree ends before {@link #skip}[i]. A
 * grammar mask walks it once per state, dropping a whole subtree (every token sharing a rejected
 * prefix) at the first byte the grammar refuses. Built once per tokenizer and list of special tokens
 * a grammar names: those tokens get the bytes {@code 0xFF k} of a special-token terminal (see
 * {@link Grammar}), and ordinary tokens holding byte 0xFF (which no UTF-8 grammar accepts) are left
 * out, so only the special token itself can match its terminal.
 */
public final class TokenTrie {
    private static final Map<Tokenizer, Map<List<String>, TokenTrie>> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

    final byte[] label;
    final int[] depth;
    final int[] skip;
    /** The first token whose bytes end at each node, or -1; more tokens with the same bytes chain through {@link #sameBytes}. */
    final int[] first;
    final int[] sameBytes;
    final int nodes;
    final int maxDepth;
    final int vocabulary;
    /** Special token id → its terminal's bytes, for the special tokens the grammar names. */
    private final Map<Integer, byte[]> specialBytes;

    private TokenTrie(byte[][] bytes, Map<Integer, byte[]> specialBytes) {
        vocabulary = bytes.length;
        this.specialBytes = Map.copyOf(specialBytes);
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
        return of(tokenizer, List.of());
    }

    /**
     * The trie a grammar naming {@code specials} (see {@link Grammar#specialTokens()}) is matched
     * against; a special token the vocabulary lacks is a {@link GrammarException}.
     */
    public static TokenTrie of(Tokenizer tokenizer, List<String> specials) {
        // One trie per key, built under the lock: requests share masks only when they share the trie.
        return CACHE.computeIfAbsent(tokenizer, k -> Collections.synchronizedMap(new HashMap<>()))
                .computeIfAbsent(List.copyOf(specials), list -> build(tokenizer, list));
    }

    private static TokenTrie build(Tokenizer tokenizer, List<String> specials) {
        Vocabulary v = tokenizer.vocabulary();
        byte[][] bytes = new byte[v.size()][];
        for (int id = 0; id < bytes.length; id++) {
            bytes[id] = tokenizer.tokenBytes(id);
            if (!specials.isEmpty() && contains(bytes[id], (byte) Grammar.SPECIAL_LEAD)) {
                bytes[id] = new byte[0];
            }
        }
        Map<Integer, byte[]> special = new HashMap<>();
        for (int k = 0; k < specials.size(); k++) {
            int id = v.id(specials.get(k));
            if (id < 0 || v.type(id) == Vocabulary.NORMAL) {
                throw new GrammarException("the grammar names the special token " + specials.get(k) + ", which this vocabulary does not have");
            }
            bytes[id] = new byte[] {(byte) Grammar.SPECIAL_LEAD, (byte) k};
            special.put(id, bytes[id]);
        }
        return new TokenTrie(bytes, special);
    }

    /** The bytes a grammar matched against this trie sees for {@code token}. */
    byte[] bytes(Tokenizer tokenizer, int token) {
        byte[] b = specialBytes.get(token);
        return b != null ? b : tokenizer.tokenBytes(token);
    }

    /** Whether {@code token} is one of the special tokens the grammar names. */
    boolean isGrammarSpecial(int token) {
        return specialBytes.containsKey(token);
    }

    private static boolean contains(byte[] bytes, byte b) {
        for (byte x : bytes) {
            if (x == b) {
                return true;
            }
        }
        return false;
    }

    static TokenTrie of(byte[][] bytes) {
        return new TokenTrie(bytes, Map.of());
    }

    public int nodeCount() {
        return nodes;
    }
}
