package org.memwall.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;
import org.memwall.model.ForwardPass;
import org.memwall.model.KvCache;
import org.memwall.model.Model;
import org.memwall.model.ModelConfig;
import org.memwall.model.Rope;
import org.memwall.tensor.Tensor;

/**
 * The forward pass on an NVIDIA GPU: the same steps as the CPU's {@code Transformer}, each a kernel
 * of docs/gpu.md over device memory. Weights are uploaded once; activations live in device buffers
 * sized for the largest batch seen; each sequence's keys and values live in device memory
 * ({@link CudaKvCache}). A step's varying inputs (tokens, positions, cache addresses, which rows
 * want logits) are copied to the device in one transfer and every kernel reads them from there, so
 * the whole step for a batch size can be captured once as a CUDA graph and replayed: small batches
 * (decoding) run as one graph launch instead of hundreds of kernel launches.
 */
public final class CudaForward implements ForwardPass {
    /** Batches up to this many tokens run from captured graphs. */
    static final int GRAPH_MAX_TOKENS = 64;

    /** How the backend is set up. */
    public record Options(KvType kvType, boolean graphs, Consumer<String> notices) {
        public static Options defaults(Consumer<String> notices) {
            return new Options(KvType.AUTO, true, notices);
        }
    }

    /** The KV cache's element type: float16, float32, or float32 for float32 models and float16 otherwise. */
    public enum KvType { AUTO, F16, F32 }

    private final CudaDriver cu;
    private final int ordinal;
    private final String deviceName;
    private final ModelConfig c;
    private final DeviceMemory memory;
    private final long stream;
    private final DeviceKernels k;
    private final DeviceWeights w;
    private final Rope rope;
    private final boolean halfKv;
    private final boolean useGraphs;
    private final int vocab;
    private final long weightBytes;
    private final Map<Long, Long> graphs = new HashMap<>();

    private int tokenCapacity;
    private int rowCapacity;
    private long x, xb, q, key, value, att, o, gate, up, routerOut, ids, expertWeights, down, rows, logits;
    private long inputs;
    private MemorySegment hostInputs;
    private MemorySegment hostLogits;
    private boolean closed;

    private CudaForward(CudaDriver cu, int ordinal, Model model, Options options) {
        this.cu = cu;
        this.ordinal = ordinal;
        this.c = model.config();
        cu.makeCurrent(ordinal);
        this.deviceName = cu.device(ordinal).name();
        this.memory = new DeviceMemory(cu);
        this.stream = cu.createStream();
        this.k = new DeviceKernels(cu, stream);
        this.rope = new Rope(c, model.weights().ropeFreqs);
        this.vocab = model.weights().output.rowCount();
        boolean f32Model = model.weights().output.type() == GgmlType.F32 && model.weights().layers[0].wq().type() == GgmlType.F32;
        this.halfKv = switch (options.kvType()) {
            case F16 -> true;
            case F32 -> false;
            case AUTO -> !f32Model;
        };
        this.useGraphs = options.graphs();
        checkHeads();
        try (Uploader up = new Uploader(cu, memory, stream)) {
            this.w = DeviceWeights.upload(up, model.weights(), c, rope);
            this.weightBytes = up.uploadedBytes();
            if (!up.converted().isEmpty()) {
                options.notices().accept("memwall: " + String.join(", ", up.converted())
                        + " tensors converted to Q8_0 for the GPU (no GPU kernel reads them in their own format)");
            }
        }
        try {
            selfCheck(model);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Runs this model's kernels on a few rows of its own weights (every weight format it uses, the
     * experts, attention with its head layout, window and sinks) against their Java references
     * before the first token, so a driver, GPU or kernel that computes wrongly is refused at load —
     * under {@code --device auto} the CPU takes over — instead of producing wrong text.
     */
    private void selfCheck(Model model) {
        java.util.Set<GgmlType> seen = java.util.EnumSet.noneOf(GgmlType.class);
        try (KernelComparison cmp = new KernelComparison(cu, stream, 1)) {
            for (Tensor t : model.weights().matrices()) {
                if (Uploader.deviceType(t.type()) != t.type() || !seen.add(t.type())) {
                    continue;
                }
                int k = t.rowLength();
                long rowBytes = t.type().bytesFor(k);
                if (t.dims().length > 2) {
                    int rows = Math.min(8, t.rowCount() / (int) t.dim(2));
                    MemorySegment two = Arena.ofAuto().allocate(2 * rows * rowBytes, 16);
                    long expertBytes = rowBytes * (t.rowCount() / t.dim(2));
                    MemorySegment.copy(t.data(), 0, two, 0, rows * rowBytes);
                    MemorySegment.copy(t.data(), t.dim(2) > 1 ? expertBytes : 0, two, rows * rowBytes, rows * rowBytes);
                    double[] e = cmp.moeMatmul(two, t.type(), k, rows, 2);
                    require("moe_matmul_" + ReferenceKernels.suffix(t.type()), Math.max(e[0], e[1]));
                } else {
                    int rows = Math.min(16, t.rowCount());
                    KernelComparison.MatmulResult r = cmp.matmul(t.data().asSlice(0, rows * rowBytes), t.type(), k, rows, new int[] {1, 3});
                    require("matmul_" + ReferenceKernels.suffix(t.type()), Math.max(r.errors()[0], r.errors()[1]));
                    require("dequant_rows_" + ReferenceKernels.suffix(t.type()), r.dequantError());
                    if (!r.batchInvariant()) {
                        throw new CudaException("GPU self-check failed: matmul_" + ReferenceKernels.suffix(t.type())
                                + " gives a token other results alone than in a batch; not using " + device(), -1);
                    }
                }
            }
            int window = c.slidingWindow() > 0 ? Math.min(c.slidingWindow(), 24) : 0;
            require(halfKv ? "attention_f16" : "attention_f32",
                    cmp.attention(halfKv, c.headCount(), c.headCountKv(), c.headDim(), 70, window, c.architecture().attentionSinks()));
        }
    }

    private void require(String kernel, double error) {
        if (!(error <= 1e-4)) {
            throw new CudaException(String.format(java.util.Locale.ROOT,
                    "GPU self-check failed: %s differs from memwall's CPU reference (relative error %.1e); not using %s", kernel, error, device()), -1);
        }
    }

    /**
     * Uploads {@code model} to device {@code ordinal} and returns its forward pass, or fails with one
     * line naming the problem (too little memory, kernels the driver cannot load). Nothing stays
     * allocated after a failure.
     */
    public static CudaForward load(CudaDriver cu, int ordinal, Model model, Options options) {
        cu.makeCurrent(ordinal);
        long need = weightBytesOnDevice(model) + (256L << 20);
        long free = cu.memoryInfo()[0];
        if (need > free) {
            throw new CudaException(String.format(java.util.Locale.ROOT, "the model needs %.2f GiB of GPU memory, cuda:%d has %.2f GiB free",
                    need / (double) (1L << 30), ordinal, free / (double) (1L << 30)), CudaException.OUT_OF_MEMORY);
        }
        return new CudaForward(cu, ordinal, model, options);
    }

    /** Bytes the model's matrices take on the device (after any conversion), norms and biases aside. */
    public static long weightBytesOnDevice(Model model) {
        long bytes = 0;
        for (Tensor t : model.weights().matrices()) {
            bytes += Uploader.deviceType(t.type()).bytesFor((long) t.rowLength() * t.rowCount());
        }
        return bytes;
    }

    private void checkHeads() {
        if (c.headDim() > 256 || c.valueDim() > 256) {
            throw new CudaException("the GPU attention kernel handles heads of up to 256 values; this model's are " + c.headDim(), -1);
        }
    }

    /** Bytes of device memory this pass holds (weights, activations, caches). */
    public long deviceBytes() {
        return memory.bytes();
    }

    public long weightBytes() {
        return weightBytes;
    }

    /** The device's copy bandwidth (bytes read plus written per second), measured now over 256 MiB. */
    public synchronized double copyBandwidth() {
        cu.makeCurrent(ordinal);
        return Devices.copyBandwidth(cu, 256L << 20, 10);
    }

    public boolean halfKv() {
        return halfKv;
    }

    public int vocabularySize() {
        return vocab;
    }

    @Override
    public float[] hiddenStates(int[] tokens, int[] positions, KvCache[] caches, boolean[] want) {
        throw new org.memwall.MemwallException("embeddings are not yet supported on the GPU; serve embeddings with --device cpu");
    }

    @Override
    public String device() {
        return "cuda:" + ordinal + " (" + deviceName + ")";
    }

    @Override
    public synchronized KvCache newCache(int capacity) {
        return new CudaKvCache(this, capacity, (long) c.blockCount() * c.keyDim() * kvElementBytes(), (long) c.blockCount() * c.kvValueDim() * kvElementBytes());
    }

    private int kvElementBytes() {
        return halfKv ? 2 : 4;
    }

    @Override
    public long kvBytesPerPosition() {
        return (long) c.blockCount() * (c.keyDim() + c.kvValueDim()) * kvElementBytes();
    }

    @Override
    public synchronized long kvMemoryFree() {
        cu.makeCurrent(ordinal);
        return cu.memoryInfo()[0];
    }

    /** Moves a cache to larger arrays (device to device) and frees the old ones; returns the new addresses. */
    synchronized long[] growCache(long keys, long values, long keyBytes, long valueBytes, long newKeyBytes, long newValueBytes) {
        cu.makeCurrent(ordinal);
        long nk = memory.alloc(newKeyBytes);
        long nv;
        try {
            nv = memory.alloc(newValueBytes);
        } catch (CudaException e) {
            memory.free(nk);
            throw e;
        }
        if (keyBytes > 0) {
            cu.copyOnDevice(nk, keys, keyBytes, stream);
            cu.copyOnDevice(nv, values, valueBytes, stream);
            cu.synchronize(stream);
        }
        releaseCache(keys, values);
        return new long[] {nk, nv};
    }

    /** Copies the first bytes of one cache's keys and values into another's, device to device. */
    synchronized void copyCache(long keys, long fromKeys, long keyBytes, long values, long fromValues, long valueBytes) {
        cu.makeCurrent(ordinal);
        cu.copyOnDevice(keys, fromKeys, keyBytes, stream);
        cu.copyOnDevice(values, fromValues, valueBytes, stream);
        cu.synchronize(stream);
    }

    synchronized void releaseCache(long keys, long values) {
        if (closed) {
            return;
        }
        cu.makeCurrent(ordinal);
        if (keys != 0) {
            memory.free(keys);
        }
        if (values != 0) {
            memory.free(values);
        }
    }

    @Override
    public synchronized float[] forward(int[] tokens, int[] positions, KvCache[] caches, boolean[] wantLogits) {
        int count = step(tokens, positions, caches, wantLogits, false);
        long bytes = (long) count * vocab * 4;
        if (bytes > 0) {
            cu.copyToHost(hostLogits, logits, bytes, stream);
        }
        cu.synchronize(stream);
        float[] out = new float[count * vocab];
        MemorySegment.copy(hostLogits, ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
        return out;
    }

    /** Greedy decoding on the device: the argmax kernel picks each wanted row's token; only ids come back. */
    @Override
    public synchronized int[] argmax(int[] tokens, int[] positions, KvCache[] caches, boolean[] wantLogits) {
        int count = step(tokens, positions, caches, wantLogits, true);
        if (count > 0) {
            cu.copyToHost(hostLogits, ids(), count * 4L, stream);
        }
        cu.synchronize(stream);
        int[] out = new int[count];
        MemorySegment.copy(hostLogits, ValueLayout.JAVA_INT, 0, out, 0, count);
        return out;
    }

    /** Issues one step (inputs, then the graph or the kernels) and returns how many rows want logits. */
    private int step(int[] tokens, int[] positions, KvCache[] caches, boolean[] wantLogits, boolean argmax) {
        if (closed) {
            throw new IllegalStateException("forward pass used after close");
        }
        int n = tokens.length;
        if (n == 0 || positions.length != n || caches.length != n || wantLogits.length != n) {
            throw new IllegalArgumentException("a batch needs as many positions, caches and flags as tokens");
        }
        cu.makeCurrent(ordinal);
        int count = 0;
        for (int t = 0; t < n; t++) {
            if (tokens[t] < 0 || tokens[t] >= w.tokenEmbedding.rows()) {
                throw new MemwallException("token id " + tokens[t] + " is outside the vocabulary of " + w.tokenEmbedding.rows());
            }
            if (!(caches[t] instanceof CudaKvCache kv) || kv.owner() != this) {
                throw new IllegalArgumentException("a KV cache from another forward pass");
            }
            kv.reserve(positions[t]);
            count += wantLogits[t] ? 1 : 0;
        }
        ensureCapacity(n, count);
        int cap = tokenCapacity;
        int r = 0;
        for (int t = 0; t < n; t++) {
            CudaKvCache kv = (CudaKvCache) caches[t];
            hostInputs.setAtIndex(ValueLayout.JAVA_LONG, t, kv.keys());
            hostInputs.setAtIndex(ValueLayout.JAVA_LONG, cap + t, kv.values());
            hostInputs.setAtIndex(ValueLayout.JAVA_INT, 4L * cap + t, tokens[t]);
            hostInputs.setAtIndex(ValueLayout.JAVA_INT, 5L * cap + t, positions[t]);
            if (wantLogits[t]) {
                hostInputs.setAtIndex(ValueLayout.JAVA_INT, 6L * cap + r++, t);
            }
        }
        cu.copyToDevice(inputs, hostInputs, 28L * cap, stream);
        if (useGraphs && n <= GRAPH_MAX_TOKENS) {
            long key = ((long) n << 33) | ((long) count << 1) | (argmax ? 1 : 0);
            Long exec = graphs.get(key);
            if (exec == null) {
                exec = capture(n, count, argmax);
                graphs.put(key, exec);
            }
            cu.launchGraph(exec, stream);
        } else {
            encode(n, count, argmax);
        }
        return count;
    }

    private long capture(int n, int count, boolean argmax) {
        cu.beginCapture(stream);
        long graph;
        try {
            encode(n, count, argmax);
        } finally {
            graph = cu.endCapture(stream);
        }
        try {
            return cu.instantiate(graph);
        } finally {
            cu.destroyGraph(graph);
        }
    }

    private long kbase() {
        return inputs;
    }

    private long vbase() {
        return inputs + 8L * tokenCapacity;
    }

    private long tokenIds() {
        return inputs + 16L * tokenCapacity;
    }

    private long positions() {
        return inputs + 20L * tokenCapacity;
    }

    private long logitRows() {
        return inputs + 24L * tokenCapacity;
    }

    /** Where the argmax kernel writes the greedy ids: after the step's inputs. */
    private long ids() {
        return inputs + 28L * tokenCapacity;
    }

    /**
     * Issues one forward step of {@code n} tokens, {@code count} of which want logits (or, with
     * {@code argmax}, their greedy token ids), on the stream.
     */
    private void encode(int n, int count, boolean argmax) {
        int d = c.embeddingLength();
        k.dequantRows(w.tokenEmbedding, tokenIds(), x, n, c.embeddingScale());
        for (int il = 0; il < c.blockCount(); il++) {
            DeviceWeights.Layer l = w.layers[il];
            normOrCopy(x, l.attnNorm(), xb, n);
            project(l.wq(), l.bq(), xb, n, q);
            project(l.wk(), l.bk(), xb, n, key);
            project(l.wv(), l.bv(), xb, n, value);
            if (l.qNorm() != 0) {
                k.rmsNorm(q, l.qNorm(), q, n * c.headCount(), c.headDim(), c.rmsEps());
                k.rmsNorm(key, l.kNorm(), key, n * c.headCountKv(), c.headDim(), c.rmsEps());
            }
            if (c.usesRope(il)) {
                k.rope(q, positions(), n, c.headCount(), c.headDim(), c.ropeDim(), rope.neox(), w.ropeInvFreq, w.ropeRamp, rope.scale(), rope.magnitude());
                k.rope(key, positions(), n, c.headCountKv(), c.headDim(), c.ropeDim(), rope.neox(), w.ropeInvFreq, w.ropeRamp, rope.scale(), rope.magnitude());
            }
            k.kvStore(halfKv, key, value, kbase(), vbase(), positions(), n, il, c.blockCount(), c.keyDim(), c.kvValueDim());
            k.attention(halfKv, q, att, kbase(), vbase(), positions(), n, il, c.blockCount(), c.headCount(), c.headCountKv(),
                    c.headDim(), c.valueDim(), c.kqScale(), c.isSliding(il) ? c.slidingWindow() : 0, l.sinks());
            project(l.wo(), l.bo(), att, n, o);
            if (l.postAttnNorm() != 0) {
                k.rmsNorm(o, l.postAttnNorm(), o, n, d, c.rmsEps());
            }
            k.addScaled(x, o, (long) n * d, c.residualScale());
            normOrCopy(x, l.ffnNorm(), xb, n);
            if (c.architecture().moe()) {
                experts(l, n);
            } else {
                k.matmul(l.gate(), xb, gate, n);
                k.matmul(l.up(), xb, up, n);
                k.swiglu(gate, up, (long) n * l.gate().rows());
                k.matmul(l.down(), gate, o, n);
            }
            if (l.postFfnNorm() != 0) {
                k.rmsNorm(o, l.postFfnNorm(), o, n, d, c.rmsEps());
            }
            k.addScaled(x, o, (long) n * d, c.residualScale());
        }
        if (count > 0) {
            k.gatherRows(x, logitRows(), rows, count, d);
            k.rmsNorm(rows, w.outputNorm, rows, count, d, c.rmsEps());
            k.matmul(w.output, rows, logits, count);
            if (c.logitScale() != 1f) {
                k.scale(logits, (long) count * vocab, 1f / c.logitScale());
            }
            if (argmax) {
                k.argmax(logits, vocab, count, ids());
            }
        }
    }

    private void experts(DeviceWeights.Layer l, int n) {
        int used = c.expertUsedCount();
        int pairs = n * used;
        k.matmul(l.router(), xb, routerOut, n);
        k.moeRoute(routerOut, l.routerBias(), n, c.expertCount(), used, ids, expertWeights);
        k.moeMatmul(l.gateExps(), xb, ids, gate, pairs, used, false);
        k.moeMatmul(l.upExps(), xb, ids, up, pairs, used, false);
        k.moeGlu(gate, up, l.gateExpsBias(), l.upExpsBias(), ids, pairs, c.feedForwardLength());
        k.moeMatmul(l.downExps(), gate, ids, down, pairs, used, true);
        k.moeCombine(down, l.downExpsBias(), ids, expertWeights, o, n, c.embeddingLength(), used);
    }

    private void normOrCopy(long in, long weight, long out, int n) {
        int d = c.embeddingLength();
        if (weight == 0) {
            cu.copyOnDevice(out, in, (long) n * d * 4, stream);
        } else {
            k.rmsNorm(in, weight, out, n, d, c.rmsEps());
        }
    }

    private void project(DeviceMatrix weight, long bias, long in, int n, long out) {
        k.matmul(weight, in, out, n);
        if (bias != 0) {
            k.addBias(out, bias, n, weight.rows());
        }
    }

    /** Sizes the activation buffers for {@code n} tokens and {@code count} logits rows (growing only). */
    private void ensureCapacity(int n, int count) {
        if (n <= tokenCapacity && count <= rowCapacity) {
            return;
        }
        freeActivations();
        int cap = Math.max(8, Integer.highestOneBit(Math.max(n, 1) - 1) << 1);
        int rowCap = Math.max(cap, count);
        int d = c.embeddingLength();
        int ff = c.feedForwardLength();
        int per = c.architecture().moe() ? c.expertUsedCount() : 1;
        x = f32(cap, d);
        xb = f32(cap, d);
        q = f32(cap, c.queryDim());
        key = f32(cap, c.keyDim());
        value = f32(cap, c.kvValueDim());
        att = f32(cap, (long) c.headCount() * c.valueDim());
        o = f32(cap, d);
        gate = f32((long) cap * per, ff);
        up = f32((long) cap * per, ff);
        if (c.architecture().moe()) {
            routerOut = f32(cap, c.expertCount());
            ids = f32(cap, per);
            expertWeights = f32(cap, per);
            down = f32((long) cap * per, d);
        }
        rows = f32(rowCap, d);
        logits = f32(rowCap, vocab);
        inputs = memory.alloc(32L * cap);
        hostInputs = cu.allocHost(28L * cap);
        hostLogits = cu.allocHost((long) rowCap * vocab * 4);
        tokenCapacity = cap;
        rowCapacity = rowCap;
    }

    private long f32(long count, long width) {
        return memory.alloc(count * width * 4);
    }

    private void freeActivations() {
        for (long exec : graphs.values()) {
            cu.destroyGraphExec(exec);
        }
        graphs.clear();
        if (tokenCapacity == 0) {
            return;
        }
        for (long p : new long[] {x, xb, q, key, value, att, o, gate, up, routerOut, ids, expertWeights, down, rows, logits, inputs}) {
            if (p != 0) {
                memory.free(p);
            }
        }
        x = xb = q = key = value = att = o = gate = up = routerOut = ids = expertWeights = down = rows = logits = inputs = 0;
        cu.freeHost(hostInputs);
        cu.freeHost(hostLogits);
        tokenCapacity = rowCapacity = 0;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        cu.makeCurrent(ordinal);
        try {
            cu.synchronize(stream);
            freeActivations();
        } finally {
            closed = true;
            memory.close();
        }
    }
}
