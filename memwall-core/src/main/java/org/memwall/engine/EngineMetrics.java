package org.memwall.engine;

import java.util.concurrent.atomic.AtomicLong;

/** Counters the engine keeps for monitoring ({@code /metrics}). */
public final class EngineMetrics {
    public final AtomicLong promptTokens = new AtomicLong();
    public final AtomicLong generatedTokens = new AtomicLong();
    public final AtomicLong steps = new AtomicLong();
    public final AtomicLong rejected = new AtomicLong();
    private volatile double decodeTokensPerSecond;

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
