package org.memwall.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.memwall.grammar.Grammar;
import org.memwall.sample.SamplerSettings;

/**
 * A validated completion or chat-completion request. Every field is checked for type and range
 * here, before anything is queued; a bad field is an {@link ApiError} naming it.
 */
record GenerationRequest(boolean chat, String model, List<Map<String, Object>> messages, List<Object> tools, String prompt, Integer maxTokens,
                         SamplerSettings sampling, List<String> stops, boolean stream, boolean includeUsage, Grammar grammar,
                         ToolChoice toolChoice) {

    private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool", "developer");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** {@code model} is the requested model name as sent (null when absent); the server decides whether it serves it. */
    static GenerationRequest parse(JsonNode body, boolean chat) {
        if (body == null || !body.isObject()) {
            throw ApiError.invalid(null, "the request body must be a JSON object");
        }
        String model = body.hasNonNull("model") ? text(body, "model") : null;
        List<Map<String, Object>> messages = null;
        List<Object> tools = null;
        String prompt = null;
        if (chat) {
            JsonNode m = body.get("messages");
            if (m == null || !m.isArray()) {
                throw ApiError.invalid("messages", "'messages' must be an array of messages");
            }
            if (m.isEmpty()) {
                throw ApiError.invalid("messages", "'messages' must not be empty");
            }
            messages = new ArrayList<>();
            for (int i = 0; i < m.size(); i++) {
                messages.add(message(m.get(i), i));
            }
            JsonNode t = body.get("tools");
            if (t != null && !t.isNull()) {
                if (!t.isArray()) {
                    throw ApiError.invalid("tools", "'tools' must be an array");
                }
                tools = new ArrayList<>(toJava(t) instanceof List<?> l ? l : List.of());
            }
        } else {
            JsonNode p = body.get("prompt");
            if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
                p = p.get(0);
            }
            if (p == null || !p.isTextual()) {
                throw ApiError.invalid("prompt", "'prompt' must be a string");
            }
            prompt = p.asText();
            if (prompt.isEmpty()) {
                throw ApiError.invalid("prompt", "'prompt' must not be empty");
            }
        }
        Integer maxTokens = null;
        for (String key : new String[] {"max_completion_tokens", "max_tokens"}) {
            if (body.hasNonNull(key)) {
                JsonNode v = body.get(key);
                if (!v.isIntegralNumber()) {
                    throw ApiError.invalid(key, "'" + key + "' must be an integer");
                }
                if (!v.canConvertToInt() || v.asInt() < 1) {
                    throw ApiError.invalid(key, "'" + key + "' must be at least 1 (got " + v.asText() + ")");
                }
                maxTokens = v.asInt();
                break;
            }
        }
        if (body.hasNonNull("n") && (!body.get("n").isIntegralNumber() || body.get("n").asInt() != 1)) {
            throw ApiError.invalid("n", "only n = 1 is supported");
        }
        Grammar grammar = ResponseFormat.parse(body);
        ToolChoice toolChoice = chat ? ToolChoice.parse(body, tools) : ToolChoice.NO_TOOLS;
        float temperature = number(body, "temperature", 1f, 0f, 2f);
        float topP = number(body, "top_p", 1f, 0f, 1f);
        float frequency = number(body, "frequency_penalty", 0f, -2f, 2f);
        float presence = number(body, "presence_penalty", 0f, -2f, 2f);
        // llama-server's and vLLM's extra fields; the defaults leave OpenAI's sampling unchanged.
        float minP = number(body, "min_p", 0f, 0f, 1f);
        float repeatPenalty = number(body, "repeat_penalty", 1f, 0.01f, 10f);
        int topK = 0;
        if (body.hasNonNull("top_k")) {
            JsonNode v = body.get("top_k");
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < -1) {
                throw ApiError.invalid("top_k", "'top_k' must be an integer, 0 or -1 for no limit (got " + v.asText() + ")");
            }
            topK = Math.max(0, v.asInt());
        }
        long seed = -1;
        if (body.hasNonNull("seed")) {
            if (!body.get("seed").isIntegralNumber()) {
                throw ApiError.invalid("seed", "'seed' must be an integer");
            }
            seed = body.get("seed").asLong();
        }
        Map<Integer, Float> bias = new HashMap<>();
        JsonNode lb = body.get("logit_bias");
        if (lb != null && !lb.isNull()) {
            if (!lb.isObject()) {
                throw ApiError.invalid("logit_bias", "'logit_bias' must map token ids to numbers");
            }
            for (Map.Entry<String, JsonNode> e : lb.properties()) {
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw ApiError.invalid("logit_bias", "logit_bias key '" + e.getKey() + "' is not a token id");
                }
                if (!e.getValue().isNumber() || Math.abs(e.getValue().asDouble()) > 100) {
                    throw ApiError.invalid("logit_bias", "logit_bias values must be numbers in [-100, 100]");
                }
                double v = e.getValue().asDouble();
                bias.put(id, v <= -100 ? Float.NEGATIVE_INFINITY : (float) v);
            }
        }
        List<String> stops = new ArrayList<>();
        JsonNode stop = body.get("stop");
        if (stop != null && !stop.isNull()) {
            if (stop.isTextual()) {
                stops.add(stop.asText());
            } else if (stop.isArray() && stop.size() <= 4) {
                for (JsonNode s : stop) {
                    if (!s.isTextual()) {
                        throw ApiError.invalid("stop", "'stop' must be a string or an array of up to 4 strings");
                    }
                    stops.add(s.asText());
                }
            } else {
                throw ApiError.invalid("stop", "'stop' must be a string or an array of up to 4 strings");
            }
            stops.removeIf(String::isEmpty);
        }
        boolean stream = bool(body, "stream");
        boolean usage = false;
        JsonNode so = body.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!so.isObject()) {
                throw ApiError.invalid("stream_options", "'stream_options' must be an object");
            }
            usage = bool(so, "include_usage");
        }
        SamplerSettings sampling = new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, 64, frequency, presence, seed, bias);
        return new GenerationRequest(chat, model, messages, tools, prompt, maxTokens, sampling, stops, stream, usage, grammar, toolChoice);
    }

    private static Map<String, Object> message(JsonNode m, int i) {
        String where = "messages[" + i + "]";
        if (!m.isObject()) {
            throw ApiError.invalid(where, where + " must be an object");
        }
        JsonNode role = m.get("role");
        if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
            throw ApiError.invalid(where + ".role", where + ".role must be one of " + ROLES);
        }
        JsonNode content = m.get("content");
        Map<String, Object> out = new LinkedHashMap<>();
        @SuppressWarnings("unchecked")
        Map<String, Object> all = (Map<String, Object>) toJava(m);
        out.putAll(all);
        if (content == null || content.isNull()) {
            if (!m.has("tool_calls")) {
                throw ApiError.invalid(where + ".content", where + ".content is missing");
            }
            out.put("content", "");
        } else if (content.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : content) {
                if (part.isObject() && "text".equals(part.path("type").asText()) && part.path("text").isTextual()) {
                    text.append(part.get("text").asText());
                } else {
                    throw ApiError.invalid(where + ".content", where + ".content parts must be text parts (images are not supported)");
                }
            }
            out.put("content", text.toString());
        } else if (!content.isTextual()) {
            throw ApiError.invalid(where + ".content", where + ".content must be a string or an array of text parts");
        }
        // Templates expect tool-call arguments as objects; OpenAI clients send them as JSON text.
        if (out.get("tool_calls") instanceof List<?> calls) {
            for (Object c : calls) {
                if (c instanceof Map<?, ?> call && call.get("function") instanceof Map<?, ?> fn && fn.get("arguments") instanceof String args) {
                    try {
                        @SuppressWarnings("unchecked")
                        Map<Object, Object> f = (Map<Object, Object>) fn;
                        f.put("arguments", toJava(MAPPER.readTree(args)));
                    } catch (Exception e) {
                        // not JSON: the template gets the text as sent
                    }
                }
            }
        }
        return out;
    }

    static Object toJava(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            n.properties().forEach(e -> m.put(e.getKey(), toJava(e.getValue())));
            return m;
        }
        if (n.isArray()) {
            List<Object> l = new ArrayList<>();
            n.forEach(x -> l.add(toJava(x)));
            return l;
        }
        if (n.isIntegralNumber()) {
            return n.asLong();
        }
        if (n.isNumber()) {
            return n.asDouble();
        }
        if (n.isBoolean()) {
            return n.asBoolean();
        }
        return n.asText();
    }

    private static String text(JsonNode body, String key) {
        JsonNode v = body.get(key);
        if (!v.isTextual()) {
            throw ApiError.invalid(key, "'" + key + "' must be a string");
        }
        return v.asText();
    }

    private static float number(JsonNode body, String key, float fallback, float min, float max) {
        JsonNode v = body.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw ApiError.invalid(key, "'" + key + "' must be a number");
        }
        double d = v.asDouble();
        if (d < min || d > max) {
            throw ApiError.invalid(key, "'" + key + "' must be between " + min + " and " + max + " (got " + v.asText() + ")");
        }
        return (float) d;
    }

    private static boolean bool(JsonNode body, String key) {
        JsonNode v = body.get(key);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ApiError.invalid(key, "'" + key + "' must be true or false");
        }
        return v.asBoolean();
    }
}
