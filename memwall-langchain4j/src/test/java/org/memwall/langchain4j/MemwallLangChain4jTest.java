package org.memwall.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.ReturnBehavior;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.memwall.TestModels;
import org.memwall.server.Memwall;
import org.memwall.synth.SyntheticModel;

/**
 * The in-process LangChain4j models on a random-weight Qwen3-shaped model with a Hermes template:
 * an AiServices interface whose tool is called (tool choice required, so random weights still call
 * it validly), streaming with cancellation-free completion, a JSON schema, and embeddings.
 */
class MemwallLangChain4jTest {
    static final String HERMES = """
            {%- if tools %}<|im_start|>system
            <tools>
            {%- for tool in tools %}
            {{ tool | tojson }}
            {%- endfor %}
            </tools><|im_end|>
            {% endif %}
            {%- for m in messages %}
            {%- if m.role == 'assistant' and m.tool_calls %}<|im_start|>assistant
            {%- for tc in m.tool_calls %}
            <tool_call>
            {"name": "{{ tc.function.name }}", "arguments": {{ tc.function.arguments | tojson }}}
            </tool_call>
            {%- endfor %}<|im_end|>
            {% elif m.role == 'tool' %}<|im_start|>user
            <tool_response>
            {{ m.content }}
            </tool_response><|im_end|>
            {% else %}<|im_start|>{{ m.role }}
            {{ m.content }}<|im_end|>
            {% endif %}
            {%- endfor %}
            {%- if add_generation_prompt %}<|im_start|>assistant
            {% endif %}""";

    static Memwall memwall;

    @BeforeAll
    static void load() {
        memwall = Memwall.load(TestModels.small("qwen3", SyntheticModel.Mix.Q8_0), 2, 2, 512, HERMES);
    }

    @AfterAll
    static void close() {
        memwall.close();
    }

    static final class Weather {
        final List<String> cities = new CopyOnWriteArrayList<>();

        @Tool(value = "The weather of a city", returnBehavior = ReturnBehavior.IMMEDIATE)
        String weather(@P("the city") String city) {
            cities.add(city);
            return "sunny in " + city;
        }
    }

    interface Assistant {
        Result<String> ask(String question);
    }

    @Test
    void anAiServiceCallsItsTool() {
        Weather tool = new Weather();
        MemwallChatModel model = new MemwallChatModel(memwall, ChatRequestParameters.builder().toolChoice(ToolChoice.REQUIRED).maxOutputTokens(80)
                .temperature(1.0).build());
        Assistant assistant = AiServices.builder(Assistant.class).chatModel(model).tools(tool).build();
        Result<String> r = assistant.ask("What is the weather in Seoul?");
        assertThat(tool.cities).hasSize(1);
        assertThat(r.toolExecutions()).hasSize(1);
        assertThat(r.toolExecutions().get(0).request().name()).isEqualTo("weather");
        assertThat(r.toolExecutions().get(0).result()).isEqualTo("sunny in " + tool.cities.get(0));
    }

    @Test
    void jsonSchemaRepliesParseAndStreamingDeliversTheSameText() throws Exception {
        JsonObjectSchema schema = JsonObjectSchema.builder().addStringProperty("city").addIntegerProperty("days").required("city", "days")
                .additionalProperties(false).build();
        ChatRequest request = ChatRequest.builder().messages(UserMessage.from("Plan a trip")).maxOutputTokens(80).temperature(1.0)
                .responseFormat(ResponseFormat.builder().type(ResponseFormatType.JSON).jsonSchema(JsonSchema.builder().name("trip").rootElement(schema).build())
                        .build()).build();
        ChatResponse r = new MemwallChatModel(memwall).chat(request);
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.aiMessage().text());
        assertThat(json.get("city").isTextual()).as(r.aiMessage().text()).isTrue();
        assertThat(json.get("days").isIntegralNumber()).isTrue();
        assertThat(json.size()).isEqualTo(2);
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);

        List<String> parts = new ArrayList<>();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        new MemwallStreamingChatModel(memwall).chat(request, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String text) {
                parts.add(text);
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
        ChatResponse streamed = done.get(60, TimeUnit.SECONDS);
        assertThat(String.join("", parts)).isEqualTo(streamed.aiMessage().text());
        assertThat(parts.size()).isGreaterThan(1);
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(streamed.aiMessage().text());
    }

    @Test
    void embeddingsAreUnitVectorsOfTheModelsWidth() {
        MemwallEmbeddingModel model = new MemwallEmbeddingModel(memwall);
        List<Embedding> e = model.embedAll(List.of(TextSegment.from("Once upon a time"), TextSegment.from("The cat sat"))).content();
        assertThat(e).hasSize(2);
        assertThat(e.get(0).dimension()).isEqualTo(model.dimension()).isEqualTo(256);
        double norm = 0;
        for (float x : e.get(0).vector()) {
            norm += x * x;
        }
        assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        assertThat(e.get(0).vector()).isEqualTo(memwall.embed(List.of("Once upon a time"))[0]);
    }

    @Test
    void aGenerationCanBeCancelled() throws Exception {
        Memwall.Generation g = memwall.chat(Memwall.Request.of(Memwall.Message.user("Tell a long story")).withSampling(400, 1.0, 1L), t -> { });
        g.cancel();
        Memwall.Result r = g.result().get(30, TimeUnit.SECONDS);
        assertThat(r.finishReason()).isEqualTo("cancelled");
        assertThat(r.completionTokens()).isLessThan(400);
    }
}
