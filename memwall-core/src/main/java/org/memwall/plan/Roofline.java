package org.memwall.plan;

import org.memwall.gguf.GgmlType;
import org.memwall.model.ModelConfig;

/**
 * Time of one forward step of a replica ({@code tp} devices) from bytes and FLOPs, its kernel classes
 * (dense products, expert products, the logits' product, attention) one after another, each at its own roofline:
 * <pre>
 *   t = [max(dense bytes / (η_bw · BW), dense flops / (η_c · R)) + max(expert bytes / (η_bw · BW), expert flops / (η_e · R))
 *        + max(output bytes / (η_bw · BW), logits flops / (η_c · R))
 *        + max(KV bytes / (η_bw · BW), attention flops / (η_c · R_bf16))] / tp + layers · t_layer + all-reduce
 * </pre>
 * Bytes are the weights a step touches (every dense matrix; of a MoE layer's experts the expected
 * share used by B tokens, 1 − (1 − k/E)^B) plus the KV cache each sequence attends to (sliding-window
 * layers cap it at the window). FLOPs are 2 per weight a token uses plus 4 · heads · head size per
 * attended position; the output matrix multiplies only the tokens that need logits (each decoding
 * token, a prompt's last). With tp &gt; 1 every layer adds two all-reduces of the step's activations,
 * each moving 2(tp−1)/tp of them over the link. A measured machine reads each format at its kernels'
 * measured rates instead of the bandwidth and matrix rate, and attends at memwall's measured attention rate.
 */
public final class Roofline {
    private final ModelSpec model;
    private final Hardware hw;
    private final Efficiency eff;
    private final int tp;
    private final long weightBytes;
    /** Seconds to read every weight read each step, every expert, and the output matrix, at the stream rates. */
    private final double denseSeconds;
    private final double expertSeconds;
    private final double logitsSeconds;
    /** Matrix seconds per token at the matrix rates: dense matrices, experts at their used share, the output matrix. */
    private final double denseMatrixSeconds;
    private final double expertMatrixSeconds;
    private final double logitsMatrixSeconds;
    /** Bytes of the weights read each step, of every expert and of the output matrix; FLOPs per token of each. */
    private final double denseBytes;
    private final double expertBytes;
    private final double logitsBytes;
    private final double denseFlops;
    private final double expertFlops;
    private final double logitsFlops;
    private final double kvBytesPerPosition;
    private final double attentionRate;
    private final double promptAttentionRate;
    private final int[] windows;
    /** Parallel operations of one layer and step on a measured machine: its matrix products (experts: those a token uses) and attention. */
    private final int operationsPerLayer;

    public Roofline(ModelSpec model, WeightType type, KvType kv, Hardware hw, Efficiency eff, int tp) {
        this.model = model;
        this.hw = hw;
        this.eff = eff;
        this.tp = tp;
        ModelConfig c = model.config();
        double used = c.expertCount() > 0 ? (double) c.expertUsedCount() / c.expertCount() : 1;
        boolean tied = model.tiedEmbeddings();
        long bytes = 0;
        double dense = 0;
        double experts = 0;
        double denseMatrix = 0;
        double expertMatrix = 0;
        double denseRead = 0;
        double expertRead = 0;
        double denseF = 0;
        double expertF = 0;
        double logits = 0;
        double logitsMatrix = 0;
        double logitsRead = 0;
        double logitsF = 0;
        for (ModelSpec.Matrix m : model.tensors()) {
            long b = type.bytes(m, model);
            bytes += b;
            if (m.role() == ModelSpec.Role.SMALL || (m.role() == ModelSpec.Role.EMBEDDING && !tied)) {
                continue; // norms and biases are noise; an untied embedding is one row per token
            }
            GgmlType format = type.format(m, model);
            boolean expert = m.role() == ModelSpec.Role.EXPERTS;
            double f = 2.0 * m.elements() * (expert ? used : 1);
            if (m.role() == ModelSpec.Role.OUTPUT || m.role() == ModelSpec.Role.EMBEDDING) { // the output matrix, or the tied embedding as it
                logitsRead += b;
                logitsF += f;
                logits += b / hw.streamRate(format);
                logitsMatrix += f / hw.matrixRate(type.compute(), format);
            } else if (expert) {
                expertRead += b;
                expertF += f;
                experts += b / hw.streamRate(format);
                expertMatrix += f / hw.matrixRate(type.compute(), format);
            } else {
                denseRead += b;
                denseF += f;
                dense += b / hw.streamRate(format);
                denseMatrix += f / hw.matrixRate(type.compute(), format);
            }
        }
        this.weightBytes = bytes;
        this.denseSeconds = dense;
        this.expertSeconds = experts;
        this.denseMatrixSeconds = denseMatrix;
        this.expertMatrixSeconds = expertMatrix;
        this.denseBytes = denseRead;
        this.expertBytes = expertRead;
        this.denseFlops = denseF;
        this.expertFlops = expertF;
        this.logitsSeconds = logits;
        this.logitsMatrixSeconds = logitsMatrix;
        this.logitsBytes = logitsRead;
        this.logitsFlops = logitsF;
        this.kvBytesPerPosition = (double) (c.keyDim() + c.kvValueDim()) * kv.bytes;
        // A measured machine's attention runs at memwall's measured attention rate; an accelerator's at its BF16 matrix rate.
        this.attentionRate = hw.measured() ? hw.attentionRate() : hw.matrixRate(Precision.BF16, GgmlType.F16);
        // A measured machine's prompt tokens attend at the rate measured for a prompt (many tokens share the work).
        this.promptAttentionRate = hw.measured() && !Double.isNaN(hw.promptAttentionRate()) ? hw.promptAttentionRate() : attentionRate;
        int products = (int) model.tensors().stream().filter(m -> m.layer() == 0 && m.role() != ModelSpec.Role.SMALL
                && m.role() != ModelSpec.Role.EXPERTS).count();
        long expertMatrices = model.tensors().stream().filter(m -> m.layer() == 0 && m.role() == ModelSpec.Role.EXPERTS && m.dims().length == 3).count();
        this.operationsPerLayer = products + (int) expertMatrices * c.expertUsedCount() + 1;
        this.windows = new int[c.blockCount()];
        for (int il = 0; il < windows.length; il++) {
            windows[il] = c.isSliding(il) ? c.slidingWindow() : 0;
        }
    }

    public long weightBytes() {
        return weightBytes;
    }

    /** KV bytes a sequence holds at {@code context} positions, all layers (windows capped). */
    public double kvBytes(double context) {
        double positions = 0;
        for (int w : windows) {
            positions += w > 0 ? Math.min(context, w) : context;
        }
        return positions * kvBytesPerPosition;
    }

    /** Attention FLOPs of one token at {@code context}: QK and AV over the attended positions. */
    double attentionFlops(double context) {
        ModelConfig c = model.config();
        double positions = 0;
        for (int w : windows) {
            positions += w > 0 ? Math.min(context, w) : context;
        }
        return 4.0 * c.headCount() * c.headDim() * positions;
    }

    /** FLOPs of one decode step of {@code batch} sequences at {@code context}, the whole replica. */
    public double decodeFlops(int batch, double context) {
        return batch * (denseFlops + expertFlops + logitsFlops + attentionFlops(context));
    }

    /** Bytes one decode step reads from memory, the whole replica: weights it uses and every sequence's KV cache. */
    public double decodeBytes(int batch, double context) {
        return denseBytes + logitsBytes + expertBytes * expertShare(batch) + batch * kvBytes(context);
    }

    /** FLOPs of a prompt of {@code tokens} tokens in one pass (logits of its last token only). */
    public double prefillFlops(int tokens) {
        return tokens * (denseFlops + expertFlops + attentionFlops(meanContext(tokens))) + logitsFlops;
    }

    /** Bytes a prompt's pass reads: the weights its tokens use (the KV it writes is left out, as in the step time). */
    public double prefillBytes(int tokens) {
        return denseBytes + logitsBytes + expertBytes * expertShare(tokens);
    }

    /** Expected share of a MoE layer's experts that {@code tokens} tokens use. */
    double expertShare(double tokens) {
        ModelConfig c = model.config();
        if (c.expertCount() == 0) {
            return 0;
        }
        return 1 - Math.pow(1 - (double) c.expertUsedCount() / c.expertCount(), tokens);
    }

    /** One decode step of {@code batch} sequences each attending to {@code context} positions. */
    public double decodeStep(int batch, double context) {
        if (hw.measured() && batch == 1) {
            // One token runs the one-token kernels, whose measured stream rates include their arithmetic; attention follows them.
            double products = denseSeconds + expertSeconds * expertShare(1) + logitsSeconds;
            return (products / eff.bandwidth() + attention(1, context, 0, 0)) / tp + overhead(batch, batch);
        }
        return step(batch, context, 0, 0);
    }

    /** Prefill of {@code tokens} prompt tokens of one sequence in one pass (attention over a growing context). */
    public double prefill(int tokens) {
        return step(0, 0, tokens, meanContext(tokens));
    }

    /**
     * One step of continuous batching: {@code batch} sequences decode one token each at {@code context}
     * while {@code prefillTokens} prompt tokens (attending over {@code prefillContext} positions on average)
     * ride in the same step. Its kernels run one after another, each bound by its own resource:
     * <pre>
     *   dense     = max(dense weights / (η_bw · BW), T · dense FLOPs / (η_c · R))             T = batch + prefill tokens
     *   experts   = max(experts · share(T) / (η_bw · BW), T · used expert FLOPs / (η_e · R))
     *   logits    = max(output matrix / (η_bw · BW), L · its FLOPs / (η_c · R))              L = batch + min(prefill tokens, 1)
     *   attention = max(batch · KV(context) / (η_bw · BW), attention FLOPs / (η_c · R_bf16))
     *   step      = (dense + experts + logits + attention) / tp + overhead(B, T)
     *   overhead  = layers · t_layer + B · t_sequence (+ a measured machine's dispatches, tp's all-reduces)
     * </pre>
     * Summing per kernel class matters where the classes are bound by different resources: at a large
     * batch the weight products are compute-bound while decode attention streams every sequence's KV.
     * Logits are computed for the decoding tokens and a prompt's last token only (engines, and memwall,
     * do not multiply a prompt's other positions by the output matrix); the prompts finishing in a step are
     * counted as at most one, a difference of less than one row beside a batch's B.
     */
    public double step(int batch, double context, double prefillTokens, double prefillContext) {
        double tokens = batch + prefillTokens;
        double logitTokens = batch + Math.min(prefillTokens, 1);
        double dense = Math.max(denseSeconds / eff.bandwidth(), tokens * denseMatrixSeconds / eff.compute());
        double experts = Math.max(expertSeconds * expertShare(tokens) / eff.bandwidth(), expertRows(tokens) * expertMatrixSeconds / eff.expertCompute());
        double logits = Math.max(logitsSeconds / eff.bandwidth(), logitTokens * logitsMatrixSeconds / eff.compute());
        return (dense + experts + logits + attention(batch, context, prefillTokens, prefillContext)) / tp + overhead(batch, tokens);
    }

    /**
     * Token rows the expert products of {@code tokens} tokens compute: each active expert's rows (the tokens routed to it,
     * T · k / active experts on average) rounded up to {@value #EXPERT_ROW_BLOCK}, counted in tokens. A device's expert
     * products are grouped GEMMs whose token dimension is tiled: Hopper runs gpt-oss's experts on TensorRT-LLM's Triton MoE
     * backend (its published benchmark options), and Triton's {@code tl.dot} takes blocks of at least 16 in every dimension,
     * so an expert that gets 7 tokens (gpt-oss-120b's 128 experts at a long output's ~220 tokens per step) computes 16.
     * A measured machine's experts run memwall's CPU kernels, which compute the rows they get.
     */
    double expertRows(double tokens) {
        ModelConfig c = model.config();
        if (hw.measured() || c.expertCount() == 0 || tokens <= 0) {
            return tokens;
        }
        double active = c.expertCount() * expertShare(tokens);
        double perExpert = tokens * c.expertUsedCount() / active;
        return tokens * Math.ceil(perExpert / EXPERT_ROW_BLOCK) * EXPERT_ROW_BLOCK / perExpert;
    }

    /** The smallest block of token rows a device's expert product computes (Triton's smallest dot block). */
    static final int EXPERT_ROW_BLOCK = 16;

    /** Attention of a step: the decoding sequences' KV reads against every token's attention FLOPs. */
    private double attention(int batch, double context, double prefillTokens, double prefillContext) {
        double seconds = batch * attentionFlops(context) / attentionRate
                + (prefillTokens > 0 ? prefillTokens * attentionFlops(prefillContext) / promptAttentionRate : 0);
        return Math.max(batch * kvBytes(context) / hw.bandwidth() / eff.bandwidth(), seconds / eff.compute());
    }

    /** Mean attended positions over a prompt (each position sees those before it); windows are applied in attentionFlops. */
    static double meanContext(int tokens) {
        return (tokens + 1) / 2.0;
    }

    /** The step's fixed costs: per layer, per decoding sequence, a measured machine's dispatches, tensor parallelism's all-reduces. */
    private double overhead(int batch, double tokens) {
        double layers = model.config().blockCount();
        double t = layers * eff.layerSeconds() + batch * eff.sequenceSeconds();
        if (hw.measured()) {
            t += (layers * operationsPerLayer + 1) * hw.dispatchSeconds(); // and the logits' product
            t += tokens * layers * hw.tokenLayerSeconds(); // norms, RoPE, the activation function, KV stores, copies
        }
        if (tp > 1) {
            double bytes = 2.0 * (tp - 1) / tp * tokens * model.config().embeddingLength() * 2; // BF16 activations
            t += 2 * layers * bytes / hw.link();
        }
        return t;
    }
}
