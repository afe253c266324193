package org.memwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.memwall.gguf.GgufFile;
import org.memwall.tokenizer.StreamingDetokenizer;
import org.memwall.tokenizer.Tokenizer;

/**
 * The model inside the distribution, run with no -m as a newcomer does. The expected ids
 * (stories260K.greedy.txt, test resource) are llama.cpp's greedy continuation of BOS alone; it starts
 * with " Once upon a time", so greedy decoding from that prompt must continue with its next ids.
 */
class BuiltinModelTest {
    @Test
    void runWithoutAModelTellsTheStoryLlamaCppTells() throws IOException {
        int[] greedy = expectedIds();
        String expected;
        int[] prompt;
        try (GgufFile file = GgufFile.open(BuiltinModel.path())) {
            Tokenizer tokenizer = Tokenizer.from(file.metadata());
            prompt = tokenizer.encode("Once upon a time", false, false);
            assertThat(Arrays.copyOf(greedy, prompt.length)).as("llama.cpp's story starts with the prompt's tokens").isEqualTo(prompt);
            StreamingDetokenizer detok = new StreamingDetokenizer(tokenizer, false);
            StringBuilder sb = new StringBuilder();
            for (int i = prompt.length; i < prompt.length + 60; i++) {
                sb.append(detok.push(greedy[i]));
            }
            expected = sb.append(detok.flush()).toString();
        }
        assertThat(expected).startsWith(", there was a little girl named Lily. She loved to play outside in the park.");
        Cli r = Cli.run("run", "-p", "Once upon a time", "-n", "60", "--temp", "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(expected);
        assertThat(r.err()).contains("loaded stories260K.gguf (llama)").contains("generated 60 tokens");
    }

    @Test
    void infoWithoutAModelDescribesTheBuiltInOne() {
        Cli r = Cli.run("info");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("architecture:   llama").contains("layers:         5, embedding 64, heads 8 (KV heads 4");
    }

    @Test
    void theLicenceNoticeShipsBesideTheModel() throws IOException {
        try (InputStream in = BuiltinModel.class.getResourceAsStream("builtin/stories260K.LICENSE")) {
            assertThat(in).isNotNull();
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).contains("MIT License").contains("Copyright (c) 2023 Andrej");
        }
    }

    @Test
    void extractingTwiceReusesTheSameFile() {
        Path first = BuiltinModel.path();
        assertThat(BuiltinModel.path()).isEqualTo(first);
        assertThat(first.getFileName().toString()).isEqualTo("stories260K.gguf");
    }

    private static int[] expectedIds() throws IOException {
        try (InputStream in = BuiltinModelTest.class.getResourceAsStream("stories260K.greedy.txt")) {
            return Arrays.stream(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
        }
    }
}
