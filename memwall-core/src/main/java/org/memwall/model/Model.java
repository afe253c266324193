package org.memwall.model;

import java.nio.file.Path;
import org.memwall.gguf.GgufFile;
import org.memwall.tensor.Parallel;

/**
 * A loaded model: the mapped file, its config, its weights and a forward pass over them. Closing
 * it unmaps the file and stops the compute threads.
 */
public final class Model implements AutoCloseable {
    private final GgufFile file;
    private final ModelConfig config;
    private final Weights weights;
    private final Parallel pool;
    private final Transformer transformer;

    private Model(GgufFile file, ModelConfig config, Weights weights, Parallel pool) {
        this.file = file;
        this.config = config;
        this.weights = weights;
        this.pool = pool;
        this.transformer = new Transformer(config, weights, pool);
    }

    /** Opens and validates {@code path}; {@code threads} compute threads (≤ 0: one per core). */
    public static Model open(Path path, int threads) {
        GgufFile file = GgufFile.open(path);
        try {
            ModelConfig config = ModelConfig.from(file.metadata());
            Weights weights = Weights.load(file, config);
            return new Model(file, config, weights, threads > 0 ? new Parallel(threads) : Parallel.perCore());
        } catch (RuntimeException e) {
            file.close();
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

    public Transformer transformer() {
        return transformer;
    }

    /** A fresh KV cache for one sequence of up to {@code capacity} positions (≤ 0: the model's context). */
    public KvCache newCache(int capacity) {
        return KvCache.forModel(config, capacity > 0 ? capacity : config.contextLength());
    }

    @Override
    public void close() {
        pool.close();
        file.close();
    }
}
