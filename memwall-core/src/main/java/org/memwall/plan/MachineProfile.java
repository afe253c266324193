package org.memwall.plan;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;
import org.memwall.model.ForwardPass;
import org.memwall.model.KvCache;
import org.memwall.model.KvType;
import org.memwall.model.Model;
import org.memwall.model.ModelConfig;
import org.memwall.quant.Interleaved;
import org.memwall.quant.Quantizer;
import org.memwall.synth.ModelShape;
import org.memwall.synth.SyntheticModel;
import org.memwall.tensor.MatMul;
import org.memwall.tensor.MemoryBandwidth;
import org.memwall.tensor.Parallel;
import org.memwall.tensor.Tensor;

/**
 * The machine memwall runs on, measured by memwall itself ({@code --hardware this-machine}) through the
 * code a loaded model runs: its memory read bandwidth ({@link MemoryBandwidth}), per weight format the
 * rates of {@link MatMul} on the compute pool over a matrix prepared as {@code Model.open} prepares a
 * model's ({@link Tensor#interleave}: the row-interleaved copy for Q4_0, Q8_0, Q4_K, Q6_K and MXFP4, whose
 * integer formats' products quantize their activations to int8 each time), and the attention of a
 * one-layer model run by {@code Transformer} over a KV cache of the type asked:
 * <ul>
 *   <li>stream rate: bytes/s of a one-token product over a matrix far larger than the caches (decode);</li>
 *   <li>tile rate: FLOP/s of the model's own layer products in the format ({@link #products}) at the prompt chunk the
 *       engine runs ({@link #promptChunk}), or of a {@value #TILE_TOKENS}-token product over 4,096 rows of 4,096 where no model's
 *       matrices were given;</li>
 *   <li>dispatch: the mean seconds of one parallel operation (every thread wakes, does a little
 *       work and meets the others), which every matrix product, the attention of every layer and
 *       the logits' product pay once per step;</li>
 *   <li>attention rates: FLOP/s (4 · heads · head size per attended position and layer) of decode
 *       steps, from the difference between steps far into the cache and near its start, and of prompts, from
 *       prompts over the cache and at its start;</li>
 *   <li>a prompt layer's other work per token ({@link #tokenLayerSeconds}): norms, RoPE, the activation
 *       function, KV stores and copies, on a one-layer model of the model's layer shape.</li>
 * </ul>
 * Matrices are random rows quantized by memwall's quantizers and repeated to the size measured (memory
 * reads cost the same whatever the bytes hold). The median of a few passes is kept, as bench keeps its repeats' median.
 */
public final class MachineProfile {
    /** The hardware id that asks for a measurement. */
    public static final String ID = "this-machine";
    /** The formats memwall quantizes to, the ones its synthetic models and GGUF mixes use. */
    static final List<GgmlType> FORMATS = List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q6_K, GgmlType.Q5_0,
            GgmlType.Q4_K, GgmlType.Q4_0);
    static final int TILE_TOKENS = 128;
    /** Rows of the tile rate's matrix: 4,096 of 4,096, a model layer's size (17 MiB in Q8_0), more than the L2 caches hold. */
    private static final int TILE_ROWS = 4096;
    private static final int ROW = 4096;
    private static final int DISTINCT_ROWS = 16;
    private static final int PASSES = 5;
    /**
     * Rows of each one-token product the stream rate times for a format no layer product uses (the output matrix
     * only): a Llama-3.2-1B layer's products are 512 to 8,192 rows; the others are timed on their own shapes.
     */
    private static final int PRODUCT_ROWS = 2048;
    /** Seconds of one timed sample of a product. */
    private static final double SAMPLE_SECONDS = 0.1;
    /**
     * Seconds the product to be timed runs untimed first, so that it is timed compiled, as a model's
     * kernels are after its first tokens. Until the JIT has compiled a kernel the Vector API runs
     * interpreted, a thousand times slower, and a kernel compiled while it ran a smaller product is
     * not the one the model gets: warming on 64 rows (the loops around the kernel then ran once per
     * call) timed Q8_0's one-token product at 6–13 GB/s, and a model decoding in that JVM afterwards
     * ran at 23 tokens/s where bench, warmed on the model's own products, ran at 86. Measured on the
     * 96 MiB Q4_0 product: the first call takes ~0.9 s, the next ten settle from 12 to 5 ms.
     */
    private static final double WARM_SECONDS = 1.5;
    /** The most bytes of a matrix a prompt product is timed on. */
    private static final long MAX_TILE_BYTES = 48L << 20;
    /** Bytes each format streams: three times a 32 MiB last-level cache, so no pass finds the last one's rows in it. */
    public static final long STREAM_BYTES = 96L << 20;

    private MachineProfile() {
    }

    /** Measures every format memwall quantizes to, attention over the default KV cache. */
    public static Hardware measure(int threads, long streamBytes) {
        return measure(threads, streamBytes, FORMATS, KvType.DEFAULT);
    }

    /**
     * Measures the machine with {@code threads} compute threads for the weight {@code formats} given,
     * streaming {@code streamBytes} per format (a format takes about four seconds), and attention over
     * a {@code kv} cache (about a second).
     */
    public static Hardware measure(int threads, long streamBytes, Collection<GgmlType> formats, KvType kv) {
        return measure(threads, streamBytes, formats, kv, List.of(), TILE_TOKENS);
    }

    /**
     * A matrix product a prompt runs: its weight format, {@code rows} outputs of {@code columns} inputs, and
     * how many such products a pass over the model runs ({@link #products}).
     */
    public record Product(GgmlType format, int rows, int columns, int count) {
        double flopsPerToken() {
            return 2.0 * rows * columns * count;
        }
    }

    /**
     * The products of {@code model}'s layers in {@code type} as a prompt runs them, grouped by format and
     * shape: every layer matrix but the experts (each expert's product sees a prompt's tokens split by the
     * router) and the output matrix (the logits of a prompt's last token, priced at the stream rate).
     */
    public static List<Product> products(ModelSpec model, WeightType type) {
        Map<List<Object>, Integer> counts = new java.util.LinkedHashMap<>();
        for (ModelSpec.Matrix m : model.tensors()) {
            if (m.layer() < 0 || m.dims().length != 2 || m.role() == ModelSpec.Role.SMALL || m.role() == ModelSpec.Role.EXPERTS) {
                continue;
            }
            GgmlType f = type.format(m, model);
            if (f == null) {
                continue;
            }
            counts.merge(List.of(f, (int) m.dims()[1], (int) m.dims()[0]), 1, Integer::sum);
        }
        List<Product> out = new java.util.ArrayList<>();
        counts.forEach((k, n) -> out.add(new Product((GgmlType) k.get(0), (Integer) k.get(1), (Integer) k.get(2), n)));
        return List.copyOf(out);
    }

    /**
     * As {@link #measure(int, long, Collection, KvType)}, timing each format's tile rate on the {@code prompt}
     * products of that format (their real row counts and lengths, at {@code promptTokens} tokens per product,
     * the chunk a prompt is run in): FLOPs over seconds summed over them, each weighted by how many a pass runs.
     * A format none of them uses is timed on {@value #TILE_ROWS} rows of 4,096.
     */
    public static Hardware measure(int threads, long streamBytes, Collection<GgmlType> formats, KvType kv, List<Product> prompt, int promptTokens) {
        return measure(threads, streamBytes, formats, kv, prompt, promptTokens, null, null);
    }

    /**
     * As {@link #measure(int, long, Collection, KvType, List, int)}, and the seconds per token and layer of what a prompt's
     * layer of {@code layer}'s shape runs besides its products and attention ({@link #tokenLayerSeconds}), its matrices in
     * {@code format}; not measured (0) when {@code layer} is null or not a dense llama-style layer.
     */
    public static Hardware measure(int threads, long streamBytes, Collection<GgmlType> formats, KvType kv, List<Product> prompt, int promptTokens,
                                   ModelConfig layer, GgmlType format) {
        Set<GgmlType> measured = EnumSet.noneOf(GgmlType.class);
        for (GgmlType t : formats) {
            if (!Quantizer.supports(t)) {
                throw new MemwallException("this-machine: memwall cannot measure " + t + " weights (it measures " + FORMATS + ")");
            }
            measured.add(t);
        }
        try (Parallel pool = new Parallel(threads)) {
            double bandwidth = MemoryBandwidth.measure(pool, streamBytes, PASSES);
            Map<GgmlType, Double> stream = new EnumMap<>(GgmlType.class);
            Map<GgmlType, Double> tile = new EnumMap<>(GgmlType.class);
            // Prompts first, as a model runs them: the JIT compiles code the two paths share (MatMul, the
            // format's multiply) for whichever it meets first, and bench and run meet a prompt first.
            for (GgmlType t : measured) {
                List<Product> own = prompt.stream().filter(p -> p.format() == t).toList();
                benchWarmUp(pool, own);
                tile.put(t, own.isEmpty() ? tileRate(pool, t) : tileRate(pool, own, promptTokens));
                stream.put(t, own.isEmpty() ? streamRate(pool, t, streamBytes) : streamRate(pool, own, streamBytes));
            }
            double dispatch = dispatchSeconds(pool);
            double[] attention = attentionRates(threads, kv, promptTokens);
            double rest = layer == null ? 0 : tokenLayerSeconds(threads, kv, layer, format, Math.clamp(promptTokens, 1, PROMPT_MAX), attention[1]);
            String name = String.format(java.util.Locale.ROOT, "this machine (%d threads, measured by memwall)", threads);
            Map<String, Hardware.Source> sources = Map.of("bandwidth_tbps", new Hardware.Source("MemoryBandwidth.measure", "measured"),
                    "stream_rates", new Hardware.Source("MachineProfile: one-token MatMul per format", "measured"),
                    "tile_rates", new Hardware.Source("MachineProfile: " + TILE_TOKENS + "-token MatMul per format", "measured"),
                    "attention_rate", new Hardware.Source("MachineProfile: decode steps of a one-layer model, " + kv.label() + " KV cache", "measured"),
                    "token_layer_seconds", new Hardware.Source("MachineProfile: a one-layer model of the model's layer shape, a prompt "
                            + "less its products (timed alone) and its attention", "measured"),
                    "prompt_attention_rate", new Hardware.Source("MachineProfile: " + promptTokens + "-token prompts of a one-layer model over "
                            + FAR + " cached positions and none", "measured"),
                    "memory_gb", new Hardware.Source("the operating system's physical memory", "measured"));
            return new Hardware(ID, name, physicalMemory(), bandwidth, Map.of(), Double.NaN, Double.NaN, "dram", 0, Map.copyOf(stream),
                    Map.copyOf(tile), dispatch, attention[0], attention[1], rest, sources);
        }
    }

    /** Bytes/s of one-token products of {@value #PRODUCT_ROWS} rows of 4,096 over {@code bytes} of {@code type}. */
    static double streamRate(Parallel pool, GgmlType type, long bytes) {
        return streamRate(pool, List.of(new Product(type, PRODUCT_ROWS, ROW, 1)), bytes);
    }

    /**
     * Bytes/s of one-token products of the given shapes (one format), as a decode step runs them: Σ count · bytes /
     * Σ count · seconds. Each shape is timed on copies of itself filling {@code bytes}, multiplied one after another
     * (a product larger than that on fewer of its rows), so every product reads its weights from memory, and warmed
     * on itself first (the first for {@value #WARM_SECONDS} s, the rest for a third of it). The shapes matter: one core of
     * this machine streamed Q8_0 products of 512 rows of 2,048 at 13.5 GB/s against 18.6 for 2,048 rows (each
     * product pays its dispatch and its first lines' latency).
     */
    static double streamRate(Parallel pool, List<Product> products, long bytes) {
        double total = 0;
        double seconds = 0;
        for (int i = 0; i < products.size(); i++) {
            Product p = products.get(i);
            long rowBytes = p.format().bytesFor(p.columns());
            int per = rowsWithin(p, bytes);
            int copies = (int) Math.max(1, bytes / (per * rowBytes));
            double s = timed(pool, p, per * copies, 1, i == 0, (w, x, out) -> {
                for (int r = 0; r < per * copies; r += per) {
                    MatMul.matmul(pool, w, r, per, x, 1, out);
                }
            });
            seconds += s / copies * p.rows() / per * p.count();
            total += (double) rowBytes * p.rows() * p.count();
        }
        return total / seconds;
    }

    /** The rows of p a product is timed on: all of them, or as many whole row groups as fit in {@code bytes}. */
    private static int rowsWithin(Product p, long bytes) {
        long rowBytes = p.format().bytesFor(p.columns());
        return (int) Math.max(Interleaved.ROWS, Math.min(p.rows(), bytes / rowBytes / Interleaved.ROWS * Interleaved.ROWS));
    }

    /** What {@link #timed} runs: products of {@code w} with the activations {@code x} into {@code out}. */
    private interface Products {
        void run(Tensor w, float[] x, float[] out);
    }

    /**
     * The median seconds of {@code products} on a matrix of {@code rows} rows of p's length and format and activations
     * of {@code tokens} tokens, warmed on itself first: for {@value #WARM_SECONDS} s when it is the {@code first} of
     * its format, else a third of it (the format's kernel is compiled by then).
     */
    private static double timed(Parallel pool, Product p, int rows, int tokens, boolean first, Products products) {
        try (Arena arena = Arena.ofShared()) {
            Tensor w = matrix(arena, pool, p.format(), rows, p.columns());
            float[] x = activations(tokens, p.columns());
            float[] out = new float[rows * tokens];
            Runnable run = () -> products.run(w, x, out);
            warm(run, first ? WARM_SECONDS : WARM_SECONDS / 3);
            return medianSeconds(run);
        }
    }

    /** FLOP/s of {@value #TILE_TOKENS}-token products over a matrix of {@code type} ({@value #TILE_ROWS} rows of 4,096). */
    static double tileRate(Parallel pool, GgmlType type) {
        return tileRate(pool, List.of(new Product(type, TILE_ROWS, ROW, 1)), TILE_TOKENS);
    }

    /**
     * FLOP/s of {@code tokens}-token products of the given shapes (one format): Σ count · FLOPs / Σ count · seconds.
     * Each is timed on its own matrix, warmed on itself first (the first for {@value #WARM_SECONDS} s, the
     * rest for a third of it: the format's kernel is compiled by then). A matrix of more than
     * {@value #MAX_TILE_BYTES} bytes is timed on fewer rows of the same length: the rows a thread streams per
     * block of tokens exceed the caches either way, and the row length decides what the activations occupy.
     */
    static double tileRate(Parallel pool, List<Product> products, int tokens) {
        double flops = 0;
        double seconds = 0;
        for (int i = 0; i < products.size(); i++) {
            Product p = products.get(i);
            int rows = rowsWithin(p, MAX_TILE_BYTES);
            double s = timed(pool, p, rows, tokens, i == 0, (w, x, out) -> MatMul.matmul(pool, w, x, tokens, out)) * p.rows() / rows;
            flops += p.flopsPerToken() * tokens;
            seconds += s * p.count();
        }
        return flops / seconds;
    }

    /**
     * Tokens per product a prompt of {@code inputTokens} is timed at: the engine's chunk ({@code Generator.PREFILL_CHUNK},
     * 512; bench runs prompts in the same chunks), at least {@value #TILE_TOKENS}. A prompt of fewer tokens would time the
     * one-token kernels as a prompt's and run them before the decode rates are timed, which changes what the JIT compiles.
     */
    public static int promptChunk(int inputTokens) {
        return Math.clamp(inputTokens, TILE_TOKENS, PROMPT_MAX);
    }

    /**
     * What bench and a model meet before their first timed prompt: a 16-token prompt, then 32 one-token steps (bench's
     * warm-up), here as those products of each of the format's shapes. Without it the profile's JVM ran seconds of
     * 512-token products before any one-token product, and the one-token kernels it then timed ran at a quarter of the
     * rate a bench in another JVM decodes at (Q4_K_M 1B file: 3.7 GB/s against ~17).
     */
    private static void benchWarmUp(Parallel pool, List<Product> products) {
        for (Product p : products) {
            int rows = rowsWithin(p, MAX_TILE_BYTES);
            try (Arena arena = Arena.ofShared()) {
                Tensor w = matrix(arena, pool, p.format(), rows, p.columns());
                float[] x = activations(16, p.columns());
                float[] out = new float[rows * 16];
                MatMul.matmul(pool, w, x, 16, out);
                for (int i = 0; i < 32; i++) {
                    MatMul.matmul(pool, w, x, 1, out);
                }
            }
        }
    }

    /** Runs {@code run} untimed for {@code seconds}, at least three times. */
    private static void warm(Runnable run, double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        for (int i = 0; i < 3 || System.nanoTime() < end; i++) {
            run.run();
        }
    }

    /**
     * Seconds of one run: the median of {@value #PASSES} samples, each the mean of as many runs as fill
     * {@value #SAMPLE_SECONDS} s (at least one). The median, as {@code memwall bench} reports the median
     * of its repeats; samples as long as a bench repeat (a 3-layer file's 32 decode steps take 0.1–0.4 s),
     * because on a machine shared with other work a single 4 ms product is often one that the others left
     * alone, which a sustained run does not see (single products timed Q4_0 and Q4_K_M decode 34–48% faster
     * than bench at load 2.3–2.7, and Q8_0 15% slower).
     */
    private static double medianSeconds(Runnable run) {
        double[] samples = new double[PASSES];
        for (int i = 0; i < PASSES; i++) {
            long t0 = System.nanoTime();
            long end = t0 + (long) (SAMPLE_SECONDS * 1e9);
            int runs = 0;
            long now;
            do {
                run.run();
                runs++;
                now = System.nanoTime();
            } while (now < end);
            samples[i] = (now - t0) / 1e9 / runs;
        }
        Arrays.sort(samples);
        return samples[PASSES / 2];
    }

    /**
     * Mean seconds of one parallel operation: every thread of the pool wakes, does a few hundred
     * floats of work and meets the others at the barrier, as each of a decode step's products and its
     * attention do. (A 16-row product, measured before, fits in one piece that the caller runs alone,
     * so it timed no dispatch at all.) The mean, not the median: a step pays the sum of its
     * operations, stalls included (a worker descheduled by other processes holds up the barrier).
     */
    static double dispatchSeconds(Parallel pool) {
        return dispatchSeconds(pool, new boolean[pool.threads()]);
    }

    /** As {@link #dispatchSeconds(Parallel)}, marking in {@code ran} each thread index that took part. */
    static double dispatchSeconds(Parallel pool, boolean[] ran) {
        int n = 256;
        float[][] work = new float[pool.threads()][n];
        Parallel.RangeTask body = (from, to, thread) -> {
            ran[thread] = true;
            float[] w = work[thread];
            for (int i = 0; i < n; i++) {
                w[i] = w[i] * 0.5f + i;
            }
        };
        for (int warm = 0; warm < 2000; warm++) {
            pool.forRange(pool.threads(), body);
        }
        int runs = 400;
        long t0 = System.nanoTime();
        for (int i = 0; i < runs; i++) {
            pool.forRange(pool.threads(), body);
        }
        return (System.nanoTime() - t0) / 1e9 / runs;
    }

    /** The most prompt tokens the prompt attention rate is timed on: a prompt is run in chunks of at most this many. */
    private static final int PROMPT_MAX = org.memwall.engine.Generator.PREFILL_CHUNK;
    /** Positions of the cache the near and far attention steps attend to. */
    private static final int NEAR = 64;
    private static final int FAR = 1024;

    /**
     * FLOP/s of memwall's attention in decode steps over a {@code kv} cache: a one-layer model with
     * Llama-3.2-1B's attention (32 query heads and 8 KV heads of 64; 256 wide elsewhere, so its products
     * are small), written by {@link SyntheticModel}, opened by {@link Model#open} and run one token at
     * a time as bench runs it, at position {@value #FAR} and at {@value #NEAR} in turn. Everything but
     * attention is the same in both steps, so the median difference is the attention of
     * {@value #FAR} − {@value #NEAR} positions: key and value rows decoded from the cache, dots, softmax
     * and weighted sums, 4 · heads · head size FLOPs per position.
     */
    static double[] attentionRates(int threads, KvType kv, int promptTokens) {
        ModelShape base = ModelShape.named("llama-3.2-1b");
        int vocab = 1024;
        int regular = vocab - base.specials().size();
        ModelShape shape = new ModelShape("attention-profile", "llama", 1, 256, base.heads(), base.kvHeads(), base.headDim(), 256, vocab,
                regular, true, base.contextLength(), base.ropeBase(), base.rmsEpsilon(), base.preTokenizer(), base.specials(), regular,
                regular + 9, base.ropeFactors(), 0, 0, 0);
        return onSyntheticModel(shape, SyntheticModel.Mix.parse("Q8_0"), threads, kv, "attention", m -> {
            try (KvCache cache = m.newCache(FAR + PROMPT_MAX + 1)) {
                ForwardPass f = m.forwardPass();
                SplittableRandom random = new SplittableRandom(3);
                for (int p = 0; p < FAR; p += 256) {
                    f.forwardSequence(random.ints(Math.min(256, FAR - p), 0, regular).toArray(), p, cache, false);
                }
                int runs = 24;
                double[] differences = new double[runs];
                double farFastest = Double.MAX_VALUE;
                double nearFastest = Double.MAX_VALUE;
                for (int r = -8; r < runs; r++) { // eight untimed pairs compile the step
                    double far = stepSeconds(f, cache, FAR, random.nextInt(regular));
                    double near = stepSeconds(f, cache, NEAR, random.nextInt(regular));
                    if (r >= 0) {
                        differences[r] = far - near;
                        farFastest = Math.min(farFastest, far);
                        nearFastest = Math.min(nearFastest, near);
                    }
                }
                Arrays.sort(differences);
                double seconds = noiseProof(differences[runs / 2], farFastest - nearFastest, farFastest);
                double decode = 4.0 * shape.heads() * shape.headDim() * (FAR - NEAR) / seconds;
                // A prompt of promptTokens tokens at position FAR (over the cache) and at 0: each token attends to FAR more
                // positions in the first; the products, norms and stores are the same, so the difference is that attention.
                int n = Math.clamp(promptTokens, 1, PROMPT_MAX);
                int pairs = 5;
                double[] promptDifferences = new double[pairs];
                double farPrompt = Double.MAX_VALUE;
                for (int r = -2; r < pairs; r++) { // two untimed pairs compile the prompt's path
                    int[] tokens = random.ints(n, 0, regular).toArray();
                    long t0 = System.nanoTime();
                    f.forwardSequence(tokens, FAR, cache, false);
                    long t1 = System.nanoTime();
                    farPrompt = Math.min(farPrompt, (t1 - t0) / 1e9);
                    f.forwardSequence(tokens, 0, cache, false);
                    long t2 = System.nanoTime();
                    if (r >= 0) {
                        promptDifferences[r] = ((t1 - t0) - (t2 - t1)) / 1e9;
                    }
                }
                Arrays.sort(promptDifferences);
                double promptSeconds = noiseProof(promptDifferences[pairs / 2], promptDifferences[pairs - 1], farPrompt);
                return new double[] {decode, 4.0 * shape.heads() * shape.headDim() * FAR * n / promptSeconds};
            }
        });
    }

    /**
     * Seconds per token and layer of what a prompt's layer runs besides its weight products and its attention: norms, RoPE,
     * the activation function, the KV stores, residual adds and the copies between them. A one-layer model of {@code c}'s
     * layer shape (its width, heads and feed-forward; matrices in {@code format}'s mix, a 1,024-token vocabulary), written by
     * {@link SyntheticModel} and opened by {@link Model#open}, runs prompts of {@code tokens} tokens; the same layer's products
     * are run alone after each prompt through {@link MatMul} as the layer calls them (Q, K and V together, gate and up together),
     * and the median difference, less the prompt's attention at {@code promptAttentionRate}, is that work. In one JVM on
     * Llama-3.2-1B's files the products ran 0.9–1.7 s of a 4–5 s 512-token prompt's 16 layers short of the whole, where attention
     * accounts for ~0.5 s. 0 where memwall does not write such a layer (experts, other families) or the format has no mix.
     */
    static double tokenLayerSeconds(int threads, KvType kv, ModelConfig c, GgmlType format, int tokens, double promptAttentionRate) {
        SyntheticModel.Mix mix = switch (format == null ? GgmlType.F32 : format) {
            case Q8_0 -> SyntheticModel.Mix.Q8_0;
            case Q4_0 -> SyntheticModel.Mix.Q4_0;
            case Q4_K, Q6_K -> SyntheticModel.Mix.Q4_K_M;
            case F16 -> SyntheticModel.Mix.F16;
            case BF16 -> SyntheticModel.Mix.BF16;
            default -> null;
        };
        if (mix == null || c.expertCount() > 0 || !c.architecture().name().equals("llama")) {
            return 0;
        }
        ModelShape base = ModelShape.named("llama-3.2-1b");
        int vocab = 1024;
        int regular = vocab - base.specials().size();
        ModelShape shape = new ModelShape("layer-profile", "llama", 1, c.embeddingLength(), c.headCount(), c.headCountKv(), c.headDim(),
                c.feedForwardLength(), vocab, regular, true, base.contextLength(), base.ropeBase(), base.rmsEpsilon(), base.preTokenizer(),
                base.specials(), regular, regular + 9, base.ropeFactors(), 0, 0, 0);
        return onSyntheticModel(shape, mix, threads, kv, "layer", m -> {
            try (KvCache cache = m.newCache(tokens + 1); Parallel pool = new Parallel(threads)) {
                ForwardPass f = m.forwardPass();
                org.memwall.model.Weights.Layer l = m.weights().layers[0];
                int d = c.embeddingLength();
                int ff = c.feedForwardLength();
                SplittableRandom random = new SplittableRandom(5);
                float[] x = new float[tokens * Math.max(d, Math.max(ff, c.queryDim()))];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) random.nextDouble(-1, 1);
                }
                float[] q = new float[tokens * c.queryDim()];
                float[] k = new float[tokens * c.keyDim()];
                float[] v = new float[tokens * c.kvValueDim()];
                float[] o = new float[tokens * d];
                float[] g = new float[tokens * ff];
                float[] u = new float[tokens * ff];
                Runnable products = () -> {
                    MatMul.matmulAll(pool, new Tensor[] {l.wq(), l.wk(), l.wv()}, x, tokens, new float[][] {q, k, v});
                    MatMul.matmul(pool, l.wo(), x, tokens, o);
                    MatMul.matmulAll(pool, new Tensor[] {l.gate(), l.up()}, x, tokens, new float[][] {g, u});
                    MatMul.matmul(pool, l.down(), x, tokens, o);
                };
                int pairs = 5;
                double[] differences = new double[pairs];
                for (int r = -2; r < pairs; r++) { // two untimed pairs compile both
                    int[] prompt = random.ints(tokens, 0, regular).toArray();
                    long t0 = System.nanoTime();
                    f.forwardSequence(prompt, 0, cache, false);
                    long t1 = System.nanoTime();
                    products.run();
                    long t2 = System.nanoTime();
                    if (r >= 0) {
                        differences[r] = ((t1 - t0) - (t2 - t1)) / 1e9;
                    }
                }
                Arrays.sort(differences);
                double attention = tokens * 4.0 * c.headCount() * c.headDim() * Roofline.meanContext(tokens) / promptAttentionRate;
                return Math.max(0, differences[pairs / 2] - attention) / tokens;
            }
        });
    }

    /**
     * {@code body} applied to {@code shape} written by {@link SyntheticModel} in {@code mix} to a temporary file and opened
     * by {@link Model#open} as a model is ({@code threads} compute threads, a {@code kv} cache); the file is deleted after.
     */
    private static <T> T onSyntheticModel(ModelShape shape, SyntheticModel.Mix mix, int threads, KvType kv, String what,
                                          java.util.function.Function<Model, T> body) {
        Path file = null;
        try {
            file = Files.createTempFile("memwall-profile-", ".gguf");
            SyntheticModel.write(shape, mix, 1, 16, file, t -> { });
            try (Model m = Model.open(file, threads, null, kv)) {
                return body.apply(m);
            }
        } catch (IOException e) {
            throw new MemwallException("cannot write the " + what + " measurement's model to a temporary file: " + e.getMessage(), e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }

    /**
     * The seconds of attention from a median difference of two timings, or, where noise on a shared machine drowned
     * it (zero or less: a step with more positions ran faster), from {@code fallback}, or at worst {@code whole} (the
     * attention took no longer than the whole run that held it): a rate too slow rather than an absurd one (a
     * median clamped to a nanosecond once gave 7.9e15 FLOP/s).
     */
    static double noiseProof(double median, double fallback, double whole) {
        if (median > 0) {
            return median;
        }
        return fallback > 0 ? fallback : whole;
    }

    /** Seconds of one decode step of {@code token} at {@code position}, logits included, as bench times it. */
    private static double stepSeconds(ForwardPass f, KvCache cache, int position, int token) {
        long t0 = System.nanoTime();
        f.forward(new int[] {token}, new int[] {position}, new KvCache[] {cache}, new boolean[] {true});
        return (System.nanoTime() - t0) / 1e9;
    }

    /**
     * A matrix of {@code rows} rows of 4,096 in {@code type}, written to a temporary file, mapped
     * read-only and prepared as {@code Model.open} prepares a model's matrices for the CPU: repacked into
     * the row-interleaved copy its kernels read where the format has one ({@link Tensor#interleave}), else
     * left in the mapped file's pages. The file is deleted at once.
     */
    static Tensor matrix(Arena arena, Parallel pool, GgmlType type, int rows) {
        return matrix(arena, pool, type, rows, ROW);
    }

    /** {@link #matrix(Arena, Parallel, GgmlType, int)} with rows of {@code columns}. */
    static Tensor matrix(Arena arena, Parallel pool, GgmlType type, int rows, int columns) {
        final int ROW = columns;
        int rowBytes = Math.toIntExact(type.bytesFor(ROW));
        SplittableRandom random = new SplittableRandom(7);
        ByteBuffer distinct = ByteBuffer.allocate(DISTINCT_ROWS * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < DISTINCT_ROWS; i++) {
            float[] x = new float[ROW];
            for (int j = 0; j < ROW; j++) {
                x[j] = (float) (random.nextDouble(-1, 1) * 0.035); // standard deviation 0.02, as synthetic weights
            }
            Quantizer.quantize(type, x, 0, ROW, distinct.slice(i * rowBytes, rowBytes));
        }
        try {
            Path file = Files.createTempFile("memwall-profile-", ".bin");
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                for (int r = 0; r < rows; r += DISTINCT_ROWS) {
                    ByteBuffer b = distinct.duplicate().limit(Math.min(DISTINCT_ROWS, rows - r) * rowBytes);
                    while (b.hasRemaining()) {
                        ch.write(b);
                    }
                }
                MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, 0, (long) rows * rowBytes, arena);
                Tensor w = new Tensor("profile." + type, type, new long[] {ROW, rows}, data);
                w.interleave(pool);
                return w;
            } finally {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new MemwallException("cannot write the measurement matrix to a temporary file: " + e.getMessage(), e);
        }
    }

    private static float[] activations(int tokens, int columns) {
        float[] x = new float[tokens * columns];
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        return x;
    }

    private static long physicalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Runtime.getRuntime().maxMemory();
    }
}
