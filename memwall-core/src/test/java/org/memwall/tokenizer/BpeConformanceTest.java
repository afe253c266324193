package org.memwall.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.memwall.Conformance;
import org.memwall.gguf.GgufFile;

/** Byte-level BPE vocabularies against the Hugging Face reference ids of upstream test strings. */
class BpeConformanceTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gpt-2", "deepseek-llm", "falcon", "starcoder", "llama-3", "qwen3", "gpt-oss"})
    void everyVectorEncodesExactlyAndDecodesBack(String name) throws IOException {
        String inp = Files.readString(Conformance.file("tokenizer/ggml-vocab-" + name + ".gguf.inp"));
        String[] tests = inp.split("\n__ggml_vocab_test__\n", -1);
        String[] expected = Files.readString(Conformance.file("tokenizer/ggml-vocab-" + name + ".gguf.out")).split("\n", -1);
        List<String> failures = new ArrayList<>();
        int n = tests.length - 1;
        try (GgufFile file = GgufFile.open(Conformance.file("tokenizer/ggml-vocab-" + name + ".gguf"))) {
            Tokenizer t = Tokenizer.from(file.metadata());
            assertThat(t).isInstanceOf(BytePairEncoding.class);
            for (int i = 0; i < n; i++) {
                int[] ids = t.encode(tests[i], false, false);
                int[] want = expected[i].isBlank() ? new int[0]
                        : Arrays.stream(expected[i].trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
                if (!Arrays.equals(ids, want)) {
                    failures.add("test " + i + " '" + tests[i].replace("\n", "\\n") + "': got " + Arrays.toString(ids) + " want " + Arrays.toString(want));
                } else if (!t.decode(ids).equals(tests[i])) {
                    failures.add("test " + i + " decodes to '" + t.decode(ids) + "'");
                }
            }
        }
        System.out.printf("%s: %d/%d%n", name, n - failures.size(), n);
        assertThat(failures).as(name).isEmpty();
    }
}
