package org.memwall.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.memwall.engine.Generator;
import org.memwall.model.Model;
import org.memwall.sample.Sampler;
import org.memwall.tokenizer.StreamingDetokenizer;
import org.memwall.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", description = "Continue a prompt; prints only the generated text, streamed as it is produced.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    DeviceOptions devices;

    @Mixin
    ModelOptions options;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "the prompt")
    String prompt;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "read the prompt from a file (UTF-8)")
    Path promptFile;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "128", paramLabel = "N", description = "tokens to generate at most (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() {
        String text = PromptText.of(prompt, promptFile);
        long t0 = System.nanoTime();
        Path file = options.modelFile();
        try (Model model = devices.open(file, options.threads)) {
            Tokenizer tokenizer = Tokenizer.from(model.file().metadata());
            long t1 = System.nanoTime();
            System.err.printf(Locale.ROOT, "memwall: loaded %s (%s) in %.0f ms on %s%n", file.getFileName(),
                    model.config().architecture().name(), (t1 - t0) / 1e6, model.forwardPass().device());
            int[] ids = tokenizer.encode(text, true, true);
            PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
            StreamingDetokenizer detok = new StreamingDetokenizer(tokenizer);
            Sampler sampler = sampling.create(model.weights().vocabularySize());
            for (int id : ids) {
                sampler.accept(id);
            }
            Generator.Result r = new Generator(model, Math.min(options.context(model.config().contextLength()), ids.length + maxTokens)).generate(ids, maxTokens, sampler, tokenizer::isEndOfGeneration, token -> {
                out.print(detok.push(token));
                out.flush();
                return true;
            });
            out.print(detok.flush());
            if (System.console() != null) {
                out.println(); // only for a terminal: piped output is exactly the continuation
            }
            out.flush();
            System.err.printf(Locale.ROOT, "memwall: prompt %d tokens at %.1f tokens/s, generated %d tokens at %.2f tokens/s (%s)%n",
                    r.promptTokens(), r.prefillTokensPerSecond(), r.tokens().length, r.decodeTokensPerSecond(),
                    r.stop().name().toLowerCase(Locale.ROOT).replace('_', ' '));
        }
        return 0;
    }
}
