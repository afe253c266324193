package org.memwall.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.memwall.gguf.GgmlType;
import org.memwall.model.ForwardPass;
import org.memwall.model.KvCache;
import org.memwall.model.Model;
import org.memwall.tensor.Tensor;

/**
 * The device check that tools/gpu-check runs on a machine with an NVIDIA GPU: every kernel against
 * its Java reference ({@link ReferenceKernels} through {@link FakeCuda}) on the same inputs, batch
 * invariance of the matrix kernels, end-to-end logits of each model against memwall's CPU forward
 * pass, and the batching curve of aggregate decode. Prints a table per part; exits 1 if any check
 * fails.
 *
 * <p>Usage: {@code GpuCheck [--fake] MODEL_DIR} (MODEL_DIR holds conformance GGUF files and
 * {@code prompt48.txt}) or {@code GpuCheck [--fake] --batching MODEL} (aggregate decode at 1..64
 * streams). {@code --fake} runs against a second FakeCuda, to try it on a machine without a GPU.
 */
public final class GpuCheck {
    private final CudaDriver gpu;
    private final FakeCuda ref = new FakeCuda(8L << 30);
    private final DeviceKernels kg;
    private final DeviceKernels kr;
    private final SplittableRandom random = new SplittableRandom(7);
    private final List<String> failures = new ArrayList<>();

    private GpuCheck(CudaDriver gpu) {
        this.gpu = gpu;
        gpu.makeCurrent(0);
        ref.makeCurrent(0);
        kg = new DeviceKernels(gpu, gpu.createStream());
        kr = new DeviceKernels(ref, ref.createStream());
    }

    public static void main(String[] args) throws Exception {
        // --fake: the whole check against a second FakeCuda, to try the script on a machine without a GPU.
        boolean fake = args[0].equals("--fake");
        if (fake) {
            args = Arrays.copyOfRange(args, 1, args.length);
        }
        CudaDriver cu = fake ? new FakeCuda(8L << 30) : NativeCuda.load();
        GpuCheck check = new GpuCheck(cu);
        if (args[0].equals("--batching")) {
            check.batching(Path.of(args[1]));
            return;
        }
        Path dir = Path.of(args[0]);
        new Devices(() -> cu).describe().forEach(System.out::println);
        check.kernels(dir);
        check.models(dir);
        System.out.println(check.failures.isEmpty() ? "ALL CHECKS PASSED" : "FAILED: " + String.join("; ", check.failures));
        System.exit(check.failures.isEmpty() ? 0 : 1);
    }

    /** A buffer on both sides. */
    private record Twin(long g, long r) {
    }

    private Twin upload(MemorySegment data) {
        long g = gpu.alloc(data.byteSize());
        long r = ref.alloc(data.byteSize());
        gpu.copyToDevice(g, data, data.byteSize(), kg.stream());
        gpu.synchronize(kg.stream());
        ref.copyToDevice(r, data, data.byteSize(), 0);
        return new Twin(g, r);
    }

    private Twin floats(float[] v) {
        return upload(MemorySegment.ofArray(v));
    }

    private Twin ints(int[] v) {
        return upload(MemorySegment.ofArray(v));
    }

    private Twin longs(long[] g, long[] r) {
        Twin t = upload(MemorySegment.ofArray(g));
        MemorySegment.copy(MemorySegment.ofArray(r), 0, ref.at(t.r), 0, r.length * 8L);
        return t;
    }

    /** Output buffers are poisoned with NaN so an unwritten element fails the comparison. */
    private Twin output(long count) {
        float[] nan = new float[Math.toIntExact(count)];
        Arrays.fill(nan, Float.NaN);
        return floats(nan);
    }

    private float[] read(Twin t, int count, boolean fromGpu) {
        MemorySegment host = MemorySegment.ofArray(new float[count]);
        if (fromGpu) {
            gpu.synchronize(kg.stream());
            gpu.copyToHost(host, t.g, count * 4L, kg.stream());
            gpu.synchronize(kg.stream());
        } else {
            MemorySegment.copy(ref.at(t.r), 0, host, 0, count * 4L);
        }
        return host.toArray(JAVA_FLOAT);
    }

    private void free(Twin... ts) {
        for (Twin t : ts) {
            gpu.free(t.g);
            ref.free(t.r);
        }
    }

    private float[] randomFloats(int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }

    static double relativeL2(float[] a, float[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = (double) a[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Double.isNaN(num) ? Double.NaN : Math.sqrt(num / Math.max(den, 1e-30));
    }

    private void report(String what, double error, double tolerance, String extra) {
        boolean ok = error <= tolerance;
        System.out.printf(Locale.ROOT, "  %-44s rel L2 %.2e (<= %.0e) %s %s%n", what, error, tolerance, extra, ok ? "ok" : "FAIL");
        if (!ok) {
            failures.add(what);
        }
    }

    private void kernels(Path dir) throws Exception {
        System.out.println("== kernels vs Java reference (NaN-poisoned outputs)");
        EnumSet<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".gguf")).sorted().toList()) {
                try (Model m = Model.open(f, 1)) {
                    for (Tensor t : matrices(m)) {
                        if (ReferenceKernels.suffix(t.type()) != null && seen.add(t.type())) {
                            matmul(t, f.getFileName().toString());
                        }
                    }
                    if (m.config().architecture().moe() && m.weights().layers[0].gateExps().type() == GgmlType.MXFP4) {
                        moeMatmul(m.weights().layers[0].gateExps());
                    }
                }
            }
        }
        attention(false, 32, 8, 128, 3000, 0, false);
        attention(true, 32, 8, 128, 3000, 0, false);
        attention(true, 64, 8, 64, 700, 128, true);
        attention(true, 8, 2, 256, 37, 0, false);
    }

    private static List<Tensor> matrices(Model m) {
        List<Tensor> all = new ArrayList<>();
        all.add(m.weights().output);
        all.add(m.weights().tokenEmbedding);
        for (var l : m.weights().layers) {
            for (Tensor t : new Tensor[] {l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down()}) {
                if (t != null) {
                    all.add(t);
                }
            }
        }
        return all;
    }

    private void matmul(Tensor t, String file) {
        int k = t.rowLength();
        int rows = t.rowCount();
        Twin w = upload(t.data());
        DeviceMatrix mg = new DeviceMatrix(w.g, t.type(), k, rows, 1, t.type().bytesFor(k));
        DeviceMatrix mr = new DeviceMatrix(w.r, t.type(), k, rows, 1, t.type().bytesFor(k));
        float[] x = randomFloats(13 * k, 1f);
        Twin xs = floats(x);
        float[] single = null;
        for (int n : new int[] {1, 3, 8, 13}) {
            Twin y = output((long) n * rows);
            kg.matmul(mg, xs.g, y.g, n);
            kr.matmul(mr, xs.r, y.r, n);
            float[] a = read(y, n * rows, true);
            float[] b = read(y, n * rows, false);
            report("matmul_" + ReferenceKernels.suffix(t.type()) + " " + rows + "x" + k + " n=" + n, relativeL2(a, b), 1e-5, "(" + file + ")");
            if (n == 1) {
                single = a;
            } else if (!Arrays.equals(single, Arrays.copyOf(a, rows))) {
                failures.add("batch invariance of matmul_" + ReferenceKernels.suffix(t.type()));
                System.out.println("  batch invariance FAIL: token 0's row differs between n=1 and n=" + n);
            }
            free(y);
        }
        int[] ids = {rows - 1, 0, rows / 2, 1};
        Twin idx = ints(ids);
        Twin out = output(4L * k);
        kg.dequantRows(mg, idx.g, out.g, 4, 0.5f);
        kr.dequantRows(mr, idx.r, out.r, 4, 0.5f);
        report("dequant_rows_" + ReferenceKernels.suffix(t.type()), relativeL2(read(out, 4 * k, true), read(out, 4 * k, false)), 1e-7, "");
        free(w, xs, idx, out);
    }

    private void moeMatmul(Tensor t) {
        int k = t.rowLength();
        int experts = (int) t.dim(2);
        int rows = t.rowCount() / experts;
        Twin w = upload(t.data());
        long rowBytes = t.type().bytesFor(k);
        DeviceMatrix mg = new DeviceMatrix(w.g, t.type(), k, rows, experts, rowBytes);
        DeviceMatrix mr = new DeviceMatrix(w.r, t.type(), k, rows, experts, rowBytes);
        int used = 2;
        int n = 3;
        int[] ids = new int[n * used];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(experts);
        }
        Twin idx = ints(ids);
        Twin xs = floats(randomFloats(n * used * k, 1f));
        for (boolean perPair : new boolean[] {false, true}) {
            Twin y = output((long) n * used * rows);
            kg.moeMatmul(mg, xs.g, idx.g, y.g, n * used, used, perPair);
            kr.moeMatmul(mr, xs.r, idx.r, y.r, n * used, used, perPair);
            report("moe_matmul_" + ReferenceKernels.suffix(t.type()) + (perPair ? " per pair" : " per token"),
                    relativeL2(read(y, n * used * rows, true), read(y, n * used * rows, false)), 1e-5, "");
            free(y);
        }
        free(w, idx, xs);
    }

    private void attention(boolean half, int heads, int kvHeads, int headDim, int positions, int window, boolean sinks) {
        int layers = 2;
        int layer = 1;
        int kd = kvHeads * headDim;
        int elem = half ? 2 : 4;
        // Two sequences: one at `positions`, one shorter, in one batch, as the engine batches them.
        int[] pos = {positions - 1, positions / 3};
        long cacheBytes = (long) positions * layers * kd * elem;
        Twin kc0 = output(cacheBytes / 4);
        Twin vc0 = output(cacheBytes / 4);
        Twin kc1 = output(cacheBytes / 4);
        Twin vc1 = output(cacheBytes / 4);
        Twin kb = longs(new long[] {kc0.g, kc1.g}, new long[] {kc0.r, kc1.r});
        Twin vb = longs(new long[] {vc0.g, vc1.g}, new long[] {vc0.r, vc1.r});
        // Fill every position of both caches through kv_store, a chunk of positions per launch.
        int chunk = 64;
        for (int s = 0; s < 2; s++) {
            for (int p0 = 0; p0 <= pos[s]; p0 += chunk) {
                int n = Math.min(chunk, pos[s] + 1 - p0);
                int[] ps = new int[n];
                int first = p0;
                Arrays.setAll(ps, i -> first + i);
                Twin pp = ints(ps);
                Twin kk = floats(randomFloats(n * kd, 1f));
                Twin vv = floats(randomFloats(n * kd, 1f));
                long[] kbg = new long[n];
                long[] kbr = new long[n];
                long[] vbg = new long[n];
                long[] vbr = new long[n];
                Arrays.fill(kbg, s == 0 ? kc0.g : kc1.g);
                Arrays.fill(kbr, s == 0 ? kc0.r : kc1.r);
                Arrays.fill(vbg, s == 0 ? vc0.g : vc1.g);
                Arrays.fill(vbr, s == 0 ? vc0.r : vc1.r);
                Twin kbs = longs(kbg, kbr);
                Twin vbs = longs(vbg, vbr);
                kg.kvStore(half, kk.g, vv.g, kbs.g, vbs.g, pp.g, n, layer, layers, kd, kd);
                kr.kvStore(half, kk.r, vv.r, kbs.r, vbs.r, pp.r, n, layer, layers, kd, kd);
                gpu.synchronize(kg.stream());
                free(pp, kk, vv, kbs, vbs);
            }
        }
        Twin q = floats(randomFloats(2 * heads * headDim, 1f));
        Twin p = ints(pos);
        Twin sink = sinks ? floats(randomFloats(heads, 1f)) : new Twin(0, 0);
        Twin out = output(2L * heads * headDim);
        float scale = (float) (1 / Math.sqrt(headDim));
        kg.attention(half, q.g, out.g, kb.g, vb.g, p.g, 2, layer, layers, heads, kvHeads, headDim, headDim, scale, window, sink.g);
        kr.attention(half, q.r, out.r, kb.r, vb.r, p.r, 2, layer, layers, heads, kvHeads, headDim, headDim, scale, window, sink.r);
        report(String.format(Locale.ROOT, "attention_%s h%d/%d d%d pos %d%s%s", half ? "f16" : "f32", heads, kvHeads, headDim, positions,
                window > 0 ? " window " + window : "", sinks ? " sinks" : ""), relativeL2(read(out, 2 * heads * headDim, true), read(out, 2 * heads * headDim, false)), 1e-5, "");
        free(kc0, vc0, kc1, vc1, kb, vb, q, p, out);
        if (sinks) {
            free(sink);
        }
    }

    private static int[] prompt(Path dir) throws Exception {
        return Arrays.stream(Files.readString(dir.resolve("prompt48.txt")).trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }

    private static int argmax(float[] v, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[offset + i] > v[offset + best]) {
                best = i;
            }
        }
        return best;
    }

    private static float[] logits(ForwardPass pass, int[] tokens, boolean sequential, int vocab) {
        try (KvCache cache = pass.newCache(tokens.length + 16)) {
            if (!sequential) {
                return pass.forwardSequence(tokens, 0, cache, true);
            }
            float[] out = new float[tokens.length * vocab];
            for (int i = 0; i < tokens.length; i++) {
                float[] row = pass.forward(new int[] {tokens[i]}, new int[] {i}, new KvCache[] {cache}, new boolean[] {true});
                System.arraycopy(row, 0, out, i * vocab, vocab);
            }
            return out;
        }
    }

    private static int[] greedy(ForwardPass pass, int[] prompt, int count, int vocab) {
        try (KvCache cache = pass.newCache(prompt.length + count + 1)) {
            float[] l = pass.forwardSequence(prompt, 0, cache, false);
            int[] out = new int[count];
            for (int i = 0; i < count; i++) {
                out[i] = argmax(l, 0, vocab);
                l = pass.forward(new int[] {out[i]}, new int[] {prompt.length + i}, new KvCache[] {cache}, new boolean[] {true});
            }
            return out;
        }
    }

    private void models(Path dir) throws Exception {
        System.out.println("== end-to-end logits, GPU vs memwall's CPU forward pass (48-token prompt)");
        int[] tokens = prompt(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".gguf")).sorted().toList()) {
                String name = f.getFileName().toString().replace(".gguf", "");
                try (Model m = Model.open(f, 0, model -> CudaForward.load(gpu, 0, model, CudaForward.Options.defaults(System.out::println)))) {
                    int vocab = m.weights().vocabularySize();
                    float[] cpu = logits(m.transformer(), tokens, false, vocab);
                    float[] batch = logits(m.forwardPass(), tokens, false, vocab);
                    float[] seq = logits(m.forwardPass(), tokens, true, vocab);
                    int agree = 0;
                    for (int t = 0; t < tokens.length; t++) {
                        agree += argmax(cpu, t * vocab, vocab) == argmax(batch, t * vocab, vocab) ? 1 : 0;
                    }
                    boolean f32 = name.endsWith("f32");
                    int[] gCpu = greedy(m.transformer(), tokens, 16, vocab);
                    int[] gGpu = greedy(m.forwardPass(), tokens, 16, vocab);
                    String extra = String.format(Locale.ROOT, "argmax %d/48, greedy %s", agree, Arrays.equals(gCpu, gGpu) ? "same" : "differs");
                    report(name + " batch", relativeL2(batch, cpu), f32 ? 1e-4 : 1e-2, extra);
                    report(name + " one token at a time", relativeL2(seq, cpu), f32 ? 1e-4 : 1e-2, "");
                    if (f32 && !Arrays.equals(gCpu, gGpu)) {
                        failures.add(name + " greedy tokens");
                    }
                }
            }
        }
    }

    private void batching(Path file) {
        System.out.println("== aggregate decode vs streams (" + file.getFileName() + ")");
        try (Model m = Model.open(file, 0, model -> CudaForward.load(gpu, 0, model, CudaForward.Options.defaults(System.out::println)))) {
            ForwardPass pass = m.forwardPass();
            int vocab = m.weights().vocabularySize();
            double single = 0;
            System.out.println("  streams  tokens/s  x one stream");
            for (int streams : new int[] {1, 2, 4, 8, 16, 32, 64}) {
                KvCache[] caches = new KvCache[streams];
                int[] tok = new int[streams];
                int[] pos = new int[streams];
                boolean[] want = new boolean[streams];
                Arrays.fill(want, true);
                for (int s = 0; s < streams; s++) {
                    caches[s] = pass.newCache(512);
                    pass.forwardSequence(random.ints(32, 0, vocab).toArray(), 0, caches[s], false);
                    pos[s] = 32;
                }
                int steps = 64;
                long t0 = 0;
                for (int i = -4; i < steps; i++) {
                    if (i == 0) {
                        t0 = System.nanoTime();
                    }
                    for (int s = 0; s < streams; s++) {
                        tok[s] = random.nextInt(vocab);
                    }
                    pass.forward(tok, pos, caches, want);
                    for (int s = 0; s < streams; s++) {
                        pos[s]++;
                    }
                }
                double rate = (double) steps * streams * 1e9 / (System.nanoTime() - t0);
                if (streams == 1) {
                    single = rate;
                }
                System.out.printf(Locale.ROOT, "  %7d  %8.1f  %5.1f%n", streams, rate, rate / single);
                for (KvCache c : caches) {
                    c.close();
                }
            }
        }
    }
}
