package org.memwall.server;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.memwall.engine.Engine;

/** Request counters, rendered with the engine's figures in the Prometheus text format. */
final class ServerMetrics {
    /** Upper bounds (seconds) of the buckets of {@code memwall_disconnect_release_seconds}. */
    static final double[] RELEASE_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

    private final Map<Integer, AtomicLong> byStatus = new ConcurrentHashMap<>();
    private final AtomicLong goneByHangup = new AtomicLong();
    private final AtomicLong goneByWrite = new AtomicLong();
    /** Disconnect releases per bucket (not cumulative; the last one is past every bound), their sum and the largest. */
    private final AtomicLongArray releases = new AtomicLongArray(RELEASE_BUCKETS.length + 1);
    private final AtomicLong releaseNanosSum = new AtomicLong();
    private final AtomicLong releaseNanosMax = new AtomicLong();

    void count(int status) {
        byStatus.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
    }

    /** A running generation's client was found gone: by the disconnect watcher ({@code hangup}) or by a failed write. */
    void disconnectNoticed(boolean hangup) {
        (hangup ? goneByHangup : goneByWrite).incrementAndGet();
    }

    /** The sequence of a client found gone left the batch, its KV cache freed, {@code nanos} after that was noticed. */
    void disconnectReleased(long nanos) {
        int b = 0;
        while (b < RELEASE_BUCKETS.length && nanos > RELEASE_BUCKETS[b] * 1e9) {
            b++;
        }
        releases.incrementAndGet(b);
        releaseNanosSum.addAndGet(nanos);
        releaseNanosMax.accumulateAndGet(nanos, Math::max);
    }

    /** Disconnect releases so far, per bucket of {@link #RELEASE_BUCKETS} (the last: slower than all). */
    long[] disconnectReleases() {
        long[] n = new long[releases.length()];
        for (int i = 0; i < n.length; i++) {
            n[i] = releases.get(i);
        }
        return n;
    }

    /** The longest time from noticing a vanished client to its sequence's release. */
    long disconnectReleaseMaxNanos() {
        return releaseNanosMax.get();
    }

    String render(Engine engine) {
        StringBuilder b = new StringBuilder();
        b.append("# HELP memwall_requests_total HTTP requests by status code.\n# TYPE memwall_requests_total counter\n");
        new TreeMap<>(byStatus).forEach((status, n) -> b.append("memwall_requests_total{status=\"").append(status).append("\"} ").append(n.get()).append('\n'));
        gauge(b, "memwall_prompt_tokens_total", "counter", "Prompt tokens evaluated.", engine.metrics().promptTokens.get());
        gauge(b, "memwall_generated_tokens_total", "counter", "Tokens generated.", engine.metrics().generatedTokens.get());
        gauge(b, "memwall_queue_depth", "gauge", "Requests waiting for a slot.", engine.queuedCount());
        gauge(b, "memwall_running_sequences", "gauge", "Sequences in the running batch.", engine.runningCount());
        gauge(b, "memwall_kv_cache_bytes", "gauge", "KV cache bytes held by running sequences.", engine.kvBytes());
        gauge(b, "memwall_kv_reserved_bytes", "gauge", "KV cache bytes reserved by running sequences (all their positions).", engine.kvReservedBytes());
        gauge(b, "memwall_kv_budget_bytes", "gauge", "KV cache bytes running sequences may reserve together (--kv-budget).",
                engine.settings().kvBudgetBytes());
        gauge(b, "memwall_prefix_cache_lookups_total", "counter", "Sequences that looked up the prefix cache.", engine.metrics().prefixLookups.get());
        gauge(b, "memwall_prefix_cache_hits_total", "counter", "Sequences that started from a cached prefix.", engine.metrics().prefixHits.get());
        gauge(b, "memwall_prefix_cache_hit_tokens_total", "counter", "Prompt tokens taken from the prefix cache instead of evaluated.",
                engine.metrics().prefixHitTokens.get());
        gauge(b, "memwall_prefix_cache_evictions_total", "counter", "Prefix cache entries freed for new sequences.", engine.metrics().prefixEvictions.get());
        gauge(b, "memwall_prefix_cache_bytes", "gauge", "KV cache bytes the prefix cache holds (within the KV budget).", engine.prefixCacheBytes());
        b.append("# HELP memwall_client_disconnects_total Running generations whose client went away, by how it was noticed"
                + " (hangup: its connection closed, seen at once; write: a write to it failed).\n# TYPE memwall_client_disconnects_total counter\n")
                .append("memwall_client_disconnects_total{noticed=\"hangup\"} ").append(goneByHangup.get()).append('\n')
                .append("memwall_client_disconnects_total{noticed=\"write\"} ").append(goneByWrite.get()).append('\n');
        b.append("# HELP memwall_disconnect_release_seconds From noticing a vanished client to its sequence leaving the batch, KV cache freed."
                + "\n# TYPE memwall_disconnect_release_seconds histogram\n");
        long cumulative = 0;
        for (int i = 0; i <= RELEASE_BUCKETS.length; i++) {
            cumulative += releases.get(i);
            b.append("memwall_disconnect_release_seconds_bucket{le=\"").append(i < RELEASE_BUCKETS.length ? Double.toString(RELEASE_BUCKETS[i]) : "+Inf")
                    .append("\"} ").append(cumulative).append('\n');
        }
        b.append("memwall_disconnect_release_seconds_sum ").append(String.format(java.util.Locale.ROOT, "%.6f", releaseNanosSum.get() / 1e9)).append('\n')
                .append("memwall_disconnect_release_seconds_count ").append(cumulative).append('\n');
        b.append("# HELP memwall_decode_tokens_per_second Recent aggregate decode speed.\n# TYPE memwall_decode_tokens_per_second gauge\n")
                .append("memwall_decode_tokens_per_second ").append(String.format(java.util.Locale.ROOT, "%.3f", engine.metrics().decodeTokensPerSecond())).append('\n');
        return b.toString();
    }

    private static void gauge(StringBuilder b, String name, String type, String help, long value) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n')
                .append(name).append(' ').append(value).append('\n');
    }
}
