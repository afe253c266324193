package org.memwall.model;

/**
 * One forward step over a batch of token positions of one or many sequences, wherever it runs: the
 * CPU's {@link Transformer} or a GPU backend. The engine, server, samplers and CLI see only this.
 */
public interface ForwardPass extends AutoCloseable {

    /**
     * Evaluates {@code tokens[i]} at {@code positions[i]} of the sequence whose cache is
     * {@code caches[i]}, writing their keys and values there, and returns the logits of the tokens
     * whose {@code wantLogits[i]} is set, in order, as {@code [count][vocab]}. Tokens of one sequence
     * must appear in position order, and every earlier position must already be in its cache or
     * earlier in the batch. The caches must come from this pass's {@link #newCache}.
     */
    float[] forward(int[] tokens, int[] positions, KvCache[] caches, boolean[] wantLogits);

    /**
     * Like {@link #forward}, but returns for each token whose {@code wantLogits[i]} is set only the
     * index of its largest logit (the lower index on ties): greedy decoding. A GPU picks the tokens on
     * the device and copies back ids instead of vocabulary-sized rows.
     */
    default int[] argmax(int[] tokens, int[] positions, KvCache[] caches, boolean[] wantLogits) {
        float[] logits = forward(tokens, positions, caches, wantLogits);
        int count = 0;
        for (boolean w : wantLogits) {
            count += w ? 1 : 0;
        }
        int[] ids = new int[count];
        int vocab = count == 0 ? 0 : logits.length / count;
        for (int r = 0; r < ids.length; r++) {
            int best = 0;
            for (int i = 1; i < vocab; i++) {
                if (logits[r * vocab + i] > logits[r * vocab + best]) {
                    best = i;
                }
            }
            ids[r] = best;
        }
        return ids;
    }

    /**
     * Like {@link #forward}, but returns the final hidden states (after the output norm, before the
     * output projection) of the tokens whose {@code want[i]} is set, in order, as
     * {@code [count][embeddingLength]}: what embeddings are pooled from.
     */
    default float[] hiddenStates(int[] tokens, int[] positions, KvCache[] caches, boolean[] want) {
        throw new org.memwall.MemwallException("embeddings are not yet supported on " + device());
    }

    /** A fresh cache for one sequence of up to {@code capacity} positions, allocated as it fills. */
    KvCache newCache(int capacity);

    /**
     * Bytes one position of one sequence takes in this pass's caches: keys and values of every layer
     * that keeps all positions, at the cache's element size. Sliding-window layers may keep only their
     * window, a cost per sequence that {@link #kvBytes} adds.
     */
    long kvBytesPerPosition();

    /** The most bytes a cache of capacity {@code positions} allocates: what admission reserves for a sequence of that length. */
    default long kvBytes(int positions) {
        return positions * kvBytesPerPosition();
    }

    /** Memory free now where this pass keeps its caches (Java heap, device memory): the default KV budget derives from it. */
    long kvMemoryFree();

    /** Where it runs, for messages: {@code cpu (2 threads)}, {@code cuda:0 (NVIDIA H200)}. */
    String device();

    /**
     * Evaluates {@code tokens} at positions {@code start, start+1, ...} of one sequence and returns
     * the logits of every position ({@code allLogits}) or of the last one only.
     */
    default float[] forwardSequence(int[] tokens, int start, KvCache cache, boolean allLogits) {
        int n = tokens.length;
        int[] positions = new int[n];
        KvCache[] caches = new KvCache[n];
        boolean[] want = new boolean[n];
        for (int i = 0; i < n; i++) {
            positions[i] = start + i;
            caches[i] = cache;
            want[i] = allLogits;
        }
        want[n - 1] = true;
        return forward(tokens, positions, caches, want);
    }

    /** Gives back what the pass holds beyond the model file (device memory, contexts). */
    @Override
    default void close() {
    }
}
