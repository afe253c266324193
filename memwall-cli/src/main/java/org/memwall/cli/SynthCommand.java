package org.memwall.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.memwall.MemwallException;
import org.memwall.synth.ModelShape;
import org.memwall.synth.SyntheticModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "synth", description = "Write a random-weight GGUF with the exact shapes and vocabulary size of a real model, "
        + "quantized like llama-quantize would (for benchmarks and tests without a download).")
final class SynthCommand implements Callable<Integer> {
    @Option(names = "--shape", required = true, paramLabel = "NAME",
            description = "llama-3.2-1b, llama-3.1-8b, qwen2.5-0.5b, qwen3-0.6b, exaone-4.0-1.2b or gpt-oss-20b")
    String shape;

    @Option(names = "--type", defaultValue = "Q8_0", paramLabel = "TYPE",
            description = "F32, F16, BF16, Q8_0, Q4_0 or Q4_K (= Q4_K_M: Q4_K with Q6_K where llama.cpp puts it) (default ${DEFAULT-VALUE})")
    String type;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "the GGUF file to write")
    Path output;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "random seed; the same seed writes the same file (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--fast", description = "repeat 64 distinct rows per matrix instead of quantizing every row: same shapes and bytes, "
            + "written in seconds, for speed measurements only")
    boolean fast;

    @Option(names = "--quiet", description = "do not print each tensor")
    boolean quiet;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() throws IOException {
        ModelShape s = ModelShape.named(shape);
        SyntheticModel.Mix mix = SyntheticModel.Mix.parse(type);
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new MemwallException("cannot write " + output + ": directory " + parent + " does not exist");
        }
        long t0 = System.nanoTime();
        SyntheticModel.write(s, mix, seed, fast ? 64 : 0, output, tensor -> {
            if (!quiet) {
                System.err.println("  " + tensor);
            }
        });
        System.out.printf(Locale.ROOT, "wrote %s: %s shapes, %s, %.2f B parameters, %.2f GiB, %.1f s%n", output, s.name(), mix,
                s.parameterCount() / 1e9, Files.size(output) / (double) (1L << 30), (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
