package org.memwall.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;
import org.memwall.TestModels;
import org.memwall.gguf.GgufMetadata;
import org.memwall.gguf.MetadataValue;
import org.memwall.model.KvCache;
import org.memwall.model.Model;

class EmbedderTest {
    static final List<int[]> INPUTS = List.of(new int[] {1, 50, 60, 70}, new int[] {1, 9}, new int[] {1, 300, 301, 302, 303, 304, 305}, new int[] {5});

    /** The output-normed hidden states of every position of {@code input}, run alone through the CPU forward pass. */
    static float[][] states(Model model, int[] input) {
        int n = input.length;
        int[] pos = new int[n];
        KvCache[] caches = new KvCache[n];
        boolean[] want = new boolean[n];
        KvCache cache = model.newCache(n);
        for (int i = 0; i < n; i++) {
            pos[i] = i;
            caches[i] = cache;
            want[i] = true;
        }
        float[] flat = model.forwardPass().hiddenStates(input, pos, caches, want);
        int d = model.config().embeddingLength();
        float[][] rows = new float[n][d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * d, rows[i], 0, d);
        }
        return rows;
    }

    static float[] unit(double[] v) {
        double norm = 0;
        for (double x : v) {
            norm += x * x;
        }
        float[] out = new float[v.length];
        for (int j = 0; j < v.length; j++) {
            out[j] = (float) (v[j] / Math.sqrt(norm));
        }
        return out;
    }

    @Test
    void poolingMatchesAHandComputationFromTheForwardPass() {
        try (Model model = Model.open(TestModels.stories(), 2)) {
            int d = model.config().embeddingLength();
            for (Embedder.Pooling pooling : Embedder.Pooling.values()) {
                float[][] got = new Embedder(model, pooling, 512).embed(INPUTS);
                for (int k = 0; k < INPUTS.size(); k++) {
                    float[][] rows = states(model, INPUTS.get(k));
                    double[] expected = new double[d];
                    for (int j = 0; j < d; j++) {
                        expected[j] = switch (pooling) {
                            case CLS -> rows[0][j];
                            case LAST -> rows[rows.length - 1][j];
                            case MEAN -> {
                                double sum = 0;
                                for (float[] r : rows) {
                                    sum += r[j];
                                }
                                yield sum / rows.length;
                            }
                        };
                    }
                    assertThat(got[k]).as("%s pooling of input %d", pooling, k).containsExactly(unit(expected), org.assertj.core.data.Offset.offset(1e-5f));
                    double norm = 0;
                    for (float x : got[k]) {
                        norm += x * x;
                    }
                    assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
                }
                // Causal attention: the first position sees only itself, so CLS vectors of inputs that share a first token agree.
                assertThat(got[0]).as("%s", pooling).matches(v -> pooling == Embedder.Pooling.CLS ? java.util.Arrays.equals(v, got[1]) : !java.util.Arrays.equals(v, got[1]));
            }
        }
    }

    @Test
    void aBatchIsBitForBitTheInputsOneAtATime() {
        try (Model model = Model.open(TestModels.stories(), 2)) {
            for (Embedder.Pooling pooling : Embedder.Pooling.values()) {
                float[][] batched = new Embedder(model, pooling, 512).embed(INPUTS);
                float[][] small = new Embedder(model, pooling, 5).embed(INPUTS); // packed into several passes
                for (int k = 0; k < INPUTS.size(); k++) {
                    float[] alone = new Embedder(model, pooling, 512).embed(List.of(INPUTS.get(k)))[0];
                    assertThat(batched[k]).as("%s input %d", pooling, k).isEqualTo(alone);
                    assertThat(small[k]).isEqualTo(alone);
                }
            }
        }
    }

    @Test
    void poolingComesFromTheFileAndDefaultsToMean() {
        assertThat(Embedder.Pooling.of(metadata(null))).isEqualTo(Embedder.Pooling.MEAN);
        assertThat(Embedder.Pooling.of(metadata(1L))).isEqualTo(Embedder.Pooling.MEAN);
        assertThat(Embedder.Pooling.of(metadata(2L))).isEqualTo(Embedder.Pooling.CLS);
        assertThat(Embedder.Pooling.of(metadata(3L))).isEqualTo(Embedder.Pooling.LAST);
        assertThatThrownBy(() -> Embedder.Pooling.of(metadata(4L))).isInstanceOf(MemwallException.class).hasMessageContaining("reranker");
    }

    private static GgufMetadata metadata(Long pooling) {
        Map<String, MetadataValue> values = new java.util.LinkedHashMap<>();
        values.put("general.architecture", new MetadataValue(org.memwall.gguf.ValueType.STRING, "qwen3"));
        if (pooling != null) {
            values.put("qwen3.pooling_type", new MetadataValue(org.memwall.gguf.ValueType.UINT32, pooling.intValue()));
        }
        return new GgufMetadata(values);
    }
}
