package org.memwall.server;

import java.util.List;

/**
 * How the server runs.
 *
 * @param modelName       the id the model is listed under (the file name without {@code .gguf})
 * @param aliases         more ids the model answers to and is listed under ({@code --alias})
 * @param strictModelName when set, a request naming a model that is neither the id nor an alias gets a 404;
 *                        otherwise any name reaches the one loaded model, as with llama-server
 * @param apiKey          required as {@code Authorization: Bearer KEY} on every route but /health; null = open
 * @param maxBodyBytes    larger request bodies get a 413
 * @param timeoutMillis   upper bound on each request's total time; 0 = none
 * @param context         tokens per sequence (prompt + completion)
 * @param kvBudgetBytes   KV cache bytes all running requests may reserve together; 0 = three quarters of the memory free at start
 * @param probeMillis     how often a waiting non-streaming reply checks that its client is still there
 * @param writeStallMillis a response whose client takes no bytes for this long (a write blocked on full buffers) is cut
 */
public record ServerSettings(String host, int port, String modelName, List<String> aliases, boolean strictModelName, String apiKey,
                             int parallel, int maxQueue, int maxBodyBytes, long timeoutMillis, int context, long kvBudgetBytes,
                             long probeMillis, long writeStallMillis) {
    public static final long DEFAULT_PROBE_MILLIS = 1000;
    /** As long as a client may take to send a request (the JDK server's maxReqTime we set). */
    public static final long DEFAULT_WRITE_STALL_MILLIS = 30_000;

    public ServerSettings {
        aliases = List.copyOf(aliases);
    }

    /** Settings without aliases, accepting any model name, with the KV budget from free memory. */
    public ServerSettings(String host, int port, String modelName, String apiKey, int parallel, int maxQueue, int maxBodyBytes,
                          long timeoutMillis, int context) {
        this(host, port, modelName, List.of(), false, apiKey, parallel, maxQueue, maxBodyBytes, timeoutMillis, context, 0, DEFAULT_PROBE_MILLIS,
                DEFAULT_WRITE_STALL_MILLIS);
    }

    public ServerSettings withModelNames(List<String> aliases, boolean strict) {
        return new ServerSettings(host, port, modelName, aliases, strict, apiKey, parallel, maxQueue, maxBodyBytes, timeoutMillis, context,
                kvBudgetBytes, probeMillis, writeStallMillis);
    }

    public ServerSettings withKvBudget(long bytes) {
        return new ServerSettings(host, port, modelName, aliases, strictModelName, apiKey, parallel, maxQueue, maxBodyBytes, timeoutMillis,
                context, bytes, probeMillis, writeStallMillis);
    }

    public ServerSettings withProbeMillis(long millis) {
        return new ServerSettings(host, port, modelName, aliases, strictModelName, apiKey, parallel, maxQueue, maxBodyBytes, timeoutMillis,
                context, kvBudgetBytes, millis, writeStallMillis);
    }

    public ServerSettings withWriteStallMillis(long millis) {
        return new ServerSettings(host, port, modelName, aliases, strictModelName, apiKey, parallel, maxQueue, maxBodyBytes, timeoutMillis,
                context, kvBudgetBytes, probeMillis, millis);
    }
}
