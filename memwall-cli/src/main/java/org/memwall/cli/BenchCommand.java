package org.memwall.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.memwall.MemwallException;
import org.memwall.cuda.CudaForward;
import org.memwall.gguf.TensorInfo;
import org.memwall.model.KvCache;
import org.memwall.model.Model;
import org.memwall.model.ModelConfig;
import org.memwall.quant.Kernels;
import org.memwall.tensor.MemoryBandwidth;
import org.memwall.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", description = "Measure prefill and decode speed of a model next to the machine's memory bandwidth.")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    DeviceOptions devices;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Option(names = {"-p", "--prompt"}, defaultValue = "512", paramLabel = "N", description = "prompt tokens for the prefill test (default ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = {"-n", "--generate"}, defaultValue = "128", paramLabel = "N", description = "tokens for the decode test (default ${DEFAULT-VALUE})")
    int generate;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", paramLabel = "N", description = "compute threads (default: one per core)")
    int threads;

    @Option(names = {"-r", "--repeats"}, defaultValue = "3", paramLabel = "N", description = "repetitions; the median is reported (default ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = {"-d", "--depth"}, defaultValue = "0", paramLabel = "D[,D...]",
            description = "tokens already in the KV cache before the prefill and decode tests, as llama-bench -d; a comma list runs each (default ${DEFAULT-VALUE})")
    String depthList;

    @Option(names = "--memory", description = "only measure the memory read bandwidth")
    boolean memoryOnly;

    @Option(names = "--json", description = "print one JSON object per depth (one a line) instead of a table")
    boolean json;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    /** Buffer for the bandwidth test: far larger than any cache. */
    private static final long BANDWIDTH_BYTES = 1L << 30;

    @Override
    public Integer call() throws IOException {
        int[] depths = parseDepths(depthList);
        devices.kv.type(); // a bad --kv-type fails before the bandwidth test
        int nThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        double bandwidth;
        try (Parallel pool = new Parallel(nThreads)) {
            bandwidth = MemoryBandwidth.measure(pool, BANDWIDTH_BYTES, 5);
        }
        resetPeakRss();
        if (memoryOnly) {
            if (json) {
                System.out.printf(Locale.ROOT, "{\"threads\": %d, \"memory_read_gbps\": %.2f}%n", nThreads, bandwidth / 1e9);
            } else {
                System.out.printf(Locale.ROOT, "memory read bandwidth: %.1f GB/s (%d threads)%n", bandwidth / 1e9, nThreads);
            }
            return 0;
        }
        if (model == null) {
            throw new MemwallException("bench needs -m MODEL (or --memory for the bandwidth test alone)");
        }
        if (prompt < 1 || generate < 1 || repeats < 1) {
            throw new MemwallException("-p, -n and -r must be at least 1");
        }
        try (Model m = devices.open(model, nThreads)) {
            ModelConfig c = m.config();
            String device = m.forwardPass().device();
            if (m.forwardPass() instanceof CudaForward gpu) {
                // On a GPU the ceiling is its memory, not the host's: the device-to-device copy rate.
                bandwidth = gpu.copyBandwidth();
            }
            int deepest = depths[depths.length - 1];
            long positions = (long) deepest + Math.max(prompt, generate + 1);
            if (positions > c.contextLength()) {
                throw new MemwallException("--depth " + deepest + " with -p " + prompt + " / -n " + generate + " needs " + positions
                        + " positions; the model's context is " + c.contextLength());
            }
            // The KV type a CPU pass stores; a GPU keeps its own (null).
            String kvType = m.forwardPass() == m.transformer() ? m.transformer().kvType().label() : null;
            int vocab = m.weights().vocabularySize();
            SplittableRandom random = new SplittableRandom(42);
            long perToken = bytesPerDecodedToken(m);
            if (!json) {
                System.out.printf(Locale.ROOT, "model:            %s (%s, %s%s)%n", model, c.architecture().name(), device,
                        kvType == null ? "" : ", KV cache " + kvType);
            }
            // One cache for every run: each run overwrites it from its depth on, so the peak RSS holds one
            // KV cache, as a real session does, not one per repetition waiting for a collection.
            try (KvCache cache = m.newCache((int) Math.max(Model.WARM_UP, positions))) {
                // before anything is timed, on the cache the runs use (a 16-token warm-up left the tiles to be compiled
                // inside the first timed prefill; on a cache of its own, the first 64-token prompt ran 15–20% slower)
                m.warmUp(cache);
                int filled = 0;
                for (int depth : depths) {
                    fill(m, random, vocab, cache, filled, depth);
                    filled = Math.max(filled, depth);
                    double[] prefill = new double[repeats];
                    double[] decode = new double[repeats];
                    for (int r = 0; r < repeats; r++) {
                        prefill[r] = prefillRate(m, random, vocab, cache, depth);
                        decode[r] = decodeRate(m, random, vocab, cache, depth);
                    }
                    double pp = median(prefill);
                    double tg = median(decode);
                    // A decode step at depth d also reads the keys and values of the d positions before it (the
                    // middle of the timed run stands for all of it).
                    long kvRead = m.forwardPass().kvBytes(depth + generate / 2);
                    double achieved = (perToken + kvRead) * tg;
                    if (json) {
                        System.out.printf(Locale.ROOT, "{\"model\": \"%s\", \"device\": \"%s\", \"threads\": %d, \"kv_type\": %s, \"depth\": %d, "
                                        + "\"prompt_tokens\": %d, \"generated_tokens\": %d, "
                                        + "\"prefill_tokens_per_s\": %.2f, \"prefill_min\": %.2f, \"prefill_max\": %.2f, "
                                        + "\"decode_tokens_per_s\": %.2f, \"decode_min\": %.2f, \"decode_max\": %.2f, "
                                        + "\"weight_bytes_per_token\": %d, \"kv_bytes_per_token\": %d, \"achieved_gbps\": %.2f, \"memory_read_gbps\": %.2f, "
                                        + "\"bandwidth_percent\": %.1f, \"peak_rss_bytes\": %d, \"vector_bits\": %d}%n",
                                jsonEscape(model.toString()), jsonEscape(device), nThreads, kvType == null ? "null" : "\"" + kvType + "\"", depth,
                                prompt, generate, pp, min(prefill), max(prefill), tg, min(decode), max(decode),
                                perToken, kvRead, achieved / 1e9, bandwidth / 1e9, 100 * achieved / bandwidth, peakRssBytes(), Kernels.SPECIES.vectorBitSize());
                    } else {
                        String at = depth > 0 ? " @ d" + depth : "";
                        String pLabel = "prefill (pp" + prompt + at + "):";
                        String label = "%-" + Math.max(18, pLabel.length() + 1) + "s";
                        System.out.printf(Locale.ROOT, label + "%.1f tokens/s (min %.1f, max %.1f)%n", pLabel, pp, min(prefill), max(prefill));
                        System.out.printf(Locale.ROOT, label + "%.2f tokens/s (min %.2f, max %.2f)%n", "decode (tg" + generate + at + "):", tg, min(decode), max(decode));
                        System.out.printf(Locale.ROOT, "read per token:   %.1f MiB weights + %.1f MiB KV cache -> %.1f GB/s achieved%n",
                                perToken / 1048576.0, kvRead / 1048576.0, achieved / 1e9);
                        System.out.printf(Locale.ROOT, "%s %.1f GB/s measured -> %.0f%% of the roofline%n",
                                m.forwardPass() instanceof CudaForward ? "GPU copy rate:   " : "memory bandwidth:", bandwidth / 1e9, 100 * achieved / bandwidth);
                    }
                }
            }
            if (!json) {
                System.out.printf(Locale.ROOT, "peak RSS:         %.1f MiB%n", peakRssBytes() / 1048576.0);
                // Kernels differ by vector width (AVX-512: 16 float lanes, AVX2: 8): figures from two machines
                // compare only with this line alike.
                System.out.printf(Locale.ROOT, "vectors:          %d-bit (%d float lanes)%n", Kernels.SPECIES.vectorBitSize(), Kernels.SPECIES.length());
            }
        }
        return 0;
    }

    /** {@code 0}, {@code 4096}, {@code 0,512,4096}: the depths in increasing order, each at least 0. */
    static int[] parseDepths(String text) {
        try {
            int[] depths = Arrays.stream(text.split(",")).map(String::strip).mapToInt(Integer::parseInt).sorted().distinct().toArray();
            if (depths.length == 0 || depths[0] < 0) {
                throw new NumberFormatException();
            }
            return depths;
        } catch (NumberFormatException e) {
            throw new MemwallException("--depth '" + text + "' is not a list of token counts such as 0 or 0,4096");
        }
    }

    /** Evaluates random tokens at positions {@code from .. to-1}, untimed: the context a depth's runs follow. */
    private static void fill(Model m, SplittableRandom random, int vocab, KvCache cache, int from, int to) {
        for (int start = from; start < to; start += 512) {
            m.forwardPass().forwardSequence(random.ints(Math.min(512, to - start), 0, vocab).toArray(), start, cache, false);
        }
    }

    private double prefillRate(Model m, SplittableRandom random, int vocab, KvCache cache, int depth) {
        long t0 = System.nanoTime();
        for (int start = 0; start < prompt; start += 512) {
            int[] tokens = random.ints(Math.min(512, prompt - start), 0, vocab).toArray();
            m.forwardPass().forwardSequence(tokens, depth + start, cache, false);
        }
        return prompt * 1e9 / (System.nanoTime() - t0);
    }

    private double decodeRate(Model m, SplittableRandom random, int vocab, KvCache cache, int depth) {
        int[] token = {random.nextInt(vocab)};
        int[] position = {depth};
        KvCache[] caches = {cache};
        boolean[] want = {true};
        m.forwardPass().forward(token, position, caches, want); // warm-up token at the depth
        long t0 = System.nanoTime();
        for (int i = 1; i <= generate; i++) {
            token[0] = random.nextInt(vocab);
            position[0] = depth + i;
            m.forwardPass().forward(token, position, caches, want);
        }
        return generate * 1e9 / (System.nanoTime() - t0);
    }

    /** Weight bytes one decode step reads: every matrix, one embedding row, the used share of experts. */
    static long bytesPerDecodedToken(Model m) {
        ModelConfig c = m.config();
        boolean tied = m.file().tensorInfo("output.weight") == null;
        long total = 0;
        for (TensorInfo t : m.file().tensors().values()) {
            if (t.name().equals("token_embd.weight") && !tied) {
                total += t.byteSize() / t.rowCount();
            } else if (t.name().contains("_exps.") && c.expertCount() > 0) {
                total += t.byteSize() / c.expertCount() * c.expertUsedCount();
            } else {
                total += t.byteSize();
            }
        }
        return total;
    }

    /** Forgets the bandwidth buffer's pages in the peak RSS (Linux: 5 → clear_refs resets VmHWM). */
    private static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // Not Linux, or not permitted: the peak then includes the bandwidth test's buffer.
        }
    }

    static long peakRssBytes() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return -1;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(0);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(0);
    }

    private static String jsonEscape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
