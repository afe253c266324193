package org.memwall.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.memwall.Conformance;
import org.memwall.gguf.GgufFile;

/**
 * Upstream tokenizer test vectors (../shared/conformance/tokenizer, expected ids from the Hugging Face
 * reference tokenizer) and the small real model's prompt. Skips with a message when the folder is absent.
 */
class SentencePieceConformanceTest {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    record Case(int index, String input, int[] expected) {
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ggml-vocab-llama-spm", "ggml-vocab-phi-3"})
    void encodesEveryTestStringAsTheReferenceAndDecodesItBack(String name) throws IOException {
        Path gguf = Conformance.file("tokenizer/" + name + ".gguf");
        List<Case> cases = readCases("tokenizer/" + name + ".gguf");
        Tokenizer tokenizer;
        try (GgufFile file = GgufFile.open(gguf)) {
            tokenizer = Tokenizer.from(file.metadata());
        }
        assertThat(tokenizer).isInstanceOf(SentencePiece.class);

        List<String> failures = new ArrayList<>();
        int passed = 0;
        for (Case c : cases) {
            int before = failures.size();
            int[] actual = tokenizer.encode(c.input(), false, false);
            if (!Arrays.equals(actual, c.expected())) {
                failures.add("encode #" + c.index() + " " + quote(c.input()) + "\n  expected " + Arrays.toString(c.expected())
                        + "\n  actual   " + Arrays.toString(actual));
            }
            String decoded = tokenizer.decode(c.expected());
            if (!decoded.equals(c.input())) {
                failures.add("decode #" + c.index() + " " + quote(c.input()) + "\n  decoded  " + quote(decoded));
            }
            passed += failures.size() == before ? 1 : 0;
        }
        System.out.printf("%s: %d/%d test strings encode and decode as the reference%n", name, passed, cases.size());
        assertThat(failures).as("%d of %d cases of %s fail", cases.size() - passed, cases.size(), name).isEmpty();
    }

    @Test
    void encodesTheRealModelPromptWithBos() throws IOException {
        int[] expected = readIds("real/aidreams260K.prompt.txt");
        try (GgufFile file = GgufFile.open(Conformance.file("real/aidreams260K.gguf"))) {
            Tokenizer tokenizer = Tokenizer.from(file.metadata());
            assertThat(tokenizer.encode("I dreamed", true, false)).containsExactly(expected);
            assertThat(tokenizer.decode(expected)).isEqualTo("I dreamed");
        }
    }

    @Test
    void decodesTheRealModelsGreedyContinuationAsLlamaCppPrintedIt() throws IOException {
        int[] prompt = readIds("real/aidreams260K.prompt.txt");
        int[] greedy = readIds("real/aidreams260K.greedy.txt");
        try (GgufFile file = GgufFile.open(Conformance.file("real/aidreams260K.gguf"))) {
            Tokenizer tokenizer = Tokenizer.from(file.metadata());
            int[] all = Arrays.copyOf(prompt, prompt.length + greedy.length);
            System.arraycopy(greedy, 0, all, prompt.length, greedy.length);
            String text = tokenizer.decode(all);
            assertThat(text).startsWith("I dreamed, as I sense the nodes, a gentle hum of probability. Contrast emerge, a flower, ");

            StreamingDetokenizer streaming = new StreamingDetokenizer(tokenizer);
            StringBuilder streamed = new StringBuilder();
            for (int id : all) {
                streamed.append(streaming.push(id));
            }
            assertThat(streamed.append(streaming.flush()).toString()).isEqualTo(text);
        }
    }

    @Test
    void parsesSpecialTokenTextOfTheLlamaVocabularyOnlyWhenAsked() throws IOException {
        try (GgufFile file = GgufFile.open(Conformance.file("tokenizer/ggml-vocab-llama-spm.gguf"))) {
            Tokenizer tokenizer = Tokenizer.from(file.metadata());
            int hello = tokenizer.vocabulary().id("▁Hello");
            assertThat(tokenizer.encode("Hello", true, false)).containsExactly(1, hello);
            assertThat(tokenizer.encode("<s>Hello</s>", false, true)).containsExactly(1, hello, 2);
            assertThat(tokenizer.encode("<s>Hello</s>", false, false)).doesNotContain(1, 2);
            assertThat(tokenizer.isEndOfGeneration(2)).isTrue();
        }
    }

    private static int[] readIds(String relative) throws IOException {
        return Files.readAllLines(Conformance.file(relative)).stream().map(String::strip).filter(s -> !s.isEmpty())
                .mapToInt(Integer::parseInt).toArray();
    }

    /** Splits NAME.gguf.inp on the separator (N separators, N tests) and pairs it with NAME.gguf.out. */
    static List<Case> readCases(String gguf) throws IOException {
        Path inp = Conformance.file(gguf + ".inp");
        Path out = Conformance.file(gguf + ".out");
        String all = Files.readString(inp, StandardCharsets.UTF_8);
        List<String> inputs = new ArrayList<>();
        for (int from = 0, at; (at = all.indexOf(SEPARATOR, from)) >= 0; from = at + SEPARATOR.length()) {
            inputs.add(all.substring(from, at));
        }
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertThat(lines).as("lines of %s", out).hasSameSizeAs(inputs);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String line = lines.get(i).strip();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split("\\s+")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(i, inputs.get(i), ids));
        }
        return cases;
    }

    /** The input with control characters escaped, so whitespace-only cases are readable in a report. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                case '"' -> b.append("\\\"");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", c));
                    } else {
                        b.appendCodePoint(c);
                    }
                }
            }
        });
        return b.append('"').toString();
    }
}
