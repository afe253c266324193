package org.memwall.plan;

import org.memwall.MemwallException;

/**
 * What is served: a model stored as {@code weights}, a KV cache type, prompt and output lengths, the
 * load (a number of concurrent sequences, or requests per second, or neither: as many as fit) and the
 * latency targets (NaN: none).
 */
public record Workload(ModelSpec model, WeightType weights, KvType kv, int inputTokens, int outputTokens,
                       int concurrency, double rate, double ttftTarget, double tpotTarget) {

    public Workload {
        if (inputTokens < 1 || outputTokens < 1) {
            throw new MemwallException("--input-tokens and --output-tokens must be at least 1");
        }
        if (concurrency < 0 || rate <= 0) {
            throw new MemwallException("--concurrency must be at least 1 and --rate above 0");
        }
        if (concurrency > 0 && !Double.isNaN(rate)) {
            throw new MemwallException("give --concurrency or --rate, not both");
        }
        if (ttftTarget <= 0 || tpotTarget <= 0) {
            throw new MemwallException("--ttft and --tpot must be above 0 seconds");
        }
        long context = (long) inputTokens + outputTokens;
        if (context > model.config().contextLength()) {
            throw new MemwallException("input + output tokens (" + context + ") exceed " + model.name() + "'s context of "
                    + model.config().contextLength());
        }
    }

}
