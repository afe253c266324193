package org.memwall.server;

/**
 * How the server runs.
 *
 * @param modelName     the id clients use in {@code model} (requests naming another model get a 400)
 * @param apiKey        required as {@code Authorization: Bearer KEY} on every route but /health; null = open
 * @param maxBodyBytes  larger request bodies get a 413
 * @param timeoutMillis upper bound on each request's total time; 0 = none
 * @param context       tokens per sequence (prompt + completion)
 */
public record ServerSettings(String host, int port, String modelName, String apiKey, int parallel, int maxQueue,
                             int maxBodyBytes, long timeoutMillis, int context) {
}
