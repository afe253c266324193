package org.memwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void chatTemplateRendersByteForByteWithoutANewline() throws IOException {
        // Qwen2.5's layout: a default system turn, ChatML turns, the assistant header when asked.
        Path template = tmp.resolve("qwen.jinja");
        Files.writeString(template, """
                {%- if messages[0]['role'] != 'system' %}
                    {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
                {%- endif %}
                {%- for message in messages %}
                    {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}
                {%- endfor %}
                {%- if add_generation_prompt %}
                    {{- '<|im_start|>assistant\\n' }}
                {%- endif %}
                """);
        Path input = tmp.resolve("in.json");
        Files.writeString(input, "{\"messages\": [{\"role\": \"user\", \"content\": \"안녕\"}], \"add_generation_prompt\": true,"
                + " \"bos_token\": \"<BOS>\", \"eos_token\": \"<EOS>\"}");
        Cli r = Cli.run("chat-template", "--template", template.toString(), "--input", input.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\n안녕<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void aRaisingTemplatePrintsItsMessageAndExits3() throws IOException {
        Path template = tmp.resolve("t.jinja");
        Files.writeString(template, "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}ok");
        Path input = tmp.resolve("in.json");
        Files.writeString(input, "{\"messages\": [{\"role\": \"system\", \"content\": \"x\"}]}");
        Cli r = Cli.run("chat-template", "--template", template.toString(), "--input", input.toString());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err().strip()).isEqualTo("System role not supported");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void malformedJsonInputIsOneLineExit1() throws IOException {
        Path template = tmp.resolve("t.jinja");
        Files.writeString(template, "x");
        Path input = tmp.resolve("in.json");
        Files.writeString(input, "{\"messages\": [");
        Cli r = Cli.run("chat-template", "--template", template.toString(), "--input", input.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("memwall: invalid JSON");
    }

    @Test
    void interactiveChatStreamsRepliesKeepsTheConversationAndResets() throws IOException {
        Path model = tmp.resolve("chat.gguf");
        try (org.memwall.gguf.GgufFile src = org.memwall.gguf.GgufFile.open(BuiltinModel.path())) {
            org.memwall.gguf.GgufWriter w = new org.memwall.gguf.GgufWriter();
            src.metadata().asMap().forEach(w::put);
            w.putString("tokenizer.chat_template", "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}");
            for (org.memwall.gguf.TensorInfo t : src.tensors().values()) {
                w.addTensor(t.name(), t.type(), t.dims(), src.tensorData(t).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
            w.write(model);
        }
        Cli r = Cli.runWithInput("Once upon a time\n/reset\nOnce upon a time\n/exit\n", "chat", "-m", model.toString(), "--temp", "0", "-n", "12");
        assertThat(r.exitCode()).as(r.err()).isZero();
        String[] replies = r.out().split("> ");
        // prompt, reply 1, (reset) prompt, reply 2, final prompt
        assertThat(r.out()).contains(", there was a little girl"); // llama.cpp's greedy story (BuiltinModelTest)
        assertThat(r.err()).contains("conversation reset");
        assertThat(replies[1].strip()).isNotEmpty().isEqualTo(replies[replies.length - 2].strip());
    }

    @Test
    void chatOnAModelWithoutTemplateSaysSo() {
        Cli r = Cli.run("chat", "-m", BuiltinModel.path().toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("has no chat template");
    }
}
