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
import org.memwall.model.KvType;
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
    private final KernelComparison cmp;
    private final SplittableRandom random = new SplittableRandom(7);
    private final List<String> failures = new ArrayList<>();

    private GpuCheck(CudaDriver gpu) {
        this.gpu = gpu;
        gpu.makeCurrent(0);
        cmp = new KernelComparison(gpu, gpu.createStream(), 7);
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
                    for (Tensor t : m.weights().matrices()) {
                        if (t.dims().length == 2 && ReferenceKernels.suffix(t.type()) != null && seen.add(t.type())) {
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

    private void matmul(Tensor t, String file) {
        int[] ns = {1, 3, 8, 13};
        KernelComparison.MatmulResult r = cmp.matmul(t.data(), t.type(), t.rowLength(), t.rowCount(), ns);
        String name = "matmul_" + ReferenceKernels.suffix(t.type());
        for (int i = 0; i < ns.length; i++) {
            report(name + " " + t.rowCount() + "x" + t.rowLength() + " n=" + ns[i], r.errors()[i], 1e-5, "(" + file + ")");
        }
        if (!r.batchInvariant()) {
            failures.add("batch invariance of " + name);
            System.out.println("  batch invariance FAIL: token 0's outputs differ between n=1 and a larger batch");
        }
        report("dequant_rows_" + ReferenceKernels.suffix(t.type()), r.dequantError(), 1e-7, "");
    }

    private void moeMatmul(Tensor t) {
        int experts = (int) t.dim(2);
        double[] e = cmp.moeMatmul(t.data(), t.type(), t.rowLength(), t.rowCount() / experts, experts);
        report("moe_matmul_" + ReferenceKernels.suffix(t.type()) + " per token", e[0], 1e-5, "");
        report("moe_matmul_" + ReferenceKernels.suffix(t.type()) + " per pair", e[1], 1e-5, "");
    }

    private void attention(boolean half, int heads, int kvHeads, int headDim, int positions, int window, boolean sinks) {
        report(String.format(Locale.ROOT, "attention_%s h%d/%d d%d pos %d%s%s", half ? "f16" : "f32", heads, kvHeads, headDim, positions,
                window > 0 ? " window " + window : "", sinks ? " sinks" : ""), cmp.attention(half, heads, kvHeads, headDim, positions, window, sinks), 1e-5, "");
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
                boolean f32 = name.endsWith("f32");
                // The CPU reference stores its KV cache as the GPU does: float32 for a float32 model, else float16.
                try (Model m = Model.open(f, 0, model -> CudaForward.load(gpu, 0, model, CudaForward.Options.defaults(System.out::println)),
                        f32 ? KvType.F32 : KvType.F16)) {
                    int vocab = m.weights().vocabularySize();
                    float[] cpu = logits(m.transformer(), tokens, false, vocab);
                    float[] batch = logits(m.forwardPass(), tokens, false, vocab);
                    float[] seq = logits(m.forwardPass(), tokens, true, vocab);
                    int agree = 0;
                    for (int t = 0; t < tokens.length; t++) {
                        agree += argmax(cpu, t * vocab, vocab) == argmax(batch, t * vocab, vocab) ? 1 : 0;
                    }
                    int[] gCpu = greedy(m.transformer(), tokens, 16, vocab);
                    int[] gGpu = greedy(m.forwardPass(), tokens, 16, vocab);
                    String extra = String.format(Locale.ROOT, "argmax %d/48, greedy %s", agree, Arrays.equals(gCpu, gGpu) ? "same" : "differs");
                    // The CPU multiplies Q4_0, Q4_K, Q6_K and MXFP4 by int8-quantized activations (as llama.cpp does), the GPU
                    // by floats: about 1% apart on these small models.
                    double tolerance = f32 ? 1e-4 : 2e-2;
                    report(name + " batch", KernelComparison.relativeL2(batch, cpu), tolerance, extra);
                    report(name + " one token at a time", KernelComparison.relativeL2(seq, cpu), tolerance, "");
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
