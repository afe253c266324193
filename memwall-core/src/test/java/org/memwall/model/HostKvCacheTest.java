package org.memwall.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;
import org.memwall.TestModels;
import org.memwall.synth.SyntheticModel;

class HostKvCacheTest {

    @Test
    void bytesPerPositionAreTheStoredRowsOfEveryLayer() {
        try (Model model = Model.open(TestModels.small("llama", SyntheticModel.Mix.Q8_0), 1)) {
            ModelConfig c = model.config();
            // 3 layers x (2 KV heads x 64) keys and as many values = 768 values a position.
            assertThat(c.blockCount() * (c.keyDim() + c.kvValueDim())).isEqualTo(768);
            assertThat(HostKvCache.bytesPerPosition(c, KvType.F32)).isEqualTo(768 * 4);
            assertThat(HostKvCache.bytesPerPosition(c, KvType.F16)).isEqualTo(768 * 2);
            assertThat(HostKvCache.bytesPerPosition(c, KvType.Q8_0)).isEqualTo(768 / 32 * 34);
            for (KvType type : KvType.values()) {
                try (HostKvCache cache = HostKvCache.forModel(c, 300, type)) {
                    cache.reserve(0);
                    assertThat(cache.allocatedBytes()).as(type + ": one block").isEqualTo(HostKvCache.BLOCK * HostKvCache.bytesPerPosition(c, type));
                    cache.reserve(299);
                    assertThat(cache.allocatedBytes()).as(type + ": never past the capacity").isEqualTo(300 * HostKvCache.bytesPerPosition(c, type))
                            .isEqualTo(HostKvCache.bytes(c, type, 300));
                }
            }
        }
    }

    @Test
    void f16AndQ8CachesStayCloseToF32AndEachIsTheSameAloneOrBatched() {
        int[] prompt = TestModels.story();
        Path file = TestModels.small("llama", SyntheticModel.Mix.Q8_0);
        float[] f32 = null;
        for (KvType type : new KvType[] {KvType.F32, KvType.F16, KvType.Q8_0}) {
            try (Model model = Model.open(file, 2, null, type)) {
                float[] batch = Logits.batch(model, prompt);
                assertThat(Logits.sequential(model, prompt)).as(type + ": one token at a time, bit for bit").isEqualTo(batch);
                if (type == KvType.F32) {
                    f32 = batch;
                    continue;
                }
                // Measured: F16 2.3e-4, Q8_0 6.3e-3 relative L2 on this model; the bounds leave about 3x.
                double bound = type == KvType.F16 ? 1e-3 : 0.02;
                int vocab = model.weights().vocabularySize();
                double relL2 = ForwardConformanceTest.Comparison.of(batch, f32, prompt.length, vocab).relL2();
                assertThat(relL2).as(type + " vs F32").isLessThanOrEqualTo(bound).isPositive();
                assertThat(Logits.argmaxRows(batch, vocab)).as(type + " argmax").containsExactly(Logits.argmaxRows(f32, vocab));
            }
        }
    }

    @Test
    void aTypeThatCannotHoldTheHeadsFailsInOneLineWhenTheModelOpens() {
        // stories260K's heads are 8 wide: no whole Q8_0 block.
        assertThatThrownBy(() -> Model.open(TestModels.stories(), 1, null, KvType.Q8_0).close())
                .isInstanceOf(MemwallException.class)
                .hasMessage("a q8_0 KV cache needs head sizes that are multiples of 32; this model's are 8/8 (use --kv-type f16 or f32)");
        assertThatThrownBy(() -> KvType.parse("q4_0")).hasMessage("--kv-type 'q4_0' is not one of f16, f32, q8_0");
        assertThat(KvType.parse(" Q8_0")).isEqualTo(KvType.Q8_0);
    }

    @Test
    void slidingLayersKeepARingAndGiveExactlyTheLogitsOfAFullCache() {
        try (Model model = Model.open(TestModels.small("gpt-oss", SyntheticModel.Mix.Q8_0, 1024), 2)) {
            ModelConfig c = model.config();
            assertThat(c.slidingWindow()).isEqualTo(16);
            assertThat(c.isSliding(0)).isTrue();
            int n = 900; // past the 512-slot ring, in one batch of 4 chunks
            int[] tokens = new SplittableRandom(7).ints(n, 0, 1024).toArray();
            try (HostKvCache ring = HostKvCache.forModel(c, 1024, KvType.F16);
                 HostKvCache full = new HostKvCache(c.blockCount(), c.headCountKv(), c.headDim(), c.valueDim(), 1024, KvType.F16,
                         c.slidingWindow(), new boolean[c.blockCount()])) {
                float[] withRing = model.transformer().forwardSequence(tokens, 0, ring, true);
                float[] withFull = model.transformer().forwardSequence(tokens, 0, full, true);
                assertThat(withRing).as("ring and full cache, bit for bit").isEqualTo(withFull);
                // Sliding layers hold their ring of 512 positions; the others 900 positions, in four blocks of 256.
                long row = KvType.F16.rowBytes(c.keyDim()) + KvType.F16.rowBytes(c.kvValueDim());
                int slidingLayers = 0;
                for (int l = 0; l < c.blockCount(); l++) {
                    slidingLayers += c.isSliding(l) ? 1 : 0;
                }
                long expected = row * (slidingLayers * 512L + (c.blockCount() - slidingLayers) * 1024L);
                assertThat(ring.allocatedBytes()).isEqualTo(expected).isEqualTo(HostKvCache.bytes(c, KvType.F16, 1024))
                        .isLessThan(full.allocatedBytes());
                assertThat(model.transformer().kvBytes(100)).isEqualTo(100 * row * c.blockCount());

                // A prefix near the end can still be resumed: the copy continues exactly like the original.
                int vocab = model.weights().vocabularySize();
                try (HostKvCache copy = HostKvCache.forModel(c, 1024, KvType.F16)) {
                    assertThat(ring.canResumeAt(880)).isTrue();
                    assertThat(copy.copyPrefix(ring, 880)).isEqualTo(880);
                    float[] tail = model.transformer().forwardSequence(Arrays.copyOfRange(tokens, 880, n), 880, copy, true);
                    assertThat(tail).isEqualTo(Arrays.copyOfRange(withRing, 880 * vocab, n * vocab));
                }
                // One the ring has moved past is refused, and nothing is copied.
                try (HostKvCache copy = HostKvCache.forModel(c, 1024, KvType.F16)) {
                    assertThat(ring.canResumeAt(300)).isFalse();
                    assertThat(copy.copyPrefix(ring, 300)).isZero();
                    assertThat(copy.allocatedBytes()).isZero();
                }
            }
        }
    }
}
