package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonEnumSchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaModel;
import dev.langchain4j.model.ollama.OllamaModels;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.engine.Embedder;
import org.memwall.model.Model;
import org.memwall.tokenizer.Tokenizer;

/**
 * LangChain4j's Ollama client ({@code langchain4j-ollama}) against {@code /api/*} over loopback, on a
 * random-weight Llama-3-shaped model with a Llama 3 JSON tool-call template written here. A tool call
 * is made certain by Ollama's {@code format}: a schema of the call's own JSON shape.
 */
class OllamaApiTest {
    static final String LLAMA3 = """
            {{- bos_token }}{%- if tools %}<|start_header_id|>system<|end_header_id|>

            Reply with {"name": function name, "parameters": arguments}.
            {% for t in tools %}{{ t | tojson }}{% endfor %}<|eot_id|>{%- endif %}
            {%- for m in messages %}
            {%- if m.role == 'assistant' and m.tool_calls %}<|start_header_id|>assistant<|end_header_id|>

            {% for tc in m.tool_calls %}{"name": "{{ tc.function.name }}", "parameters": {{ tc.function.arguments | tojson }}}{% endfor %}<|eot_id|>
            {%- elif m.role == 'tool' %}<|start_header_id|>ipython<|end_header_id|>

            {{ m.content }}<|eot_id|>
            {%- else %}<|start_header_id|>{{ m.role }}<|end_header_id|>

            {{ m.content }}<|eot_id|>
            {%- endif %}{%- endfor %}
            {%- if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>

            {% endif %}""";

    @TempDir
    static Path dir;
    static Model model;
    static OpenAiServer server;
    static String url;

    @BeforeAll
    static void start() throws Exception {
        model = SyntheticServer.open(dir, "llama-3.2-1b");
        server = SyntheticServer.serve(model, LLAMA3);
        url = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() {
        server.close();
        model.close();
    }

    static final JsonObjectSchema CITY = JsonObjectSchema.builder().addStringProperty("city").required("city").additionalProperties(false).build();

    static ResponseFormat callShape() {
        return ResponseFormat.builder().type(ResponseFormatType.JSON).jsonSchema(JsonSchema.builder().name("call").rootElement(JsonObjectSchema.builder()
                .addProperty("name", JsonEnumSchema.builder().enumValues("get_weather").build()).addProperty("parameters", CITY)
                .required("name", "parameters").additionalProperties(false).build()).build()).build();
    }

    static ToolSpecification weather() {
        return ToolSpecification.builder().name("get_weather").description("Weather of a city").parameters(CITY).build();
    }

    @Test
    void chatWithToolsReturnsTheParsedCallAndTakesItsResultBack() throws Exception {
        OllamaChatModel chat = OllamaChatModel.builder().baseUrl(url).modelName("synth:latest").temperature(1.0).seed(4).numPredict(60)
                .timeout(Duration.ofSeconds(60)).build();
        UserMessage question = UserMessage.from("Weather in Seoul?");
        ChatResponse r = chat.chat(ChatRequest.builder().messages(question).toolSpecifications(weather()).responseFormat(callShape()).build());
        AiMessage ai = r.aiMessage();
        assertThat(ai.toolExecutionRequests()).hasSize(1);
        ToolExecutionRequest call = ai.toolExecutionRequests().get(0);
        assertThat(call.name()).isEqualTo("get_weather");
        JsonNode args = ServerFixture.JSON.readTree(call.arguments());
        assertThat(args.get("city").isTextual()).as(call.arguments()).isTrue();
        assertThat(r.tokenUsage().inputTokenCount()).isPositive();

        // The call and its result go back through the template: the prompt grows by exactly their rendering.
        ChatResponse second = chat.chat(ChatRequest.builder().messages(question, ai, ToolExecutionResultMessage.from(call, "{\"temp\": 21}"))
                .toolSpecifications(weather()).build());
        Tokenizer tokenizer = Tokenizer.from(model.file().metadata());
        org.memwall.chat.ChatFormatter f = org.memwall.chat.ChatFormatter.of(LLAMA3, tokenizer);
        String rendered = f.render(List.of(java.util.Map.of("role", "user", "content", "Weather in Seoul?"),
                java.util.Map.of("role", "assistant", "content", "", "tool_calls", List.of(java.util.Map.of("function", java.util.Map.of("name", "get_weather",
                        "arguments", GenerationRequest.toJava(args))))), java.util.Map.of("role", "tool", "content", "{\"temp\": 21}")),
                List.of(java.util.Map.of("type", "function", "function", java.util.Map.of("name", "get_weather", "description", "Weather of a city",
                        "parameters", GenerationRequest.toJava(ServerFixture.JSON.readTree("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}},"
                                + " \"required\": [\"city\"], \"additionalProperties\": false}"))))), true);
        assertThat(rendered).contains("<|start_header_id|>ipython<|end_header_id|>\n\n{\"temp\": 21}<|eot_id|>");
        assertThat(second.tokenUsage().inputTokenCount()).isGreaterThan(r.tokenUsage().inputTokenCount());
    }

    @Test
    void streamingChatWithAJsonSchemaFormatStreamsValidJson() throws Exception {
        OllamaStreamingChatModel chat = OllamaStreamingChatModel.builder().baseUrl(url).modelName("synth").temperature(1.0).seed(7).numPredict(60)
                .responseFormat(ResponseFormat.builder().type(ResponseFormatType.JSON).jsonSchema(JsonSchema.builder().name("c").rootElement(CITY).build()).build())
                .timeout(Duration.ofSeconds(60)).build();
        StringBuilder partial = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        chat.chat("Pick a city", new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String text) {
                partial.append(text);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse r = done.get(60, TimeUnit.SECONDS);
        assertThat(r.aiMessage().text()).isEqualTo(partial.toString());
        assertThat(StructuredOutputTest.validate(ServerFixture.JSON.readTree("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}},"
                + " \"required\": [\"city\"], \"additionalProperties\": false}"), partial.toString())).as(partial.toString()).isEmpty();
        assertThat(r.tokenUsage().outputTokenCount()).isPositive();
    }

    @Test
    void embeddingsAndModelListingsThroughTheClient() throws Exception {
        OllamaEmbeddingModel embed = OllamaEmbeddingModel.builder().baseUrl(url).modelName("synth").build();
        float[] v = embed.embed("Once upon a time").content().vector();
        Tokenizer tokenizer = Tokenizer.from(model.file().metadata());
        float[] expected = new Embedder(model, Embedder.Pooling.of(model.file().metadata()), 512).embed(List.of(tokenizer.encode("Once upon a time", true, false)))[0];
        assertThat(v).isEqualTo(expected);

        OllamaModels models = OllamaModels.builder().baseUrl(url).build();
        List<OllamaModel> available = models.availableModels().content();
        assertThat(available).extracting(OllamaModel::getName).containsExactly("synth");
        assertThat(available.get(0).getDetails().getFamily()).isEqualTo("llama");
        assertThat(available.get(0).getSize()).isEqualTo(model.file().fileSize());
        assertThat(models.modelCard("synth").content().getTemplate()).isEqualTo(model.file().metadata().getString("tokenizer.chat_template", ""));
        assertThat(models.modelCard("synth").content().getCapabilities()).contains("completion", "tools", "embedding");
        assertThat(models.runningModels().content()).hasSize(1);
    }

    @Test
    void generateStreamsNdjsonAndErrorsAreOllamaShaped() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url + "/api/generate")).POST(HttpRequest.BodyPublishers.ofString(
                "{\"model\": \"synth\", \"prompt\": \"Say yes\", \"format\": {\"enum\": [\"yes\", \"no\"]}, \"options\": {\"seed\": 1, \"temperature\": 1}}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/x-ndjson");
        StringBuilder text = new StringBuilder();
        String[] lines = r.body().split("\n");
        for (int i = 0; i < lines.length; i++) {
            JsonNode l = ServerFixture.JSON.readTree(lines[i]);
            assertThat(l.get("done").asBoolean()).isEqualTo(i == lines.length - 1);
            text.append(l.get("response").asText());
        }
        assertThat(text.toString().strip()).as("the schema grammar allows trailing space").isIn("\"yes\"", "\"no\"");
        JsonNode last = ServerFixture.JSON.readTree(lines[lines.length - 1]);
        assertThat(last.get("done_reason").asText()).isEqualTo("stop");
        assertThat(last.get("eval_count").asInt()).isPositive();

        JsonNode version = ServerFixture.JSON.readTree(client.send(HttpRequest.newBuilder(URI.create(url + "/api/version")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        assertThat(version.get("version").asText()).isEqualTo(OllamaApi.VERSION);

        HttpResponse<String> bad = client.send(HttpRequest.newBuilder(URI.create(url + "/api/chat")).POST(HttpRequest.BodyPublishers.ofString(
                "{\"model\": \"synth\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"format\": 42}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(ServerFixture.JSON.readTree(bad.body()).get("error").asText()).isEqualTo("'format' must be \"json\" or a JSON schema object");
        HttpResponse<String> none = client.send(HttpRequest.newBuilder(URI.create(url + "/api/pull")).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(ServerFixture.JSON.readTree(none.body()).get("error").asText()).startsWith("no route POST /api/pull");
    }
}
