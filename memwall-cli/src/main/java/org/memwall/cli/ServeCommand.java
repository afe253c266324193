package org.memwall.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.memwall.MemwallException;
import org.memwall.chat.ChatFormatter;
import org.memwall.model.Model;
import org.memwall.server.OpenAiServer;
import org.memwall.server.ServerSettings;
import org.memwall.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", description = "Serve the model over an OpenAI-compatible HTTP API with continuous batching.")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    DeviceOptions devices;

    @Option(names = {"-m", "--model"}, defaultValue = "${env:MEMWALL_MODEL}", paramLabel = "MODEL",
            description = "GGUF file or Hugging Face REF (env MEMWALL_MODEL; default: the built-in demo model, " + BuiltinModel.NAME + ")")
    Path model;

    @Option(names = "--host", defaultValue = "${env:MEMWALL_HOST:-127.0.0.1}", description = "address to bind (default ${DEFAULT-VALUE}; env MEMWALL_HOST)")
    String host;

    @Option(names = "--port", defaultValue = "${env:MEMWALL_PORT:-8080}", description = "port (default ${DEFAULT-VALUE}; env MEMWALL_PORT)")
    int port;

    @Option(names = "--parallel", defaultValue = "${env:MEMWALL_PARALLEL:-4}", description = "sequences decoded together (default ${DEFAULT-VALUE}; env MEMWALL_PARALLEL)")
    int parallel;

    @Option(names = "--max-queue", defaultValue = "${env:MEMWALL_MAX_QUEUE:-16}", description = "requests waiting beyond --parallel before 429 (default ${DEFAULT-VALUE}; env MEMWALL_MAX_QUEUE)")
    int maxQueue;

    @Option(names = {"-c", "--ctx-size", "--ctx"}, defaultValue = "${env:MEMWALL_CTX:-4096}", description = "context tokens per sequence, at most the model's (default ${DEFAULT-VALUE}; env MEMWALL_CTX)")
    int ctx;

    @Option(names = "--api-key", defaultValue = "${env:MEMWALL_API_KEY}", description = "require 'Authorization: Bearer KEY' (env MEMWALL_API_KEY)")
    String apiKey;

    @Option(names = "--no-warmup", description = "start serving without running the model once first (the JIT's warm-up, ~seconds; "
            + "without it the first requests wait for the compiler)")
    boolean noWarmup;

    @Option(names = "--timeout", defaultValue = "${env:MEMWALL_TIMEOUT:-600}", description = "seconds a request may take in all; 0 = no limit (default ${DEFAULT-VALUE}; env MEMWALL_TIMEOUT)")
    long timeout;

    @Option(names = "--max-body", defaultValue = "${env:MEMWALL_MAX_BODY:-4194304}", description = "largest request body in bytes (default ${DEFAULT-VALUE})")
    int maxBody;

    @Option(names = "--kv-budget", defaultValue = "${env:MEMWALL_KV_BUDGET:-auto}", paramLabel = "SIZE",
            description = "KV cache memory all running requests may reserve together, e.g. 512M, 8G; auto = three quarters of the memory free at start (env MEMWALL_KV_BUDGET)")
    String kvBudget;

    @Option(names = "--alias", paramLabel = "NAME", description = "another model id the model answers to and is listed under (repeatable)")
    List<String> aliases = new ArrayList<>();

    @Option(names = "--strict-model-name", description = "refuse (404) requests naming a model other than the file name or an --alias; by default any name reaches the loaded model")
    boolean strictModelName;

    @Mixin
    ChatTemplateOptions chatTemplate;

    @Option(names = {"-t", "--threads"}, defaultValue = "${env:MEMWALL_THREADS:-0}", description = "compute threads (default: one per core)")
    int threads;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    /** {@code 123}, {@code 512K}, {@code 512M}, {@code 8G} (binary units; an optional trailing {@code B} or {@code iB}). */
    static long parseSize(String text) {
        String t = text.strip().toUpperCase(Locale.ROOT).replaceFirst("I?B$", "");
        int shift = t.isEmpty() ? 0 : switch (t.charAt(t.length() - 1)) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            case 'T' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
        try {
            long v = Long.parseLong(digits.strip());
            if (v < 1 || v > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return v << shift;
        } catch (NumberFormatException e) {
            throw new MemwallException("--kv-budget '" + text + "' is not a size such as 512M or 8G (or auto)");
        }
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (parallel < 1 || maxQueue < 0 || ctx < 1 || maxBody < 1 || timeout < 0) {
            throw new MemwallException("--parallel, --ctx and --max-body must be positive, --max-queue and --timeout not negative");
        }
        long budget = kvBudget.equalsIgnoreCase("auto") ? 0 : parseSize(kvBudget);
        long t0 = System.nanoTime();
        Path file = ModelSource.resolve(model);
        Model m = devices.open(file, threads);
        long loaded = System.nanoTime();
        if (!noWarmup) {
            System.err.println("memwall: warming up the model: one run first (--no-warmup to skip)");
            m.warmUp();
        }
        long warmed = System.nanoTime();
        Tokenizer tokenizer = Tokenizer.from(m.file().metadata());
        ChatFormatter formatter = chatTemplate.formatter(m.file().metadata(), tokenizer);
        if (formatter == null) {
            System.err.println("memwall: the model has no chat template; /v1/chat/completions will answer 400 (use --chat-template NAME|TEXT or --chat-template-file FILE)");
        }
        String name = file.getFileName().toString().replaceFirst("\\.gguf$", "");
        ServerSettings settings = new ServerSettings(host, port, name, apiKey == null || apiKey.isBlank() ? null : apiKey, parallel, maxQueue,
                maxBody, timeout * 1000, Math.min(ctx, m.config().contextLength()))
                .withModelNames(aliases, strictModelName).withKvBudget(budget);
        OpenAiServer server = new OpenAiServer(m, tokenizer, formatter, settings);
        server.start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("memwall: shutting down: finishing running requests (up to 30 s)");
            server.shutdown(30_000);
            m.close();
            stopped.countDown();
            System.err.flush();
            Runtime.getRuntime().halt(0); // a drained server exits 0, not 143
        }, "memwall-shutdown"));
        System.err.printf("memwall: serving %s on http://%s:%d/v1 (model id '%s', %d parallel, context %d, %s) — loaded in %.0f ms%s%n",
                file.getFileName(), host, server.port(), name, parallel, settings.context(), m.forwardPass().device(), (loaded - t0) / 1e6,
                noWarmup ? "" : String.format(Locale.ROOT, ", warmed up in %.0f ms", (warmed - loaded) / 1e6));
        long kv = server.engine().settings().kvBudgetBytes();
        long perToken = Math.max(1, server.engine().kvBytesPerPosition());
        // Sliding-window layers hold a fixed ring per sequence: what a full context costs beyond its tokens.
        long perSequence = m.forwardPass().kvBytes(settings.context()) - settings.context() * server.engine().kvBytesPerPosition();
        System.err.printf(Locale.ROOT, "memwall: KV budget %.1f MiB%s: %d tokens in all across running requests (%d bytes a token%s, %s)%n", kv / 1048576.0,
                budget == 0 ? " (auto: 3/4 of free memory; --kv-budget to set)" : "", kv / perToken, server.engine().kvBytesPerPosition(),
                perSequence > 0 ? String.format(Locale.ROOT, " + up to %.1f MiB a request for sliding-window layers", perSequence / 1048576.0) : "",
                m.forwardPass() == m.transformer() ? m.transformer().kvType().label() : "on " + m.forwardPass().device());
        stopped.await();
        return 0;
    }
}
