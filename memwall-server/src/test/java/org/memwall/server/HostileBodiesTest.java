package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A seeded fuzzer over real HTTP: valid requests mutated byte by byte (invalid UTF-8, truncation,
 * spliced spans) and value by value (wrong types, huge numbers, deep nesting, long strings) are sent
 * to a running server. Every answer is a well-formed success or a 4xx with a one-line OpenAI error
 * body, never a 5xx or a stack trace, and the server serves normally afterwards.
 */
class HostileBodiesTest {
    static final int REQUESTS = Integer.getInteger("memwall.hostile.requests", 1000);

    static final String[] BASES = {
        "{\"model\": \"x\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}],"
                + " \"max_tokens\": 3, \"temperature\": 0.7, \"top_p\": 0.9, \"top_k\": 40, \"seed\": 3, \"stop\": [\"\\n\"]}",
        "{\"prompt\": \"Once upon a time\", \"max_tokens\": 3, \"logit_bias\": {\"13\": -100}, \"presence_penalty\": 0.5, \"stream\": true}",
        "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"JSON\"}]}], \"max_tokens\": 3,"
                + " \"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"x\", \"schema\": {\"type\": \"object\","
                + " \"properties\": {\"a\": {\"type\": \"integer\"}}, \"required\": [\"a\"]}}}}",
        "{\"prompt\": \"x\", \"grammar\": \"root ::= [a-z]+ | \\\"yes\\\"\", \"max_tokens\": 3, \"stream\": true, \"stream_options\": {\"include_usage\": true}}",
    };

    static final String[] HOSTILE = {
        "1e309", "-1e400", "99999999999999999999999999", "-2147483649", "2147483648", "0", "-1", "0.5", "null", "true", "[]", "{}", "\"\"",
        "\"NaN\"", "\"\\ud800\"", "\"\\u0000\"", "[null]", "{\"role\": 5}", "[[[[[[[[[[]]]]]]]]]]",
    };

    static String deep(int depth, boolean objects) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            b.append(objects ? "{\"a\": " : "[");
        }
        b.append('1');
        for (int i = 0; i < depth; i++) {
            b.append(objects ? '}' : ']');
        }
        return b.toString();
    }

    /** A random value as JSON text: hostile scalars, long strings, nesting past the parser's limit of 1,000. */
    static String hostileValue(Random r) {
        return switch (r.nextInt(5)) {
            case 0 -> deep(1 + r.nextInt(1500), r.nextBoolean());
            case 1 -> ServerFixture.quote("x{%".repeat(1 + r.nextInt(20000)));
            default -> HOSTILE[r.nextInt(HOSTILE.length)];
        };
    }

    /**
     * Replaces one value anywhere in the tree (or a key's value) with a placeholder that
     * {@link #mutate} swaps for a hostile value's text once the tree is written.
     */
    static void replaceSomewhere(JsonNode node, Random r, String placeholder) {
        List<JsonNode> containers = new ArrayList<>();
        collect(node, containers);
        JsonNode target = containers.get(r.nextInt(containers.size()));
        if (target instanceof ObjectNode o) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            String name = names.isEmpty() || r.nextInt(4) == 0 ? "k" + r.nextInt(3) : names.get(r.nextInt(names.size()));
            o.put(name, placeholder);
        } else if (target instanceof ArrayNode a) {
            if (a.isEmpty()) {
                a.add(placeholder);
            } else {
                a.set(r.nextInt(a.size()), ServerFixture.JSON.getNodeFactory().textNode(placeholder));
            }
        }
    }

    static void collect(JsonNode n, List<JsonNode> out) {
        if (n.isContainerNode()) {
            out.add(n);
            for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) {
                collect(it.next(), out);
            }
        }
    }

    /** Byte-level damage: flips, invalid UTF-8, deleted or duplicated spans, truncation. */
    static byte[] damage(byte[] b, Random r) {
        byte[] out = b.clone();
        for (int k = 1 + r.nextInt(3); k > 0 && out.length > 0; k--) {
            int at = r.nextInt(out.length);
            switch (r.nextInt(5)) {
                case 0 -> out[at] = (byte) r.nextInt(256);
                case 1 -> out[at] = (byte) (r.nextBoolean() ? 0xC0 : 0xFF);
                case 2 -> {
                    int end = Math.min(out.length, at + 1 + r.nextInt(20));
                    byte[] cut = new byte[out.length - (end - at)];
                    System.arraycopy(out, 0, cut, 0, at);
                    System.arraycopy(out, end, cut, at, out.length - end);
                    out = cut;
                }
                case 3 -> {
                    int len = Math.min(out.length - at, 1 + r.nextInt(20));
                    byte[] dup = Arrays.copyOf(out, out.length + len);
                    System.arraycopy(out, at, dup, at + len, out.length - at);
                    out = dup;
                }
                default -> out = Arrays.copyOf(out, at);
            }
        }
        return out;
    }

    static byte[] mutate(Random r) throws Exception {
        String base = BASES[r.nextInt(BASES.length)];
        if (r.nextBoolean()) {
            return damage(base.getBytes(StandardCharsets.UTF_8), r);
        }
        JsonNode tree = ServerFixture.JSON.readTree(base);
        int n = 1 + r.nextInt(2);
        for (int k = 0; k < n; k++) {
            replaceSomewhere(tree, r, "@@hostile" + k + "@@");
        }
        String text = ServerFixture.JSON.writeValueAsString(tree);
        for (int k = 0; k < n; k++) {
            text = text.replace("\"@@hostile" + k + "@@\"", hostileValue(r));
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Null when {@code r} is a well-formed success or OpenAI error, else what is wrong. */
    static String problem(HttpResponse<String> r) {
        String body = r.body();
        if (r.statusCode() >= 500) {
            return r.statusCode() + " " + body;
        }
        if (body.contains("\tat ") || body.contains("Exception:")) {
            return "a stack trace or exception: " + body;
        }
        if (r.statusCode() == 200) {
            boolean stream = body.startsWith("data: ");
            if (stream ? !body.strip().endsWith("data: [DONE]") : !body.contains("\"choices\"")) {
                return "a malformed success: " + body;
            }
            return null;
        }
        try {
            JsonNode e = ServerFixture.JSON.readTree(body).get("error");
            if (e == null || !e.path("message").isTextual() || e.path("message").asText().isBlank() || e.path("message").asText().contains("\n")
                    || !e.path("type").isTextual()) {
                return r.statusCode() + " without a one-line OpenAI error: " + body;
            }
        } catch (Exception x) {
            return r.statusCode() + " with a body that is not JSON: " + body;
        }
        return null;
    }

    @Test
    void aThousandHostileBodiesGetWellFormedAnswersAndTheServerStaysHealthy() throws Exception {
        try (ServerFixture f = new ServerFixture(4, 16, null, 0)) {
            Random seeds = new Random(18);
            ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
            Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> futures = new ArrayList<>();
                for (int i = 0; i < REQUESTS; i++) {
                    byte[] body = mutate(new Random(seeds.nextLong()));
                    String path = i % 2 == 0 ? "/v1/chat/completions" : "/v1/completions";
                    futures.add(clients.submit(() -> {
                        HttpRequest req = HttpRequest.newBuilder(f.uri(path)).timeout(Duration.ofSeconds(60))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).header("Content-Type", "application/json").build();
                        HttpResponse<String> r = f.client.send(req, HttpResponse.BodyHandlers.ofString());
                        statuses.computeIfAbsent(r.statusCode(), s -> new AtomicInteger()).incrementAndGet();
                        String p = problem(r);
                        if (p != null) {
                            problems.add(new String(body, StandardCharsets.UTF_8).substring(0, Math.min(300, body.length)) + " -> " + p);
                        }
                        return null;
                    }));
                    if (futures.size() >= 8) {
                        futures.removeFirst().get();
                    }
                }
                for (Future<?> fu : futures) {
                    fu.get();
                }
            }
            System.out.println("hostile bodies: " + REQUESTS + " requests, statuses " + statuses);
            assertThat(problems).isEmpty();
            assertThat(statuses.keySet()).allMatch(s -> s < 500);
            HttpResponse<String> ok = f.post("/v1/completions", "{\"prompt\": \"I dreamed\", \"max_tokens\": 4, \"temperature\": 0}");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(f.get("/health").statusCode()).isEqualTo(200);
            assertThat(f.server.engine().runningCount()).isZero();
            assertThat(f.server.engine().kvBytes()).isZero();
        }
    }

    @Test
    void aBodyJacksonTakesForUtf32IsA400NotASilentClose() throws Exception {
        // Found by RequestFuzzTest: '"' then NULs reads as UTF-32 that cannot be decoded; the server
        // took the CharConversionException (an IOException) for a client that went away and answered nothing.
        byte[] body = new byte[160];
        body[0] = '"';
        System.arraycopy("\", \"max_tokens\": 3}".getBytes(StandardCharsets.US_ASCII), 0, body, 118, 18);
        try (ServerFixture f = new ServerFixture(1, 1, null, 0)) {
            HttpResponse<String> r = f.client.send(HttpRequest.newBuilder(f.uri("/v1/completions")).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(problem(r)).isNull();
            assertThat(ServerFixture.json(r).at("/error/message").asText()).startsWith("malformed JSON");
        }
    }
}
