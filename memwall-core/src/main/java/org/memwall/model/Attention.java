package org.memwall.model;

import org.memwall.quant.Kernels;
import org.memwall.tensor.Parallel;
import org.memwall.tensor.VectorMath;

/**
 * Causal multi-head attention with grouped KV heads over each sequence's {@link KvCache}, with
 * optional sliding windows and per-head sinks. Work is split over (token, head) pairs.
 */
final class Attention {
    private final ModelConfig c;
    private final Parallel pool;
    private final float scale;
    private float[][] scores;

    Attention(ModelConfig config, Parallel pool) {
        this.c = config;
        this.pool = pool;
        this.scale = config.kqScale();
        this.scores = new float[pool.threads()][0];
    }

    /** Writes each token's key and value rows into its sequence's cache at its position. */
    void store(int layer, float[] k, float[] v, int n, int[] positions, KvCache[] caches) {
        int kd = c.keyDim();
        int vd = c.kvValueDim();
        for (int t = 0; t < n; t++) {
            KvCache cache = caches[t];
            int p = positions[t];
            System.arraycopy(k, t * kd, cache.keyBlock(layer, p), cache.keyOffset(p), kd);
            System.arraycopy(v, t * vd, cache.valueBlock(layer, p), cache.valueOffset(p), vd);
        }
    }

    /** {@code out[t][h·valueDim ..]} = softmax(q·K) · V for every token t and query head h. */
    void attend(int layer, float[] sinks, float[] q, int n, int[] positions, KvCache[] caches, float[] out) {
        int heads = c.headCount();
        int maxPos = 0;
        for (int t = 0; t < n; t++) {
            maxPos = Math.max(maxPos, positions[t]);
        }
        if (scores[0].length <= maxPos) {
            int size = Math.max(maxPos + 1, 2 * scores[0].length);
            for (int i = 0; i < scores.length; i++) {
                scores[i] = new float[size];
            }
        }
        boolean sliding = c.isSliding(layer);
        pool.forRange(n * heads, (from, to, thread) -> {
            float[] s = scores[thread];
            for (int item = from; item < to; item++) {
                int t = item / heads;
                int h = item % heads;
                head(layer, sliding, sinks == null ? Float.NaN : sinks[h], q, t, h, positions[t], caches[t], s, out);
            }
        });
    }

    private void head(int layer, boolean sliding, float sink, float[] q, int t, int h, int pos, KvCache cache, float[] s, float[] out) {
        int hd = c.headDim();
        int vd = c.valueDim();
        int kvHead = h / (c.headCount() / c.headCountKv());
        int qOff = t * c.queryDim() + h * hd;
        int first = sliding ? Math.max(0, pos - c.slidingWindow() + 1) : 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = first; j <= pos; j++) {
            float v = Kernels.dot(cache.keyBlock(layer, j), cache.keyOffset(j) + kvHead * hd, q, qOff, hd) * scale;
            s[j] = v;
            max = Math.max(max, v);
        }
        boolean hasSink = !Float.isNaN(sink);
        if (hasSink) {
            max = Math.max(max, sink);
        }
        double sum = VectorMath.expShifted(s, first, pos + 1, max);
        if (hasSink) {
            sum += Math.exp(sink - max);
        }
        float inv = (float) (1.0 / sum);
        int oOff = t * c.headCount() * vd + h * vd;
        java.util.Arrays.fill(out, oOff, oOff + vd, 0f);
        for (int j = first; j <= pos; j++) {
            VectorMath.axpy(s[j] * inv, cache.valueBlock(layer, j), cache.valueOffset(j) + kvHead * vd, out, oOff, vd);
        }
    }
}
