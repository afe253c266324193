package org.memwall.engine;

import java.util.concurrent.atomic.AtomicLong;

/** Counters the engine keeps for monitoring ({@code /metrics}). */
public final class EngineMetrics {
    public final AtomicLong promptTokens = new AtomicLong();
    public final AtomicLong generatedTokens = new AtomicLong();
    public final AtomicLong steps = new AtomicLong();
    public final AtomicLong rejected = new AtomicLong();
    /** Sequences that looked up the prefix cache, those that found a prefix, and the prompt tokens it saved. */
    public final AtomicLong prefixLookups = new AtomicLong();
    public final AtomicLong prefixHits = new AtomicLong();
    public final AtomicLong prefixHitTokens = new AtomicLong();
    /** Prefix cache entries freed to make room for new sequences. */
    public final AtomicLong prefixEvictions = new AtomicLong();
    private volatile double decodeTokensPerSecond;

    void recordPrefixLookup(int hitTokens) {
        prefixLookups.incrementAndGet();
        if (hitTokens > 0) {
            prefixHits.incrementAndGet();
            prefixHitTokens.addAndGet(hitTokens);
        }
    }

    void recordStep(int tokens, int decodeTokens, long nanos) {
        steps.incrementAndGet();
        if (decodeTokens > 0 && nanos > 0) {
            double rate = decodeTokens * 1e9 / nanos;
            // Exponential moving average over recent steps.
            decodeTokensPerSecond = decodeTokensPerSecond == 0 ? rate : 0.9 * decodeTokensPerSecond + 0.1 * rate;
        }
    }

    /** Recent aggregate decode speed over all running sequences. */
    public double decodeTokensPerSecond() {
        return decodeTokensPerSecond;
    }
}
