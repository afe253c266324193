package org.memwall.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.memwall.TestModels;
import org.memwall.chat.ChatFormatter;
import org.memwall.model.Model;
import org.memwall.synth.ModelShape;
import org.memwall.synth.SyntheticModel;
import org.memwall.tokenizer.Tokenizer;

/** A server on a free loopback port over stories260K (the built-in model), with a minimal chat template. */
final class ServerFixture implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String TEMPLATE = "{% for m in messages %}{{ m.content }}{% endfor %}";

    final Model model;
    final Tokenizer tokenizer;
    final OpenAiServer server;
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    ServerFixture(int parallel, int maxQueue, String apiKey, long timeoutMillis) throws IOException {
        this(TestModels.stories(),
                new ServerSettings("127.0.0.1", 0, "stories", apiKey, parallel, maxQueue, 64 * 1024, timeoutMillis, 128));
    }

    ServerFixture(Path file, ServerSettings settings) throws IOException {
        model = Model.open(file, 2);
        tokenizer = Tokenizer.from(model.file().metadata());
        ChatFormatter formatter = ChatFormatter.of(TEMPLATE, tokenizer);
        server = new OpenAiServer(model, tokenizer, formatter, settings);
        server.start();
    }

    /**
     * A random-weight Llama-shaped model small enough to decode in about a millisecond a token but with
     * a 4,096-token context, so one request can run for seconds; written once per test run by {@code synth}.
     */
    static Path longContextModel() throws IOException {
        return contextModel(4096);
    }

    /** A tiny random-weight Llama-shaped model (F32) with a context of {@code context} tokens, written once per JVM. */
    static synchronized Path contextModel(int context) throws IOException {
        Path file = CONTEXT_MODELS.get(context);
        if (file == null) {
            ModelShape real = ModelShape.named("llama-3.2-1b");
            ModelShape small = new ModelShape("small-llama-" + context, "llama", 2, 64, 4, 2, 16, 128, 512 + real.specials().size() + 5, 512,
                    true, context, real.ropeBase(), real.rmsEpsilon(), real.preTokenizer(), real.specials(), 512, 513, null, 0, 0, 0);
            Path dir = Files.createTempDirectory("memwall-server-test");
            file = dir.resolve("small-llama-" + context + ".gguf");
            SyntheticModel.write(small, SyntheticModel.Mix.F32, 3, file, t -> { });
            file.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            CONTEXT_MODELS.put(context, file);
        }
        return file;
    }

    private static final java.util.Map<Integer, Path> CONTEXT_MODELS = new java.util.HashMap<>();

    /** Request fields banning the long-context model's end-of-text, end-of-message and end-of-turn tokens: its requests run to max_tokens. */
    static final String NO_END = "\"logit_bias\": {\"513\": -100, \"520\": -100, \"521\": -100}";

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    HttpResponse<String> post(String path, String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).GET();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    static String chat(String content, int maxTokens, String extra) {
        return "{\"model\": \"stories\", \"messages\": [{\"role\": \"user\", \"content\": " + quote(content) + "}], \"max_tokens\": " + maxTokens
                + ", \"temperature\": 0" + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    long metric(String name) throws IOException, InterruptedException {
        return metric(name, null);
    }

    /** A metric's value, or {@code absent} when the server does not list it (null: an error). */
    long metric(String name, Integer absent) throws IOException, InterruptedException {
        for (String line : get("/metrics").body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return (long) Double.parseDouble(line.substring(name.length() + 1));
            }
        }
        if (absent != null) {
            return absent;
        }
        throw new IllegalStateException("no metric " + name);
    }

    @Override
    public void close() {
        server.close();
        model.close();
    }
}
