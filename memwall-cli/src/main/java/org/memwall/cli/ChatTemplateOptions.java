package org.memwall.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import org.memwall.MemwallException;
import org.memwall.chat.ChatFormatter;
import org.memwall.gguf.GgufMetadata;
import org.memwall.tokenizer.Tokenizer;
import picocli.CommandLine.Option;

/** llama.cpp's {@code --chat-template NAME|TEXT} and {@code --chat-template-file FILE}, shared by chat and serve. */
final class ChatTemplateOptions {
    /** Templates known by name, as llama.cpp names them. */
    static final Map<String, String> NAMED = Map.of(
            "chatml", "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}"
                    + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
            "llama3", "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}"
                    + "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
            "gemma", "{{ bos_token }}{% for m in messages %}{% set role = 'model' if m['role'] == 'assistant' else m['role'] %}"
                    + "{{ '<start_of_turn>' + role + '\\n' + m['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
                    + "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}");

    @Option(names = "--chat-template", paramLabel = "NAME|TEXT",
            description = "chat template instead of the model's: a name (chatml, llama3, gemma), Jinja text, or (for compatibility) a file")
    String template;

    @Option(names = "--chat-template-file", paramLabel = "FILE", description = "chat template instead of the model's, from a Jinja file")
    Path templateFile;

    /** The template source the options give, or null for the model's own. */
    String source() {
        if (template != null && templateFile != null) {
            throw new MemwallException("give --chat-template or --chat-template-file, not both");
        }
        if (templateFile != null) {
            return read(templateFile);
        }
        if (template == null) {
            return null;
        }
        if (NAMED.containsKey(template)) {
            return NAMED.get(template);
        }
        if (template.contains("{{") || template.contains("{%")) {
            return template;
        }
        if (Files.isRegularFile(Path.of(template))) {
            return read(Path.of(template));
        }
        throw new MemwallException("--chat-template '" + template + "' is neither a known name (" + String.join(", ", new java.util.TreeSet<>(NAMED.keySet()))
                + ") nor Jinja text; use --chat-template-file FILE for a file");
    }

    /** The formatter for this model: the options' template, else the model's, else null. */
    ChatFormatter formatter(GgufMetadata metadata, Tokenizer tokenizer) {
        String source = source();
        if (source != null) {
            return ChatFormatter.of(source, tokenizer);
        }
        return metadata.contains(ChatFormatter.KEY) ? ChatFormatter.forModel(metadata, tokenizer) : null;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new MemwallException("chat template file not found: " + file);
        } catch (IOException e) {
            throw new MemwallException("cannot read chat template " + file + ": " + e.getMessage());
        }
    }
}
