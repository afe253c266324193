package org.memwall.model;

import java.util.Arrays;
import org.memwall.quant.KeyPlanes;
import org.memwall.tensor.Parallel;
import org.memwall.tensor.VectorMath;

/**
 * Causal multi-head attention with grouped KV heads over each sequence's {@link HostKvCache}, with
 * optional sliding windows and per-head sinks. Keys and values are decoded from the cache's format
 * a run of positions at a time into a per-thread float scratch; the dots and sums then run on floats:
 * the keys by dimension, a vector of positions scored at once ({@link VectorMath#scores2}), the values
 * by row, each row's weight broadcast over its values ({@link VectorMath#addWeightedRows}).
 */
final class Attention {
    private final ModelConfig c;
    private final Parallel pool;
    private final float scale;
    private float[][] scores;
    /** Per thread: 1 / (sum of exponentials) of each head of a group. */
    private final float[][] inverses;
    /** Positions whose values are decoded from the cache at once. */
    private static final int RUN = 64;
    /** Per thread: {@link #RUN} decoded value rows of one head, or {@link KeyPlanes#RUN} positions of its keys. */
    private final float[][] rows;

    Attention(ModelConfig config, Parallel pool) {
        this.c = config;
        this.pool = pool;
        this.scale = config.kqScale();
        this.scores = new float[pool.threads()][0];
        int group = config.headCount() / config.headCountKv();
        this.inverses = new float[pool.threads()][group];
        this.rows = new float[pool.threads()][Math.max(RUN, KeyPlanes.RUN) * Math.max(config.headDim(), config.valueDim())];
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
        // a head's scores run to the end of the key run that holds maxPos
        if (scores[0].length < group * (maxPos + KeyPlanes.RUN)) {
            int size = Math.max(maxPos + KeyPlanes.RUN, 2 * (scores[0].length / group));
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
                headGroup(layer, sliding, sinks, q, t, item % kvHeads, group, positions[t], caches[t], s, stride,
                        inverses[thread], rows[thread], out);
            }
        });
    }

    /**
     * The query heads of KV head {@code kvHead} for token t; head i of the group keeps its scores at s[i·stride ..]. Keys
     * are scored a whole {@link KeyPlanes#RUN} of positions at a time from a multiple of RUN, so the scores of positions
     * before the first attended or after pos are computed too and never read.
     */
    private void headGroup(int layer, boolean sliding, float[] sinks, float[] q, int t, int kvHead, int group, int pos, HostKvCache cache,
                           float[] s, int stride, float[] inv, float[] rows, float[] out) {
        int hd = c.headDim();
        int vd = c.valueDim();
        int h0 = kvHead * group;
        int qOff = t * c.queryDim() + h0 * hd;
        int first = sliding ? Math.max(0, pos - c.slidingWindow() + 1) : 0;
        for (int j = first - first % KeyPlanes.RUN; j <= pos; j += KeyPlanes.RUN) {
            cache.readKeyRun(layer, kvHead, j, rows);
            int i = 0;
            for (; i + 1 < group; i += 2) {
                VectorMath.scores2(rows, hd, q, qOff + i * hd, qOff + (i + 1) * hd, scale, s, i * stride + j, (i + 1) * stride + j);
            }
            if (i < group) {
                VectorMath.scores1(rows, hd, q, qOff + i * hd, scale, s, i * stride + j);
            }
        }
        int oOff = t * c.headCount() * vd + h0 * vd;
        Arrays.fill(out, oOff, oOff + group * vd, 0f);
        for (int i = 0; i < group; i++) {
            float sink = sinks == null ? Float.NaN : sinks[h0 + i];
            float max = VectorMath.max(s, i * stride + first, i * stride + pos + 1);
            float mx = Float.isNaN(sink) ? max : Math.max(max, sink);
            double sum = VectorMath.expShifted(s, i * stride + first, i * stride + pos + 1, mx);
            if (!Float.isNaN(sink)) {
                sum += Math.exp(sink - mx);
            }
            inv[i] = (float) (1.0 / sum);
        }
        for (int j = first; j <= pos; ) {
            int m = HostKvCache.run(j, pos, RUN);
            cache.readValues(layer, kvHead, j, m, rows);
            int i = 0;
            for (; i + 1 < group; i += 2) {
                VectorMath.addWeightedRows2(rows, m, vd, s, i * stride + j, inv[i], (i + 1) * stride + j, inv[i + 1], out, oOff + i * vd,
                        oOff + (i + 1) * vd);
            }
            if (i < group) {
                VectorMath.addWeightedRows(rows, m, vd, s, i * stride + j, inv[i], out, oOff + i * vd);
            }
            j += m;
        }
    }
}
