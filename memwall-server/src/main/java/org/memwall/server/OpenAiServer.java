package org.memwall.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.memwall.MemwallException;
import org.memwall.chat.ChatFormatter;
import org.memwall.chat.ToolCallFormat;
import org.memwall.engine.Engine;
import org.memwall.engine.EngineBusyException;
import org.memwall.engine.Generator;
import org.memwall.engine.KvBudgetException;
import org.memwall.engine.Sequence;
import org.memwall.grammar.Grammar;
import org.memwall.grammar.GrammarConstraint;
import org.memwall.grammar.GrammarException;
import org.memwall.model.Model;
import org.memwall.sample.Sampler;
import org.memwall.tokenizer.Tokenizer;

/**
 * The OpenAI-compatible HTTP API over the continuous-batching {@link Engine}, on the JDK's HTTP
 * server with one virtual thread per exchange (a blocked stream costs no platform thread). Routes
 * answer with and without the {@code /v1} prefix.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Model model;
    private final Tokenizer tokenizer;
    private final ChatFormatter formatter;
    private final ServerSettings settings;
    private final Engine engine;
    private final ServerMetrics metrics = new ServerMetrics();
    private final Embeddings embeddings;
    private final OllamaApi ollama;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final byte[] apiKey;
    /**
     * One permit per request the server will hold (running or queued): taken before the body is read,
     * so that reading, template rendering, tokenizing and the sampler's buffers are bounded by it too.
     */
    private final Semaphore admission;
    private final WriteStallCutoff stalls;
    private final DisconnectWatcher disconnects = new DisconnectWatcher();
    /** The running exchanges whose request body was read to its end (an exchange's attributes are its context's, shared). */
    private final Set<HttpExchange> bodiesRead = ConcurrentHashMap.newKeySet();
    /**
     * Generations whose client has gone, with when that was noticed. Weak keys: an entry outlives its
     * exchange until the engine releases the sequence (a failed write ends the exchange first), and
     * a sequence cancelled while queued is never released.
     */
    private final Map<Sequence, Gone> noticedGone = Collections.synchronizedMap(new WeakHashMap<>());
    private HttpServer http;
    private volatile boolean accepting = true;
    private final AtomicBoolean stopped = new AtomicBoolean();

    /** Seconds a client may take to send a request's headers and body (the JDK server's maxReqTime) unless set: then its connection is closed. */
    static final String MAX_REQUEST_SECONDS = "30";

    static {
        // A half-sent body holds an admission permit while it is read: without a limit, a few slow or
        // stalled clients would hold them all and everyone else would get 429. Read once per JVM.
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", MAX_REQUEST_SECONDS);
        }
    }

    /** {@code formatter} may be null: chat completions then fail clearly; text completions still work. */
    public OpenAiServer(Model model, Tokenizer tokenizer, ChatFormatter formatter, ServerSettings settings) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.formatter = formatter;
        this.settings = settings;
        long kvBudget = settings.kvBudgetBytes() > 0 ? settings.kvBudgetBytes()
                : Math.max(model.forwardPass().kvBytesPerPosition(), model.forwardPass().kvMemoryFree() / 4 * 3);
        this.engine = new Engine(model, new Engine.Settings(settings.parallel(), settings.maxQueue(), 512, kvBudget));
        this.admission = new Semaphore(settings.parallel() + settings.maxQueue());
        this.embeddings = new Embeddings(model, tokenizer, Math.min(settings.context(), model.config().contextLength()));
        this.ollama = new OllamaApi(this, model, formatter, embeddings);
        this.apiKey = settings.apiKey() == null ? null : settings.apiKey().getBytes(StandardCharsets.UTF_8);
        this.stalls = new WriteStallCutoff(settings.writeStallMillis());
        engine.onRelease(s -> {
            Gone gone = noticedGone.get(s);
            if (gone != null && !gone.released) {
                gone.released = true; // on the engine's thread alone
                metrics.disconnectReleased(System.nanoTime() - gone.noticedNanos);
            }
        });
    }

    public void start() throws IOException {
        http = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 128);
        http.setExecutor(executor);
        http.createContext("/", this::handle).getFilters().add(stalls.filter());
        http.start();
        if (!disconnects.available()) {
            System.err.println("memwall: a vanished client is noticed on its stream's next write (" + disconnects.unavailableReason() + ")");
        }
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    public Engine engine() {
        return engine;
    }

    ServerMetrics metrics() {
        return metrics;
    }

    /** Whether a vanished client is noticed as its connection closes rather than at its next write (see {@link DisconnectWatcher}). */
    boolean watchesDisconnects() {
        return disconnects.available();
    }

    /** Stops accepting, lets running requests finish for up to {@code drainMillis}, cancels the rest. */
    public void shutdown(long drainMillis) {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        accepting = false;
        engine.close();
        try {
            engine.awaitDrained(drainMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (http != null) {
            http.stop(1);
        }
        executor.shutdownNow();
        stalls.close();
        disconnects.close();
    }

    /** Stops at once: running requests are cut (their clients hear why), and nothing waits longer than one forward step. */
    @Override
    public void close() {
        shutdown(0);
    }

    private void handle(HttpExchange ex) {
        long t0 = System.nanoTime();
        String id = "req-" + UUID.randomUUID().toString().substring(0, 8);
        int[] tokens = {0, 0};
        int status;
        try {
            status = route(ex, id, tokens);
        } catch (ApiError e) {
            status = e.status;
            sendError(ex, e);
        } catch (EngineBusyException e) {
            status = 429;
            ex.getResponseHeaders().set("Retry-After", "1");
            sendError(ex, new ApiError(429, "rate_limit_error", null, "server_busy", e.getMessage()));
        } catch (MemwallException e) {
            status = 400;
            sendError(ex, ApiError.invalid(null, e.getMessage()));
        } catch (IOException e) {
            status = 499; // client went away
        } catch (RuntimeException e) {
            status = 500;
            sendError(ex, new ApiError(500, "server_error", null, "internal_error", "internal error: " + e));
        } finally {
            bodiesRead.remove(ex);
            ex.close();
        }
        metrics.count(status);
        System.err.printf(Locale.ROOT, "memwall: %s %s %s %d prompt=%d completion=%d %.0fms%n", id, ex.getRequestMethod(),
                ex.getRequestURI().getPath(), status, tokens[0], tokens[1], (System.nanoTime() - t0) / 1e6);
    }

    private int route(HttpExchange ex, String id, int[] tokens) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (path.startsWith("/v1/")) {
            path = path.substring(3);
        }
        String method = ex.getRequestMethod();
        if (path.equals("/health")) {
            return sendJson(ex, accepting ? 200 : 503, JSON.createObjectNode().put("status", accepting ? "ok" : "shutting down"));
        }
        checkKey(ex);
        if (path.startsWith("/api/")) {
            return ollama.route(ex, path, method, tokens);
        }
        switch (path) {
            case "/models" -> {
                requireMethod(method, "GET");
                ObjectNode body = JSON.createObjectNode().put("object", "list");
                ArrayNode data = body.putArray("data");
                for (String name : modelIds()) {
                    data.addObject().put("id", name).put("object", "model").put("created", 0).put("owned_by", "memwall");
                }
                return sendJson(ex, 200, body);
            }
            case "/metrics" -> {
                requireMethod(method, "GET");
                byte[] text = metrics.render(engine).getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                ex.sendResponseHeaders(200, text.length);
                ex.getResponseBody().write(text);
                return 200;
            }
            case "/chat/completions", "/completions" -> {
                requireMethod(method, "POST");
                boolean chat = path.equals("/chat/completions");
                return admitted(() -> complete(ex, id, chat, tokens));
            }
            case "/embeddings" -> {
                requireMethod(method, "POST");
                return admitted(() -> {
                    JsonNode body = readBody(ex);
                    String name = servedName(body != null && body.path("model").isTextual() ? body.get("model").asText() : null);
                    return sendJson(ex, 200, embeddings.openAi(body, name, tokens));
                });
            }
            default -> throw new ApiError(404, "invalid_request_error", null, "not_found", "no route " + method + " " + ex.getRequestURI().getPath());
        }
    }

    /** An exchange's work that holds a request permit: refused while shutting down or when the server is full. */
    @FunctionalInterface
    interface Work {
        int run() throws IOException;
    }

    int admitted(Work work) throws IOException {
        if (!accepting) {
            throw new ApiError(503, "server_error", null, "shutting_down", Engine.SHUTTING_DOWN);
        }
        if (!admission.tryAcquire()) {
            throw new EngineBusyException("busy: " + settings.parallel() + " requests running and " + settings.maxQueue()
                    + " queued (--parallel, --max-queue)");
        }
        try {
            return work.run();
        } finally {
            admission.release();
        }
    }

    private static void requireMethod(String method, String expected) {
        if (!method.equals(expected)) {
            throw new ApiError(405, "invalid_request_error", null, "method_not_allowed", "use " + expected);
        }
    }

    private void checkKey(HttpExchange ex) {
        if (apiKey == null) {
            return;
        }
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        byte[] given = auth != null && auth.startsWith("Bearer ") ? auth.substring(7).strip().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(given, apiKey)) {
            throw new ApiError(401, "authentication_error", null, "invalid_api_key", "missing or wrong API key (Authorization: Bearer KEY)");
        }
    }

    JsonNode readBody(HttpExchange ex) throws IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.strip()) > settings.maxBodyBytes()) {
                    throw tooLarge();
                }
            } catch (NumberFormatException e) {
                throw ApiError.invalid(null, "bad Content-Length");
            }
        }
        InputStream in = ex.getRequestBody();
        byte[] body = in.readNBytes(settings.maxBodyBytes() + 1);
        if (body.length > settings.maxBodyBytes()) {
            throw tooLarge();
        }
        bodiesRead.add(ex);
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiError.invalid(null, "malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            // Not I/O (the body is in memory): bytes that Jackson's encoding detection takes for
            // UTF-16/32 and cannot decode. Left alone it passed for a vanished client: no answer at all.
            throw ApiError.invalid(null, "malformed JSON: " + e.getMessage());
        }
    }

    /** Whether the request may carry body bytes that {@link #readBody} has not consumed (refused before or over the limit). */
    private boolean bodyUnread(HttpExchange ex) {
        if (bodiesRead.contains(ex)) {
            return false;
        }
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        return ex.getRequestHeaders().containsKey("Transfer-Encoding") || length != null && !length.strip().equals("0");
    }

    private ApiError tooLarge() {
        return new ApiError(413, "invalid_request_error", null, "request_too_large", "the request body exceeds " + settings.maxBodyBytes() + " bytes");
    }

    private int complete(HttpExchange ex, String id, boolean chat, int[] tokens) throws IOException {
        GenerationRequest req = GenerationRequest.parse(readBody(ex), chat);
        String modelName = servedName(req.model());
        Started started = start(ex, req, chat, tokens);
        Sequence seq = started.seq();
        Reply reply = started.reply();
        String created = Long.toString(System.currentTimeMillis() / 1000);
        String objectId = (chat ? "chatcmpl-" : "cmpl-") + id.substring(4);
        try {
            if (req.stream()) {
                return stream(ex, seq, reply, req, chat, objectId, created, modelName, tokens);
            }
            Heartbeat heartbeat = new Heartbeat(ex);
            String finish;
            try {
                finish = drain(seq, reply, null, heartbeat);
            } catch (ApiError e) {
                if (!heartbeat.committed) {
                    throw e;
                }
                heartbeat.finish(errorBody(e)); // the status went out with the first heartbeat: the body says what failed
                return e.status;
            }
            tokens[1] = seq.generated();
            ObjectNode body = JSON.createObjectNode().put("id", objectId).put("object", chat ? "chat.completion" : "text_completion")
                    .put("created", Long.parseLong(created)).put("model", modelName);
            ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
            if (chat) {
                ObjectNode msg = choice.putObject("message").put("role", "assistant").put("content", reply.content.toString());
                if (!reply.reasoning.isEmpty()) {
                    msg.put("reasoning_content", reply.reasoning.toString());
                }
                if (!reply.calls().isEmpty()) {
                    if (reply.content.isEmpty()) {
                        msg.putNull("content");
                    }
                    ToolChoice.write(msg.putArray("tool_calls"), reply.calls());
                    finish = "tool_calls";
                }
            } else {
                choice.put("text", reply.content.toString());
            }
            choice.put("finish_reason", finish);
            usage(body.putObject("usage"), tokens[0], seq.generated());
            if (heartbeat.committed) {
                heartbeat.finish(body);
                return 200;
            }
            return sendJson(ex, 200, body);
        } finally {
            started.close();
        }
    }

    /** A queued generation, the reply its tokens decode into, and the watch on its client's connection. */
    final class Started implements AutoCloseable {
        private final Sequence seq;
        private final Reply reply;
        private final DisconnectWatcher.Watch watch;

        Started(HttpExchange ex, Sequence seq, Reply reply) {
            this.seq = seq;
            this.reply = reply;
            this.watch = disconnects.watch(ex, () -> clientGone(seq, true));
        }

        Sequence seq() {
            return seq;
        }

        Reply reply() {
            return reply;
        }

        /** The exchange is over: stops the watch (before the connection can be reused) and the sequence. */
        @Override
        public void close() {
            watch.close();
            seq.cancel();
        }
    }

    /**
     * A running generation's client has gone ({@code hangup}: its connection closed under the watch;
     * otherwise a write failed): its sequence leaves the batch at the next step boundary, and the
     * time from here to its release is recorded ({@code memwall_disconnect_release_seconds}).
     */
    void clientGone(Sequence seq, boolean hangup) {
        if (noticedGone.putIfAbsent(seq, new Gone()) == null) {
            metrics.disconnectNoticed(hangup);
        }
        seq.cancel();
    }

    /** When a generation's client was noticed gone, and whether its release has been measured since. */
    private static final class Gone {
        final long noticedNanos = System.nanoTime();
        boolean released;
    }

    /**
     * Renders and tokenizes a validated request, checks it against the context, builds its sampler
     * (under the grammar a response format or a required tool call asks for), queues it and watches
     * {@code ex}'s client (null: an in-process caller); {@code tokens[0]} gets the prompt length. The
     * caller closes what it returns.
     */
    Started start(HttpExchange ex, GenerationRequest req, boolean chat, int[] tokens) {
        int[] prompt;
        if (chat) {
            if (formatter == null) {
                throw new ApiError(400, "invalid_request_error", "messages", "no_chat_template",
                        "this model has no chat template (tokenizer.chat_template); use /v1/completions");
            }
            prompt = formatter.encodeText(formatter.render(req.messages(), req.toolChoice().active() ? req.tools() : null, true));
        } else {
            prompt = tokenizer.encode(req.prompt(), true, true);
        }
        int context = Math.min(settings.context(), model.config().contextLength());
        // Without max_tokens a reply may fill the context, or as much of it as the KV budget holds for one request.
        int maxTokens = req.maxTokens() != null ? req.maxTokens() : Math.max(1, Math.min(context, engine.kvPositionLimit()) - prompt.length);
        if ((long) prompt.length + maxTokens > context) {
            String param = req.maxTokens() != null ? "max_tokens" : chat ? "messages" : "prompt";
            throw new ApiError(400, "invalid_request_error", param, "context_length_exceeded", "the prompt (" + prompt.length
                    + " tokens) plus max_tokens (" + maxTokens + ") exceeds the context length of " + context + " tokens");
        }
        tokens[0] = prompt.length;
        Grammar grammar = req.grammar();
        ToolCallFormat calls = req.toolChoice().active() ? formatter.toolCallFormat() : ToolCallFormat.NONE;
        Grammar forced = req.toolChoice().grammar(calls);
        if (forced != null) {
            if (grammar != null) {
                throw ApiError.invalid("tool_choice", "a required tool call cannot be combined with response_format or grammar");
            }
            grammar = forced;
        }
        GrammarConstraint constraint;
        try {
            constraint = grammar == null ? null : new GrammarConstraint(grammar, tokenizer, maxTokens);
        } catch (GrammarException e) { // a special token the grammar names is not in this vocabulary
            throw ApiError.invalid(forced != null ? "tool_choice" : "grammar", e.getMessage());
        }
        Sampler sampler = new Sampler(req.sampling(), model.weights().vocabularySize(), constraint);
        for (int t : prompt) {
            sampler.accept(t);
        }
        long timeout = settings.timeoutMillis() > 0 ? TimeUnit.MILLISECONDS.toNanos(settings.timeoutMillis()) : 0;
        Sequence seq;
        try {
            seq = engine.submit(prompt, maxTokens, sampler, tokenizer::isEndOfGeneration, timeout);
        } catch (KvBudgetException e) {
            throw new ApiError(400, "invalid_request_error", req.maxTokens() != null ? "max_tokens" : chat ? "messages" : "prompt",
                    "kv_budget_exceeded", e.getMessage());
        }
        return new Started(ex, seq, new Reply(tokenizer, formatter != null && formatter.harmony() && chat, req.stops(), calls,
                req.toolChoice().parallel()));
    }

    /**
     * Collects or streams a sequence's events; returns the finish reason. {@code sink} gets content
     * deltas as they come; {@code probe} runs whenever {@link ServerSettings#probeMillis} pass without
     * an event and fails when the client has gone (the sequence is then cancelled).
     */
    String drain(Sequence seq, Reply reply, Reply.DeltaSink sink, Probe probe) throws IOException {
        long lastWrite = System.nanoTime();
        long interval = TimeUnit.MILLISECONDS.toNanos(settings.probeMillis());
        while (true) {
            Sequence.Event e;
            try {
                long wait = Math.max(1, TimeUnit.NANOSECONDS.toMillis(lastWrite + interval - System.nanoTime()));
                e = seq.poll(wait);
                if (sink != null && e != null && !e.isEnd()) {
                    lastWrite = System.nanoTime(); // a streamed token is a write: it probes the connection itself
                }
                if (System.nanoTime() - lastWrite >= interval) {
                    probe.probe();
                    lastWrite = System.nanoTime();
                }
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                seq.cancel();
                throw new IOException("interrupted");
            } catch (IOException gone) {
                clientGone(seq, false);
                throw gone;
            }
            if (e == null) {
                continue;
            }
            if (e.isEnd()) {
                if (e.stop() == Generator.Stop.CALLER && noticedGone.containsKey(seq)) {
                    throw new IOException("the client hung up"); // nobody to write the rest to
                }
                reply.finish(sink);
                if (e.error() != null) {
                    if (e.error().equals("timeout")) {
                        throw new ApiError(504, "server_error", null, "timeout", "the request exceeded the server's time limit of "
                                + settings.timeoutMillis() / 1000.0 + " s (--timeout) after " + seq.generated() + " generated tokens");
                    }
                    boolean shutdown = e.error().equals(Engine.SHUTTING_DOWN);
                    throw new ApiError(503, "server_error", null, shutdown ? "shutting_down" : "unavailable", e.error());
                }
                return reply.stopped() ? "stop" : switch (e.stop()) {
                    case LENGTH, CONTEXT -> "length";
                    default -> "stop";
                };
            }
            reply.token(e.token(), sink);
            if (reply.stopped()) {
                seq.cancel();
            }
        }
    }

    /** Writes something harmless to the client; fails when it has gone. */
    @FunctionalInterface
    interface Probe {
        void probe() throws IOException;
    }

    /**
     * Keeps a waiting non-streaming reply's connection checked: the first beat sends the 200 status
     * and JSON headers, each beat a space (JSON allows leading whitespace), and a vanished client
     * fails the write within two beats. The reply body follows in the same chunked stream.
     */
    static final class Heartbeat implements Probe {
        private static final byte[] SPACE = {' '};
        private final HttpExchange ex;
        boolean committed;

        Heartbeat(HttpExchange ex) {
            this.ex = ex;
        }

        @Override
        public void probe() throws IOException {
            if (!committed) {
                ex.getResponseHeaders().set("Content-Type", "application/json");
                ex.sendResponseHeaders(200, 0);
                committed = true;
            }
            ex.getResponseBody().write(SPACE);
            ex.getResponseBody().flush();
        }

        void finish(JsonNode body) throws IOException {
            ex.getResponseBody().write(JSON.writeValueAsBytes(body));
        }
    }

    /** The model name a reply carries: the one asked for when this server answers to it (any, unless strict). */
    String servedName(String requested) {
        if (requested == null || requested.isEmpty() || requested.equals(settings.modelName())) {
            return settings.modelName();
        }
        if (settings.aliases().contains(requested) || !settings.strictModelName()) {
            return requested;
        }
        throw new ApiError(404, "invalid_request_error", "model", "model_not_found", "the model '" + requested
                + "' does not exist; this server serves " + String.join(", ", modelIds()));
    }

    List<String> modelIds() {
        List<String> ids = new ArrayList<>();
        ids.add(settings.modelName());
        ids.addAll(settings.aliases());
        return ids;
    }

    private int stream(HttpExchange ex, Sequence seq, Reply reply, GenerationRequest req, boolean chat, String objectId, String created,
                       String modelName, int[] tokens) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        try {
            if (chat) {
                ObjectNode first = chunk(objectId, created, chat, modelName);
                ((ObjectNode) first.withArray("choices").get(0)).putObject("delta").put("role", "assistant").put("content", "");
                event(out, first);
            }
            String finish;
            try {
                finish = drain(seq, reply, new Reply.DeltaSink() {
                            @Override
                            public void delta(String content, String reasoning) throws IOException {
                                event(out, OpenAiServer.this.delta(objectId, created, chat, modelName, content, reasoning));
                            }

                            // As OpenAI streams a call: index, id, type and name with arguments "", then index and pieces of the arguments.
                            @Override
                            public void callBegins(int index, String name) throws IOException {
                                ObjectNode chunk = chunk(objectId, created, chat, modelName);
                                toolCallDelta(chunk, index).put("id", ToolChoice.newId()).put("type", "function")
                                        .putObject("function").put("name", name).put("arguments", "");
                                event(out, chunk);
                            }

                            @Override
                            public void callArguments(int index, String fragment) throws IOException {
                                ObjectNode chunk = chunk(objectId, created, chat, modelName);
                                toolCallDelta(chunk, index).putObject("function").put("arguments", fragment);
                                event(out, chunk);
                            }
                        },
                        () -> {
                            out.write(PING);
                            out.flush();
                        });
            } catch (ApiError e) {
                // The 200 and the event-stream headers are out: the error is the last event before [DONE].
                tokens[1] = seq.generated();
                event(out, errorBody(e));
                out.write(DONE);
                out.flush();
                return e.status;
            }
            tokens[1] = seq.generated();
            if (!reply.calls().isEmpty() || reply.streamedCalls() > 0) {
                finish = "tool_calls"; // the calls went out as they were written
            }
            ObjectNode last = chunk(objectId, created, chat, modelName);
            ObjectNode choice = (ObjectNode) last.withArray("choices").get(0);
            if (chat) {
                choice.putObject("delta");
            } else {
                choice.put("text", "");
            }
            choice.put("finish_reason", finish);
            event(out, last);
            if (req.includeUsage()) {
                ObjectNode u = JSON.createObjectNode().put("id", objectId).put("object", chat ? "chat.completion.chunk" : "text_completion")
                        .put("created", Long.parseLong(created)).put("model", modelName);
                u.putArray("choices");
                usage(u.putObject("usage"), tokens[0], seq.generated());
                event(out, u);
            }
            out.write(DONE);
            out.flush();
            return 200;
        } catch (IOException e) {
            clientGone(seq, false);
            throw e;
        }
    }

    /** A streamed chunk carrying new content or reasoning text. */
    private ObjectNode delta(String objectId, String created, boolean chat, String modelName, String content, String reasoning) {
        ObjectNode c = chunk(objectId, created, chat, modelName);
        ObjectNode choice = (ObjectNode) c.withArray("choices").get(0);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (content != null) {
                delta.put("content", content);
            }
            if (reasoning != null) {
                delta.put("reasoning_content", reasoning);
            }
        } else {
            choice.put("text", content == null ? "" : content);
        }
        return c;
    }

    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);
    /** An SSE comment: clients skip it; writing it tells whether a waiting stream's client is still there. */
    private static final byte[] PING = ": ping\n\n".getBytes(StandardCharsets.UTF_8);

    /** The entry for call {@code index} in a new {@code delta.tool_calls} of {@code chunk}. */
    private static ObjectNode toolCallDelta(ObjectNode chunk, int index) {
        return ((ObjectNode) chunk.withArray("choices").get(0)).putObject("delta").putArray("tool_calls").addObject().put("index", index);
    }

    private ObjectNode chunk(String objectId, String created, boolean chat, String modelName) {
        ObjectNode c = JSON.createObjectNode().put("id", objectId).put("object", chat ? "chat.completion.chunk" : "text_completion")
                .put("created", Long.parseLong(created)).put("model", modelName);
        ArrayNode choices = c.putArray("choices");
        choices.addObject().put("index", 0).putNull("finish_reason");
        return c;
    }

    private static void event(OutputStream out, ObjectNode data) throws IOException {
        out.write(("data: " + JSON.writeValueAsString(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void usage(ObjectNode u, int prompt, int completion) {
        u.put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
    }

    int sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
        return status;
    }

    private static ObjectNode errorBody(ApiError e) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode err = body.putObject("error").put("message", e.getMessage()).put("type", e.type);
        if (e.param == null) {
            err.putNull("param");
        } else {
            err.put("param", e.param);
        }
        err.put("code", e.code);
        return body;
    }

    /**
     * Bytes of an unread body read and thrown away before an error answer (a 413, a refused request): a client still
     * sending its body then gets to read the answer. Closed on unread bytes, the connection was reset and the client
     * lost the answer it was sent (CI: "header parser received no bytes" after an early 413). A larger body is still
     * cut off.
     */
    private static final long DRAIN_BYTES = 1L << 20;

    private static void drain(InputStream in) throws IOException {
        byte[] buffer = new byte[8192];
        for (long left = DRAIN_BYTES; left > 0; ) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                return;
            }
            left -= n;
        }
    }

    private void sendError(HttpExchange ex, ApiError e) {
        try {
            if (bodyUnread(ex)) {
                // The JDK's server drains at most 64 KiB of an unread body and otherwise closes the
                // connection after the answer; said in the answer, a client does not reuse the
                // connection for its next request (which then found it closed: no answer at all).
                ex.getResponseHeaders().set("Connection", "close");
                drain(ex.getRequestBody());
            }
            sendJson(ex, e.status, ex.getRequestURI().getPath().startsWith("/api/") ? OllamaApi.errorBody(e.getMessage()) : errorBody(e));
        } catch (IOException | RuntimeException ignored) {
            // headers already sent (mid-stream) or client gone: nothing more to tell it
        }
    }
}
