package org.memwall.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.memwall.MemwallException;
import org.memwall.engine.Embedder;
import org.memwall.model.Model;
import org.memwall.tokenizer.Tokenizer;

/**
 * {@code POST /v1/embeddings}: text (or token ids) in, L2-normalised vectors out, pooled as the
 * model file declares ({@link Embedder.Pooling}); {@code dimensions} keeps the first N components
 * and normalises again; {@code encoding_format} {@code base64} sends little-endian float32s.
 */
final class Embeddings {
    static final int MAX_INPUTS = 2048;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Model model;
    private final Tokenizer tokenizer;
    private final int context;
    private Embedder embedder;

    Embeddings(Model model, Tokenizer tokenizer, int context) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.context = context;
    }

    /** The embedder, made on first use: a reranker's file makes every embeddings request a 400. */
    private synchronized Embedder embedder() {
        if (embedder == null) {
            embedder = new Embedder(model, Embedder.Pooling.of(model.file().metadata()), 512);
        }
        return embedder;
    }

    /** The OpenAI reply to an embeddings request {@code body}; {@code tokens[0]} gets the input token count. */
    ObjectNode openAi(JsonNode body, String modelName, int[] tokens) {
        if (body == null || !body.isObject()) {
            throw ApiError.invalid(null, "the request body must be a JSON object");
        }
        List<int[]> inputs = inputs(body.get("input"), "input");
        String format = body.path("encoding_format").asText("float");
        if (!format.equals("float") && !format.equals("base64")) {
            throw ApiError.invalid("encoding_format", "'encoding_format' must be float or base64");
        }
        int dims = dimensions(body.get("dimensions"));
        float[][] vectors = embed(inputs, dims, tokens);
        ObjectNode out = JSON.createObjectNode().put("object", "list");
        ArrayNode data = out.putArray("data");
        for (int i = 0; i < vectors.length; i++) {
            ObjectNode item = data.addObject().put("object", "embedding").put("index", i);
            if (format.equals("base64")) {
                ByteBuffer b = ByteBuffer.allocate(vectors[i].length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(vectors[i]);
                item.put("embedding", Base64.getEncoder().encodeToString(b.array()));
            } else {
                ArrayNode v = item.putArray("embedding");
                for (float x : vectors[i]) {
                    v.add(x);
                }
            }
        }
        out.put("model", modelName);
        out.putObject("usage").put("prompt_tokens", tokens[0]).put("total_tokens", tokens[0]);
        return out;
    }

    /** {@code dimensions} checked against the model's: 0 when absent (all of them). */
    int dimensions(JsonNode dims) {
        if (dims == null || dims.isNull()) {
            return 0;
        }
        int d = model.config().embeddingLength();
        if (!dims.isIntegralNumber() || dims.asLong() < 1 || dims.asLong() > d) {
            throw ApiError.invalid("dimensions", "'dimensions' must be an integer from 1 to " + d + " (the model's embedding length)");
        }
        return dims.asInt();
    }

    /** Vectors of {@code inputs}, cut to {@code dims} components (0: all) and normalised; counts their tokens into {@code tokens[0]}. */
    float[][] embed(List<int[]> inputs, int dims, int[] tokens) {
        for (int[] in : inputs) {
            tokens[0] += in.length;
        }
        float[][] vectors;
        try {
            vectors = embedder().embed(inputs);
        } catch (MemwallException e) {
            throw ApiError.invalid(null, e.getMessage());
        }
        if (dims > 0 && dims < model.config().embeddingLength()) {
            for (int i = 0; i < vectors.length; i++) {
                float[] cut = new float[dims];
                System.arraycopy(vectors[i], 0, cut, 0, dims);
                double sum = 0;
                for (float x : cut) {
                    sum += (double) x * x;
                }
                for (int j = 0; j < dims && sum > 0; j++) {
                    cut[j] = (float) (cut[j] / Math.sqrt(sum));
                }
                vectors[i] = cut;
            }
        }
        return vectors;
    }

    /** A string, an array of strings, an array of token ids or an array of such arrays, tokenized and checked against the context. */
    List<int[]> inputs(JsonNode input, String param) {
        return inputs(input, param, false);
    }

    /** As {@link #inputs(JsonNode, String)}; with {@code truncate}, an input beyond the context keeps its first tokens. */
    List<int[]> inputs(JsonNode input, String param, boolean truncate) {
        if (input == null || input.isNull()) {
            throw ApiError.invalid(param, "'" + param + "' is missing");
        }
        List<int[]> out = new ArrayList<>();
        if (input.isTextual()) {
            out.add(text(input.asText(), param));
        } else if (input.isArray() && !input.isEmpty() && input.get(0).isIntegralNumber()) {
            out.add(ids(input, param));
        } else if (input.isArray() && !input.isEmpty()) {
            if (input.size() > MAX_INPUTS) {
                throw ApiError.invalid(param, "at most " + MAX_INPUTS + " inputs per request");
            }
            for (JsonNode item : input) {
                if (item.isTextual()) {
                    out.add(text(item.asText(), param));
                } else if (item.isArray() && !item.isEmpty()) {
                    out.add(ids(item, param));
                } else {
                    throw ApiError.invalid(param, "'" + param + "' must be a string, an array of strings or an array of token-id arrays");
                }
            }
        } else {
            throw ApiError.invalid(param, "'" + param + "' must be a non-empty string or array");
        }
        if (truncate) {
            out.replaceAll(ids -> ids.length > context ? java.util.Arrays.copyOf(ids, context) : ids);
        }
        for (int[] ids : out) {
            if (ids.length > context) {
                throw new ApiError(400, "invalid_request_error", param, "context_length_exceeded",
                        "an input of " + ids.length + " tokens exceeds the context length of " + context + " tokens");
            }
        }
        return out;
    }

    private int[] text(String s, String param) {
        if (s.isEmpty()) {
            throw ApiError.invalid(param, "'" + param + "' must not contain empty strings");
        }
        return tokenizer.encode(s, true, false);
    }

    private int[] ids(JsonNode array, String param) {
        int vocab = model.weights().vocabularySize();
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = array.get(i);
            if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= vocab) {
                throw ApiError.invalid(param, "token ids must be integers from 0 to " + (vocab - 1));
            }
            ids[i] = t.asInt();
        }
        return ids;
    }
}
