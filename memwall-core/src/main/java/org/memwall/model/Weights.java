package org.memwall.model;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.memwall.MemwallException;
import org.memwall.gguf.GgufFile;
import org.memwall.gguf.TensorInfo;
import org.memwall.tensor.Tensor;

/**
 * The tensors of a model, looked up by llama.cpp's GGUF names and checked against the config's
 * shapes. Matrices stay views of the mapping; norms, biases and sinks (a few KB) are read into
 * float arrays once.
 */
public final class Weights {
    public final Tensor tokenEmbedding;
    public final Tensor output;
    public final float[] outputNorm;
    /** Per-pair RoPE frequency divisors (Llama 3.1 {@code rope_freqs.weight}), or null. */
    public final float[] ropeFreqs;
    public final Layer[] layers;

    /** One transformer block. Fields the family does not have are null. */
    public record Layer(
            float[] attnNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo,
            float[] bq, float[] bk, float[] bv, float[] bo,
            float[] qNorm, float[] kNorm, float[] sinks, float[] postAttnNorm,
            float[] ffnNorm, Tensor gate, Tensor up, Tensor down, float[] postFfnNorm,
            Tensor router, float[] routerBias, Tensor gateExps, Tensor upExps, Tensor downExps,
            float[] gateExpsBias, float[] upExpsBias, float[] downExpsBias) {

        /** The layer's weight matrices the family has (attention, then dense or expert feed-forward). */
        public java.util.List<Tensor> matrices() {
            java.util.List<Tensor> all = new java.util.ArrayList<>();
            for (Tensor t : new Tensor[] {wq, wk, wv, wo, gate, up, down, router, gateExps, upExps, downExps}) {
                if (t != null) {
                    all.add(t);
                }
            }
            return all;
        }
    }

    private Weights(Tensor tokenEmbedding, Tensor output, float[] outputNorm, float[] ropeFreqs, Layer[] layers) {
        this.tokenEmbedding = tokenEmbedding;
        this.output = output;
        this.outputNorm = outputNorm;
        this.ropeFreqs = ropeFreqs;
        this.layers = layers;
    }

    public static Weights load(GgufFile file, ModelConfig c) {
        Loader in = new Loader(file, c.architecture().name());
        Architecture a = c.architecture();
        int d = c.embeddingLength();
        Tensor embd = in.matrix("token_embd.weight", d, -1);
        int vocab = embd.rowCount();
        Tensor out = file.tensorInfo("output.weight") != null ? in.matrix("output.weight", d, vocab) : embd;
        float[] outNorm = in.vector("output_norm.weight", d);
        float[] freqs = file.tensorInfo("rope_freqs.weight") != null ? in.vector("rope_freqs.weight", c.ropeDim() / 2) : null;
        int qDim = c.queryDim();
        int kDim = c.keyDim();
        int vDim = c.kvValueDim();
        int oDim = c.headCount() * c.valueDim();
        Layer[] layers = new Layer[c.blockCount()];
        for (int il = 0; il < layers.length; il++) {
            String p = "blk." + il + ".";
            Tensor gate = null, up = null, down = null, router = null, gateX = null, upX = null, downX = null;
            float[] routerBias = null, gateXb = null, upXb = null, downXb = null;
            int ff = c.feedForwardLength();
            if (a.moe()) {
                int ne = c.expertCount();
                router = in.matrix(p + "ffn_gate_inp.weight", d, ne);
                routerBias = in.optionalVector(p + "ffn_gate_inp.bias", ne);
                gateX = in.experts(p + "ffn_gate_exps.weight", d, ff, ne);
                upX = in.experts(p + "ffn_up_exps.weight", d, ff, ne);
                downX = in.experts(p + "ffn_down_exps.weight", ff, d, ne);
                gateXb = in.optionalVector(p + "ffn_gate_exps.bias", ff * ne);
                upXb = in.optionalVector(p + "ffn_up_exps.bias", ff * ne);
                downXb = in.optionalVector(p + "ffn_down_exps.bias", d * ne);
            } else {
                gate = in.matrix(p + "ffn_gate.weight", d, ff);
                up = in.matrix(p + "ffn_up.weight", d, ff);
                down = in.matrix(p + "ffn_down.weight", ff, d);
            }
            layers[il] = new Layer(
                    a.preAttentionNorm() == null ? null : in.vector(p + a.preAttentionNorm() + ".weight", d),
                    in.matrix(p + "attn_q.weight", d, qDim),
                    in.matrix(p + "attn_k.weight", d, kDim),
                    in.matrix(p + "attn_v.weight", d, vDim),
                    in.matrix(p + "attn_output.weight", oDim, d),
                    in.optionalVector(p + "attn_q.bias", qDim),
                    in.optionalVector(p + "attn_k.bias", kDim),
                    in.optionalVector(p + "attn_v.bias", vDim),
                    in.optionalVector(p + "attn_output.bias", d),
                    a.qkNorm() ? in.vector(p + "attn_q_norm.weight", c.headDim()) : null,
                    a.qkNorm() ? in.vector(p + "attn_k_norm.weight", c.headDim()) : null,
                    a.attentionSinks() ? in.vector(p + "attn_sinks.weight", c.headCount()) : null,
                    a.postAttentionNorm() == null ? null : in.vector(p + a.postAttentionNorm() + ".weight", d),
                    a.preFfnNorm() == null ? null : in.vector(p + a.preFfnNorm() + ".weight", d),
                    gate, up, down,
                    a.postFfnNorm() == null ? null : in.vector(p + a.postFfnNorm() + ".weight", d),
                    router, routerBias, gateX, upX, downX, gateXb, upXb, downXb);
        }
        return new Weights(embd, out, outNorm, freqs, layers);
    }

    /** Makes the CPU's row-interleaved copies of every matrix whose format has one (see {@link Tensor#interleave}); returns their bytes. */
    public long interleave(org.memwall.tensor.Parallel pool) {
        long bytes = 0;
        for (Tensor t : multiplied()) {
            bytes += t.interleave(pool);
        }
        return bytes;
    }

    /** The matrices the forward pass multiplies with, in a fixed order: the output matrix, then each layer's. */
    public java.util.List<Tensor> multiplied() {
        java.util.List<Tensor> all = new java.util.ArrayList<>();
        all.add(output);
        for (Layer l : layers) {
            all.addAll(l.matrices());
        }
        return all;
    }

    /**
     * Every weight matrix once, in file order of use: the token embedding, each layer's matrices, then
     * the output matrix unless it is the embedding (tied).
     */
    public java.util.List<Tensor> matrices() {
        java.util.List<Tensor> all = new java.util.ArrayList<>();
        all.add(tokenEmbedding);
        for (Layer l : layers) {
            all.addAll(l.matrices());
        }
        if (output != tokenEmbedding) {
            all.add(output);
        }
        return all;
    }

    public int vocabularySize() {
        return tokenEmbedding.rowCount();
    }

    /** Looks tensors up and checks their shapes, with errors naming the tensor. */
    private record Loader(GgufFile file, String arch) {
        TensorInfo info(String name) {
            TensorInfo t = file.tensorInfo(name);
            if (t == null) {
                throw new MemwallException("model file " + file.path() + " is missing tensor '" + name + "' required by architecture " + arch);
            }
            return t;
        }

        Tensor tensor(TensorInfo t) {
            MemorySegment data = file.tensorData(t);
            return new Tensor(t.name(), t.type(), t.dims(), data, () -> file.release(data));
        }

        /** A 2-D weight of {@code in} columns and {@code out} rows ({@code out} -1: any). */
        Tensor matrix(String name, int in, int out) {
            TensorInfo t = info(name);
            long[] dims = t.dims();
            if (dims.length > 2 || dims[0] != in || (out >= 0 && (dims.length < 2 ? 1 : dims[1]) != out)) {
                throw shape(name, dims, out >= 0 ? "[" + in + ", " + out + "]" : "[" + in + ", n]");
            }
            return tensor(t);
        }

        Tensor experts(String name, int in, int out, int experts) {
            TensorInfo t = info(name);
            long[] dims = t.dims();
            if (dims.length != 3 || dims[0] != in || dims[1] != out || dims[2] != experts) {
                throw shape(name, dims, "[" + in + ", " + out + ", " + experts + "]");
            }
            return tensor(t);
        }

        float[] vector(String name, int n) {
            TensorInfo t = info(name);
            if (t.elementCount() != n) {
                throw shape(name, t.dims(), "[" + n + "]");
            }
            return tensor(t).toFloats();
        }

        float[] optionalVector(String name, int n) {
            return file.tensorInfo(name) == null ? null : vector(name, n);
        }

        MemwallException shape(String name, long[] dims, String expected) {
            return new MemwallException("tensor '" + name + "' in " + file.path() + " has shape " + Arrays.toString(dims)
                    + ", expected " + expected + " from the model's metadata");
        }
    }
}
