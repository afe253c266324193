package org.memwall.engine;

import java.util.ArrayList;
import java.util.List;
import org.memwall.MemwallException;
import org.memwall.gguf.GgufMetadata;
import org.memwall.model.ForwardPass;
import org.memwall.model.KvCache;
import org.memwall.model.Model;

/**
 * Sentence embeddings: each input's final hidden states (after the output norm) pooled into one
 * vector and L2-normalised. Inputs are packed together into forward passes of up to
 * {@code batchTokens} tokens, each with its own cache, so a batch costs a few passes rather than
 * one per input; every input's vector is the same as when it is embedded alone. Thread-safe: passes
 * are serialised with the generation engine's steps by the forward pass itself.
 */
public final class Embedder {
    /** How a sequence's hidden states become one vector ({@code {arch}.pooling_type}: 1 mean, 2 CLS, 3 last). */
    public enum Pooling {
        MEAN, CLS, LAST;

        /**
         * The pooling {@code metadata} declares; a file that declares none (or {@code none}, 0) is
         * mean-pooled, the choice that needs no trained summary token. Rank pooling (a reranker) is refused.
         */
        public static Pooling of(GgufMetadata metadata) {
            String key = metadata.getString("general.architecture", "llama") + ".pooling_type";
            long type = metadata.getLong(key, 0);
            return switch ((int) type) {
                case 0, 1 -> MEAN;
                case 2 -> CLS;
                case 3 -> LAST;
                case 4 -> throw new MemwallException("this model is a reranker (" + key + " = rank), not an embedding model");
                default -> throw new MemwallException("unknown " + key + " " + type);
            };
        }
    }

    private final Model model;
    private final Pooling pooling;
    private final int batchTokens;

    public Embedder(Model model, Pooling pooling, int batchTokens) {
        this.model = model;
        this.pooling = pooling;
        this.batchTokens = Math.max(1, batchTokens);
    }

    public Pooling pooling() {
        return pooling;
    }

    /** The length of the vectors: the model's embedding length. */
    public int dimensions() {
        return model.config().embeddingLength();
    }

    /** One L2-normalised vector per input, in order; every input must have at least one token. */
    public float[][] embed(List<int[]> inputs) {
        float[][] out = new float[inputs.size()][];
        int from = 0;
        while (from < inputs.size()) {
            int to = from;
            int tokens = 0;
            while (to < inputs.size() && (to == from || tokens + inputs.get(to).length <= batchTokens)) {
                tokens += inputs.get(to++).length;
            }
            embedBatch(inputs.subList(from, to), out, from, tokens);
            from = to;
        }
        return out;
    }

    private void embedBatch(List<int[]> inputs, float[][] out, int offset, int total) {
        ForwardPass pass = model.forwardPass();
        int[] tokens = new int[total];
        int[] positions = new int[total];
        KvCache[] caches = new KvCache[total];
        boolean[] want = new boolean[total];
        int at = 0;
        for (int[] input : inputs) {
            if (input.length == 0) {
                throw new MemwallException("an input to embed has no tokens");
            }
        }
        List<KvCache> opened = new ArrayList<>();
        float[] states;
        try {
            for (int[] input : inputs) {
                KvCache cache = pass.newCache(input.length);
                opened.add(cache);
                for (int i = 0; i < input.length; i++, at++) {
                    tokens[at] = input[i];
                    positions[at] = i;
                    caches[at] = cache;
                    want[at] = switch (pooling) {
                        case MEAN -> true;
                        case CLS -> i == 0;
                        case LAST -> i == input.length - 1;
                    };
                }
            }
            states = pass.hiddenStates(tokens, positions, caches, want);
        } finally {
            opened.forEach(KvCache::close); // each input's cache is needed for this pass only
        }
        int d = dimensions();
        int row = 0;
        for (int k = 0; k < inputs.size(); k++) {
            int rows = pooling == Pooling.MEAN ? inputs.get(k).length : 1;
            float[] v = new float[d];
            for (int r = 0; r < rows; r++, row++) {
                for (int j = 0; j < d; j++) {
                    v[j] += states[row * d + j];
                }
            }
            for (int j = 0; j < d; j++) {
                v[j] /= rows;
            }
            out[offset + k] = normalise(v);
        }
    }

    /** {@code v} scaled to unit L2 norm (a zero vector stays zero). */
    static float[] normalise(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += (double) x * x;
        }
        if (sum > 0) {
            float inv = (float) (1 / Math.sqrt(sum));
            for (int j = 0; j < v.length; j++) {
                v[j] *= inv;
            }
        }
        return v;
    }
}
