package org.memwall.synth;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.memwall.MemwallException;
import org.memwall.gguf.GgufWriter;
import org.memwall.model.ModelConfig;

/**
 * The hyper-parameters of a real model: everything that decides tensor shapes, metadata and the
 * size and kind of its vocabulary, so a random-weight file of the same shapes costs what the real one
 * costs to run. Figures are those of the published GGUF conversions.
 *
 * @param specials    the family's named special tokens, placed right after the regular tokens
 * @param ropeFactors Llama 3 frequency scaling {factor, low, high, original context}, or null
 */
public record ModelShape(String name, String architecture, int layers, int embedding, int heads, int kvHeads, int headDim,
                         int feedForward, int vocabulary, int regularTokens, boolean tiedEmbeddings, int contextLength,
                         float ropeBase, float rmsEpsilon, String preTokenizer, List<String> specials, int bos, int eos,
                         float[] ropeFactors, int experts, int expertsUsed, int slidingWindow) {

    private static final Map<String, ModelShape> KNOWN = new LinkedHashMap<>();

    static {
        List<String> llama3 = List.of("<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>", "<|start_header_id|>",
                "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>");
        List<String> qwen = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
                "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
                "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
                "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>");
        add(new ModelShape("llama-3.2-1b", "llama", 16, 2048, 32, 8, 64, 8192, 128256, 128000, true, 131072,
                500000f, 1e-5f, "llama-bpe", llama3, 128000, 128009, new float[] {32f, 1f, 4f, 8192f}, 0, 0, 0));
        add(new ModelShape("llama-3.1-8b", "llama", 32, 4096, 32, 8, 128, 14336, 128256, 128000, false, 131072,
                500000f, 1e-5f, "llama-bpe", llama3, 128000, 128009, new float[] {8f, 1f, 4f, 8192f}, 0, 0, 0));
        add(new ModelShape("llama-3.1-70b", "llama", 80, 8192, 64, 8, 128, 28672, 128256, 128000, false, 131072,
                500000f, 1e-5f, "llama-bpe", llama3, 128000, 128009, new float[] {8f, 1f, 4f, 8192f}, 0, 0, 0));
        add(new ModelShape("llama-3.1-405b", "llama", 126, 16384, 128, 8, 128, 53248, 128256, 128000, false, 131072,
                500000f, 1e-5f, "llama-bpe", llama3, 128000, 128009, new float[] {8f, 1f, 4f, 8192f}, 0, 0, 0));
        // Llama 2 (the shapes of llama.cpp's published GPU figures): SentencePiece in the real files, written here as
        // byte-level BPE of the same size; the planner reads only the shapes.
        List<String> llama2 = List.of("<unk>", "<s>", "</s>");
        add(new ModelShape("llama-2-7b", "llama", 32, 4096, 32, 32, 128, 11008, 32000, 31997, false, 4096,
                10000f, 1e-5f, "default", llama2, 31998, 31999, null, 0, 0, 0));
        add(new ModelShape("llama-2-70b", "llama", 80, 8192, 64, 8, 128, 28672, 32000, 31997, false, 4096,
                10000f, 1e-5f, "default", llama2, 31998, 31999, null, 0, 0, 0));
        add(new ModelShape("qwen2.5-0.5b", "qwen2", 24, 896, 14, 2, 64, 4864, 151936, 151643, true, 32768,
                1000000f, 1e-6f, "qwen2", qwen, 151643, 151645, null, 0, 0, 0));
        // Qwen2.5-72B: also the shape of SK Telecom's A.X 4.0.
        add(new ModelShape("qwen2.5-72b", "qwen2", 80, 8192, 64, 8, 128, 29568, 152064, 151643, false, 32768,
                1000000f, 1e-6f, "qwen2", qwen, 151643, 151645, null, 0, 0, 0));
        add(new ModelShape("qwen3-0.6b", "qwen3", 28, 1024, 16, 8, 128, 3072, 151936, 151643, true, 40960,
                1000000f, 1e-6f, "qwen2", qwen, 151643, 151645, null, 0, 0, 0));
        add(new ModelShape("exaone-4.0-1.2b", "exaone4", 30, 2048, 32, 8, 64, 4096, 102400, 102393, true, 65536,
                1000000f, 1e-5f, "exaone4", List.of("[PAD]", "[BOS]", "[EOS]", "[UNK]", "<|endofturn|>", "<|system|>", "<|user|>"),
                102394, 102397, null, 0, 0, 0));
        add(new ModelShape("exaone-4.0-32b", "exaone4", 64, 5120, 40, 8, 128, 27392, 102400, 102393, false, 131072,
                1000000f, 1e-5f, "exaone4", List.of("[PAD]", "[BOS]", "[EOS]", "[UNK]", "<|endofturn|>", "<|system|>", "<|user|>"),
                102394, 102397, null, 0, 0, 0));
        List<String> harmony = List.of("<|startoftext|>", "<|endoftext|>", "<|reserved_200000|>", "<|reserved_200001|>",
                "<|return|>", "<|constrain|>", "<|reserved_200004|>", "<|channel|>", "<|start|>", "<|end|>", "<|message|>",
                "<|reserved_200009|>", "<|reserved_200010|>", "<|reserved_200011|>", "<|call|>");
        add(new ModelShape("gpt-oss-120b", "gpt-oss", 36, 2880, 64, 8, 64, 2880, 201088, 199998, false, 131072,
                150000f, 1e-5f, "gpt-4o", harmony, 199998, 200002, null, 128, 4, 128));
        add(new ModelShape("gpt-oss-20b", "gpt-oss", 24, 2880, 64, 8, 64, 2880, 201088, 199998, false, 131072,
                150000f, 1e-5f, "gpt-4o", harmony, 199998, 200002, null, 32, 4, 128));
    }

    private static void add(ModelShape shape) {
        KNOWN.put(shape.name(), shape);
    }

    /** The shape called {@code name}, or an error listing the known ones. */
    public static ModelShape named(String name) {
        ModelShape s = KNOWN.get(name);
        if (s == null) {
            throw new MemwallException("unknown shape '" + name + "' (known: " + String.join(", ", KNOWN.keySet()) + ")");
        }
        return s;
    }

    public static List<String> names() {
        return List.copyOf(KNOWN.keySet());
    }

    /** The hyper-parameters as memwall reads them from a file of this shape (sliding layers, scaling, experts). */
    public ModelConfig config() {
        GgufWriter w = new GgufWriter().putString("general.architecture", architecture);
        SyntheticModel.putHyperparameters(w, this);
        return ModelConfig.from(w.metadata());
    }

    public boolean moe() {
        return experts > 0;
    }

    /** Parameters of every tensor the file holds. */
    public long parameterCount() {
        long total = 0;
        for (SyntheticModel.PlannedTensor t : SyntheticModel.tensors(this)) {
            total += t.elements();
        }
        return total;
    }
}
