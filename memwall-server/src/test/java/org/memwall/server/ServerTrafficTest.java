package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.memwall.TestModels;
import org.memwall.model.Model;
import org.memwall.engine.Generator;
import org.memwall.sample.Sampler;
import org.memwall.sample.SamplerSettings;
import org.memwall.tokenizer.StreamingDetokenizer;

/** What real traffic does to the server — hard-coded model names, vanished clients, timeouts, shutdowns — over real HTTP on loopback. */
class ServerTrafficTest {

    static ServerSettings longContext(int parallel, int maxQueue, long timeoutMillis) {
        return new ServerSettings("127.0.0.1", 0, "small", null, parallel, maxQueue, 64 * 1024, timeoutMillis, 4096);
    }

    static String longCompletion(int maxTokens, boolean stream) {
        return "{\"prompt\": \"Once upon a time\", \"max_tokens\": " + maxTokens + ", \"temperature\": 0, \"stream\": " + stream + ", "
                + ServerFixture.NO_END + "}";
    }

    /** Waits until the engine runs {@code n} sequences (or 10 s pass). */
    static void awaitRunning(ServerFixture f, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (f.server.engine().runningCount() != n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(f.server.engine().runningCount()).isEqualTo(n);
    }

    static String sampled(ServerFixture f, String prompt, int n, SamplerSettings settings) {
        int[] ids = f.tokenizer.encode(prompt, true, true);
        Sampler sampler = new Sampler(settings, f.model.weights().vocabularySize());
        for (int t : ids) {
            sampler.accept(t);
        }
        int[] out = new Generator(f.model).generate(ids, n, sampler, f.tokenizer::isEndOfGeneration, t -> true).tokens();
        StreamingDetokenizer d = new StreamingDetokenizer(f.tokenizer, false);
        StringBuilder b = new StringBuilder();
        for (int t : out) {
            b.append(d.push(t));
        }
        return b.append(d.flush()).toString();
    }

    @Test
    void anyModelNameServesTheLoadedModel() throws Exception {
        try (ServerFixture f = new ServerFixture(2, 2, null, 0)) {
            HttpResponse<String> r = f.post("/v1/chat/completions", ServerFixture.chat("I dreamed", 8, "").replace("\"stories\"", "\"gpt-4o-mini\""));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(ServerFixture.json(r).at("/choices/0/message/content").asText()).isEqualTo(OpenAiServerTest.solo(f, "I dreamed", 8));
        }
    }

    @Test
    void aliasesAreListedAndStrictModelNamesRefuseOthersWith404() throws Exception {
        ServerSettings strict = new ServerSettings("127.0.0.1", 0, "stories", null, 2, 2, 64 * 1024, 0, 128)
                .withModelNames(List.of("gpt-4o-mini"), true);
        try (ServerFixture f = new ServerFixture(TestModels.stories(), strict)) {
            JsonNode models = ServerFixture.json(f.get("/v1/models")).get("data");
            assertThat(models.findValuesAsText("id")).containsExactly("stories", "gpt-4o-mini");
            HttpResponse<String> alias = f.post("/v1/chat/completions", ServerFixture.chat("I dreamed", 4, "").replace("\"stories\"", "\"gpt-4o-mini\""));
            assertThat(alias.statusCode()).isEqualTo(200);
            assertThat(ServerFixture.json(alias).at("/model").asText()).isEqualTo("gpt-4o-mini");
            HttpResponse<String> other = f.post("/v1/chat/completions", ServerFixture.chat("I dreamed", 4, "").replace("\"stories\"", "\"gpt-4\""));
            assertThat(other.statusCode()).isEqualTo(404);
            assertThat(ServerFixture.json(other).at("/error/code").asText()).isEqualTo("model_not_found");
            assertThat(ServerFixture.json(other).at("/error/message").asText()).contains("'gpt-4' does not exist", "stories, gpt-4o-mini");
        }
    }

    @Test
    void theKvBudgetRefusesWhatCanNeverFitAndHoldsBackWhatCannotFitNow() throws Exception {
        Path file = TestModels.stories();
        long perPosition;
        try (Model m = Model.open(file, 1)) {
            perPosition = m.forwardPass().kvBytesPerPosition();
        }
        ServerSettings budget = new ServerSettings("127.0.0.1", 0, "stories", null, 4, 0, 64 * 1024, 0, 128).withKvBudget(100 * perPosition);
        try (ServerFixture f = new ServerFixture(file, budget)) {
            assertThat(f.metric("memwall_kv_budget_bytes")).isEqualTo(100 * perPosition);
            HttpResponse<String> never = f.post("/v1/completions", "{\"prompt\": \"I dreamed\", \"max_tokens\": 110}");
            assertThat(never.statusCode()).isEqualTo(400);
            assertThat(ServerFixture.json(never).at("/error/code").asText()).isEqualTo("kv_budget_exceeded");
            assertThat(ServerFixture.json(never).at("/error/message").asText()).contains("--kv-budget", "at most 100 tokens");
            // Without max_tokens a reply is bounded by what the budget holds, not refused.
            HttpResponse<String> open = f.post("/v1/completions", "{\"prompt\": \"I dreamed\", \"temperature\": 0, " + "\"logit_bias\": {\"2\": -100}}");
            assertThat(open.statusCode()).as(open.body()).isEqualTo(200);
            JsonNode usage = ServerFixture.json(open).get("usage");
            assertThat(usage.get("total_tokens").asInt()).isEqualTo(100);
        }
        Path longModel = ServerFixture.longContextModel();
        try (Model m = Model.open(longModel, 1)) {
            perPosition = m.forwardPass().kvBytesPerPosition();
        }
        try (ServerFixture f = new ServerFixture(longModel, longContext(4, 0, 0).withKvBudget(1000 * perPosition))) {
            // 900 and 500 positions do not fit in 1000 together: with no queue the second is told to come back.
            HttpRequest first = HttpRequest.newBuilder(f.uri("/v1/completions")).timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofString(longCompletion(890, true))).build();
            HttpResponse<InputStream> running = f.client.send(first, HttpResponse.BodyHandlers.ofInputStream());
            awaitRunning(f, 1);
            HttpResponse<String> second = f.post("/v1/completions", longCompletion(490, false));
            assertThat(second.statusCode()).as(second.body()).isEqualTo(429);
            assertThat(second.headers().firstValue("Retry-After")).isPresent();
            assertThat(ServerFixture.json(second).at("/error/message").asText()).contains("KV");
            running.body().close();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (f.metric("memwall_kv_reserved_bytes") > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(f.metric("memwall_kv_reserved_bytes")).isZero();
        }
    }

    @Test
    void topKMinPAndRepeatPenaltyShapeSampling() throws Exception {
        try (ServerFixture f = new ServerFixture(2, 2, null, 0)) {
            String greedy = OpenAiServerTest.solo(f, "I dreamed", 30);
            String body = "{\"prompt\": \"I dreamed\", \"max_tokens\": 30, \"temperature\": 1.5, \"seed\": 11, ";
            JsonNode topK = ServerFixture.json(f.post("/v1/completions", body + "\"top_k\": 1}"));
            assertThat(topK.at("/choices/0/text").asText()).isEqualTo(greedy);
            JsonNode minP = ServerFixture.json(f.post("/v1/completions", body + "\"min_p\": 1.0}"));
            assertThat(minP.at("/choices/0/text").asText()).isEqualTo(greedy);
            JsonNode penalized = ServerFixture.json(f.post("/v1/completions",
                    "{\"prompt\": \"I dreamed\", \"max_tokens\": 30, \"temperature\": 0, \"repeat_penalty\": 1.5}"));
            String expected = sampled(f, "I dreamed", 30, new SamplerSettings(0f, 0, 1f, 0f, 1.5f, 64, 0f, 0f, -1, java.util.Map.of()));
            assertThat(penalized.at("/choices/0/text").asText()).isEqualTo(expected).isNotEqualTo(greedy);
            HttpResponse<String> bad = f.post("/v1/completions", "{\"prompt\": \"I\", \"top_k\": -3}");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(ServerFixture.json(bad).at("/error/param").asText()).isEqualTo("top_k");
        }
    }

    @Test
    void aTimeoutIsReportedAsATimeoutNotAsLength() throws Exception {
        try (ServerFixture f = new ServerFixture(ServerFixture.longContextModel(), longContext(1, 1, 200))) {
            HttpResponse<String> r = f.post("/v1/completions", longCompletion(4000, false));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
            assertThat(ServerFixture.json(r).at("/error/code").asText()).isEqualTo("timeout");
            assertThat(ServerFixture.json(r).at("/error/message").asText()).contains("time limit");
            HttpResponse<String> s = f.post("/v1/completions", longCompletion(4000, true));
            String[] events = s.body().split("\n\n");
            assertThat(events[events.length - 1]).isEqualTo("data: [DONE]");
            JsonNode error = ServerFixture.JSON.readTree(events[events.length - 2].substring(6));
            assertThat(error.at("/error/code").asText()).isEqualTo("timeout");
        }
    }

    @Test
    void aStreamThatFailsAfterItsHeadersEndsWithAnErrorEventAndDone() throws Exception {
        try (ServerFixture f = new ServerFixture(ServerFixture.longContextModel(), longContext(1, 1, 0))) {
            CompletableFuture<HttpResponse<String>> running = CompletableFuture.supplyAsync(() -> {
                try {
                    return f.post("/v1/completions", longCompletion(4000, false));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitRunning(f, 1);
            HttpRequest req = HttpRequest.newBuilder(f.uri("/v1/completions")).timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofString(longCompletion(50, true))).build();
            HttpResponse<InputStream> queued = f.client.send(req, HttpResponse.BodyHandlers.ofInputStream());
            assertThat(queued.statusCode()).isEqualTo(200); // SSE headers are out; the request waits for the slot
            f.server.shutdown(100); // the queued request never runs: it must hear why
            String[] events = new String(queued.body().readAllBytes(), StandardCharsets.UTF_8).split("\n\n");
            assertThat(events[events.length - 1]).isEqualTo("data: [DONE]");
            JsonNode error = ServerFixture.JSON.readTree(events[events.length - 2].substring(6));
            assertThat(error.at("/error/message").asText()).contains("shutting down");
            running.join();
        }
    }

    @Test
    void closeCutsRunningRequestsInsteadOfWaitingForThemToFinish() throws Exception {
        try (ServerFixture f = new ServerFixture(ServerFixture.longContextModel(), longContext(1, 1, 0))) {
            HttpRequest req = HttpRequest.newBuilder(f.uri("/v1/completions")).timeout(Duration.ofSeconds(120))
                    .POST(HttpRequest.BodyPublishers.ofString(longCompletion(4000, true))).build();
            HttpResponse<InputStream> r = f.client.send(req, HttpResponse.BodyHandlers.ofInputStream());
            awaitRunning(f, 1);
            f.server.close();
            String body = new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
            long tokens = body.split("\n\n").length;
            assertThat(tokens).isLessThan(4000);
            assertThat(body).endsWith("data: [DONE]\n\n").contains("shutting down");
        }
    }

    @Test
    void aNonStreamingClientThatDisconnectsIsCancelledWhileDecoding() throws Exception {
        // A reply far longer than the ~2 s disconnect detection can decode on a fast machine (4,000 tokens of this tiny
        // model took under 2 s on a quiet one).
        ServerSettings settings = new ServerSettings("127.0.0.1", 0, "small", null, 2, 2, 64 * 1024, 0, 65536);
        try (ServerFixture f = new ServerFixture(ServerFixture.contextModel(65536), settings)) {
            byte[] body = longCompletion(60000, false).getBytes(StandardCharsets.UTF_8);
            try (Socket s = new Socket("127.0.0.1", f.server.port())) {
                OutputStream out = s.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                awaitRunning(f, 1);
                Thread.sleep(300);
            }
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (f.server.engine().runningCount() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(f.server.engine().runningCount()).isZero();
            assertThat(f.metric("memwall_kv_cache_bytes")).isZero();
            assertThat(f.metric("memwall_generated_tokens_total")).isLessThan(60000);
        }
    }

    @Test
    void aFullServerRefusesBeforeReadingTheBody() throws Exception {
        try (ServerFixture f = new ServerFixture(1, 0, null, 0);
             Socket slow = new Socket("127.0.0.1", f.server.port());
             Socket next = new Socket("127.0.0.1", f.server.port())) {
            byte[] body = "{\"prompt\": \"I dreamed\", \"max_tokens\": 4}".getBytes(StandardCharsets.UTF_8);
            OutputStream slowOut = slow.getOutputStream();
            slowOut.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            slowOut.write(body, 0, 10); // half a body: the request holds the one slot while it arrives
            slowOut.flush();
            Thread.sleep(200);
            next.setSoTimeout(10_000);
            next.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            next.getOutputStream().write(body);
            BufferedReader reply = new BufferedReader(new InputStreamReader(next.getInputStream(), StandardCharsets.UTF_8));
            String status = reply.readLine();
            assertThat(status).startsWith("HTTP/1.1 429");
            String header;
            boolean retryAfter = false;
            while ((header = reply.readLine()) != null && !header.isEmpty()) {
                retryAfter |= header.toLowerCase(java.util.Locale.ROOT).startsWith("retry-after:");
            }
            assertThat(retryAfter).isTrue();
            slowOut.write(body, 10, body.length - 10);
            slowOut.flush();
            slow.setSoTimeout(10_000);
            assertThat(new BufferedReader(new InputStreamReader(slow.getInputStream(), StandardCharsets.UTF_8)).readLine()).startsWith("HTTP/1.1 200");
        }
    }
}
