package org.memwall.model;

import org.memwall.tensor.MatMul;
import org.memwall.tensor.Parallel;
import org.memwall.tensor.Tensor;

/**
 * The forward pass of every supported family: a batch of token positions (from one or many
 * sequences) in, logits out. The family's {@link Architecture} flags choose norm placement, RoPE,
 * QK-norm, multipliers, sinks, sliding windows and the feed-forward kind; there is no per-family copy.
 *
 * <p>Activations are row-major {@code [tokens][width]} float arrays. One forward runs at a time
 * (callers from several threads are serialised; the compute pool parallelises inside it).
 */
public final class Transformer implements ForwardPass {
    private final ModelConfig c;
    private final Weights w;
    private final Parallel pool;
    private final Rope rope;
    private final Attention attention;
    private final FeedForward ffn;
    private final KvType kvType;
    private Workspace ws = new Workspace(0);

    /** {@code kvType}: how this pass's caches store keys and values. */
    public Transformer(ModelConfig config, Weights weights, Parallel pool, KvType kvType) {
        HostKvCache.requireFits(kvType, config.headDim(), config.valueDim());
        this.c = config;
        this.kvType = kvType;
        this.w = weights;
        this.pool = pool;
        this.rope = new Rope(config, weights.ropeFreqs);
        this.attention = new Attention(config, pool);
        this.ffn = new FeedForward(config, pool);
    }

    public ModelConfig config() {
        return c;
    }

    public Weights weights() {
        return w;
    }

    public int vocabularySize() {
        return w.vocabularySize();
    }

    /** Scratch arrays sized for a batch, reused across calls so decoding allocates nothing per token. */
    private static final class Workspace {
        final int tokens;
        float[] x, xb, q, k, v, att, o;

        Workspace(int tokens) {
            this.tokens = tokens;
        }

        static Workspace of(ModelConfig c, int tokens) {
            Workspace s = new Workspace(tokens);
            int d = c.embeddingLength();
            s.x = new float[tokens * d];
            s.xb = new float[tokens * d];
            s.q = new float[tokens * c.queryDim()];
            s.k = new float[tokens * c.keyDim()];
            s.v = new float[tokens * c.kvValueDim()];
            s.att = new float[tokens * c.headCount() * c.valueDim()];
            s.o = new float[tokens * d];
            return s;
        }
    }

    public KvType kvType() {
        return kvType;
    }

    @Override
    public KvCache newCache(int capacity) {
        return HostKvCache.forModel(c, capacity, kvType);
    }

    @Override
    public long kvBytesPerPosition() {
        return HostKvCache.bytesPerPosition(c, kvType);
    }

    @Override
    public long kvBytes(int positions) {
        return HostKvCache.bytes(c, kvType, positions);
    }

    /** The caches live off the Java heap: the memory the system could give now (Linux's MemAvailable, else free memory). */
    @Override
    public long kvMemoryFree() {
        return SystemMemory.available();
    }

    @Override
    public String device() {
        return "cpu (" + pool.threads() + " threads)";
    }

    @Override
    public synchronized float[] forward(int[] tokens, int[] positions, KvCache[] kvCaches, boolean[] wantLogits) {
        return logits(layers(tokens, positions, kvCaches), tokens.length, wantLogits);
    }

    @Override
    public synchronized float[] hiddenStates(int[] tokens, int[] positions, KvCache[] kvCaches, boolean[] want) {
        return finalNorm(layers(tokens, positions, kvCaches), tokens.length, want);
    }

    /** Runs every layer over the batch; returns the residual stream, {@code [n][d]}. */
    private float[] layers(int[] tokens, int[] positions, KvCache[] kvCaches) {
        int n = tokens.length;
        HostKvCache[] caches = new HostKvCache[n];
        for (int t = 0; t < n; t++) {
            caches[t] = (HostKvCache) kvCaches[t];
        }
        int d = c.embeddingLength();
        if (ws.tokens < n) {
            ws = Workspace.of(c, Math.max(n, 1));
        }
        Workspace s = ws;
        for (int t = 0; t < n; t++) {
            caches[t].reserve(positions[t]);
            embed(tokens[t], s.x, t * d);
        }
        for (int il = 0; il < c.blockCount(); il++) {
            Weights.Layer l = w.layers[il];
            // Attention block.
            normOrCopy(s.x, l.attnNorm(), s.xb, n);
            MatMul.matmulAll(pool, new Tensor[] {l.wq(), l.wk(), l.wv()}, s.xb, n, new float[][] {s.q, s.k, s.v});
            addBias(l.wq(), l.bq(), n, s.q);
            addBias(l.wk(), l.bk(), n, s.k);
            addBias(l.wv(), l.bv(), n, s.v);
            if (l.qNorm() != null) {
                Norms.rmsNormRows(s.q, l.qNorm(), s.q, n * c.headCount(), c.headDim(), c.rmsEps());
                Norms.rmsNormRows(s.k, l.kNorm(), s.k, n * c.headCountKv(), c.headDim(), c.rmsEps());
            }
            if (c.usesRope(il)) {
                for (int t = 0; t < n; t++) {
                    rope.apply(s.q, t * c.queryDim(), c.headCount(), c.headDim(), positions[t]);
                    rope.apply(s.k, t * c.keyDim(), c.headCountKv(), c.headDim(), positions[t]);
                }
            }
            attention.apply(il, l.sinks(), s.q, s.k, s.v, n, positions, caches, s.att);
            project(l.wo(), l.bo(), s.att, n, s.o);
            if (l.postAttnNorm() != null) {
                Norms.rmsNormRows(s.o, l.postAttnNorm(), s.o, n, d, c.rmsEps());
            }
            addScaled(s.x, s.o, n * d, c.residualScale());
            // Feed-forward block.
            normOrCopy(s.x, l.ffnNorm(), s.xb, n);
            ffn.apply(l, s.xb, n, s.o);
            if (l.postFfnNorm() != null) {
                Norms.rmsNormRows(s.o, l.postFfnNorm(), s.o, n, d, c.rmsEps());
            }
            addScaled(s.x, s.o, n * d, c.residualScale());
        }
        return s.x;
    }

    private void embed(int token, float[] x, int offset) {
        if (token < 0 || token >= w.tokenEmbedding.rowCount()) {
            throw new org.memwall.MemwallException("token id " + token + " is outside the vocabulary of " + w.tokenEmbedding.rowCount());
        }
        w.tokenEmbedding.dequantizeRow(token, x, offset);
        if (c.embeddingScale() != 1f) {
            int d = c.embeddingLength();
            for (int i = 0; i < d; i++) {
                x[offset + i] *= c.embeddingScale();
            }
        }
    }

    private void normOrCopy(float[] x, float[] weight, float[] out, int n) {
        int d = c.embeddingLength();
        if (weight == null) {
            System.arraycopy(x, 0, out, 0, n * d);
        } else {
            Norms.rmsNormRows(x, weight, out, n, d, c.rmsEps());
        }
    }

    private void project(Tensor weight, float[] bias, float[] in, int n, float[] out) {
        MatMul.matmul(pool, weight, in, n, out);
        addBias(weight, bias, n, out);
    }

    private static void addBias(Tensor weight, float[] bias, int n, float[] out) {
        if (bias != null) {
            int m = weight.rowCount();
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < m; i++) {
                    out[t * m + i] += bias[i];
                }
            }
        }
    }

    private static void addScaled(float[] x, float[] y, int count, float scale) {
        if (scale == 1f) {
            for (int i = 0; i < count; i++) {
                x[i] += y[i];
            }
        } else {
            for (int i = 0; i < count; i++) {
                x[i] += y[i] * scale;
            }
        }
    }

    private float[] logits(float[] x, int n, boolean[] wantLogits) {
        float[] rows = finalNorm(x, n, wantLogits);
        int count = rows.length / c.embeddingLength();
        int vocab = w.output.rowCount();
        float[] out = new float[count * vocab];
        MatMul.matmul(pool, w.output, rows, count, out);
        if (c.logitScale() != 1f) {
            float inv = 1f / c.logitScale();
            for (int i = 0; i < out.length; i++) {
                out[i] *= inv;
            }
        }
        return out;
    }

    /** The output-normed rows of the tokens {@code want}ed. */
    private float[] finalNorm(float[] x, int n, boolean[] want) {
        int d = c.embeddingLength();
        int count = 0;
        for (int t = 0; t < n; t++) {
            if (want[t]) {
                count++;
            }
        }
        float[] rows = new float[count * d];
        int r = 0;
        for (int t = 0; t < n; t++) {
            if (want[t]) {
                Norms.rmsNorm(x, t * d, w.outputNorm, rows, r++ * d, d, c.rmsEps());
            }
        }
        return rows;
    }
}
