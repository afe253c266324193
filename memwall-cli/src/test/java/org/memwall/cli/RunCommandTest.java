package org.memwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.Conformance;
import org.memwall.gguf.GgufFile;
import org.memwall.tokenizer.StreamingDetokenizer;
import org.memwall.tokenizer.Tokenizer;

/** End to end on the small real model: text in, tokens, forward, greedy, text out. */
class RunCommandTest {
    @TempDir
    Path tmp;

    @Test
    void aidreamsContinuesIDreamedExactlyAsLlamaCpp() throws IOException {
        Path model = Conformance.file("real/aidreams260K.gguf");
        int[] greedy = ids(Conformance.file("real/aidreams260K.greedy.txt"));
        String expected;
        try (GgufFile file = GgufFile.open(model)) {
            StreamingDetokenizer detok = new StreamingDetokenizer(Tokenizer.from(file.metadata()), false);
            StringBuilder sb = new StringBuilder();
            for (int id : greedy) {
                sb.append(detok.push(id));
            }
            expected = sb.append(detok.flush()).toString();
        }
        assertThat(expected).startsWith(", as I sense the nodes, a gentle hum of probability. Contrast emerge, a flower,");
        Cli r = Cli.run("run", "-m", model.toString(), "-p", "I dreamed", "-n", "100", "--temp", "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(expected);
        assertThat(r.err()).contains("generated 100 tokens").contains("tokens/s");
    }

    @Test
    void tokenizePrintsThePromptIdsWithBosWhenAsked() {
        // The ids llama.cpp's greedy story (stories260K.greedy.txt) starts with: " Once upon a time".
        Cli r = Cli.run("tokenize", "--text", "Once upon a time", "--add-special");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo("1 403 407 261 378");
        Cli plain = Cli.run("tokenize", "--text", "Once upon a time");
        assertThat(plain.out().strip()).isEqualTo("403 407 261 378");
    }

    @Test
    void tokenizeFileMatchesEveryVocabularyVectorExactly() throws IOException {
        for (String vocab : new String[] {"llama-spm", "phi-3", "gpt-2", "deepseek-llm", "falcon", "starcoder"}) {
            Path gguf = Conformance.file("tokenizer/ggml-vocab-" + vocab + ".gguf");
            String inp = Files.readString(Conformance.file("tokenizer/ggml-vocab-" + vocab + ".gguf.inp"));
            String[] tests = inp.split("\n__ggml_vocab_test__\n", -1);
            String[] out = Files.readString(Conformance.file("tokenizer/ggml-vocab-" + vocab + ".gguf.out")).split("\n", -1);
            int passed = 0;
            for (int i = 0; i < tests.length - 1; i++) {
                Path f = tmp.resolve(vocab + i + ".txt");
                Files.writeString(f, tests[i]);
                Cli r = Cli.run("tokenize", "-m", gguf.toString(), "--file", f.toString());
                assertThat(r.exitCode()).as(r.err()).isZero();
                assertThat(r.out().strip()).as(vocab + " test " + i + ": '" + tests[i] + "'").isEqualTo(out[i].strip());
                passed++;
            }
            assertThat(passed).isEqualTo(tests.length - 1).isGreaterThan(30);
        }
    }

    @Test
    void runOnAMissingModelIsOneLine() {
        Cli r = Cli.run("run", "-m", tmp.resolve("none.gguf").toString(), "-p", "x");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("memwall: model file not found: " + tmp.resolve("none.gguf"));
    }

    static int[] ids(Path p) throws IOException {
        return Arrays.stream(Files.readString(p).trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }
}
