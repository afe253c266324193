package org.memwall.model;

import java.nio.file.Path;
import java.util.function.Function;
import org.memwall.gguf.GgufFile;
import org.memwall.tensor.Parallel;

/**
 * A loaded model: the mapped file, its config, its weights and the forward pass that evaluates them
 * (the CPU's {@link Transformer}, or a GPU backend's). Closing it frees the backend's memory, unmaps
 * the file and stops the compute threads.
 */
public final class Model implements AutoCloseable {
    private final GgufFile file;
    private final ModelConfig config;
    private final Weights weights;
    private final Parallel pool;
    private final Transformer transformer;
    private ForwardPass forward;

    private Model(GgufFile file, ModelConfig config, Weights weights, Parallel pool, KvType kvType) {
        this.file = file;
        this.config = config;
        this.weights = weights;
        this.pool = pool;
        this.transformer = new Transformer(config, weights, pool, kvType);
        this.forward = transformer;
    }

    /** Opens and validates {@code path} for the CPU; {@code threads} compute threads (≤ 0: one per core). */
    public static Model open(Path path, int threads) {
        return open(path, threads, null);
    }

    /**
     * Opens {@code path} and evaluates it with the forward pass that {@code backend} builds from the
     * loaded model (null: the CPU). A backend that fails closes what it opened and the model with it.
     */
    public static Model open(Path path, int threads, Function<Model, ForwardPass> backend) {
        return open(path, threads, backend, KvType.DEFAULT);
    }

    /**
     * Like {@link #open(Path, int, Function)}, with the CPU's KV caches stored as {@code kvType}
     * (a GPU backend keeps its own format).
     */
    public static Model open(Path path, int threads, Function<Model, ForwardPass> backend, KvType kvType) {
        return open(path, threads, backend, kvType, null);
    }

    /**
     * Like {@link #open(Path, int, Function, KvType)}, the CPU's interleaved copies mapped from {@code cache} when it
     * holds them for this model and build, else made and saved there (null: made, not saved).
     */
    public static Model open(Path path, int threads, Function<Model, ForwardPass> backend, KvType kvType, RepackCache cache) {
        GgufFile file = GgufFile.open(path);
        Model model = null;
        try {
            ModelConfig config = ModelConfig.from(file.metadata());
            Weights weights = Weights.load(file, config);
            model = new Model(file, config, weights, threads > 0 ? new Parallel(threads) : Parallel.perCore(), kvType);
            if (backend != null) {
                model.forward = backend.apply(model);
            }
            if (model.forward == model.transformer) { // the CPU's kernels read the row-interleaved copies
                if (cache != null) {
                    cache.interleave(file, weights, model.pool);
                } else {
                    weights.interleave(model.pool);
                }
            }
            return model;
        } catch (RuntimeException e) {
            if (model != null) {
                model.close();
            } else {
                file.close();
            }
            throw e;
        }
    }

    public GgufFile file() {
        return file;
    }

    public ModelConfig config() {
        return config;
    }

    public Weights weights() {
        return weights;
    }

    /** The CPU forward pass (also the reference a GPU backend is checked against). */
    public Transformer transformer() {
        return transformer;
    }

    /** The forward pass this model runs on. */
    public ForwardPass forwardPass() {
        return forward;
    }

    /**
     * Lets the JIT compile the kernels this model runs, so that the first request does not wait for it (a 1B model's
     * first prompt otherwise runs seconds slower, interpreted, than the next): a prompt of 48 random tokens (the
     * register tiles of every format), a batch of 16 (a server's step of decoding sequences: the small-batch tiles and
     * token pairs, which a first short prompt otherwise met cold), then 32 tokens one at a time, on a KV cache of its own
     * (llama.cpp's tools warm up the same way at start).
     */
    public void warmUp() {
        try (KvCache cache = newCache(WARM_UP)) {
            warmUp(cache);
        }
    }

    /** Positions {@link #warmUp} fills. */
    public static final int WARM_UP = 96;

    /** {@link #warmUp()} on positions 0 .. 95 of {@code cache} (at least {@link #WARM_UP} positions, or the model's context). */
    public void warmUp(KvCache cache) {
        int total = Math.min(WARM_UP, config.contextLength());
        int prompt = Math.min(48, total / 2);
        int batch = Math.min(16, (total - prompt) / 3);
        int vocab = weights.vocabularySize();
        java.util.SplittableRandom random = new java.util.SplittableRandom(96);
        forward.forwardSequence(random.ints(prompt, 0, vocab).toArray(), 0, cache, false);
        if (batch > 0) {
            forward.forwardSequence(random.ints(batch, 0, vocab).toArray(), prompt, cache, false);
        }
        for (int i = prompt + batch; i < total; i++) {
            forward.forwardSequence(new int[] {random.nextInt(vocab)}, i, cache, false);
        }
    }

    /** A fresh KV cache for one sequence of up to {@code capacity} positions (≤ 0: the model's context). */
    public KvCache newCache(int capacity) {
        return forward.newCache(capacity > 0 ? capacity : config.contextLength());
    }

    @Override
    public void close() {
        try {
            if (forward != transformer) {
                forward.close();
            }
        } finally {
            pool.close();
            file.close();
        }
    }
}
