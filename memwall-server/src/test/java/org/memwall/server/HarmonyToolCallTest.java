package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.memwall.TestModels;
import org.memwall.model.Model;
import org.memwall.synth.SyntheticModel;

/**
 * Required and named tool calls on a harmony (gpt-oss) model: a random-weight gpt-oss-shaped model
 * with the real family's special tokens, under a small harmony template written here. The grammar
 * covers the call's header special tokens as well as its JSON, so every reply is one valid call.
 */
class HarmonyToolCallTest {
    /** Harmony's shape: messages between <|start|>role and <|end|>, tools in a developer message, the reply opened with <|start|>assistant. */
    static final String TEMPLATE = """
            {%- if tools %}<|start|>developer<|message|># Tools

            namespace functions {
            {%- for t in tools %}
            type {{ t.function.name }} = (_: {{ t.function.parameters | tojson }}) => any;
            {%- endfor %}
            }<|end|>{% endif %}
            {%- for m in messages %}<|start|>{{ m.role }}<|channel|>final<|message|>{{ m.content }}<|end|>{% endfor %}
            {%- if add_generation_prompt %}<|start|>assistant{% endif %}""";

    static Model model;
    static OpenAiServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        model = Model.open(TestModels.small("gpt-oss", SyntheticModel.Mix.F32), 1);
        server = SyntheticServer.serve(model, TEMPLATE);
        client = SyntheticServer.client(server);
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
        model.close();
    }

    @Test
    void requiredCallsAreValidForEverySeed() throws Exception {
        List<String> names = new ArrayList<>();
        for (long seed = 1; seed <= 6; seed++) {
            ChatCompletion c = client.chat().completions().create(OpenAiSdkToolTest.request("Weather in Seoul?").seed(seed)
                    .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
            ChatCompletion.Choice choice = c.choices().get(0);
            assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
            List<ChatCompletionMessageToolCall> calls = choice.message().toolCalls().orElseThrow();
            assertThat(calls).as("harmony writes one call per reply").hasSize(1);
            ChatCompletionMessageFunctionToolCall.Function f = calls.get(0).function().orElseThrow().function();
            OpenAiSdkToolTest.assertValidCall(f);
            names.add(f.name());
            assertThat(choice.message().content().orElse("")).doesNotContain("<|").doesNotContain("to=functions");
        }
        assertThat(names).as("random weights pick either function").contains("get_weather", "get_time");
    }

    @Test
    void aNamedFunctionIsTheOneCalled() throws Exception {
        for (long seed = 1; seed <= 3; seed++) {
            ChatCompletion c = client.chat().completions().create(OpenAiSdkToolTest.request("Time?").seed(seed)
                    .toolChoice(ChatCompletionNamedToolChoice.builder()
                            .function(ChatCompletionNamedToolChoice.Function.builder().name("get_weather").build()).build()).build());
            List<ChatCompletionMessageToolCall> calls = c.choices().get(0).message().toolCalls().orElseThrow();
            assertThat(calls).hasSize(1);
            assertThat(calls.get(0).function().orElseThrow().function().name()).isEqualTo("get_weather");
            OpenAiSdkToolTest.assertValidCall(calls.get(0).function().orElseThrow().function());
        }
    }

    /** Streamed, the call's arguments come in pieces that join into the arguments the same request returns unstreamed. */
    @Test
    void streamedCallsMatchTheUnstreamedReply() throws Exception {
        for (long seed = 1; seed <= 3; seed++) {
            var params = OpenAiSdkToolTest.request("Weather?").seed(seed).toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build();
            ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
            List<ChatCompletionChunk> chunks = new ArrayList<>();
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                stream.stream().forEach(ch -> {
                    chunks.add(ch);
                    acc.accumulate(ch);
                });
            }
            ChatCompletion streamed = acc.chatCompletion();
            assertThat(streamed.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
            ChatCompletionMessageFunctionToolCall.Function f = streamed.choices().get(0).message().toolCalls().orElseThrow().get(0)
                    .function().orElseThrow().function();
            OpenAiSdkToolTest.assertValidCall(f);
            ChatCompletionMessageFunctionToolCall.Function whole = client.chat().completions().create(params).choices().get(0).message()
                    .toolCalls().orElseThrow().get(0).function().orElseThrow().function();
            assertThat(f.name()).isEqualTo(whole.name());
            assertThat(f.arguments()).isEqualTo(whole.arguments());
            long argumentDeltas = chunks.stream().filter(ch -> !ch.choices().isEmpty() && ch.choices().get(0).delta().toolCalls().isPresent())
                    .count() - 1;
            assertThat(argumentDeltas).as("arguments in more than one piece: %s", f.arguments()).isGreaterThan(1);
        }
    }
}
