package org.memwall.synth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;
import org.memwall.gguf.GgufWriter;
import org.memwall.quant.Quantizer;

/**
 * Writes a GGUF file with random weights and the exact shapes, metadata and vocabulary size of a
 * real model ({@link ModelShape}), quantized the way {@code llama-quantize} quantizes that model, so
 * speed measurements and tests never need a download. Weights are uniform with standard deviation
 * 0.02, norms 1, biases and attention sinks 0; the same seed always gives the same file.
 */
public final class SyntheticModel {

    /** A tensor of the file: its name, ggml dims (row length first) and layer (−1 outside the blocks). */
    public record PlannedTensor(String name, long[] dims, int layer) {
        public long elements() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }

        /** Norms, biases, sinks, RoPE factors and the MoE router stay F32, as llama-quantize keeps them. */
        public boolean keptF32() {
            return dims.length == 1 || name.endsWith(".bias") || name.contains("ffn_gate_inp");
        }
    }

    /** The type mixes memwall writes, named and numbered (general.file_type) like llama.cpp's. */
    public enum Mix {
        F32(0), F16(1), BF16(32), Q8_0(7), Q4_0(2), Q4_K_M(15);

        public final int fileType;

        Mix(int fileType) {
            this.fileType = fileType;
        }

        /** The mix called {@code name}; {@code Q4_K} means Q4_K_M. */
        public static Mix parse(String name) {
            String n = name.toUpperCase(Locale.ROOT);
            if (n.equals("Q4_K")) {
                return Q4_K_M;
            }
            for (Mix m : values()) {
                if (m.name().equals(n)) {
                    return m;
                }
            }
            throw new MemwallException("unknown type '" + name + "' (memwall writes: F32, F16, BF16, Q8_0, Q4_0, Q4_K (= Q4_K_M))");
        }
    }

    private static final float STD = 0.02f;
    private static final int CHUNK_BYTES = 32 << 20;

    private SyntheticModel() {
    }

    /** Every tensor of a model of this shape, in file order. */
    public static List<PlannedTensor> tensors(ModelShape s) {
        List<PlannedTensor> out = new ArrayList<>();
        long e = s.embedding();
        long q = (long) s.heads() * s.headDim();
        long kv = (long) s.kvHeads() * s.headDim();
        out.add(new PlannedTensor("token_embd.weight", new long[] {e, s.vocabulary()}, -1));
        out.add(new PlannedTensor("output_norm.weight", new long[] {e}, -1));
        if (!s.tiedEmbeddings()) {
            out.add(new PlannedTensor("output.weight", new long[] {e, s.vocabulary()}, -1));
        }
        if (s.ropeFactors() != null) {
            out.add(new PlannedTensor("rope_freqs.weight", new long[] {s.headDim() / 2}, -1));
        }
        String arch = s.architecture();
        boolean postNormsOnly = arch.equals("exaone4");
        for (int l = 0; l < s.layers(); l++) {
            String b = "blk." + l + ".";
            if (!postNormsOnly) {
                out.add(new PlannedTensor(b + "attn_norm.weight", new long[] {e}, l));
            }
            out.add(new PlannedTensor(b + "attn_q.weight", new long[] {e, q}, l));
            out.add(new PlannedTensor(b + "attn_k.weight", new long[] {e, kv}, l));
            out.add(new PlannedTensor(b + "attn_v.weight", new long[] {e, kv}, l));
            if (arch.equals("qwen2") || arch.equals("gpt-oss")) {
                out.add(new PlannedTensor(b + "attn_q.bias", new long[] {q}, l));
                out.add(new PlannedTensor(b + "attn_k.bias", new long[] {kv}, l));
                out.add(new PlannedTensor(b + "attn_v.bias", new long[] {kv}, l));
            }
            if (arch.equals("qwen3") || arch.equals("exaone4")) {
                out.add(new PlannedTensor(b + "attn_q_norm.weight", new long[] {s.headDim()}, l));
                out.add(new PlannedTensor(b + "attn_k_norm.weight", new long[] {s.headDim()}, l));
            }
            out.add(new PlannedTensor(b + "attn_output.weight", new long[] {q, e}, l));
            if (s.moe()) {
                long x = s.experts();
                long f = s.feedForward();
                out.add(new PlannedTensor(b + "attn_output.bias", new long[] {e}, l));
                out.add(new PlannedTensor(b + "attn_sinks.weight", new long[] {s.heads()}, l));
                out.add(new PlannedTensor(b + "post_attention_norm.weight", new long[] {e}, l));
                out.add(new PlannedTensor(b + "ffn_gate_inp.weight", new long[] {e, x}, l));
                out.add(new PlannedTensor(b + "ffn_gate_inp.bias", new long[] {x}, l));
                out.add(new PlannedTensor(b + "ffn_gate_exps.weight", new long[] {e, f, x}, l));
                out.add(new PlannedTensor(b + "ffn_up_exps.weight", new long[] {e, f, x}, l));
                out.add(new PlannedTensor(b + "ffn_down_exps.weight", new long[] {f, e, x}, l));
                out.add(new PlannedTensor(b + "ffn_gate_exps.bias", new long[] {f, x}, l));
                out.add(new PlannedTensor(b + "ffn_up_exps.bias", new long[] {f, x}, l));
                out.add(new PlannedTensor(b + "ffn_down_exps.bias", new long[] {e, x}, l));
                continue;
            }
            if (postNormsOnly) {
                out.add(new PlannedTensor(b + "post_attention_norm.weight", new long[] {e}, l));
            } else {
                out.add(new PlannedTensor(b + "ffn_norm.weight", new long[] {e}, l));
            }
            out.add(new PlannedTensor(b + "ffn_gate.weight", new long[] {e, s.feedForward()}, l));
            out.add(new PlannedTensor(b + "ffn_up.weight", new long[] {e, s.feedForward()}, l));
            out.add(new PlannedTensor(b + "ffn_down.weight", new long[] {s.feedForward(), e}, l));
            if (postNormsOnly) {
                out.add(new PlannedTensor(b + "post_ffw_norm.weight", new long[] {e}, l));
            }
        }
        return out;
    }

    /**
     * The type llama-quantize gives this tensor under {@code mix}: 1-D tensors, biases and the router
     * stay F32; Q4_0 and Q4_K_M store the output matrix (the token embedding when it is tied) as Q6_K;
     * Q4_K_M also uses Q6_K for attn_v and ffn_down in the first and last eighth of the layers and every
     * third layer between; K-quants fall back to Q5_0 / Q8_0 for rows that are not whole 256-blocks.
     */
    public static GgmlType typeFor(PlannedTensor t, Mix mix, int layers, boolean hasOutput) {
        if (t.keptF32() || mix == Mix.F32) {
            return GgmlType.F32;
        }
        GgmlType type = switch (mix) {
            case F16 -> GgmlType.F16;
            case BF16 -> GgmlType.BF16;
            case Q8_0 -> GgmlType.Q8_0;
            case Q4_0, Q4_K_M -> {
                boolean output = t.name().equals("output.weight") || (!hasOutput && t.name().equals("token_embd.weight"));
                if (output) {
                    yield GgmlType.Q6_K;
                }
                if (mix == Mix.Q4_0) {
                    yield GgmlType.Q4_0;
                }
                boolean moreBits = (t.name().contains("attn_v.weight") || t.name().contains("ffn_down")) && useMoreBits(t.layer(), layers);
                yield moreBits ? GgmlType.Q6_K : GgmlType.Q4_K;
            }
            case F32 -> GgmlType.F32;
        };
        if (t.dims()[0] % type.blockSize != 0) {
            type = switch (type) {
                case Q4_K -> GgmlType.Q5_0;
                case Q6_K -> GgmlType.Q8_0;
                default -> type;
            };
        }
        if (t.dims()[0] % type.blockSize != 0) {
            throw new MemwallException(t.name() + ": rows of " + t.dims()[0] + " do not fit " + type + " blocks");
        }
        return type;
    }

    /** llama.cpp's use_more_bits: the first and last eighth of the layers, and every third in between. */
    static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    /** Writes the model; {@code progress} hears each tensor as it is written. */
    public static void write(ModelShape s, Mix mix, long seed, Path path, Consumer<String> progress) throws IOException {
        write(s, mix, seed, 0, path, progress);
    }

    /**
     * Writes the model; with {@code distinctRows} &gt; 0 each matrix repeats its first
     * {@code distinctRows} rows (quantized once) instead of quantizing every row: the same shapes,
     * types and bytes per token, written in seconds — for speed measurements, where the values do
     * not matter but the quantizer's search would take minutes per billion weights.
     */
    public static void write(ModelShape s, Mix mix, long seed, int distinctRows, Path path, Consumer<String> progress) throws IOException {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", s.architecture());
        w.putString("general.name", "memwall synthetic " + s.name() + " (random weights, seed " + seed + ")");
        w.putU32("general.file_type", mix.fileType);
        putHyperparameters(w, s);
        SyntheticVocabulary.put(w, s);
        List<PlannedTensor> tensors = tensors(s);
        boolean hasOutput = tensors.stream().anyMatch(t -> t.name().equals("output.weight"));
        for (int i = 0; i < tensors.size(); i++) {
            PlannedTensor t = tensors.get(i);
            GgmlType type = typeFor(t, mix, s.layers(), hasOutput);
            long tensorSeed = seed * 0x9E3779B97F4A7C15L + i;
            w.addTensor(t.name(), type, t.dims(), sink -> {
                progress.accept(t.name() + " " + type);
                writeTensor(s, t, type, tensorSeed, distinctRows, sink);
            });
        }
        w.write(path);
    }

    /** The hyper-parameter keys of a file of this shape, after general.architecture (no vocabulary, no tensors). */
    static void putHyperparameters(GgufWriter w, ModelShape s) {
        String a = s.architecture();
        w.putU32(a + ".context_length", s.contextLength());
        w.putU32(a + ".embedding_length", s.embedding());
        w.putU32(a + ".block_count", s.layers());
        w.putU32(a + ".feed_forward_length", s.feedForward());
        w.putU32(a + ".attention.head_count", s.heads());
        w.putU32(a + ".attention.head_count_kv", s.kvHeads());
        w.putU32(a + ".attention.key_length", s.headDim());
        w.putU32(a + ".attention.value_length", s.headDim());
        w.putF32(a + ".attention.layer_norm_rms_epsilon", s.rmsEpsilon());
        w.putF32(a + ".rope.freq_base", s.ropeBase());
        w.putU32(a + ".rope.dimension_count", s.headDim());
        w.putU32(a + ".vocab_size", s.vocabulary());
        if (s.moe()) {
            w.putU32(a + ".expert_count", s.experts());
            w.putU32(a + ".expert_used_count", s.expertsUsed());
            w.putU32(a + ".expert_feed_forward_length", s.feedForward());
            w.putU32(a + ".attention.sliding_window", s.slidingWindow());
            w.putString(a + ".rope.scaling.type", "yarn");
            w.putF32(a + ".rope.scaling.factor", 32f);
            w.putU32(a + ".rope.scaling.original_context_length", 4096);
        }
    }

    /** Generates and quantizes rows in parallel, a chunk of rows at a time. */
    private static void writeTensor(ModelShape s, PlannedTensor t, GgmlType type, long seed, int distinctRows, GgufWriter.WritableSink sink)
            throws IOException {
        int rowLength = (int) t.dims()[0];
        long rows = t.elements() / rowLength;
        int rowBytes = Math.toIntExact(type.bytesFor(rowLength));
        int chunkRows = (int) Math.max(1, Math.min(rows, CHUNK_BYTES / rowBytes));
        int distinct = distinctRows > 0 && rows > 1 ? (int) Math.min(distinctRows, rows) : 0;
        ByteBuffer pool = distinct > 0 ? quantizeRows(s, t, type, seed, 0, distinct, rowLength, rowBytes) : null;
        for (long first = 0; first < rows; first += chunkRows) {
            int n = (int) Math.min(chunkRows, rows - first);
            ByteBuffer chunk;
            if (pool != null) {
                chunk = ByteBuffer.allocate(n * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    chunk.put(i * rowBytes, pool, (int) ((first + i) % distinct) * rowBytes, rowBytes);
                }
            } else {
                chunk = quantizeRows(s, t, type, seed, first, n, rowLength, rowBytes);
            }
            sink.write(chunk);
        }
    }

    private static ByteBuffer quantizeRows(ModelShape s, PlannedTensor t, GgmlType type, long seed, long first, int n, int rowLength, int rowBytes) {
        ByteBuffer chunk = ByteBuffer.allocate(n * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        IntStream.range(0, n).parallel().forEach(i -> {
            float[] x = row(s, t, first + i, seed, rowLength);
            Quantizer.quantize(type, x, 0, rowLength, chunk.slice(i * rowBytes, rowBytes));
        });
        return chunk;
    }

    private static float[] row(ModelShape s, PlannedTensor t, long row, long seed, int n) {
        float[] x = new float[n];
        String name = t.name();
        if (name.equals("rope_freqs.weight")) {
            return llama3RopeFactors(s);
        }
        if (name.endsWith("norm.weight")) {
            Arrays.fill(x, 1f);
            return x;
        }
        if (name.endsWith(".bias") || name.contains("attn_sinks")) {
            return x;
        }
        SplittableRandom random = new SplittableRandom(seed ^ (row * 0xBF58476D1CE4E5B9L));
        float amplitude = (float) (STD * Math.sqrt(3));
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((random.nextDouble() * 2 - 1) * amplitude);
        }
        return x;
    }

    /**
     * Llama 3's RoPE frequency divisors: 1 for short wavelengths, the scale factor for long ones, a
     * smooth blend between (factor, low- and high-frequency factors and original context from the shape).
     */
    static float[] llama3RopeFactors(ModelShape s) {
        float[] f = s.ropeFactors();
        float factor = f[0];
        float low = f[1];
        float high = f[2];
        float original = f[3];
        double lowWavelength = original / low;
        double highWavelength = original / high;
        int pairs = s.headDim() / 2;
        float[] out = new float[pairs];
        for (int i = 0; i < pairs; i++) {
            double freq = 1.0 / Math.pow(s.ropeBase(), 2.0 * i / s.headDim());
            double wavelength = 2 * Math.PI / freq;
            if (wavelength < highWavelength) {
                out[i] = 1f;
            } else if (wavelength > lowWavelength) {
                out[i] = factor;
            } else {
                double smooth = (original / wavelength - low) / (high - low);
                out[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }
}
