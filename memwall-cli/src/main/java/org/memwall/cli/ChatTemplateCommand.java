package org.memwall.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.memwall.MemwallException;
import org.memwall.chat.ChatTemplate;
import org.memwall.chat.Json;
import org.memwall.chat.TemplateException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "chat-template", description = "Render a chat template outside any model: the JSON object's keys become "
        + "the template's variables; the text goes to stdout byte for byte. A template that raises exits 3.")
final class ChatTemplateCommand implements Callable<Integer> {
    @Option(names = "--template", required = true, paramLabel = "FILE", description = "Jinja chat template")
    Path template;

    @Option(names = "--input", required = true, paramLabel = "JSON_FILE", description = "a JSON object: messages, tools, add_generation_prompt, bos_token, eos_token, ...")
    Path input;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() throws IOException {
        String source = read(template);
        Object parsed = Json.parse(read(input));
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new MemwallException(input + " must hold a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> variables = (Map<String, Object>) map;
        String out;
        try {
            out = ChatTemplate.parse(source).render(variables);
        } catch (TemplateException e) {
            System.err.println(e.getMessage());
            return 3;
        }
        System.out.write(out.getBytes(StandardCharsets.UTF_8));
        System.out.flush();
        return 0;
    }

    private static String read(Path p) throws IOException {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new MemwallException("file not found: " + p);
        }
    }
}
