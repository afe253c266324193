package org.memwall.grammar;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.memwall.Conformance;
import org.memwall.chat.Json;
import org.memwall.chat.ToolCallFormat;
import org.memwall.gguf.GgufFile;
import org.memwall.tokenizer.Tokenizer;

/**
 * Real vocabularies (Llama 3, 128,256 tokens; Qwen3, 151,669; gpt-oss, 200,019; from
 * ../shared/conformance/tokenizer): a second request with a schema gets the first request's masks
 * (the same arrays) at every step, and the time each request spent masking is printed (the figures in
 * docs/server.md; not asserted: a shared machine's timings are noise).
 */
class SharedMaskConformanceTest {
    /** The schema of GrammarMaskBenchmark, and a reply that goes through its string, number and array states. */
    static final String SCHEMA = """
            {"type": "object", "properties": {"name": {"type": "string"}, "n": {"type": "integer"},
             "tags": {"type": "array", "items": {"type": "string"}}}, "required": ["name", "n"]}""";
    static final String REPLY = "{\"name\": \"Ada Lovelace\", \"n\": 1815, \"tags\": [\"math\", \"engine\"]}";

    @ParameterizedTest
    @ValueSource(strings = {"llama-3", "qwen3", "gpt-oss"})
    void aSecondRequestIsServedTheFirstOnesMasks(String vocab) throws IOException {
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(Conformance.file("tokenizer/ggml-vocab-" + vocab + ".gguf"))) {
            tokenizer = Tokenizer.from(f.metadata());
        }
        // Warm the JIT on another schema, so the first request's time is the walks, not compilation.
        run(Grammar.fromJsonSchema(Json.parse("{\"type\": \"object\", \"properties\": {\"q\": {\"type\": \"string\"}}}")), tokenizer,
                new MaskCache(), "{\"q\": \"warm up the walk\"}");
        int[] reply = tokenizer.encode(REPLY, false, false);
        Run first = null;
        Run second = null;
        MaskCache cache = null;
        for (int round = 0; round < 3; round++) { // the fastest of three rounds, each from an empty cache: timings on a shared machine are noisy
            cache = new MaskCache();
            Run a = run(Grammar.fromJsonSchema(Json.parse(SCHEMA)), tokenizer, cache, REPLY);
            Run b = run(Grammar.fromJsonSchema(Json.parse(SCHEMA)), tokenizer, cache, REPLY);
            for (int i = 0; i < a.masks.size(); i++) {
                assertThat(b.masks.get(i)).as("step %d", i).isSameAs(a.masks.get(i));
            }
            first = first == null || a.millis < first.millis ? a : first;
            second = second == null || b.millis < second.millis ? b : second;
        }
        // A forced harmony call (special-token terminals) on the gpt-oss vocabulary, the same way.
        String harmonyTimes = "";
        if (vocab.equals("gpt-oss")) {
            Grammar call = ToolCallGrammar.of(ToolCallFormat.HARMONY, Map.of("get_weather", Json.parse(SCHEMA)), false);
            List<Integer> ids = new ArrayList<>();
            for (String special : List.of("<|channel|>", "commentary to=functions.get_weather ", "<|constrain|>", "json", "<|message|>", REPLY, "<|call|>")) {
                int id = tokenizer.vocabulary().id(special);
                if (special.startsWith("<|")) {
                    ids.add(id);
                } else {
                    for (int t : tokenizer.encode(special, false, false)) {
                        ids.add(t);
                    }
                }
            }
            Run h1 = run(call, tokenizer, cache, ids.stream().mapToInt(Integer::intValue).toArray());
            Run h2 = run(call, tokenizer, cache, ids.stream().mapToInt(Integer::intValue).toArray());
            assertThat(h1.complete).isTrue();
            harmonyTimes = String.format("; harmony call (%d steps): first %.1f ms, second %.1f ms", ids.size(), h1.millis, h2.millis);
        }
        assertThat(first.complete).isTrue();
        System.out.printf("shared masks, %s (%d tokens), %d steps: first request %.1f ms masking (slowest step %.1f ms), second %.1f ms "
                        + "(slowest %.2f ms)%s%n", vocab, tokenizer.vocabulary().size(), reply.length, first.millis, first.slowest,
                second.millis, second.slowest, harmonyTimes);
    }

    record Run(List<long[]> masks, double millis, double slowest, boolean complete) {
    }

    private static Run run(Grammar g, Tokenizer tokenizer, MaskCache cache, String text) {
        return run(g, tokenizer, cache, tokenizer.encode(text, false, false));
    }

    private static Run run(Grammar g, Tokenizer tokenizer, MaskCache cache, int[] tokens) {
        GrammarConstraint c = new GrammarConstraint(g, tokenizer, 1000, cache);
        float[] logits = new float[tokenizer.vocabulary().size()];
        List<long[]> masks = new ArrayList<>();
        long total = 0;
        long slowest = 0;
        for (int t : tokens) {
            java.util.Arrays.fill(logits, 0f);
            long t0 = System.nanoTime();
            masks.add(c.allowed());
            c.mask(logits, logits.length);
            long dt = System.nanoTime() - t0;
            total += dt;
            slowest = Math.max(slowest, dt);
            assertThat(logits[t]).as("token %d is allowed", t).isGreaterThan(Float.NEGATIVE_INFINITY);
            c.accept(t);
        }
        return new Run(masks, total / 1e6, slowest / 1e6, c.complete());
    }
}
