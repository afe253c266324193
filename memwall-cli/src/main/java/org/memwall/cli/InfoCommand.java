package org.memwall.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.memwall.cuda.Devices;
import org.memwall.gguf.GgmlType;
import org.memwall.gguf.GgufFile;
import org.memwall.gguf.TensorInfo;
import org.memwall.model.HostKvCache;
import org.memwall.model.KvType;
import org.memwall.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "info", description = "Describe a model: family, shape, tensor types, and the memory it needs.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @Mixin
    KvTypeOption kvType;

    @Option(names = "--devices", description = "list the GPUs memwall can use (or say why there are none); with -m, then describe the model")
    boolean devices;

    @Override
    public Integer call() {
        if (devices) {
            Devices.system().describe().forEach(System.out::println);
            if (options.model == null) {
                return 0;
            }
        }
        try (GgufFile file = GgufFile.open(options.modelFile())) {
            ModelConfig c = ModelConfig.from(file.metadata());
            PrintStream out = System.out;
            long params = 0;
            long weightBytes = 0;
            Map<GgmlType, long[]> byType = new TreeMap<>();
            for (TensorInfo t : file.tensors().values()) {
                params += t.elementCount();
                weightBytes += t.byteSize();
                long[] agg = byType.computeIfAbsent(t.type(), k -> new long[2]);
                agg[0]++;
                agg[1] += t.byteSize();
            }
            String name = file.metadata().getString("general.name", file.path().getFileName().toString());
            out.printf(Locale.ROOT, "model:          %s%n", name);
            out.printf(Locale.ROOT, "file:           %s (GGUF v%d, %s%s)%n", file.path(), file.version(),
                    file.partCount() > 1 ? file.partCount() + " parts, " : "", bytes(file.fileSize()));
            out.printf(Locale.ROOT, "architecture:   %s: %s%n", c.architecture().name(), c.architecture().models());
            out.printf(Locale.ROOT, "parameters:     %s%n", count(params));
            out.printf(Locale.ROOT, "layers:         %d, embedding %d, heads %d (KV heads %d, head size %d), FFN %d%n",
                    c.blockCount(), c.embeddingLength(), c.headCount(), c.headCountKv(), c.headDim(), c.feedForwardLength());
            if (c.expertCount() > 0) {
                out.printf(Locale.ROOT, "experts:        %d, %d used per token%n", c.expertCount(), c.expertUsedCount());
            }
            if (c.slidingWindow() > 0) {
                out.printf(Locale.ROOT, "sliding window: %d positions%n", c.slidingWindow());
            }
            out.printf(Locale.ROOT, "context length: %d%n", c.contextLength());
            out.printf(Locale.ROOT, "rope:           %s, base %.0f, %d dims, scaling %s%n", c.architecture().rope(), c.ropeBase(), c.ropeDim(), c.ropeScaling().type());
            out.printf(Locale.ROOT, "tokenizer:      %s, %d tokens%n", file.metadata().getString("tokenizer.ggml.model", "none"),
                    file.metadata().contains("tokenizer.ggml.tokens") ? file.metadata().getArray("tokenizer.ggml.tokens").length() : 0);
            out.println("tensor types:");
            byType.forEach((type, agg) -> out.printf(Locale.ROOT, "  %-8s %4d tensors  %s%n", type, agg[0], bytes(agg[1])));
            int context = options.context(c.contextLength());
            KvType type = kvType.type();
            long kv = HostKvCache.bytes(c, type, context);
            out.printf(Locale.ROOT, "memory:         weights %s (memory-mapped) + KV cache %s (%s, %d tokens: -c %d%s) = %s%n",
                    bytes(weightBytes), bytes(kv), type, context, options.contextSize,
                    c.slidingWindow() > 0 ? "; sliding-window layers keep " + HostKvCache.ringPositions(c.slidingWindow()) : "",
                    bytes(weightBytes + kv));
        }
        return 0;
    }

    static String bytes(long b) {
        if (b >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", b / (double) (1L << 30));
        }
        if (b >= 1L << 20) {
            return String.format(Locale.ROOT, "%.2f MiB", b / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
    }

    static String count(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f B", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.2f M", n / 1e6);
        }
        return String.format(Locale.ROOT, "%.1f K", n / 1e3);
    }
}
