package org.memwall.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.memwall.MemwallException;
import org.memwall.chat.ChatFormatter;
import org.memwall.chat.ToolCallFormat;
import org.memwall.model.KvType;
import org.memwall.model.Model;
import org.memwall.model.RepackCache;
import org.memwall.tokenizer.Tokenizer;

/**
 * A model in process: chat (tools, JSON schemas, streaming, cancellation), text completion and
 * embeddings on the same continuous-batching engine the server runs, with no HTTP. Thread-safe:
 * concurrent calls share the engine's batches like concurrent HTTP requests do.
 * <pre>{@code
 * try (Memwall m = Memwall.load(Path.of("model.gguf"))) {
 *     System.out.println(m.chat(Memwall.Request.of(Memwall.Message.user("Hello"))).content());
 * }
 * }</pre>
 */
public final class Memwall implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One message of a conversation; {@code toolCalls} for an assistant's calls, {@code toolCallId} for a tool's result. */
    public record Message(String role, String content, List<ToolCall> toolCalls, String toolCallId) {
        public static Message system(String text) {
            return new Message("system", text, List.of(), null);
        }

        public static Message user(String text) {
            return new Message("user", text, List.of(), null);
        }

        public static Message assistant(String text, List<ToolCall> calls) {
            return new Message("assistant", text == null ? "" : text, calls, null);
        }

        public static Message tool(String toolCallId, String result) {
            return new Message("tool", result, List.of(), toolCallId);
        }
    }

    /** A call the model made: {@code arguments} is JSON text. */
    public record ToolCall(String id, String name, String arguments) {
    }

    /** A function the model may call; {@code parameters} is its JSON schema as text (null: any object). */
    public record Tool(String name, String description, String parameters) {
    }

    /**
     * A chat request. {@code toolChoice}: "auto", "none", "required" or a function's name;
     * {@code jsonSchema}: JSON schema text the reply must match (null: free text); null numbers: defaults.
     */
    public record Request(List<Message> messages, List<Tool> tools, String toolChoice, String jsonSchema, Integer maxTokens,
                          Double temperature, Long seed) {
        public static Request of(Message... messages) {
            return new Request(List.of(messages), List.of(), null, null, null, null, null);
        }

        public Request withTools(List<Tool> tools, String toolChoice) {
            return new Request(messages, tools, toolChoice, jsonSchema, maxTokens, temperature, seed);
        }

        public Request withJsonSchema(String schema) {
            return new Request(messages, tools, toolChoice, schema, maxTokens, temperature, seed);
        }

        public Request withSampling(Integer maxTokens, Double temperature, Long seed) {
            return new Request(messages, tools, toolChoice, jsonSchema, maxTokens, temperature, seed);
        }
    }

    /** A finished reply: {@code finishReason} is stop, length, tool_calls or cancelled. */
    public record Result(String content, String reasoning, List<ToolCall> toolCalls, String finishReason, int promptTokens, int completionTokens) {
    }

    /** A reply being generated: its result when done, and a way to stop it early. */
    public static final class Generation {
        private final CompletableFuture<Result> result = new CompletableFuture<>();
        private volatile OpenAiServer.Started started;
        private volatile boolean cancelled;

        /** Stops the generation at the next engine step; the result then has finish reason {@code cancelled}. */
        public void cancel() {
            cancelled = true;
            OpenAiServer.Started s = started;
            if (s != null) {
                s.seq().cancel();
            }
        }

        public CompletableFuture<Result> result() {
            return result;
        }
    }

    private final Model model;
    private final OpenAiServer engine;
    private final Embeddings embeddings;

    private Memwall(Model model, Tokenizer tokenizer, ChatFormatter formatter, int parallel, int context) {
        this.model = model;
        this.engine = new OpenAiServer(model, tokenizer, formatter,
                new ServerSettings("127.0.0.1", 0, "memwall", null, parallel, 64, 1 << 20, 0, context));
        this.embeddings = new Embeddings(model, tokenizer, Math.min(context, model.config().contextLength()));
    }

    /** Opens a GGUF file on the CPU with every core, 4 parallel sequences and a context of up to 8,192 tokens. */
    public static Memwall load(Path gguf) {
        return load(gguf, Runtime.getRuntime().availableProcessors(), 4, 8192);
    }

    public static Memwall load(Path gguf, int threads, int parallel, int context) {
        return load(gguf, threads, parallel, context, null);
    }

    /** {@code chatTemplate}: Jinja source used instead of the file's {@code tokenizer.chat_template} (null: the file's). */
    public static Memwall load(Path gguf, int threads, int parallel, int context, String chatTemplate) {
        return load(gguf, threads, parallel, context, chatTemplate, KvType.DEFAULT);
    }

    /** {@code kvType}: how the KV cache stores keys and values ({@link KvType#DEFAULT}: F16). */
    public static Memwall load(Path gguf, int threads, int parallel, int context, String chatTemplate, KvType kvType) {
        return load(gguf, threads, parallel, context, chatTemplate, kvType, null);
    }

    /**
     * {@code repackCache}: where the CPU's repacked weights are kept between loads ({@link RepackCache#beside},
     * {@link RepackCache#in}; null: repacked at every load).
     */
    public static Memwall load(Path gguf, int threads, int parallel, int context, String chatTemplate, KvType kvType, RepackCache repackCache) {
        Model model = Model.open(gguf, threads, null, kvType, repackCache);
        try {
            Tokenizer tokenizer = Tokenizer.from(model.file().metadata());
            ChatFormatter formatter = chatTemplate != null ? ChatFormatter.of(chatTemplate, tokenizer)
                    : model.file().metadata().contains(ChatFormatter.KEY) ? ChatFormatter.forModel(model.file().metadata(), tokenizer) : null;
            return new Memwall(model, tokenizer, formatter, parallel, Math.min(context, model.config().contextLength()));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** The reply to {@code request}, generated to the end. */
    public Result chat(Request request) {
        return run(request, null, new Generation());
    }

    /** Starts {@code request} on a virtual thread; {@code onText} gets the reply's text as it is generated (tool calls excepted). */
    public Generation chat(Request request, Consumer<String> onText) {
        Generation g = new Generation();
        Thread.ofVirtual().start(() -> {
            try {
                g.result.complete(run(request, onText, g));
            } catch (RuntimeException e) {
                g.result.completeExceptionally(e);
            }
        });
        return g;
    }

    /** Plain text completion of {@code prompt} (no chat template). */
    public Result complete(String prompt, int maxTokens) {
        ObjectNode body = JSON.createObjectNode().put("prompt", prompt).put("max_tokens", maxTokens);
        return generate(body, false, null, new Generation());
    }

    /** L2-normalised embeddings of {@code texts}, pooled as the model file declares. */
    public float[][] embed(List<String> texts) {
        try {
            ArrayNode input = JSON.createArrayNode();
            texts.forEach(input::add);
            return embeddings.embed(embeddings.inputs(input, "input"), 0, new int[1]);
        } catch (ApiError e) {
            throw new MemwallException(e.getMessage());
        }
    }

    /** The length of the vectors {@link #embed} returns. */
    public int dimensions() {
        return model.config().embeddingLength();
    }

    private Result run(Request request, Consumer<String> onText, Generation g) {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode messages = body.putArray("messages");
        for (Message m : request.messages()) {
            ObjectNode o = messages.addObject().put("role", m.role()).put("content", m.content());
            if (m.toolCallId() != null) {
                o.put("tool_call_id", m.toolCallId());
            }
            if (m.toolCalls() != null && !m.toolCalls().isEmpty()) {
                ArrayNode calls = o.putArray("tool_calls");
                for (ToolCall c : m.toolCalls()) {
                    calls.addObject().put("id", c.id()).put("type", "function").putObject("function").put("name", c.name()).put("arguments", c.arguments());
                }
            }
        }
        if (request.tools() != null && !request.tools().isEmpty()) {
            ArrayNode tools = body.putArray("tools");
            for (Tool t : request.tools()) {
                ObjectNode fn = tools.addObject().put("type", "function").putObject("function").put("name", t.name());
                if (t.description() != null) {
                    fn.put("description", t.description());
                }
                if (t.parameters() != null) {
                    fn.set("parameters", parse(t.parameters(), "parameters of " + t.name()));
                }
            }
            String choice = request.toolChoice();
            if (choice != null && !List.of("auto", "none", "required").contains(choice)) {
                body.putObject("tool_choice").put("type", "function").putObject("function").put("name", choice);
            } else if (choice != null) {
                body.put("tool_choice", choice);
            }
        }
        if (request.jsonSchema() != null) {
            body.putObject("response_format").put("type", "json_schema").putObject("json_schema").put("name", "reply")
                    .set("schema", parse(request.jsonSchema(), "the JSON schema"));
        }
        if (request.maxTokens() != null) {
            body.put("max_tokens", request.maxTokens());
        }
        if (request.temperature() != null) {
            body.put("temperature", request.temperature());
        }
        if (request.seed() != null) {
            body.put("seed", request.seed());
        }
        return generate(body, true, onText, g);
    }

    private Result generate(ObjectNode body, boolean chat, Consumer<String> onText, Generation g) {
        try {
            int[] tokens = new int[2];
            OpenAiServer.Started s = engine.start(null, GenerationRequest.parse(body, chat), chat, tokens);
            g.started = s;
            if (g.cancelled) {
                s.seq().cancel();
            }
            String finish;
            try {
                finish = engine.drain(s.seq(), s.reply(), onText == null ? null : (content, reasoning) -> {
                    if (content != null) {
                        onText.accept(content);
                    }
                }, () -> { });
            } finally {
                s.close();
            }
            List<ToolCall> calls = new ArrayList<>();
            for (ToolCallFormat.Call c : s.reply().calls()) {
                calls.add(new ToolCall("call_" + calls.size() + "_" + Long.toHexString(System.nanoTime()), c.name(), c.arguments()));
            }
            String reason = !calls.isEmpty() ? "tool_calls" : g.cancelled ? "cancelled" : finish;
            return new Result(s.reply().content.toString(), s.reply().reasoning.toString(), calls, reason, tokens[0], s.seq().generated());
        } catch (ApiError e) {
            throw new MemwallException(e.getMessage());
        } catch (IOException e) {
            throw new MemwallException("generation interrupted: " + e.getMessage());
        }
    }

    private static JsonNode parse(String json, String what) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new MemwallException(what + " is not JSON: " + e.getMessage());
        }
    }

    /** Stops the engine (running generations end) and closes the model file. */
    @Override
    public void close() {
        engine.close();
        model.close();
    }
}
