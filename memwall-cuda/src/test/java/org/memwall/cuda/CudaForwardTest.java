package org.memwall.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.memwall.Conformance;
import org.memwall.TestModels;
import org.memwall.engine.Engine;
import org.memwall.engine.Generator;
import org.memwall.engine.Sequence;
import org.memwall.sample.Sampler;
import org.memwall.sample.SamplerSettings;
import org.memwall.model.ForwardPass;
import org.memwall.model.KvCache;
import org.memwall.model.KvType;
import org.memwall.model.Model;
import org.memwall.synth.SyntheticModel;

/**
 * The GPU forward pass on {@link FakeCuda}: every step of the orchestration (uploads, conversions,
 * offsets, KV layout and growth, batching, graph capture and replay, memory accounting) against the
 * CPU's forward pass on synthesized models of each family and type and on the conformance models. The CUDA kernels themselves are checked on a GPU
 * by tools/gpu-check; here their Java references stand in for them.
 */
class CudaForwardTest {
    private static final long GIB = 1L << 30;

    /** Synthesized models (every checkout) first, then llama.cpp's conformance files (where ../shared is). */
    static Stream<String> models() {
        return Stream.of("synthetic-llama-f32", "synthetic-qwen2-f32", "synthetic-qwen3-f32", "synthetic-exaone4-f32", "synthetic-gpt-oss-f32",
                "synthetic-llama-F16", "synthetic-llama-BF16", "synthetic-llama-Q8_0", "synthetic-llama-Q4_0", "synthetic-llama-Q4_K_M",
                "synthetic-qwen3-Q4_K_M", "synthetic-gpt-oss-Q8_0",
                "llama-f32", "llama31-f32", "qwen2-f32", "qwen3-f32", "exaone-f32", "exaone4-f32", "granite-f32", "gpt-oss-f32",
                "llama-F16", "llama-BF16", "llama-Q8_0", "llama-Q4_0", "llama-Q4_K_M", "llama-Q5_K_M", "llama-Q6_K",
                "llama-Q4_1", "llama-Q5_0", "llama-Q2_K", "qwen2-Q4_0", "qwen3-Q4_K_M", "gpt-oss-MXFP4_MOE", "gpt-oss-Q8_0");
    }

    static int[] prompt() {
        return TestModels.story();
    }

    /** {@code synthetic-ARCH-MIX} is {@link TestModels#small}, any other name a conformance model. */
    static Path file(String name) {
        if (name.startsWith("synthetic-")) {
            int mix = name.lastIndexOf('-');
            return TestModels.small(name.substring("synthetic-".length(), mix), SyntheticModel.Mix.parse(name.substring(mix + 1)));
        }
        return Conformance.file("models/" + name + ".gguf");
    }

    static double relativeL2(float[] a, float[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = a[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }

    static float[] sequential(ForwardPass pass, int[] tokens, int vocab) {
        try (KvCache cache = pass.newCache(tokens.length)) {
            float[] out = new float[tokens.length * vocab];
            for (int i = 0; i < tokens.length; i++) {
                float[] row = pass.forward(new int[] {tokens[i]}, new int[] {i}, new KvCache[] {cache}, new boolean[] {true});
                System.arraycopy(row, 0, out, i * vocab, vocab);
            }
            return out;
        }
    }

    static float[] batch(ForwardPass pass, int[] tokens) {
        try (KvCache cache = pass.newCache(tokens.length)) {
            return pass.forwardSequence(tokens, 0, cache, true);
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void fakeGpuLogitsMatchTheCpuInBatchAndOneTokenAtATime(String name) throws Exception {
        Path file = file(name);
        int[] tokens = prompt();
        FakeCuda fake = new FakeCuda(4 * GIB);
        boolean f32 = name.endsWith("f32");
        // The CPU reference stores its KV cache as the GPU does: float32 for a float32 model, else float16.
        try (Model model = Model.open(file, 2, null, f32 ? KvType.F32 : KvType.F16)) {
            int vocab = model.weights().vocabularySize();
            float[] cpu = batch(model.transformer(), tokens);
            try (CudaForward gpu = CudaForward.load(fake, 0, model, CudaForward.Options.defaults(s -> { }))) {
                assertThat(gpu.halfKv()).isEqualTo(!f32);
                // The CPU multiplies Q4_0, Q4_K, Q6_K and MXFP4 by int8-quantized activations (as llama.cpp does), the GPU by
                // floats: about 1% apart, as far as a format converted to Q8_0 for the GPU.
                double tolerance = f32 ? 1e-5 : converted(name) || int8OnCpu(name) ? 2e-2 : 5e-3;
                float[] batched = batch(gpu, tokens);
                assertThat(relativeL2(batched, cpu)).as(name + " batch vs CPU").isLessThan(tolerance);
                float[] oneByOne = sequential(gpu, tokens, vocab);
                assertThat(relativeL2(oneByOne, cpu)).as(name + " one at a time vs CPU").isLessThan(tolerance);
            }
            assertThat(fake.usedBytes()).as("device memory left after close").isZero();
        }
    }

    private static boolean int8OnCpu(String name) {
        return name.contains("Q4_0") || name.contains("Q4_K") || name.contains("Q6_K") || name.contains("MXFP4");
    }

    private static boolean converted(String name) {
        return name.endsWith("Q4_1") || name.endsWith("Q5_0") || name.endsWith("Q2_K") || name.endsWith("Q5_K_M") || name.endsWith("Q4_K_M");
    }

    @Test
    void graphReplayGivesTheSameLogitsAsDirectLaunchesAndLaunchesOnce() throws Exception {
        int[] tokens = prompt();
        try (Model model = Model.open(TestModels.small("qwen3", SyntheticModel.Mix.Q8_0), 2)) {
            int vocab = model.weights().vocabularySize();
            FakeCuda withGraphs = new FakeCuda(GIB);
            FakeCuda direct = new FakeCuda(GIB);
            float[] a;
            float[] b;
            long firstStep;
            try (CudaForward g = CudaForward.load(withGraphs, 0, model, CudaForward.Options.defaults(s -> { }));
                 CudaForward d = CudaForward.load(direct, 0, model, new CudaForward.Options(CudaForward.KvType.AUTO, false, s -> { }))) {
                a = sequential(g, tokens, vocab);
                b = sequential(d, tokens, vocab);
                firstStep = direct.launches() / tokens.length;
            }
            assertThat(a).containsExactly(b);
            assertThat(withGraphs.launches()).isEqualTo(direct.launches());
            assertThat(firstStep).isGreaterThan(20);
        }
    }

    @Test
    void greedyGenerationPicksTokensOnTheDeviceAndMatchesTheCpu() throws Exception {
        int[] tokens = prompt();
        Path file = TestModels.small("qwen3", SyntheticModel.Mix.F32);
        try (Model cpu = Model.open(file, 2, null, KvType.F32)) { // as the GPU stores a float32 model's cache
            int[] expected = new Generator(cpu).generate(tokens, 12, new Sampler(SamplerSettings.GREEDY, cpu.weights().vocabularySize()),
                    t -> false, t -> true).tokens();
            FakeCuda fake = new FakeCuda(GIB);
            try (Model gpu = Model.open(file, 2,
                    m -> CudaForward.load(fake, 0, m, CudaForward.Options.defaults(s -> { })))) {
                int[] got = new Generator(gpu).generate(tokens, 12, new Sampler(SamplerSettings.GREEDY, gpu.weights().vocabularySize()),
                        t -> false, t -> true).tokens();
                assertThat(got).containsExactly(expected);
            }
            assertThat(fake.launches("argmax")).as("one device argmax per decoded token after the first").isEqualTo(11);
        }
    }

    @Test
    void continuousBatchingOnTheDeviceGivesEachSequenceWhatItGetsAlone() throws Exception {
        int[] all = prompt();
        int[][] prompts = {Arrays.copyOfRange(all, 0, 20), Arrays.copyOfRange(all, 3, 48), Arrays.copyOfRange(all, 10, 14), Arrays.copyOfRange(all, 0, 33)};
        FakeCuda fake = new FakeCuda(GIB);
        try (Model gpu = Model.open(TestModels.small("gpt-oss", SyntheticModel.Mix.Q8_0), 2,
                m -> CudaForward.load(fake, 0, m, CudaForward.Options.defaults(s -> { })))) {
            int vocab = gpu.weights().vocabularySize();
            // All greedy (the device picks the tokens), then greedy mixed with seeded sampling (logits come back).
            for (boolean mixed : new boolean[] {false, true}) {
                SamplerSettings sampled = mixed ? SamplerSettings.DEFAULTS.withSeed(11) : SamplerSettings.GREEDY;
                int[][] alone = new int[prompts.length][];
                for (int i = 0; i < prompts.length; i++) {
                    SamplerSettings settings = i % 2 == 0 ? SamplerSettings.GREEDY : sampled;
                    alone[i] = new Generator(gpu).generate(prompts[i], 10, new Sampler(settings, vocab), t -> false, t -> true).tokens();
                }
                long argmaxBefore = fake.launches("argmax");
                try (Engine engine = new Engine(gpu, new Engine.Settings(4, 8, 16))) {
                    Sequence[] seqs = new Sequence[prompts.length];
                    for (int i = 0; i < prompts.length; i++) {
                        SamplerSettings settings = i % 2 == 0 ? SamplerSettings.GREEDY : sampled;
                        seqs[i] = engine.submit(prompts[i], 10, new Sampler(settings, vocab), t -> false, 0);
                    }
                    for (int i = 0; i < prompts.length; i++) {
                        assertThat(drain(seqs[i])).as("sequence " + i + (mixed ? ", mixed samplers" : ", all greedy")).containsExactly(alone[i]);
                    }
                }
                assertThat(fake.launches("argmax") > argmaxBefore).as("device argmax used").isEqualTo(!mixed);
            }
        }
        assertThat(fake.usedBytes()).isZero();
    }

    @Test
    void promptsServedFromTheDevicePrefixCacheGetWhatTheyGetWithout() throws Exception {
        java.util.Random r = new java.util.Random(5);
        int[] system = new int[300]; // past the device cache's first 256 positions
        for (int i = 0; i < system.length; i++) {
            system[i] = i == 0 ? 1 : 2 + r.nextInt(500);
        }
        int[][] prompts = {Arrays.copyOf(system, 310), Arrays.copyOf(system, 305), Arrays.copyOf(system, 310)};
        prompts[1][304] = 7;
        prompts[2][309] = 9;
        FakeCuda fake = new FakeCuda(GIB);
        try (Model gpu = Model.open(TestModels.small("llama", SyntheticModel.Mix.Q8_0), 2,
                m -> CudaForward.load(fake, 0, m, CudaForward.Options.defaults(s -> { })))) {
            int vocab = gpu.weights().vocabularySize();
            SamplerSettings sampled = SamplerSettings.DEFAULTS.withSeed(3);
            int[][] alone = new int[prompts.length][];
            for (int i = 0; i < prompts.length; i++) {
                alone[i] = new Generator(gpu).generate(prompts[i], 6, new Sampler(sampled, vocab), t -> false, t -> true).tokens();
            }
            try (Engine engine = new Engine(gpu, new Engine.Settings(2, 4, 64))) {
                for (int i = 0; i < prompts.length; i++) {
                    int[] got = drain(engine.submit(prompts[i], 6, new Sampler(sampled, vocab), t -> false, 0));
                    assertThat(got).as("prompt " + i).containsExactly(alone[i]);
                }
                assertThat(engine.metrics().prefixHits.get()).isEqualTo(2);
                assertThat(engine.metrics().prefixHitTokens.get()).isEqualTo(304 + 309);
                assertThat(engine.prefixCacheBytes()).isPositive();
            }
        }
        assertThat(fake.usedBytes()).as("the prefix cache's device memory is freed with the engine").isZero();
    }

    private static int[] drain(Sequence s) throws InterruptedException {
        java.util.List<Integer> out = new java.util.ArrayList<>();
        while (true) {
            Sequence.Event e = s.next();
            if (e.isEnd()) {
                return out.stream().mapToInt(Integer::intValue).toArray();
            }
            out.add(e.token());
        }
    }

    @Test
    void kvCacheGrowsPastItsFirstBlockAndKeepsWhatItHeld() throws Exception {
        try (Model model = Model.open(TestModels.small("llama", SyntheticModel.Mix.Q8_0), 2)) {
            FakeCuda fake = new FakeCuda(GIB);
            int[] base = prompt();
            int length = CudaKvCache.FIRST + 40;
            int[] tokens = new int[length];
            for (int i = 0; i < length; i++) {
                tokens[i] = base[i % base.length];
            }
            tokens[0] = 1;
            float[] cpu;
            try (KvCache cache = model.transformer().newCache(length)) {
                cpu = model.transformer().forwardSequence(tokens, 0, cache, false);
            }
            try (CudaForward gpu = CudaForward.load(fake, 0, model, CudaForward.Options.defaults(s -> { }));
                 KvCache cache = gpu.newCache(length)) {
                // Prefill in two pieces so the second one grows the cache that the first one filled.
                gpu.forwardSequence(Arrays.copyOf(tokens, 200), 0, cache, false);
                long before = cache.allocatedBytes();
                float[] last = gpu.forwardSequence(Arrays.copyOfRange(tokens, 200, length), 200, cache, false);
                assertThat(cache.allocatedBytes()).isGreaterThan(before);
                assertThat(relativeL2(last, cpu)).isLessThan(5e-3);
            }
        }
    }

    @Test
    void tooLittleDeviceMemoryIsOneLineAndLeavesNothingAllocated() throws Exception {
        try (Model model = Model.open(TestModels.stories(), 2)) {
            FakeCuda small = new FakeCuda(1L << 20);
            assertThatThrownBy(() -> CudaForward.load(small, 0, model, CudaForward.Options.defaults(s -> { })))
                    .isInstanceOf(CudaException.class)
                    .hasMessageMatching("the model needs \\d+\\.\\d\\d GiB of GPU memory, cuda:0 has 0\\.00 GiB free");
            assertThat(small.usedBytes()).isZero();
        }
    }

    @Test
    void typesWithoutKernelsAreConvertedWithOneNotice() throws Exception {
        try (Model model = Model.open(Conformance.file("models/llama-Q5_0.gguf"), 2)) {
            StringBuilder notices = new StringBuilder();
            try (CudaForward gpu = CudaForward.load(new FakeCuda(GIB), 0, model, CudaForward.Options.defaults(s -> notices.append(s).append('\n')))) {
                assertThat(notices.toString()).contains("Q5_0").contains("converted to Q8_0").hasLineCount(1);
                assertThat(gpu.weightBytes()).isEqualTo(CudaForward.weightBytesOnDevice(model) + normAndBiasBytes(model));
            }
        }
    }

    private static long normAndBiasBytes(Model model) {
        var c = model.config();
        long floats = c.embeddingLength();
        for (var l : model.weights().layers) {
            for (float[] v : new float[][] {l.attnNorm(), l.ffnNorm(), l.bq(), l.bk(), l.bv(), l.bo(), l.qNorm(), l.kNorm(), l.sinks(),
                    l.postAttnNorm(), l.postFfnNorm(), l.routerBias(), l.gateExpsBias(), l.upExpsBias(), l.downExpsBias()}) {
                floats += v == null ? 0 : v.length;
            }
        }
        return floats * 4 + (long) c.ropeDim() / 2 * 16;
    }
}
