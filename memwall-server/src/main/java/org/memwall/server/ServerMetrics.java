package org.memwall.server;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.memwall.engine.Engine;

/** Request counters, rendered with the engine's figures in the Prometheus text format. */
final class ServerMetrics {
    private final Map<Integer, AtomicLong> byStatus = new ConcurrentHashMap<>();

    void count(int status) {
        byStatus.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
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
