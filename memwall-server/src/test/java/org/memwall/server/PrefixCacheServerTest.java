package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.memwall.synth.ModelShape;
import org.memwall.synth.SyntheticModel;

/** Automatic prefix caching over real HTTP: a shared system prompt is evaluated once, the replies are unchanged, /metrics counts the hits. */
class PrefixCacheServerTest {

    /** About {@code words} words of a system prompt. */
    static String systemPrompt(int words) {
        String[] w = {"You", "are", "a", "careful", "assistant", "who", "answers", "briefly", "and", "cites", "the", "manual", "when", "asked",
            "about", "servers,", "caches", "or", "tokens."};
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < words; i++) {
            b.append(w[(i * 7 + i / w.length) % w.length]).append(' ');
        }
        return b.toString();
    }

    static String completion(String prompt, int maxTokens) {
        return "{\"prompt\": " + ServerFixture.quote(prompt) + ", \"max_tokens\": " + maxTokens + ", \"temperature\": 0}";
    }

    @Test
    void aSharedSystemPromptIsEvaluatedOnceAndRepliesAreUnchanged() throws Exception {
        try (ServerFixture f = new ServerFixture(ServerFixture.longContextModel(), ServerTrafficTest.longContext(2, 2, 0))) {
            String system = systemPrompt(250);
            String[] questions = {"What is a cache?", "Where are the tokens?", "What is a cache?"};
            for (String q : questions) {
                HttpResponse<String> r = f.post("/v1/completions", completion(system + q, 12));
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(ServerFixture.json(r).at("/choices/0/text").asText()).as(q).isEqualTo(OpenAiServerTest.solo(f, system + q, 12));
            }
            int systemTokens = f.tokenizer.encode(system, true, true).length;
            assertThat(f.metric("memwall_prefix_cache_lookups_total")).isEqualTo(3);
            assertThat(f.metric("memwall_prefix_cache_hits_total")).isEqualTo(2);
            assertThat(f.metric("memwall_prefix_cache_hit_tokens_total")).isGreaterThan(2L * (systemTokens - 2));
            assertThat(f.metric("memwall_prefix_cache_bytes")).isPositive();
            assertThat(f.metric("memwall_kv_cache_bytes")).isZero();
        }
    }

    /**
     * The time to first token (a request for one token, whole round trip) of a ~1,000-token system
     * prompt cold and then from the cache, on a synthesized 4-layer 384-wide model. A measurement,
     * not a check: {@code -Dmemwall.measure=true}.
     */
    @Test
    @EnabledIfSystemProperty(named = "memwall.measure", matches = "true")
    void measureTimeToFirstTokenWithACachedSystemPrompt() throws Exception {
        ModelShape real = ModelShape.named("llama-3.2-1b");
        ModelShape shape = new ModelShape("measure-llama", "llama", 4, 384, 6, 2, 64, 1024, 1024 + real.specials().size() + 5, 1024, true, 4096,
                real.ropeBase(), real.rmsEpsilon(), real.preTokenizer(), real.specials(), 1024, 1025, null, 0, 0, 0);
        Path dir = Files.createTempDirectory("memwall-measure");
        Path file = dir.resolve("measure.gguf");
        SyntheticModel.write(shape, SyntheticModel.Mix.Q8_0, 5, file, t -> { });
        try (ServerFixture f = new ServerFixture(file, ServerTrafficTest.longContext(2, 2, 0))) {
            String system = systemPrompt(290); // about 1,000 tokens of the synthesized vocabulary
            System.out.println("system prompt tokens: " + f.tokenizer.encode(system, true, true).length);
            f.post("/v1/completions", completion("warm up", 1));
            double[] ms = new double[6];
            for (int i = 0; i < ms.length; i++) {
                long t0 = System.nanoTime();
                HttpResponse<String> r = f.post("/v1/completions", completion(system + "Question " + i + ": what next?", 1));
                ms[i] = (System.nanoTime() - t0) / 1e6;
                JsonNode usage = ServerFixture.json(r).at("/usage");
                System.out.printf(Locale.ROOT, "request %d: %.1f ms (prompt %d tokens)%n", i, ms[i], usage.at("/prompt_tokens").asInt());
            }
            double[] hits = Arrays.copyOfRange(ms, 1, ms.length);
            Arrays.sort(hits);
            System.out.printf(Locale.ROOT, "cold %.1f ms, cached median %.1f ms (%.1f%%); hits %d, hit tokens %d; load %s%n", ms[0], hits[hits.length / 2],
                    100 * hits[hits.length / 2] / ms[0], f.metric("memwall_prefix_cache_hits_total"), f.metric("memwall_prefix_cache_hit_tokens_total"),
                    Files.readString(Path.of("/proc/loadavg")).trim());
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }
}
