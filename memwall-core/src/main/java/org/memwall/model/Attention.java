package org.memwall.model;

import java.util.Arrays;
import org.memwall.quant.Kernels;
import org.memwall.tensor.Parallel;
import org.memwall.tensor.VectorMath;

/**
 * Causal multi-head attention with grouped KV heads over each sequence's {@link HostKvCache}, with
 * optional sliding windows and per-head sinks. Keys and values are decoded from the cache's format
 * a run of positions at a time into a per-thread float scratch; the dots and sums then run on floats.
 */
final class Attention {
    private final ModelConfig c;
    private final Parallel pool;
    private final float scale;
    private float[][] scores;
    /** Per thread: the running maximum score of each head of a group. */
    private final float[][] maxima;
    /** Per thread: 1 / (sum of exponentials) of each head of a group. */
    private final float[][] inverses;
    /** Positions whose keys or values are decoded from the cache at once. */
    private static final int RUN = 64;
    /** Per thread: {@link #RUN} decoded key or value rows of one head. */
    private final float[][] rows;

    Attention(ModelConfig config, Parallel pool) {
        this.c = config;
        this.pool = pool;
        this.scale = config.kqScale();
        this.scores = new float[pool.threads()][0];
        int group = config.headCount() / config.headCountKv();
        this.maxima = new float[pool.threads()][group];
        this.inverses = new float[pool.threads()][group];
        this.rows = new float[pool.threads()][RUN * Math.max(config.headDim(), config.valueDim())];
    }

    /**
     * Stores each token's key and value rows in its sequence's cache, then writes softmax(q·K)·V to
     * {@code out}, in chunks of {@link HostKvCache#SLACK} tokens: a sliding layer's ring keeps the
     * window plus that many positions, so a chunk's stores never overwrite what its attention reads.
     * Chunking changes no arithmetic: each token's attention reads the same positions either way.
     */
    void apply(int layer, float[] sinks, float[] q, float[] k, float[] v, int n, int[] positions, HostKvCache[] caches, float[] out) {
        int kd = c.keyDim();
        int vd = c.kvValueDim();
        for (int from = 0; from < n; from += HostKvCache.SLACK) {
            int to = Math.min(n, from + HostKvCache.SLACK);
            for (int t = from; t < to; t++) {
                caches[t].write(layer, positions[t], k, t * kd, v, t * vd);
            }
            attend(layer, sinks, q, from, to, positions, caches, out);
        }
    }

    /**
     * {@code out[t][h·valueDim ..]} = softmax(q·K) · V for every token t and query head h. Work is split
     * over (token, KV head) pairs: the query heads that share a KV head go through its keys and values
     * together, so each key and value row is read from memory once for all of them. Each head's arithmetic
     * is the same whatever the split (its own dots, softmax and sums in position order).
     */
    private void attend(int layer, float[] sinks, float[] q, int from, int to, int[] positions, HostKvCache[] caches, float[] out) {
        int kvHeads = c.headCountKv();
        int group = c.headCount() / kvHeads;
        int maxPos = 0;
        for (int t = from; t < to; t++) {
            maxPos = Math.max(maxPos, positions[t]);
        }
        if (scores[0].length < group * (maxPos + 1)) {
            int size = Math.max(maxPos + 1, 2 * (scores[0].length / group));
            for (int i = 0; i < scores.length; i++) {
                scores[i] = new float[group * size];
            }
        }
        int stride = scores[0].length / group;
        boolean sliding = c.isSliding(layer);
        pool.forRange((to - from) * kvHeads, (first, last, thread) -> {
            float[] s = scores[thread];
            for (int item = first; item < last; item++) {
                int t = from + item / kvHeads;
                headGroup(layer, sliding, sinks, q, t, item % kvHeads, group, positions[t], caches[t], s, stride, maxima[thread],
                        inverses[thread], rows[thread], out);
            }
        });
    }

    /** The query heads of KV head {@code kvHead} for token t; head i of the group keeps its scores at s[i·stride ..]. */
    private void headGroup(int layer, boolean sliding, float[] sinks, float[] q, int t, int kvHead, int group, int pos, HostKvCache cache,
                           float[] s, int stride, float[] max, float[] inv, float[] rows, float[] out) {
        int hd = c.headDim();
        int vd = c.valueDim();
        int h0 = kvHead * group;
        int qOff = t * c.queryDim() + h0 * hd;
        int first = sliding ? Math.max(0, pos - c.slidingWindow() + 1) : 0;
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        for (int j = first; j <= pos; ) {
            int m = HostKvCache.run(j, pos, RUN);
            cache.readKeys(layer, kvHead, j, m, rows);
            for (int r = 0; r < m; r++, j++) {
                for (int i = 0; i < group; i++) {
                    float v = Kernels.dot(rows, r * hd, q, qOff + i * hd, hd) * scale;
                    s[i * stride + j] = v;
                    max[i] = Math.max(max[i], v);
                }
            }
        }
        int oOff = t * c.headCount() * vd + h0 * vd;
        Arrays.fill(out, oOff, oOff + group * vd, 0f);
        for (int i = 0; i < group; i++) {
            float sink = sinks == null ? Float.NaN : sinks[h0 + i];
            float mx = Float.isNaN(sink) ? max[i] : Math.max(max[i], sink);
            double sum = VectorMath.expShifted(s, i * stride + first, i * stride + pos + 1, mx);
            if (!Float.isNaN(sink)) {
                sum += Math.exp(sink - mx);
            }
            inv[i] = (float) (1.0 / sum);
        }
        for (int j = first; j <= pos; ) {
            int m = HostKvCache.run(j, pos, RUN);
            cache.readValues(layer, kvHead, j, m, rows);
            for (int i = 0; i < group; i++) {
                VectorMath.addWeightedRows(rows, m, vd, s, i * stride + j, inv[i], out, oOff + i * vd);
            }
            j += m;
        }
    }
}
