package org.memwall.model;

import org.memwall.MemwallException;
import org.memwall.gguf.GgufMetadata;
import org.memwall.gguf.MetadataValue;
import org.memwall.gguf.ValueType;

/**
 * Hyperparameters of a model, read from GGUF metadata keys {@code {arch}.*}. Values are validated
 * (positive, divisible where the math needs it) so a bad file fails here with the key's name.
 */
public record ModelConfig(
        Architecture architecture,
        int embeddingLength,
        int blockCount,
        int headCount,
        int headCountKv,
        int headDim,
        int valueDim,
        int feedForwardLength,
        int contextLength,
        float rmsEps,
        float ropeBase,
        int ropeDim,
        RopeScaling ropeScaling,
        float embeddingScale,
        float residualScale,
        float attentionScale,
        float logitScale,
        int expertCount,
        int expertUsedCount,
        int slidingWindow,
        boolean[] slidingLayers) {

    /** RoPE context extension: none, linear, or YaRN with its original context length. */
    public record RopeScaling(String type, float factor, int originalContext, float betaFast, float betaSlow) {
        public static final RopeScaling NONE = new RopeScaling("none", 1f, 0, 32f, 1f);
    }

    /** More blocks than any model has (the largest have ~126: Llama 3.1 405B), far below what per-layer arrays can afford. */
    static final int MAX_BLOCKS = 65_536;

    public static ModelConfig from(GgufMetadata md) {
        String archName = md.getString("general.architecture");
        Architecture arch = Architecture.byName(archName);
        String p = archName + ".";
        int nEmbd = positive(md, p + "embedding_length");
        int nLayer = positive(md, p + "block_count");
        if (nLayer > MAX_BLOCKS) {
            // Per-layer arrays are sized by it before any tensor is checked: a 15 KB file claiming 2^30 blocks
            // made the load allocate 5 GB before failing on block 0's first tensor (found by the GGUF fuzzer).
            throw new MemwallException("metadata key '" + p + "block_count' is " + nLayer + ", more than any model has (at most " + MAX_BLOCKS + ")");
        }
        int nHead = uniform(md, p + "attention.head_count", -1);
        int nHeadKv = uniform(md, p + "attention.head_count_kv", nHead);
        if (nHead <= 0 || nHeadKv <= 0 || nHead % nHeadKv != 0) {
            throw new MemwallException("bad head counts: " + p + "attention.head_count = " + nHead + ", head_count_kv = " + nHeadKv
                    + " (must be positive and head_count divisible by head_count_kv)");
        }
        int headDim = md.getCount(p + "attention.key_length", nEmbd / nHead);
        int valueDim = md.getCount(p + "attention.value_length", headDim);
        if (headDim <= 0 || valueDim <= 0 || headDim % 2 != 0) {
            throw new MemwallException("bad head size: " + p + "attention.key_length = " + headDim + " (must be positive and even)");
        }
        int nFf = arch.moe() ? md.getCount(p + "expert_feed_forward_length", 0) : uniform(md, p + "feed_forward_length", 0);
        int ctx = md.getCount(p + "context_length", 2048);
        float eps = md.contains(p + "attention.layer_norm_rms_epsilon")
                ? md.getFloat(p + "attention.layer_norm_rms_epsilon")
                : md.getFloat(p + "attention.layer_norm_epsilon", 1e-5f);
        float base = md.getFloat(p + "rope.freq_base", 10000f);
        int ropeDim = md.getCount(p + "rope.dimension_count", headDim);
        if (ropeDim <= 0 || ropeDim > headDim || ropeDim % 2 != 0) {
            throw new MemwallException("bad " + p + "rope.dimension_count " + ropeDim + " for head size " + headDim);
        }
        RopeScaling scaling = RopeScaling.NONE;
        String scalingType = md.getString(p + "rope.scaling.type", "none");
        float factor = md.getFloat(p + "rope.scaling.factor", 0f);
        if (!scalingType.equals("none") && factor > 0 && factor != 1f) {
            if (!scalingType.equals("linear") && !scalingType.equals("yarn")) {
                throw new MemwallException("unsupported RoPE scaling '" + scalingType + "' (" + p + "rope.scaling.type); memwall supports linear and yarn");
            }
            // llama.cpp uses beta_fast 32 and beta_slow 1 whatever the file says; we follow it.
            scaling = new RopeScaling(scalingType, factor, md.getCount(p + "rope.scaling.original_context_length", ctx), 32f, 1f);
        }
        float attnScale = 0f;
        float embScale = 1f;
        float resScale = 1f;
        float logitScale = 1f;
        if (arch.multipliers()) {
            embScale = md.getFloat(p + "embedding_scale", 1f);
            resScale = md.getFloat(p + "residual_scale", 1f);
            attnScale = md.getFloat(p + "attention.scale", 0f);
            logitScale = md.getFloat(p + "logit_scale", 1f);
            if (logitScale == 0f) {
                throw new MemwallException(p + "logit_scale is 0");
            }
        }
        int nExpert = 0;
        int nExpertUsed = 0;
        if (arch.moe()) {
            nExpert = positive(md, p + "expert_count");
            nExpertUsed = positive(md, p + "expert_used_count");
            if (nExpertUsed > nExpert) {
                throw new MemwallException(p + "expert_used_count " + nExpertUsed + " exceeds expert_count " + nExpert);
            }
        }
        int window = 0;
        boolean[] sliding = new boolean[nLayer];
        if (arch.swaPattern() > 0) {
            window = slidingLayers(md, p, arch, nLayer, sliding);
        }
        return new ModelConfig(arch, nEmbd, nLayer, nHead, nHeadKv, headDim, valueDim, nFf, ctx, eps, base, ropeDim,
                scaling, embScale, resScale, attnScale, logitScale, nExpert, nExpertUsed, window, sliding);
    }

    /** Whether layer {@code il} attends only to the last {@link #slidingWindow} positions. */
    public boolean isSliding(int il) {
        return slidingWindow > 0 && slidingLayers[il];
    }

    /**
     * Marks the sliding-window layers and returns the window. A file may give the layout as
     * {@code attention.sliding_window_pattern}: a per-layer array (true/non-zero = sliding) or a
     * period n (layer il slides when il % n &lt; n - 1); otherwise the family's period applies.
     * EXAONE 4.0 writes no pattern: like llama.cpp, only its 64-layer 32B model slides (window 4096,
     * period 4), whatever window key a smaller model carries.
     */
    private static int slidingLayers(GgufMetadata md, String p, Architecture arch, int nLayer, boolean[] sliding) {
        String patternKey = p + "attention.sliding_window_pattern";
        MetadataValue pattern = md.get(patternKey);
        int window = md.getCount(p + "attention.sliding_window", 0);
        if (pattern == null && arch.ropeOnSlidingOnly()) {
            if (nLayer != 64) {
                return 0;
            }
            window = window > 0 ? window : 4096;
        }
        if (pattern != null && pattern.type() == ValueType.ARRAY) {
            int[] flags = md.getIntArray(patternKey);
            if (flags.length != nLayer) {
                throw new MemwallException(patternKey + " has " + flags.length + " entries for " + nLayer + " layers");
            }
            for (int il = 0; il < nLayer; il++) {
                sliding[il] = flags[il] != 0;
            }
        } else {
            int period = pattern != null ? md.getCount(patternKey) : arch.swaPattern();
            for (int il = 0; il < nLayer; il++) {
                sliding[il] = period > 0 && il % period < period - 1;
            }
        }
        return window;
    }

    /** Whether layer {@code il} applies RoPE (EXAONE 4.0's global layers do not, when windows are on). */
    public boolean usesRope(int il) {
        return !(architecture.ropeOnSlidingOnly() && slidingWindow > 0 && !isSliding(il));
    }

    /** Query scaling before softmax: the file's attention.scale (µP) or 1/sqrt(head size). */
    public float kqScale() {
        return attentionScale != 0f ? attentionScale : (float) (1.0 / Math.sqrt(headDim));
    }

    public int queryDim() {
        return headCount * headDim;
    }

    public int keyDim() {
        return headCountKv * headDim;
    }

    public int kvValueDim() {
        return headCountKv * valueDim;
    }

    private static int positive(GgufMetadata md, String key) {
        int v = md.getCount(key);
        if (v <= 0) {
            throw new MemwallException("metadata key '" + key + "' must be positive, found " + v);
        }
        return v;
    }

    /** A count that some converters write per layer as an array; memwall needs it equal on every layer. */
    private static int uniform(GgufMetadata md, String key, int fallback) {
        MetadataValue v = md.get(key);
        if (v == null) {
            if (fallback < 0) {
                throw new MemwallException("missing metadata key '" + key + "'");
            }
            return fallback;
        }
        if (v.type() != ValueType.ARRAY) {
            return md.getCount(key);
        }
        int[] per = md.getIntArray(key);
        if (per.length == 0) {
            throw new MemwallException("metadata key '" + key + "' is an empty array");
        }
        for (int x : per) {
            if (x != per[0]) {
                throw new MemwallException("metadata key '" + key + "' differs between layers; memwall needs one value for every layer");
            }
        }
        return per[0];
    }
}
