package org.memwall.model;

import java.util.Arrays;

/** Test helpers: all-position logits of a prompt, batched or one token at a time. */
final class Logits {
    private Logits() {
    }

    static float[] batch(Model model, int[] tokens) {
        return model.transformer().forwardSequence(tokens, 0, model.newCache(0), true);
    }

    static float[] sequential(Model model, int[] tokens) {
        KvCache cache = model.newCache(0);
        int vocab = model.weights().vocabularySize();
        float[] out = new float[tokens.length * vocab];
        for (int i = 0; i < tokens.length; i++) {
            float[] row = model.transformer().forward(new int[] {tokens[i]}, new int[] {i}, new KvCache[] {cache}, new boolean[] {true});
            System.arraycopy(row, 0, out, i * vocab, vocab);
        }
        return out;
    }

    static int argmax(float[] v, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[offset + i] > v[offset + best]) {
                best = i;
            }
        }
        return best;
    }

    static int[] argmaxRows(float[] v, int vocab) {
        int[] r = new int[v.length / vocab];
        Arrays.setAll(r, i -> argmax(v, i * vocab, vocab));
        return r;
    }
}
