package org.memwall.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.memwall.synth.ModelShape;

/** Roofline figures against numbers worked by hand from the published model configurations. */
class RooflineTest {
    private static final Hardware H200 = Hardware.named("h200");

    @Test
    void newShapesHaveThePublishedParameterCounts() {
        // Published totals (model cards); the extra 64 are Llama 3.1's RoPE frequency factors, which GGUF stores.
        assertThat(ModelShape.named("llama-3.1-70b").parameterCount()).isEqualTo(70_553_706_496L + 64);
        assertThat(ModelShape.named("llama-3.1-405b").parameterCount()).isEqualTo(405_853_388_800L + 64);
        assertThat(ModelShape.named("llama-2-7b").parameterCount()).isEqualTo(6_738_415_616L);
        assertThat(ModelShape.named("qwen2.5-72b").parameterCount()).isBetween(72_650_000_000L, 72_750_000_000L); // "72.7B"
        assertThat(ModelShape.named("exaone-4.0-32b").parameterCount()).isBetween(31_950_000_000L, 32_050_000_000L); // "32.0B"
        assertThat(ModelShape.named("gpt-oss-120b").parameterCount()).isBetween(116_700_000_000L, 116_900_000_000L); // "116.8B"
    }

    @Test
    void bf16WeightsAreTwoBytesPerMatrixElementAndFourPerNormElement() {
        Roofline r = new Roofline(ModelSpec.named("llama-3.1-8b"), WeightType.parse("bf16"), KvType.BF16, H200, Efficiency.IDEAL, 1);
        // 8,030,261,312 elements; norms 32·2·4096 + 4096 and 64 RoPE factors = 266,304 stay F32.
        long small = 32L * 2 * 4096 + 4096 + 64;
        assertThat(r.weightBytes()).isEqualTo((8_030_261_312L - small) * 2 + small * 4);
    }

    @Test
    void oneDecodeStepReadsEveryMatrixButTheEmbeddingPlusTheKvCache() {
        Roofline r = new Roofline(ModelSpec.named("llama-3.1-8b"), WeightType.parse("bf16"), KvType.BF16, H200, Efficiency.IDEAL, 1);
        long matrices = 8_030_261_312L - (32L * 2 * 4096 + 4096 + 64) - 128_256L * 4096; // the embedding is one row per token
        double kv = 32 * (8 * 128 * 2) * 2.0 * 1000; // layers · (K + V) · BF16 · positions
        assertThat(r.kvBytes(1000)).isEqualTo(kv);
        assertThat(r.decodeStep(1, 1000)).isCloseTo((matrices * 2 + kv) / 4.8e12, within(1e-9));
        // At a large batch the products are compute-bound (2 FLOPs per weight per token at 989 TFLOP/s) while attention streams
        // every sequence's KV; the two run one after the other.
        double attention = 4.0 * 32 * 128 * 1000 * 32;
        assertThat(4096 * attention / 989e12).isLessThan(4096 * kv / 4.8e12); // attention is bound by its KV reads
        assertThat(r.decodeStep(4096, 1000)).isCloseTo(4096 * 2.0 * matrices / 989e12 + 4096 * kv / 4.8e12, within(1e-9));
        // Continuous batching: 512 prompt tokens (attending over 250 positions each) ride in the step and share its weight reads;
        // the output matrix multiplies the 64 decoding tokens and the prompt's last.
        double output = 128_256.0 * 4096;
        assertThat(r.step(64, 1000, 512, 250)).isCloseTo(Math.max((matrices - output) * 2 / 4.8e12, 576 * 2.0 * (matrices - output) / 989e12)
                + Math.max(output * 2 / 4.8e12, 65 * 2.0 * output / 989e12)
                + Math.max(64 * kv / 4.8e12, (64 * attention + 512 * 4.0 * 32 * 128 * 250 * 32) / 989e12), within(1e-9));
    }

    @Test
    void aPromptMultipliesTheOutputMatrixForItsLastTokenOnly() {
        Roofline r = new Roofline(ModelSpec.named("llama-3.1-8b"), WeightType.parse("bf16"), KvType.BF16, H200, Efficiency.IDEAL, 1);
        double matrices = 8_030_261_312L - (32L * 2 * 4096 + 4096 + 64) - 128_256L * 4096;
        double output = 128_256.0 * 4096;
        // 4,096 prompt tokens: the layers' products are compute-bound; the logits of one token read the output matrix once.
        double attention = 4096 * 4.0 * 32 * 128 * (4097 / 2.0) * 32;
        assertThat(r.prefill(4096)).isCloseTo(4096 * 2.0 * (matrices - output) / 989e12 + output * 2 / 4.8e12 + attention / 989e12,
                within(1e-9));
        assertThat(r.prefillFlops(4096)).isEqualTo(4096 * 2.0 * (matrices - output) + attention + 2 * output);
    }

    @Test
    void moeReadsTheExpertsItsTokensUseAndSlidingLayersCapTheirKv() {
        Roofline r = new Roofline(ModelSpec.named("gpt-oss-120b"), WeightType.parse("mxfp4"), KvType.BF16, H200, Efficiency.IDEAL, 1);
        assertThat(r.expertShare(1)).isCloseTo(4.0 / 128, within(1e-12));
        assertThat(r.expertShare(64)).isCloseTo(1 - Math.pow(124.0 / 128, 64), within(1e-12));
        // 36 layers, even ones slide over 128 positions: 18 · 128 + 18 · 100,000 positions of 8 heads · 64 · (K + V) · 2 bytes.
        assertThat(r.kvBytes(100_000)).isEqualTo((18.0 * 128 + 18.0 * 100_000) * 8 * 64 * 2 * 2);
        Roofline exaone = new Roofline(ModelSpec.named("exaone-4.0-32b"), WeightType.parse("bf16"), KvType.BF16, H200, Efficiency.IDEAL, 1);
        // 64 layers, three of four slide over 4,096 positions.
        assertThat(exaone.kvBytes(32_768)).isEqualTo((48.0 * 4096 + 16.0 * 32_768) * 8 * 128 * 2 * 2);
        // Weight bytes read by one token: dense matrices in BF16 plus 4 of 128 experts in MXFP4 (4.25 bits).
        ModelSpec m = ModelSpec.named("gpt-oss-120b");
        double experts = m.tensors().stream().filter(t -> t.role() == ModelSpec.Role.EXPERTS && t.dims().length == 3)
                .mapToDouble(t -> t.elements() * 4.25 / 8).sum();
        double dense = m.tensors().stream().filter(t -> t.role() == ModelSpec.Role.ATTENTION || t.role() == ModelSpec.Role.OUTPUT
                || t.role() == ModelSpec.Role.ROUTER).mapToDouble(t -> t.elements() * 2.0).sum();
        double expertBiases = m.tensors().stream().filter(t -> t.role() == ModelSpec.Role.EXPERTS && t.dims().length == 2)
                .mapToDouble(t -> t.elements() * 2.0).sum();
        assertThat(r.decodeStep(1, 0)).isCloseTo((dense + (experts + expertBiases) * 4 / 128) / 4.8e12, within(2e-7));
    }

    @Test
    void eachActiveExpertComputesItsTokensInBlocksOfSixteen() {
        Roofline r = new Roofline(ModelSpec.named("gpt-oss-120b"), WeightType.parse("mxfp4"), KvType.BF16, H200, Efficiency.IDEAL, 1);
        // 220 tokens of a long-output step: 4 of 128 experts each, ~6.9 per active expert, computed as 16 (in tokens' worth:
        // a token is 4 expert rows).
        double active = 128 * r.expertShare(220);
        double perExpert = 220 * 4 / active;
        assertThat(perExpert).isBetween(6.0, 8.0);
        assertThat(r.expertRows(220)).isCloseTo(active * 16 / 4, within(1e-9));
        // 4,000 tokens: every expert active with 125 each, computed as 128.
        assertThat(r.expertRows(4000)).isCloseTo(128 * 128 * r.expertShare(4000) / 4, within(1e-6));
        // gpt-oss-20b's 32 experts at the same 220 tokens get 27.5 each: 32 computed.
        Roofline small = new Roofline(ModelSpec.named("gpt-oss-20b"), WeightType.parse("mxfp4"), KvType.BF16, H200, Efficiency.IDEAL, 1);
        assertThat(small.expertRows(220)).isCloseTo(32 * small.expertShare(220) * 32 / 4, within(1e-6));
        // A dense model has no experts; a measured machine's CPU kernels compute the rows they get.
        assertThat(new Roofline(ModelSpec.named("llama-3.1-8b"), WeightType.parse("bf16"), KvType.BF16, H200, Efficiency.IDEAL, 1).expertRows(7))
                .isEqualTo(7);
    }

    @Test
    void tensorParallelismSplitsTheStepAndAddsTwoAllReducesPerLayer() {
        ModelSpec m = ModelSpec.named("llama-3.1-8b");
        Roofline one = new Roofline(m, WeightType.parse("bf16"), KvType.BF16, H200, Efficiency.IDEAL, 1);
        Roofline two = new Roofline(m, WeightType.parse("bf16"), KvType.BF16, H200, Efficiency.IDEAL, 2);
        // Per layer two all-reduces of 16 tokens · 4096 · 2 bytes, each moving 2(tp−1)/tp of it over 450 GB/s.
        double allReduce = 32 * 2 * (16 * 4096 * 2.0) / 450e9;
        assertThat(two.decodeStep(16, 2000)).isCloseTo(one.decodeStep(16, 2000) / 2 + allReduce, within(1e-12));
    }
}
