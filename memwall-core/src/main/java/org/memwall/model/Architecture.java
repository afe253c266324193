package org.memwall.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import org.memwall.MemwallException;

/**
 * What a model family is, as data: where its norms sit, which RoPE it uses, which optional pieces
 * (QK-norm, µP multipliers, mixture of experts, attention sinks, sliding windows) it has. The one
 * {@link Transformer} reads these flags; adding a family is an entry here plus a conformance test.
 *
 * <p>Norm fields name the per-layer tensor ({@code blk.N.NAME.weight}) or are null when the family
 * has no norm at that place.
 *
 * @param name              GGUF {@code general.architecture}
 * @param models            the released models this entry covers, for {@code memwall info}
 * @param rope              which dimension pairs RoPE rotates
 * @param preAttentionNorm  norm applied to the residual stream before attention
 * @param preFfnNorm        norm applied to the residual stream before the feed-forward block
 * @param postAttentionNorm norm applied to the attention output before it joins the residual
 * @param postFfnNorm       norm applied to the feed-forward output before it joins the residual
 * @param qkNorm            RMSNorm over each head of Q and K (attn_q_norm, attn_k_norm) before RoPE
 * @param multipliers       µP scales from metadata: embedding, residual, attention and logit scale
 * @param moe               gpt-oss mixture of experts: biased router, softmax over the selected experts
 * @param attentionSinks    a learned per-head logit that joins every softmax denominator
 * @param swaPattern        n &gt; 0: layer il uses the sliding window when il % n &lt; n - 1 (only if
 *                          the file sets {@code attention.sliding_window}); 0: no sliding window
 * @param ropeOnSlidingOnly with sliding windows configured, global layers use no RoPE (EXAONE 4.0)
 */
public record Architecture(String name, String models, RopeStyle rope,
                           String preAttentionNorm, String preFfnNorm, String postAttentionNorm, String postFfnNorm,
                           boolean qkNorm, boolean multipliers, boolean moe, boolean attentionSinks,
                           int swaPattern, boolean ropeOnSlidingOnly) {

    private static final Map<String, Architecture> KNOWN = new LinkedHashMap<>();

    static {
        add(new Architecture("llama", "Llama 2/3/3.1/3.2, Kakao Kanana, Upstage Solar, HyperCLOVA X SEED 0.5B/1.5B (llama variant)",
                RopeStyle.NORM, "attn_norm", "ffn_norm", null, null, false, false, false, false, 0, false));
        add(new Architecture("qwen2", "Qwen2/2.5, SK Telecom A.X 4.0",
                RopeStyle.NEOX, "attn_norm", "ffn_norm", null, null, false, false, false, false, 0, false));
        add(new Architecture("qwen3", "Qwen3",
                RopeStyle.NEOX, "attn_norm", "ffn_norm", null, null, true, false, false, false, 0, false));
        add(new Architecture("exaone", "LG EXAONE 3.0/3.5",
                RopeStyle.NEOX, "attn_norm", "ffn_norm", null, null, false, false, false, false, 0, false));
        add(new Architecture("exaone4", "LG EXAONE 4.0 (1.2B, 32B)",
                RopeStyle.NEOX, null, null, "post_attention_norm", "post_ffw_norm", true, false, false, false, 4, true));
        add(new Architecture("granite", "IBM Granite 3.x, HyperCLOVA X SEED-style µP models",
                RopeStyle.NORM, "attn_norm", "ffn_norm", null, null, false, true, false, false, 0, false));
        add(new Architecture("gpt-oss", "OpenAI gpt-oss-20b/120b",
                RopeStyle.NEOX, "attn_norm", "post_attention_norm", null, null, false, false, true, true, 2, false));
    }

    private static void add(Architecture a) {
        KNOWN.put(a.name, a);
    }

    /** The family named by {@code general.architecture}, or an error listing the supported ones. */
    public static Architecture byName(String name) {
        Architecture a = KNOWN.get(name);
        if (a == null) {
            throw new MemwallException("unsupported model architecture '" + name + "' (memwall supports: " + supportedNames() + ")");
        }
        return a;
    }

    public static String supportedNames() {
        StringJoiner j = new StringJoiner(", ");
        KNOWN.keySet().forEach(j::add);
        return j.toString();
    }

    public static Iterable<Architecture> all() {
        return KNOWN.values();
    }
}
