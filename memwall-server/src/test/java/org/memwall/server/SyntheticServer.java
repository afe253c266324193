package org.memwall.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.memwall.chat.ChatFormatter;
import org.memwall.model.Model;
import org.memwall.synth.ModelShape;
import org.memwall.synth.SyntheticModel;
import org.memwall.tokenizer.Tokenizer;

/**
 * A random-weight model of a real family's vocabulary and template conventions, small enough to
 * write in a second (needs nothing from ../shared): what the structured-output and tool tests run on.
 */
final class SyntheticServer {
    private SyntheticServer() {
    }

    /** A small shape of {@code family} ("llama", "qwen3", ...) with the real family's special tokens. */
    static ModelShape small(String real) {
        ModelShape r = ModelShape.named(real);
        return new ModelShape("small-" + r.architecture(), r.architecture(), 2, 128, 4, 2, 32, 256, 1024 + r.specials().size() + 5,
                1024, r.tiedEmbeddings(), 512, r.ropeBase(), r.rmsEpsilon(), r.preTokenizer(), r.specials(),
                1024, 1025, r.ropeFactors(), 0, 0, 0);
    }

    /** Writes (once per directory) and opens a small random-weight model shaped like {@code real}. */
    static Model open(Path dir, String real) throws IOException {
        Path file = dir.resolve(real + ".gguf");
        if (!Files.exists(file)) {
            SyntheticModel.write(small(real), SyntheticModel.Mix.Q8_0, 7, file, t -> { });
        }
        return Model.open(file, 1);
    }

    /** The official OpenAI SDK's client for {@code server} (no retries). */
    static com.openai.client.OpenAIClient client(OpenAiServer server) {
        return com.openai.client.okhttp.OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused")
                .maxRetries(0).build();
    }

    /** A started server over {@code model} with {@code template}; port 0. */
    static OpenAiServer serve(Model model, String template) throws IOException {
        Tokenizer tokenizer = Tokenizer.from(model.file().metadata());
        OpenAiServer server = new OpenAiServer(model, tokenizer, ChatFormatter.of(template, tokenizer),
                new ServerSettings("127.0.0.1", 0, "synth", null, 2, 4, 1 << 20, 0, 512));
        server.start();
        return server;
    }
}
