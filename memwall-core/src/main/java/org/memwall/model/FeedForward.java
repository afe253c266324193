package org.memwall.model;

import org.memwall.tensor.MatMul;
import org.memwall.tensor.Parallel;
import org.memwall.tensor.Tensor;
import org.memwall.tensor.VectorMath;

/**
 * The feed-forward block: SwiGLU {@code down(silu(gate(x)) ⊙ up(x))}, or gpt-oss's mixture of
 * experts with a biased router, softmax over the selected experts and the clamped SwiGLU.
 */
final class FeedForward {
    /** gpt-oss's clamped SwiGLU constants. */
    private static final float OAI_ALPHA = 1.702f;
    private static final float OAI_LIMIT = 7f;

    private final ModelConfig c;
    private final Parallel pool;
    private float[] gate = new float[0];
    private float[] up = new float[0];
    private float[] down = new float[0];
    private float[] gathered = new float[0];
    private float[] router = new float[0];

    FeedForward(ModelConfig config, Parallel pool) {
        this.c = config;
        this.pool = pool;
    }

    /** Writes the block's output for the {@code n} rows of {@code x} to {@code out}. */
    void apply(Weights.Layer l, float[] x, int n, float[] out) {
        if (c.architecture().moe()) {
            experts(l, x, n, out);
            return;
        }
        int ff = l.gate().rowCount();
        ensure(n * ff, n * c.embeddingLength());
        MatMul.matmulAll(pool, new Tensor[] {l.gate(), l.up()}, x, n, new float[][] {gate, up});
        VectorMath.siluTimes(gate, up, 0, n * ff);
        MatMul.matmul(pool, l.down(), gate, n, out);
    }

    private void ensure(int hidden, int rows) {
        if (gate.length < hidden) {
            gate = new float[hidden];
            up = new float[hidden];
        }
        if (gathered.length < rows) {
            gathered = new float[rows];
            down = new float[rows];
        }
    }

    private void experts(Weights.Layer l, float[] x, int n, float[] out) {
        int d = c.embeddingLength();
        int ff = c.feedForwardLength();
        int ne = c.expertCount();
        int k = c.expertUsedCount();
        if (router.length < n * ne) {
            router = new float[n * ne];
        }
        MatMul.matmul(pool, l.router(), x, n, router);
        // Per token: the top-k experts by router logit, weighted by a softmax over those k logits.
        int[] chosen = new int[n * k];
        float[] weight = new float[n * k];
        for (int t = 0; t < n; t++) {
            int base = t * ne;
            if (l.routerBias() != null) {
                for (int e = 0; e < ne; e++) {
                    router[base + e] += l.routerBias()[e];
                }
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < k; s++) {
                int best = -1;
                for (int e = 0; e < ne; e++) {
                    if (!taken(chosen, t * k, s, e) && (best < 0 || router[base + e] > router[base + best])) {
                        best = e;
                    }
                }
                chosen[t * k + s] = best;
                max = Math.max(max, router[base + best]);
            }
            double sum = 0;
            for (int s = 0; s < k; s++) {
                float e = (float) Math.exp(router[base + chosen[t * k + s]] - max);
                weight[t * k + s] = e;
                sum += e;
            }
            for (int s = 0; s < k; s++) {
                weight[t * k + s] /= (float) sum;
            }
        }
        java.util.Arrays.fill(out, 0, n * d, 0f);
        // Expert by expert, over the tokens that chose it, so each expert's weights are read once.
        int[] members = new int[n];
        float[] memberWeight = new float[n];
        for (int e = 0; e < ne; e++) {
            int m = 0;
            for (int t = 0; t < n; t++) {
                for (int s = 0; s < k; s++) {
                    if (chosen[t * k + s] == e) {
                        members[m] = t;
                        memberWeight[m++] = weight[t * k + s];
                    }
                }
            }
            if (m == 0) {
                continue;
            }
            ensure(m * ff, m * d);
            for (int i = 0; i < m; i++) {
                System.arraycopy(x, members[i] * d, gathered, i * d, d);
            }
            MatMul.matmul(pool, l.gateExps(), e * ff, ff, gathered, m, gate);
            MatMul.matmul(pool, l.upExps(), e * ff, ff, gathered, m, up);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < ff; j++) {
                    float g = gate[i * ff + j] + (l.gateExpsBias() == null ? 0f : l.gateExpsBias()[e * ff + j]);
                    float u = up[i * ff + j] + (l.upExpsBias() == null ? 0f : l.upExpsBias()[e * ff + j]);
                    g = Math.min(g, OAI_LIMIT);
                    u = Math.max(-OAI_LIMIT, Math.min(u, OAI_LIMIT));
                    gate[i * ff + j] = g / (1f + (float) Math.exp(-OAI_ALPHA * g)) * (u + 1f);
                }
            }
            MatMul.matmul(pool, l.downExps(), e * d, d, gate, m, down);
            for (int i = 0; i < m; i++) {
                int t = members[i];
                for (int j = 0; j < d; j++) {
                    float v = down[i * d + j] + (l.downExpsBias() == null ? 0f : l.downExpsBias()[e * d + j]);
                    out[t * d + j] += memberWeight[i] * v;
                }
            }
        }
    }

    private static boolean taken(int[] chosen, int offset, int count, int expert) {
        for (int i = 0; i < count; i++) {
            if (chosen[offset + i] == expert) {
                return true;
            }
        }
        return false;
    }
}
