package org.memwall.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.memwall.chat.ChatFormatter;
import org.memwall.chat.ReplyDecoder;
import org.memwall.engine.Generator;
import org.memwall.model.Model;
import org.memwall.sample.Sampler;
import org.memwall.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "chat", description = "Chat in the terminal with the model's own chat template. "
        + "/reset starts over, /exit or Ctrl-D quits.")
final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @Option(names = "--system", paramLabel = "TEXT", description = "system message")
    String system;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "1024", paramLabel = "N", description = "reply length limit in tokens (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--show-reasoning", description = "also print the model's reasoning (gpt-oss analysis channel), to stderr")
    boolean showReasoning;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() throws IOException {
        Path file = options.modelFile();
        try (Model model = Model.open(file, options.threads)) {
            Tokenizer tokenizer = Tokenizer.from(model.file().metadata());
            ChatFormatter formatter = ChatFormatter.forModel(model.file().metadata(), tokenizer);
            Generator generator = new Generator(model);
            List<Map<String, Object>> messages = new ArrayList<>();
            reset(messages);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            System.err.printf("memwall: chatting with %s (%s); /reset starts over, /exit or Ctrl-D quits%n",
                    file.getFileName(), model.config().architecture().name());
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    out.println();
                    return 0;
                }
                if (line.strip().equals("/reset")) {
                    reset(messages);
                    System.err.println("memwall: conversation reset");
                    continue;
                }
                if (line.isBlank()) {
                    continue;
                }
                messages.add(message("user", line));
                int[] prompt = formatter.encode(messages, true);
                Sampler sampler = sampling.create(model.weights().vocabularySize());
                StringBuilder reply = new StringBuilder();
                ReplyDecoder decoder = new ReplyDecoder(tokenizer, formatter.harmony(), (channel, text) -> {
                    if (channel.equals("final")) {
                        out.print(text);
                        out.flush();
                        reply.append(text);
                    } else if (showReasoning) {
                        System.err.print(text);
                    }
                });
                Generator.Result r = generator.generate(prompt, maxTokens, sampler, tokenizer::isEndOfGeneration, token -> {
                    decoder.accept(token);
                    return true;
                });
                decoder.finish();
                out.println();
                messages.add(message("assistant", reply.toString()));
                System.err.printf(Locale.ROOT, "memwall: %d tokens at %.1f tokens/s%n", r.tokens().length, r.decodeTokensPerSecond());
            }
        }
    }

    private void reset(List<Map<String, Object>> messages) {
        messages.clear();
        if (system != null) {
            messages.add(message("system", system));
        }
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }
}
