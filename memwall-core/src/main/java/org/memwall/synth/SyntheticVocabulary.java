package org.memwall.synth;

import java.util.Arrays;
import org.memwall.gguf.GgufWriter;
import org.memwall.gguf.ValueType;

/**
 * A byte-level BPE vocabulary (tokenizer.ggml.model "gpt2", the kind every shape in
 * {@link ModelShape} uses) of the shape's exact size: the 256 byte symbols, then pairs of them, then
 * pair-plus-byte triples, commonest bytes first, each with its merge rule, until the regular tokens are filled;
 * then the family's named special tokens and reserved control tokens up to the vocabulary size. Any
 * text tokenizes with it (each byte has a symbol) and the merges shorten it as real ones do.
 */
final class SyntheticVocabulary {
    private static final int NORMAL = 1;
    private static final int CONTROL = 3;

    private SyntheticVocabulary() {
    }

    static void put(GgufWriter w, ModelShape s) {
        String[] symbols = byteSymbols();
        int regular = s.regularTokens();
        String[] tokens = new String[s.vocabulary()];
        int[] types = new int[s.vocabulary()];
        String[] merges = new String[regular - 256];
        System.arraycopy(symbols, 0, tokens, 0, 256);
        int[] order = byteOrder();
        // Pairs in square shells over the byte ranking: all pairs of the k most common bytes come before
        // any pair involving byte k + 1, so even a small vocabulary merges the commonest text.
        int[] pairIds = new int[256 * 256];
        int[] pairShell = new int[256 * 256];
        int pairs = 0;
        int id = 256;
        for (int k = 0; k < 256 && id < regular; k++) {
            for (int i = 0; i <= k && id < regular; i++) {
                for (int j = 0; j <= k && id < regular; j++) {
                    if (Math.max(i, j) != k) {
                        continue;
                    }
                    String a = symbols[order[i]];
                    String b = symbols[order[j]];
                    merges[id - 256] = a + " " + b;
                    tokens[id] = a + b;
                    pairShell[pairs] = k;
                    pairIds[pairs++] = id++;
                }
            }
        }
        // Then a pair plus one more byte, in the same shells.
        for (int k = 0; k < 256 && id < regular; k++) {
            for (int p = 0; p < pairs && id < regular; p++) {
                for (int c = 0; c <= k && id < regular; c++) {
                    if (Math.max(pairShell[p], c) != k) {
                        continue;
                    }
                    String pair = tokens[pairIds[p]];
                    String b = symbols[order[c]];
                    merges[id - 256] = pair + " " + b;
                    tokens[id++] = pair + b;
                }
            }
        }
        if (id < regular) {
            throw new IllegalStateException("synthetic vocabularies hold at most " + id + " regular tokens");
        }
        Arrays.fill(types, 0, regular, NORMAL);
        int reserved = (int) s.specials().stream().filter(t -> t.startsWith("<|reserved_special_token_")).count();
        for (int i = regular; i < tokens.length; i++) {
            int k = i - regular;
            tokens[i] = k < s.specials().size() ? s.specials().get(k) : "<|reserved_special_token_" + (reserved + k - s.specials().size()) + "|>";
            types[i] = CONTROL;
        }
        w.putString("tokenizer.ggml.model", "gpt2");
        w.putString("tokenizer.ggml.pre", s.preTokenizer());
        w.putArray("tokenizer.ggml.tokens", ValueType.STRING, tokens);
        w.putArray("tokenizer.ggml.token_type", ValueType.INT32, types);
        w.putArray("tokenizer.ggml.merges", ValueType.STRING, merges);
        w.putU32("tokenizer.ggml.bos_token_id", s.bos());
        w.putU32("tokenizer.ggml.eos_token_id", s.eos());
        w.putBool("tokenizer.ggml.add_bos_token", s.architecture().equals("llama"));
    }

    /** Bytes by how common they are in text: space, letters by English frequency, digits, punctuation, the rest. */
    static int[] byteOrder() {
        String common = " etaoinsrhldcumfpgwybvkxjqzETAOINSRHLDCUMFPGWYBVKXJQZ0123456789.,'\"-!?:;()\n";
        int[] order = new int[256];
        boolean[] placed = new boolean[256];
        int n = 0;
        for (char ch : common.toCharArray()) {
            order[n++] = ch;
            placed[ch] = true;
        }
        for (int b = 0; b < 256; b++) {
            if (!placed[b]) {
                order[n++] = b;
            }
        }
        return order;
    }

    /**
     * GPT-2's byte-to-symbol map: printable bytes (33–126, 161–172, 174–255) stand for themselves,
     * the others take the code points from 256 upwards in byte order.
     */
    static String[] byteSymbols() {
        String[] symbols = new String[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
            symbols[b] = String.valueOf((char) (printable ? b : next++));
        }
        return symbols;
    }
}
