package org.memwall.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.memwall.chat.ChatFormatter;
import org.memwall.chat.ToolCallFormat;
import org.memwall.gguf.GgufMetadata;
import org.memwall.gguf.TensorInfo;
import org.memwall.model.Model;

/**
 * Ollama's API beside the OpenAI one: {@code /api/chat}, {@code /api/generate} (NDJSON streaming
 * by default, {@code tools}, {@code format} "json" or a JSON schema, {@code options}),
 * {@code /api/embed}, {@code /api/tags}, {@code /api/show}, {@code /api/ps}, {@code /api/version}.
 * Requests are translated into the OpenAI request they mean and run on the same engine; errors are
 * Ollama's {@code {"error": "..."}}.
 */
final class OllamaApi {
    static final String VERSION = "0.1.0";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final OpenAiServer server;
    private final Model model;
    private final ChatFormatter formatter;
    private final Embeddings embeddings;

    OllamaApi(OpenAiServer server, Model model, ChatFormatter formatter, Embeddings embeddings) {
        this.server = server;
        this.model = model;
        this.formatter = formatter;
        this.embeddings = embeddings;
    }

    /** Answers {@code path} (which starts with {@code /api/}); returns the status. */
    int route(HttpExchange ex, String path, String method, int[] tokens) throws IOException {
        switch (path) {
            case "/api/version" -> {
                return server.sendJson(ex, 200, JSON.createObjectNode().put("version", VERSION));
            }
            case "/api/tags", "/api/ps" -> {
                ObjectNode body = JSON.createObjectNode();
                ArrayNode models = body.putArray("models");
                for (String name : server.modelIds()) {
                    ObjectNode m = models.addObject().put("name", name).put("model", name).put("size", model.file().fileSize());
                    m.set("details", details());
                    if (path.equals("/api/tags")) {
                        m.put("modified_at", modified());
                    } else {
                        m.put("expires_at", "2999-01-01T00:00:00Z").put("size_vram", model.forwardPass().device().startsWith("cpu") ? 0 : model.file().fileSize());
                    }
                }
                return server.sendJson(ex, 200, body);
            }
            case "/api/show" -> {
                requirePost(method);
                JsonNode req = object(server.readBody(ex));
                server.servedName(name(req));
                return server.sendJson(ex, 200, show());
            }
            case "/api/embed" -> {
                requirePost(method);
                return server.admitted(() -> {
                    JsonNode req = object(server.readBody(ex));
                    String name = server.servedName(name(req));
                    boolean truncate = !req.has("truncate") || req.get("truncate").asBoolean(true);
                    long t0 = System.nanoTime();
                    float[][] vectors = embeddings.embed(embeddings.inputs(req.get("input"), "input", truncate),
                            embeddings.dimensions(req.get("dimensions")), tokens);
                    ObjectNode body = JSON.createObjectNode().put("model", name);
                    ArrayNode all = body.putArray("embeddings");
                    for (float[] v : vectors) {
                        ArrayNode a = all.addArray();
                        for (float x : v) {
                            a.add(x);
                        }
                    }
                    body.put("total_duration", System.nanoTime() - t0).put("load_duration", 0).put("prompt_eval_count", tokens[0]);
                    return server.sendJson(ex, 200, body);
                });
            }
            case "/api/chat", "/api/generate" -> {
                requirePost(method);
                return server.admitted(() -> generate(ex, path.equals("/api/chat"), object(server.readBody(ex)), tokens));
            }
            default -> throw new ApiError(404, "invalid_request_error", null, "not_found", "no route " + method + " " + path);
        }
    }

    /** The Ollama error body for an error the server raised. */
    static ObjectNode errorBody(String message) {
        return JSON.createObjectNode().put("error", message);
    }

    private int generate(HttpExchange ex, boolean chat, JsonNode req, int[] tokens) throws IOException {
        String name = server.servedName(name(req));
        boolean stream = !req.has("stream") || req.get("stream").asBoolean(true);
        if (!chat && req.path("prompt").asText("").isEmpty()) {
            // Ollama answers an empty prompt by loading the model: it is loaded.
            ObjectNode done = base(name).put("response", "").put("done", true).put("done_reason", "load");
            return stream ? ndjson(ex, List.of(done)) : server.sendJson(ex, 200, done);
        }
        ObjectNode openAi = translate(req, chat);
        boolean asChat = chat || !req.path("raw").asBoolean(false);
        GenerationRequest request = GenerationRequest.parse(openAi, asChat);
        long t0 = System.nanoTime();
        OpenAiServer.Started started = server.start(ex, request, asChat, tokens);
        long promptDone = System.nanoTime();
        try {
            if (!stream) {
                OpenAiServer.Heartbeat heartbeat = new OpenAiServer.Heartbeat(ex);
                String finish;
                try {
                    finish = server.drain(started.seq(), started.reply(), null, heartbeat);
                } catch (ApiError e) {
                    if (!heartbeat.committed) {
                        throw e;
                    }
                    heartbeat.finish(errorBody(e.getMessage()));
                    return e.status;
                }
                tokens[1] = started.seq().generated();
                ObjectNode body = base(name);
                fill(body, chat, started.reply().content.toString(), started.reply().reasoning.toString(), started.reply().calls());
                done(body, finish, tokens, t0, promptDone);
                if (heartbeat.committed) {
                    heartbeat.finish(body);
                    return 200;
                }
                return server.sendJson(ex, 200, body);
            }
            ex.getResponseHeaders().set("Content-Type", "application/x-ndjson");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            String finish;
            try {
                finish = server.drain(started.seq(), started.reply(), (content, reasoning) -> line(out,
                        fill(base(name), chat, content == null ? "" : content, reasoning == null ? "" : reasoning, List.of()).put("done", false)),
                        () -> { });
            } catch (ApiError e) {
                tokens[1] = started.seq().generated();
                line(out, errorBody(e.getMessage()));
                return e.status;
            }
            tokens[1] = started.seq().generated();
            if (!started.reply().calls().isEmpty()) {
                line(out, fill(base(name), chat, "", "", started.reply().calls()).put("done", false));
            }
            ObjectNode last = fill(base(name), chat, "", "", List.of());
            line(out, done(last, finish, tokens, t0, promptDone));
            return 200;
        } finally {
            started.close();
        }
    }

    /** The OpenAI request an Ollama chat or generate request means. */
    private ObjectNode translate(JsonNode req, boolean chat) {
        ObjectNode o = JSON.createObjectNode();
        if (chat) {
            JsonNode messages = req.get("messages");
            if (messages == null || !messages.isArray()) {
                throw ApiError.invalid("messages", "'messages' must be an array of messages");
            }
            ArrayNode out = o.putArray("messages");
            for (JsonNode m : messages) {
                ObjectNode copy = m.isObject() ? ((ObjectNode) m).deepCopy() : JSON.createObjectNode();
                if (copy.has("images") && !copy.get("images").isEmpty()) {
                    throw ApiError.invalid("messages", "images are not supported");
                }
                copy.remove("images");
                if (copy.get("tool_calls") instanceof ArrayNode calls) {
                    int i = 0;
                    for (JsonNode c : calls) {
                        if (c.path("function") instanceof ObjectNode fn) {
                            ((ObjectNode) c).put("id", "call_" + i++).put("type", "function");
                            if (!fn.path("arguments").isTextual()) {
                                fn.put("arguments", fn.path("arguments").toString());
                            }
                        }
                    }
                }
                out.add(copy);
            }
            if (req.has("tools")) {
                o.set("tools", req.get("tools"));
            }
        } else if (req.path("raw").asBoolean(false)) {
            o.put("prompt", req.path("prompt").asText());
        } else {
            ArrayNode out = o.putArray("messages");
            if (req.path("system").isTextual()) {
                out.addObject().put("role", "system").put("content", req.get("system").asText());
            }
            out.addObject().put("role", "user").put("content", req.path("prompt").asText());
        }
        JsonNode format = req.get("format");
        if (format != null && !format.isNull() && !(format.isTextual() && format.asText().isEmpty())) {
            if (format.isTextual() && format.asText().equals("json")) {
                o.putObject("response_format").put("type", "json_object");
            } else if (format.isObject()) {
                o.putObject("response_format").put("type", "json_schema").putObject("json_schema").set("schema", format);
            } else {
                throw ApiError.invalid("format", "'format' must be \"json\" or a JSON schema object");
            }
        }
        JsonNode options = req.get("options");
        if (options != null && !options.isNull()) {
            if (!options.isObject()) {
                throw ApiError.invalid("options", "'options' must be an object");
            }
            for (String key : List.of("temperature", "top_p", "top_k", "min_p", "seed", "repeat_penalty", "frequency_penalty", "presence_penalty", "stop")) {
                if (options.has(key)) {
                    o.set(key, options.get(key));
                }
            }
            JsonNode n = options.get("num_predict");
            if (n != null && n.isIntegralNumber() && n.asInt() > 0) { // -1 and -2: as long as the context allows
                o.put("max_tokens", n.asInt());
            }
        }
        return o;
    }

    private ObjectNode base(String name) {
        return JSON.createObjectNode().put("model", name).put("created_at", Instant.now().toString());
    }

    private static ObjectNode fill(ObjectNode body, boolean chat, String content, String thinking, List<ToolCallFormat.Call> calls) {
        if (!chat) {
            body.put("response", content);
            if (!thinking.isEmpty()) {
                body.put("thinking", thinking);
            }
            return body;
        }
        ObjectNode msg = body.putObject("message").put("role", "assistant").put("content", content);
        if (!thinking.isEmpty()) {
            msg.put("thinking", thinking);
        }
        if (!calls.isEmpty()) {
            ArrayNode out = msg.putArray("tool_calls");
            for (int i = 0; i < calls.size(); i++) {
                ObjectNode fn = out.addObject().putObject("function").put("index", i).put("name", calls.get(i).name());
                try {
                    fn.set("arguments", JSON.readTree(calls.get(i).arguments()));
                } catch (IOException e) {
                    fn.putObject("arguments");
                }
            }
        }
        return body;
    }

    private static ObjectNode done(ObjectNode body, String finish, int[] tokens, long t0, long promptDone) {
        long now = System.nanoTime();
        return body.put("done", true).put("done_reason", finish.equals("length") ? "length" : "stop").put("total_duration", now - t0)
                .put("load_duration", 0).put("prompt_eval_count", tokens[0]).put("prompt_eval_duration", promptDone - t0)
                .put("eval_count", tokens[1]).put("eval_duration", now - promptDone);
    }

    private static void line(OutputStream out, ObjectNode body) throws IOException {
        out.write(JSON.writeValueAsBytes(body));
        out.write('\n');
        out.flush();
    }

    private static int ndjson(HttpExchange ex, List<ObjectNode> lines) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/x-ndjson");
        ex.sendResponseHeaders(200, 0);
        for (ObjectNode l : lines) {
            line(ex.getResponseBody(), l);
        }
        return 200;
    }

    private ObjectNode details() {
        GgufMetadata md = model.file().metadata();
        String arch = md.getString("general.architecture", "unknown");
        ObjectNode d = JSON.createObjectNode().put("parent_model", "").put("format", "gguf").put("family", arch);
        d.putArray("families").add(arch);
        long params = 0;
        for (TensorInfo t : model.file().tensors().values()) {
            params += t.elementCount();
        }
        d.put("parameter_size", params >= 1_000_000_000 ? String.format(java.util.Locale.ROOT, "%.1fB", params / 1e9)
                : String.format(java.util.Locale.ROOT, "%.1fM", params / 1e6));
        Map<String, Long> types = new java.util.TreeMap<>();
        for (TensorInfo t : model.file().tensors().values()) {
            types.merge(t.type().name(), t.elementCount(), Long::sum);
        }
        d.put("quantization_level", types.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(""));
        return d;
    }

    private ObjectNode show() {
        GgufMetadata md = model.file().metadata();
        ObjectNode body = JSON.createObjectNode().put("modelfile", "").put("parameters", "")
                .put("template", md.contains(ChatFormatter.KEY) ? md.getString(ChatFormatter.KEY) : "");
        body.set("details", details());
        ObjectNode info = body.putObject("model_info");
        md.asMap().forEach((key, value) -> {
            if (!key.equals(ChatFormatter.KEY) && !key.startsWith("tokenizer.ggml.") && value.type() != org.memwall.gguf.ValueType.ARRAY) {
                info.set(key, JSON.valueToTree(value.value()));
            }
        });
        ArrayNode caps = body.putArray("capabilities");
        caps.add("completion");
        if (formatter != null && formatter.toolCallFormat() != ToolCallFormat.NONE && formatter.toolCallFormat() != ToolCallFormat.HARMONY) {
            caps.add("tools");
        }
        caps.add("embedding");
        body.put("modified_at", modified());
        return body;
    }

    private String modified() {
        try {
            return Files.getLastModifiedTime(model.file().path()).toInstant().toString();
        } catch (IOException e) {
            return Instant.EPOCH.toString();
        }
    }

    private static JsonNode object(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiError.invalid(null, "the request body must be a JSON object");
        }
        return body;
    }

    private static String name(JsonNode req) {
        JsonNode m = req.get("model");
        if (m == null || !m.isTextual()) {
            return null;
        }
        String name = m.asText(); // Ollama clients name models with a tag; ":latest" is the default one
        return name.endsWith(":latest") ? name.substring(0, name.length() - ":latest".length()) : name;
    }

    private static void requirePost(String method) {
        if (!method.equals("POST")) {
            throw new ApiError(405, "invalid_request_error", null, "method_not_allowed", "use POST");
        }
    }
}
