package org.memwall.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.memwall.Conformance;
import org.memwall.MemwallException;
import org.memwall.TestModels;
import org.memwall.gguf.GgmlType;
import org.memwall.gguf.GgufFile;
import org.memwall.gguf.TensorInfo;
import org.memwall.model.KvCache;
import org.memwall.model.Model;
import org.memwall.tokenizer.Tokenizer;

class SyntheticModelTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2", "qwen3", "exaone4", "gpt-oss"})
    void writesAModelThatLoadsTokenizesAndRuns(String architecture, @TempDir Path dir) throws IOException {
        ModelShape s = TestModels.smallShape(architecture);
        Path file = dir.resolve(architecture + ".gguf");
        SyntheticModel.write(s, SyntheticModel.Mix.Q4_K_M, 1, file, t -> { });
        try (Model m = Model.open(file, 1)) {
            assertThat(m.config().architecture().name()).isEqualTo(architecture);
            assertThat(m.weights().vocabularySize()).isEqualTo(s.vocabulary());
            Tokenizer tok = Tokenizer.from(m.file().metadata());
            String text = "Hello, memory wall! 안녕하세요";
            int[] ids = tok.encode(text, false, false);
            assertThat(ids.length).as("merges shorten the byte sequence").isLessThan(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
            assertThat(tok.decode(ids)).isEqualTo(text);
            KvCache cache = m.newCache(8);
            float[] logits = m.transformer().forwardSequence(ids.length > 8 ? java.util.Arrays.copyOf(ids, 8) : ids, 0, cache, false);
            assertThat(logits).hasSize(s.vocabulary());
            for (float v : logits) {
                assertThat(Float.isFinite(v)).isTrue();
            }
        }
    }

    @Test
    void sameSeedSameFileOtherSeedOtherWeights(@TempDir Path dir) throws IOException {
        ModelShape s = TestModels.smallShape("llama");
        Path a = dir.resolve("a.gguf");
        Path b = dir.resolve("b.gguf");
        Path c = dir.resolve("c.gguf");
        SyntheticModel.write(s, SyntheticModel.Mix.Q8_0, 5, a, t -> { });
        SyntheticModel.write(s, SyntheticModel.Mix.Q8_0, 5, b, t -> { });
        SyntheticModel.write(s, SyntheticModel.Mix.Q8_0, 6, c, t -> { });
        assertThat(Files.mismatch(a, b)).isEqualTo(-1);
        assertThat(Files.mismatch(a, c)).isNotEqualTo(-1);
        assertThat(Files.size(a)).isEqualTo(Files.size(c));
    }

    @Test
    void fastModeRepeatsTheFirstRowsOfEachMatrixAndKeepsEveryShapeAndType(@TempDir Path dir) throws IOException {
        ModelShape s = TestModels.smallShape("llama");
        Path full = dir.resolve("full.gguf");
        Path fast = dir.resolve("fast.gguf");
        SyntheticModel.write(s, SyntheticModel.Mix.Q4_K_M, 3, full, t -> { });
        SyntheticModel.write(s, SyntheticModel.Mix.Q4_K_M, 3, 8, fast, t -> { });
        assertThat(Files.size(fast)).isEqualTo(Files.size(full));
        try (Model a = Model.open(full, 1); Model b = Model.open(fast, 1)) {
            var fa = a.weights().layers[1].down();
            var fb = b.weights().layers[1].down();
            assertThat(fb.type()).isEqualTo(fa.type());
            long rowBytes = fa.type().bytesFor(fa.rowLength());
            byte[] rowA3 = fa.data().asSlice(3 * rowBytes, rowBytes).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            byte[] rowB3 = fb.data().asSlice(3 * rowBytes, rowBytes).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            byte[] rowB11 = fb.data().asSlice(11 * rowBytes, rowBytes).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            byte[] rowA11 = fa.data().asSlice(11 * rowBytes, rowBytes).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            assertThat(rowB3).as("the first rows are the full file's").isEqualTo(rowA3);
            assertThat(rowB11).as("row 11 repeats row 3").isEqualTo(rowB3);
            assertThat(rowA11).as("the full file has distinct rows").isNotEqualTo(rowA3);
        }
    }

    @Test
    void realShapesHaveThePublishedParameterCounts() {
        // Hugging Face counts; memwall's llama file adds the 32 (or 64) RoPE frequency factors llama.cpp stores.
        assertThat(ModelShape.named("llama-3.2-1b").parameterCount()).isEqualTo(1_235_814_400L + 32);
        assertThat(ModelShape.named("llama-3.1-8b").parameterCount()).isEqualTo(8_030_261_248L + 64);
        assertThat(ModelShape.named("qwen2.5-0.5b").parameterCount()).isEqualTo(494_032_768L);
        assertThat(ModelShape.named("qwen3-0.6b").parameterCount()).isEqualTo(596_049_920L);
        assertThat(ModelShape.names()).contains("exaone-4.0-1.2b", "gpt-oss-20b");
        assertThat(ModelShape.named("gpt-oss-20b").parameterCount()).isBetween(20_800_000_000L, 21_000_000_000L);
    }

    /** Our per-tensor types must be llama-quantize's: checked on every quantized conformance model. */
    @ParameterizedTest
    @ValueSource(strings = {"llama-Q4_K_M", "llama-Q4_0", "llama-Q8_0", "llama-F16", "llama-BF16", "qwen2-Q4_0", "qwen3-Q4_K_M", "qwen3-Q8_0"})
    void choosesTheTensorTypesLlamaQuantizeChooses(String name) {
        Path path = Conformance.file("models/" + name + ".gguf");
        SyntheticModel.Mix mix = SyntheticModel.Mix.parse(name.substring(name.indexOf('-') + 1));
        try (GgufFile f = GgufFile.open(path)) {
            int layers = f.metadata().getCount(f.metadata().getString("general.architecture") + ".block_count", 0);
            boolean hasOutput = f.tensorInfo("output.weight") != null;
            Map<String, GgmlType> ours = new TreeMap<>();
            Map<String, GgmlType> theirs = new TreeMap<>();
            for (TensorInfo t : f.tensors().values()) {
                int layer = t.name().startsWith("blk.") ? Integer.parseInt(t.name().split("\\.")[1]) : -1;
                ours.put(t.name(), SyntheticModel.typeFor(new SyntheticModel.PlannedTensor(t.name(), t.dims(), layer), mix, layers, hasOutput));
                theirs.put(t.name(), t.type());
            }
            assertThat(ours).isEqualTo(theirs);
        }
    }

    @Test
    void fallsBackWhereRowsAreNotWhole256Blocks() {
        var t = new SyntheticModel.PlannedTensor("blk.0.attn_q.weight", new long[] {896, 896}, 0);
        assertThat(SyntheticModel.typeFor(t, SyntheticModel.Mix.Q4_K_M, 24, false)).isEqualTo(GgmlType.Q5_0);
        var out = new SyntheticModel.PlannedTensor("token_embd.weight", new long[] {896, 151936}, -1);
        assertThat(SyntheticModel.typeFor(out, SyntheticModel.Mix.Q4_K_M, 24, false)).isEqualTo(GgmlType.Q8_0);
    }

    @Test
    void llama3RopeFactorsBlendBetweenOneAndTheScale() {
        float[] f = SyntheticModel.llama3RopeFactors(ModelShape.named("llama-3.2-1b"));
        assertThat(f).hasSize(32);
        assertThat(f[0]).isEqualTo(1f);
        assertThat(f[31]).isEqualTo(32f);
        for (int i = 1; i < f.length; i++) {
            assertThat(f[i]).isGreaterThanOrEqualTo(f[i - 1]);
        }
    }

    @Test
    void namesWhatItDoesNotKnow() {
        assertThatThrownBy(() -> ModelShape.named("llama-9b")).isInstanceOf(MemwallException.class)
                .hasMessageContaining("unknown shape 'llama-9b'").hasMessageContaining("qwen3-0.6b");
        assertThatThrownBy(() -> SyntheticModel.Mix.parse("Q3_K")).isInstanceOf(MemwallException.class)
                .hasMessageContaining("unknown type 'Q3_K'");
        assertThat(SyntheticModel.Mix.parse("q4_k")).isEqualTo(SyntheticModel.Mix.Q4_K_M);
        assertThat(List.of(SyntheticModel.Mix.values())).hasSize(6);
    }
}
