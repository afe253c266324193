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
        + "/reset starts over, /exit, /bye or Ctrl-D quits.")
final class ChatCommand implements Callable<Integer> {
    @Mixin
    DeviceOptions devices;

    @Mixin
    ModelOptions options;

    @Option(names = {"-sys", "--system-prompt", "--system"}, paramLabel = "TEXT", description = "system message")
    String system;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "1024", paramLabel = "N", description = "reply length limit in tokens (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--show-reasoning", description = "also print the model's reasoning (gpt-oss analysis channel), to stderr")
    boolean showReasoning;

    @Option(names = "--no-warmup", description = "do not run the model once while the first message is typed (the JIT's warm-up)")
    boolean noWarmup;

    @Mixin
    ChatTemplateOptions chatTemplate;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() throws IOException {
        Path file = options.modelFile();
        try (Model model = devices.open(file, options.threads); WarmUp warm = new WarmUp(model, !noWarmup)) {
            Tokenizer tokenizer = Tokenizer.from(model.file().metadata());
            ChatFormatter formatter = chatTemplate.formatter(model.file().metadata(), tokenizer);
            if (formatter == null) {
                formatter = ChatFormatter.forModel(model.file().metadata(), tokenizer); // says the model has none
            }
            int context = options.context(model.config().contextLength());
            Generator generator = new Generator(model, context);
            // Room kept for a reply when old turns must go: the reply limit, but never more than half the context.
            int replyRoom = Math.min(maxTokens, context / 2);
            List<Map<String, Object>> messages = new ArrayList<>();
            reset(messages);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            System.err.printf(Locale.ROOT, "memwall: chatting with %s (%s, context %d); /reset starts over, /exit, /bye or Ctrl-D quits%n",
                    file.getFileName(), model.config().architecture().name(), context);
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit") || line.strip().equals("/bye")) {
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
                int[] prompt = fit(formatter, messages, context - replyRoom);
                if (prompt == null) {
                    messages.removeLast();
                    System.err.printf(Locale.ROOT, "memwall: that message does not fit the context of %d tokens with room for a reply; "
                            + "send a shorter one or raise -c%n", context);
                    continue;
                }
                warm.await();
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
                System.err.printf(Locale.ROOT, "memwall: %d tokens at %.1f tokens/s%s%n", r.tokens().length, r.decodeTokensPerSecond(),
                        r.stop() == Generator.Stop.CONTEXT ? " (reply cut short: the context is full)" : "");
            }
        }
    }

    /**
     * The prompt for the conversation, dropping its oldest turns (never the system message or the
     * newest message) until it has at most {@code budget} tokens; null when even that is too long.
     */
    private static int[] fit(ChatFormatter formatter, List<Map<String, Object>> messages, int budget) {
        int dropped = 0;
        int[] prompt = formatter.encode(messages, true);
        int first = !messages.isEmpty() && "system".equals(messages.getFirst().get("role")) ? 1 : 0;
        while (prompt.length > budget && messages.size() - first > 1) {
            messages.remove(first);
            dropped++;
            // A conversation resumes with a user turn: drop the assistant reply of the dropped question too.
            if (messages.size() - first > 1 && "assistant".equals(messages.get(first).get("role"))) {
                messages.remove(first);
                dropped++;
            }
            prompt = formatter.encode(messages, true);
        }
        if (prompt.length > budget) {
            return null;
        }
        if (dropped > 0) {
            System.err.printf(Locale.ROOT, "memwall: the conversation outgrew the context; dropped the oldest %d message%s (%d tokens now)%n",
                    dropped, dropped == 1 ? "" : "s", prompt.length);
        }
        return prompt;
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

    /**
     * The model run once in the background while the first message is typed ({@link Model#warmUp}), so its reply does
     * not wait for the JIT; awaited before the first reply and before the model closes.
     */
    private static final class WarmUp implements AutoCloseable {
        private final Thread thread;

        WarmUp(Model model, boolean enabled) {
            thread = enabled ? Thread.ofPlatform().daemon().name("memwall-warmup").start(model::warmUp) : null;
        }

        void await() {
            if (thread != null) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void close() {
            await();
        }
    }
}
