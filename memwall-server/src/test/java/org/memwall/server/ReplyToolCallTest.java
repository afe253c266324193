package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.memwall.TestModels;
import org.memwall.chat.ToolCallFormat;
import org.memwall.gguf.GgufFile;
import org.memwall.synth.SyntheticModel;
import org.memwall.tokenizer.Tokenizer;

/** A reply's tokens, as a model of each convention would generate them, become calls; the calls' text is never streamed as content. */
class ReplyToolCallTest {
    static List<String> feed(Reply reply, Tokenizer tokenizer, String text) throws Exception {
        List<String> streamed = new ArrayList<>();
        Reply.DeltaSink sink = (content, reasoning) -> {
            if (content != null) {
                streamed.add(content);
            }
        };
        for (int id : tokenizer.encode(text, false, true)) {
            reply.token(id, sink);
        }
        reply.finish(sink);
        return streamed;
    }

    @Test
    void harmonyCommentaryCallsAreParsedAndNotStreamed() throws Exception {
        Tokenizer tokenizer = Tokenizer.from(GgufFile.open(TestModels.small("gpt-oss", SyntheticModel.Mix.F32)).metadata());
        Reply reply = new Reply(tokenizer, true, List.of(), ToolCallFormat.HARMONY, true);
        List<String> streamed = feed(reply, tokenizer, "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>commentary"
                + " to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Seoul\"}<|call|>");
        assertThat(reply.calls()).containsExactly(new ToolCallFormat.Call("get_weather", "{\"city\": \"Seoul\"}"));
        assertThat(reply.reasoning.toString()).as("the analysis channel").isEqualTo("Need the weather.");
        assertThat(String.join("", streamed)).isEmpty();

        Reply answer = new Reply(tokenizer, true, List.of(), ToolCallFormat.HARMONY, true);
        assertThat(String.join("", feed(answer, tokenizer, "<|channel|>final<|message|>It is sunny.<|return|>"))).isEqualTo("It is sunny.");
        assertThat(answer.calls()).isEmpty();
    }

    @Test
    void llamaPythonTagCallsKeepTheirMarkerAndTextBeforeAHermesCallStreams() throws Exception {
        Tokenizer llama = Tokenizer.from(GgufFile.open(TestModels.small("llama", SyntheticModel.Mix.F32)).metadata());
        Reply reply = new Reply(llama, false, List.of(), ToolCallFormat.LLAMA3, true);
        List<String> streamed = feed(reply, llama, "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Seoul\"}}");
        assertThat(reply.calls()).extracting(ToolCallFormat.Call::name).containsExactly("get_weather");
        assertThat(streamed).isEmpty();

        Tokenizer qwen = Tokenizer.from(GgufFile.open(TestModels.small("qwen3", SyntheticModel.Mix.F32)).metadata());
        Reply hermes = new Reply(qwen, false, List.of(), ToolCallFormat.HERMES, false);
        List<String> text = feed(hermes, qwen, "Let me look.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n"
                + "{\"name\": \"b\", \"arguments\": {}}\n</tool_call>");
        assertThat(String.join("", text)).isEqualTo("Let me look.\n");
        assertThat(hermes.calls()).as("parallel_tool_calls false keeps the first").extracting(ToolCallFormat.Call::name).containsExactly("a");
    }
}
