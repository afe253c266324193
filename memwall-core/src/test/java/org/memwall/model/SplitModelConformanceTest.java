package org.memwall.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.memwall.Conformance;

/**
 * ../shared/conformance/models/split: qwen3-Q4_K_M cut by llama.cpp's gguf-split into four parts loads
 * from its first part and computes the unsplit file's logits (expected/qwen3-Q4_K_M.logits.f32).
 */
class SplitModelConformanceTest {
    @Test
    void theFirstPartOfLlamaCppsSplitLoadsTheWholeModel() throws IOException {
        Path dir = Conformance.dir();
        Path first = Conformance.file("models/split/qwen3-Q4_K_M-00001-of-00004.gguf");
        int[] prompt = ForwardConformanceTest.readIds(dir.resolve("prompt48.txt"));
        ForwardConformanceTest.Tolerance tol = ForwardConformanceTest.Tolerance.of(dir, "qwen3-Q4_K_M");
        float[] ref = ForwardConformanceTest.readFloats(tol.reference());
        try (Model split = Model.open(first, 2); Model whole = Model.open(dir.resolve("models/qwen3-Q4_K_M.gguf"), 2)) {
            assertThat(split.file().partCount()).isEqualTo(4);
            float[] logits = Logits.batch(split, prompt);
            assertThat(logits).as("same weights, same logits as the unsplit file").isEqualTo(Logits.batch(whole, prompt));
            ForwardConformanceTest.Comparison c = ForwardConformanceTest.Comparison.of(logits, ref, prompt.length, split.weights().vocabularySize());
            assertThat(c.relL2()).isLessThanOrEqualTo(tol.maxRelL2());
            assertThat(c.argmaxAgree()).isGreaterThanOrEqualTo(tol.minArgmax());
        }
    }
}
