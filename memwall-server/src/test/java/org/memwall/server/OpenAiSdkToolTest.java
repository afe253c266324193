package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.chat.ChatFormatter;
import org.memwall.chat.ToolCallFormat;
import org.memwall.model.Model;
import org.memwall.tokenizer.Tokenizer;

/**
 * The official OpenAI Java SDK against the server over loopback, on a random-weight Qwen3-shaped
 * model with a Hermes-convention template written here: required and named tool calls (constrained,
 * so random weights still make a valid call), streamed tool calls, a tool result sent back through
 * the template, calls parsed in {@code auto} mode, and {@code json_schema}.
 */
class OpenAiSdkToolTest {
    /** A Qwen-style template: tools in the system turn, calls in {@code <tool_call>} blocks, results as {@code <tool_response>}. */
    static final String HERMES = """
            {%- if tools %}<|im_start|>system
            # Tools
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
    static final String WEATHER_SCHEMA = "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"maxLength\": 12},"
            + " \"unit\": {\"enum\": [\"C\", \"F\"]}}, \"required\": [\"city\", \"unit\"], \"additionalProperties\": false}";

    @TempDir
    static Path dir;
    static Model model;
    static OpenAiServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        model = SyntheticServer.open(dir, "qwen3-0.6b");
        server = SyntheticServer.serve(model, HERMES);
        client = SyntheticServer.client(server);
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
        model.close();
    }

    static ChatCompletionFunctionTool tool(String name, String schema) throws Exception {
        FunctionParameters.Builder p = FunctionParameters.builder();
        StructuredOutputTest.STRICT.readTree(schema).properties().forEach(e -> p.putAdditionalProperty(e.getKey(), JsonValue.fromJsonNode(e.getValue())));
        return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name(name).parameters(p.build()).build()).build();
    }

    static ChatCompletionCreateParams.Builder request(String user) throws Exception {
        return ChatCompletionCreateParams.builder().model("synth").addUserMessage(user).maxCompletionTokens(100).temperature(1.0).seed(5)
                .addTool(tool("get_weather", WEATHER_SCHEMA))
                .addTool(tool("get_time", "{\"properties\": {\"zone\": {\"type\": \"string\", \"maxLength\": 8}}, \"required\": [\"zone\"]}"));
    }

    static void assertValidCall(ChatCompletionMessageFunctionToolCall.Function f) throws Exception {
        assertThat(f.name()).isIn("get_weather", "get_time");
        String schema = f.name().equals("get_weather") ? WEATHER_SCHEMA : "{\"required\": [\"zone\"]}";
        assertThat(StructuredOutputTest.validate(StructuredOutputTest.STRICT.readTree(schema), f.arguments())).as(f.arguments()).isEmpty();
    }

    @Test
    void requiredToolChoiceAlwaysYieldsValidCallsFromRandomWeights() throws Exception {
        for (long seed = 1; seed <= 3; seed++) {
            ChatCompletion c = client.chat().completions().create(request("What is the weather in Seoul?").seed(seed)
                    .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
            ChatCompletion.Choice choice = c.choices().get(0);
            assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
            List<ChatCompletionMessageToolCall> calls = choice.message().toolCalls().orElseThrow();
            assertThat(calls).isNotEmpty();
            for (ChatCompletionMessageToolCall call : calls) {
                assertThat(call.function().orElseThrow().id()).startsWith("call_");
                assertValidCall(call.function().orElseThrow().function());
            }
        }
    }

    @Test
    void aNamedFunctionIsTheOneCalledAndOnlyOnce() throws Exception {
        ChatCompletion c = client.chat().completions().create(request("Time?").toolChoice(ChatCompletionNamedToolChoice.builder()
                .function(ChatCompletionNamedToolChoice.Function.builder().name("get_time").build()).build()).build());
        List<ChatCompletionMessageToolCall> calls = c.choices().get(0).message().toolCalls().orElseThrow();
        assertThat(calls).hasSize(1);
        assertThat(calls.get(0).function().orElseThrow().function().name()).isEqualTo("get_time");
        assertValidCall(calls.get(0).function().orElseThrow().function());
    }

    /**
     * Streamed, each call comes as OpenAI sends one: a delta with index, id, type and name (arguments
     * ""), then deltas with the index and pieces of the arguments, which join into exactly the
     * arguments the same request (same seed) returns unstreamed.
     */
    @Test
    void streamedToolCallsAccumulateIntoTheSameValidCalls() throws Exception {
        for (boolean parallel : new boolean[] {false, true}) {
            ChatCompletionCreateParams params = request("Weather?").seed(9).toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED)
                    .parallelToolCalls(parallel).build();
            ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
            List<ChatCompletionChunk.Choice.Delta.ToolCall> deltas = new ArrayList<>();
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                stream.stream().forEach(ch -> {
                    acc.accumulate(ch);
                    if (!ch.choices().isEmpty()) {
                        deltas.addAll(ch.choices().get(0).delta().toolCalls().orElse(List.of()));
                    }
                });
            }
            ChatCompletion c = acc.chatCompletion();
            assertThat(c.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
            List<ChatCompletionMessageToolCall> calls = c.choices().get(0).message().toolCalls().orElseThrow();
            if (!parallel) {
                assertThat(calls).hasSize(1);
            }
            List<ChatCompletionMessageToolCall> whole = client.chat().completions().create(params).choices().get(0).message().toolCalls().orElseThrow();
            assertThat(calls).hasSameSizeAs(whole);
            for (int i = 0; i < calls.size(); i++) {
                ChatCompletionMessageFunctionToolCall.Function f = calls.get(i).function().orElseThrow().function();
                assertValidCall(f);
                assertThat(f.name()).isEqualTo(whole.get(i).function().orElseThrow().function().name());
                assertThat(f.arguments()).isEqualTo(whole.get(i).function().orElseThrow().function().arguments());
                int index = i;
                List<ChatCompletionChunk.Choice.Delta.ToolCall> mine = deltas.stream().filter(d -> d.index() == index).toList();
                assertThat(mine.get(0).id().orElseThrow()).startsWith("call_");
                assertThat(mine.get(0).function().orElseThrow().name()).contains(f.name());
                assertThat(mine.get(0).function().orElseThrow().arguments()).contains("");
                assertThat(mine.subList(1, mine.size())).as("the arguments come in pieces").hasSizeGreaterThan(1)
                        .allSatisfy(d -> {
                            assertThat(d.id()).isEmpty();
                            assertThat(d.function().orElseThrow().name()).isEmpty();
                        });
            }
            assertThat(c.choices().get(0).message().content().orElse("")).doesNotContain("<tool_call>");
        }
    }

    /** On the wire: one long argument arrives in many SSE events, and they join into the unstreamed arguments, byte for byte. */
    @Test
    void aLongArgumentStreamsInManyFragments() throws Exception {
        String city = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch";
        String args = "{\\\"city\\\": \\\"" + city + "\\\", \\\"unit\\\": \\\"C\\\"}";
        String grammar = "root ::= \"<tool_call>\\n{\\\"name\\\": \\\"get_weather\\\", \\\"arguments\\\": " + args + "}\\n</tool_call>\"";
        String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Weather?\"}], \"max_tokens\": 200, \"grammar\": " + ServerFixture.quote(grammar)
                + ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": " + WEATHER_SCHEMA + "}}]";
        String unstreamed = ServerFixture.JSON.readTree(post(body + "}").body()).at("/choices/0/message/tool_calls/0/function/arguments").asText();
        assertThat(unstreamed).isEqualTo("{\"city\": \"" + city + "\", \"unit\": \"C\"}");
        List<JsonNode> calls = new ArrayList<>();
        for (String line : post(body + ", \"stream\": true}").body().split("\n")) {
            if (line.startsWith("data: {")) {
                JsonNode tc = ServerFixture.JSON.readTree(line.substring(6)).at("/choices/0/delta/tool_calls");
                tc.forEach(calls::add);
            }
        }
        JsonNode first = calls.get(0);
        assertThat(first.get("index").asInt()).isZero();
        assertThat(first.get("id").asText()).startsWith("call_");
        assertThat(first.get("type").asText()).isEqualTo("function");
        assertThat(first.at("/function/name").asText()).isEqualTo("get_weather");
        assertThat(first.at("/function/arguments").asText()).isEmpty();
        StringBuilder joined = new StringBuilder();
        for (JsonNode next : calls.subList(1, calls.size())) {
            assertThat(next.fieldNames()).toIterable().containsExactlyInAnyOrder("index", "function");
            assertThat(next.get("function").fieldNames()).toIterable().containsExactly("arguments");
            joined.append(next.at("/function/arguments").asText());
        }
        assertThat(calls.size() - 1).as("fragments").isGreaterThan(5);
        assertThat(joined.toString()).isEqualTo(unstreamed);
    }

    /** A call made, its result sent back: the prompt is what the template renders for exactly that conversation. */
    @Test
    void assistantToolCallsAndToolResultsAreRenderedThroughTheTemplate() throws Exception {
        ChatCompletion first = client.chat().completions().create(request("Weather in Seoul?").toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED)
                .parallelToolCalls(false).build());
        ChatCompletionMessageFunctionToolCall call = first.choices().get(0).message().toolCalls().orElseThrow().get(0).function().orElseThrow();
        ChatCompletion second = client.chat().completions().create(request("Weather in Seoul?").addMessage(first.choices().get(0).message())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("{\"temp\": 21}").build())
                .toolChoice(ChatCompletionToolChoiceOption.Auto.NONE).maxCompletionTokens(4).build());

        Tokenizer tokenizer = Tokenizer.from(model.file().metadata());
        ChatFormatter formatter = ChatFormatter.of(HERMES, tokenizer);
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", call.function().name());
        fn.put("arguments", GenerationRequest.toJava(StructuredOutputTest.STRICT.readTree(call.function().arguments())));
        List<Map<String, Object>> conversation = List.of(Map.of("role", "user", "content", "Weather in Seoul?"),
                Map.of("role", "assistant", "content", "", "tool_calls", List.of(Map.of("id", call.id(), "type", "function", "function", fn))),
                Map.of("role", "tool", "tool_call_id", call.id(), "content", "{\"temp\": 21}"));
        String rendered = formatter.render(conversation, null, true); // tool_choice none: the tools are not offered
        assertThat(rendered).contains("<tool_response>\n{\"temp\": 21}\n</tool_response>").contains("<tool_call>\n{\"name\": \"" + call.function().name());
        assertThat(second.usage().orElseThrow().promptTokens()).isEqualTo(formatter.encodeText(rendered).length);
        assertThat(second.choices().get(0).message().toolCalls().orElse(List.of())).isEmpty();
    }

    /** In auto mode the reply is parsed: a reply forced (by a grammar) into the Hermes form comes back as a call, text before it as content. */
    @Test
    void autoModeParsesCallsOutOfTheReply() throws Exception {
        String grammar = "root ::= \"Checking.\\n<tool_call>\\n{\\\"name\\\": \\\"get_weather\\\", \\\"arguments\\\": {\\\"city\\\": \\\"Seoul\\\", \\\"unit\\\": \\\"C\\\"}}\\n</tool_call>\"";
        String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Weather?\"}], \"max_tokens\": 100, \"grammar\": " + ServerFixture.quote(grammar)
                + ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": " + WEATHER_SCHEMA + "}}]";
        for (boolean stream : new boolean[] {false, true}) {
            var r = post(body + ", \"stream\": " + stream + "}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            if (!stream) {
                JsonNode msg = ServerFixture.JSON.readTree(r.body()).at("/choices/0/message");
                assertThat(msg.get("content").asText()).isEqualTo("Checking.");
                assertThat(msg.at("/tool_calls/0/function/name").asText()).isEqualTo("get_weather");
                assertThat(ServerFixture.JSON.readTree(msg.at("/tool_calls/0/function/arguments").asText()))
                        .isEqualTo(ServerFixture.JSON.readTree("{\"city\": \"Seoul\", \"unit\": \"C\"}"));
                assertThat(ServerFixture.JSON.readTree(r.body()).at("/choices/0/finish_reason").asText()).isEqualTo("tool_calls");
            } else {
                StringBuilder content = new StringBuilder();
                String finish = null;
                StringBuilder args = new StringBuilder();
                for (String line : r.body().split("\n")) {
                    if (line.startsWith("data: {")) {
                        JsonNode c = ServerFixture.JSON.readTree(line.substring(6)).at("/choices/0");
                        content.append(c.at("/delta/content").asText(""));
                        args.append(c.at("/delta/tool_calls/0/function/arguments").asText(""));
                        finish = c.path("finish_reason").isTextual() ? c.get("finish_reason").asText() : finish;
                    }
                }
                assertThat(content.toString()).as("the call's text is never streamed as content").isEqualTo("Checking.\n");
                assertThat(args.toString()).isEqualTo("{\"city\": \"Seoul\", \"unit\": \"C\"}");
                assertThat(finish).isEqualTo("tool_calls");
            }
        }
    }

    @Test
    void jsonSchemaResponseFormatThroughTheSdk() throws Exception {
        String schema = "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"maxLength\": 12}, \"days\": {\"type\": \"integer\","
                + " \"minimum\": 1, \"maximum\": 30}}, \"required\": [\"city\", \"days\"], \"additionalProperties\": false}";
        ResponseFormatJsonSchema.JsonSchema.Schema.Builder s = ResponseFormatJsonSchema.JsonSchema.Schema.builder();
        StructuredOutputTest.STRICT.readTree(schema).properties().forEach(e -> s.putAdditionalProperty(e.getKey(), JsonValue.fromJsonNode(e.getValue())));
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model("synth").addUserMessage("Plan a trip")
                .maxCompletionTokens(80).temperature(1.0).seed(2).responseFormat(ResponseFormatJsonSchema.builder()
                        .jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder().name("trip").strict(true).schema(s.build()).build()).build()).build());
        String content = c.choices().get(0).message().content().orElseThrow();
        assertThat(StructuredOutputTest.validate(StructuredOutputTest.STRICT.readTree(schema), content)).as(content).isEmpty();
    }

    @Test
    void badToolRequestsAreOneLine400s() throws Exception {
        assertThatThrownBy(() -> client.chat().completions().create(request("x").toolChoice(ChatCompletionNamedToolChoice.builder()
                .function(ChatCompletionNamedToolChoice.Function.builder().name("nope").build()).build()).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("tool_choice names 'nope', which is not in 'tools'");
        var r = post("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tool_choice\": \"required\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(ServerFixture.JSON.readTree(r.body()).at("/error/message").asText()).isEqualTo("tool_choice 'required' needs 'tools'");
        r = post("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", "
                + "\"parameters\": {\"type\": \"array\", \"uniqueItems\": true}}}], \"tool_choice\": \"required\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(ServerFixture.JSON.readTree(r.body()).at("/error/param").asText()).isEqualTo("tools");
        r = post("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"grammar\": \"root ::= <|nope|> \\\"a\\\"\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(ServerFixture.JSON.readTree(r.body()).at("/error/message").asText()).contains("<|nope|>");
        r = post("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": [{\"type\": \"web\"}]}");
        assertThat(ServerFixture.JSON.readTree(r.body()).at("/error/message").asText()).contains("tools[0]");
        assertThat(ToolCallFormat.detect(HERMES, null)).isEqualTo(ToolCallFormat.HERMES);
    }

    @Test
    void aTemplateWithoutAConventionCannotRequireACall() throws Exception {
        try (OpenAiServer plain = SyntheticServer.serve(model, "{% for m in messages %}{{ m.content }}{% endfor %}")) {
            JsonNode r = ServerFixture.JSON.readTree(postTo(plain, "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}],"
                    + " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"tool_choice\": \"required\"}").body());
            assertThat(r.at("/error/message").asText()).contains("no tool-call convention");
        }
    }

    private static java.net.http.HttpResponse<String> post(String body) throws Exception {
        return postTo(server, body);
    }

    private static java.net.http.HttpResponse<String> postTo(OpenAiServer s, String body) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + s.port() + "/v1/chat/completions")).header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    }
}
