package org.memwall.grammar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.memwall.TestModels;
import org.memwall.chat.Json;
import org.memwall.chat.ToolCallFormat;
import org.memwall.gguf.GgufFile;
import org.memwall.synth.SyntheticModel;
import org.memwall.tokenizer.StreamingDetokenizer;
import org.memwall.tokenizer.Tokenizer;
import org.memwall.tokenizer.Vocabulary;

/**
 * Masks over a real-shaped vocabulary (the synthetic gpt-oss one: byte-level BPE with harmony's
 * special tokens): special-token terminals, forced harmony tool calls, and masks shared between requests.
 */
class GrammarConstraintTest {
    static Tokenizer gptOss;

    @BeforeAll
    static void load() throws IOException {
        try (GgufFile f = GgufFile.open(TestModels.small("gpt-oss", SyntheticModel.Mix.F32))) {
            gptOss = Tokenizer.from(f.metadata());
        }
    }

    private static List<Integer> allowedIds(GrammarConstraint c) {
        long[] bits = c.allowed();
        List<Integer> ids = new ArrayList<>();
        for (int t = 0; t < gptOss.vocabulary().size(); t++) {
            if ((bits[t >>> 6] >>> t & 1L) != 0) {
                ids.add(t);
            }
        }
        return ids;
    }

    @Test
    void aSpecialTokenTerminalTakesThatTokenAndNotItsTextSpelledOut() {
        Vocabulary v = gptOss.vocabulary();
        int channel = v.id("<|channel|>");
        int message = v.id("<|message|>");
        Grammar g = Grammar.parse("root ::= <|channel|> \"ab\" <|message|>");
        assertThat(g.specialTokens()).containsExactly("<|channel|>", "<|message|>");
        GrammarConstraint c = new GrammarConstraint(g, gptOss, 100, new MaskCache());
        assertThat(allowedIds(c)).containsExactly(channel);
        c.accept(channel);
        List<Integer> text = allowedIds(c);
        assertThat(text).isNotEmpty().doesNotContain(channel, message);
        for (int t : text) {
            assertThat("ab").startsWith(new String(gptOss.tokenBytes(t)));
        }
        for (int t : gptOss.encode("ab", false, false)) {
            c.accept(t);
        }
        assertThat(c.complete()).isFalse();
        assertThat(allowedIds(c)).containsExactly(message);
        c.accept(message);
        assertThat(c.complete()).isTrue();
        assertThat(allowedIds(c)).containsExactlyElementsOf(java.util.Arrays.stream(v.endOfGeneration()).boxed().toList());
        // Spelled out as text, the token is no match: "<|channel|>" in a literal is not the terminal.
        GrammarMatcher m = new GrammarMatcher(g);
        assertThat(m.matches("<|channel|>ab<|message|>".getBytes())).isFalse();
        assertThatThrownBy(() -> new GrammarConstraint(Grammar.parse("root ::= <|nope|>"), gptOss, 10))
                .isInstanceOf(GrammarException.class).hasMessageContaining("<|nope|>");
        assertThatThrownBy(() -> Grammar.parse("root ::= <|a b|>")).hasMessageContaining("<|name|>");
    }

    /**
     * Random picks among the allowed tokens (what a random-weight model does at temperature 1) under
     * the harmony call grammar always make a reply that parses into one valid call.
     */
    @Test
    void forcedHarmonyCallsParseIntoOneValidCall() {
        Map<String, Object> fns = new LinkedHashMap<>();
        fns.put("get_weather", Json.parse("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"maxLength\": 10},"
                + " \"unit\": {\"enum\": [\"C\", \"F\"]}}, \"required\": [\"city\", \"unit\"]}"));
        fns.put("get-time.v2", Json.parse("{\"type\": \"object\", \"properties\": {\"zone\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 23}},"
                + " \"required\": [\"zone\"]}"));
        Grammar g = ToolCallGrammar.of(ToolCallFormat.HARMONY, fns, true);
        SplittableRandom random = new SplittableRandom(3);
        List<String> names = new ArrayList<>();
        for (int run = 0; run < 12; run++) {
            int maxTokens = 60 + run * 10;
            GrammarConstraint c = new GrammarConstraint(g, gptOss, maxTokens);
            StringBuilder raw = new StringBuilder();
            StreamingDetokenizer detok = new StreamingDetokenizer(gptOss, false);
            int n = 0;
            while (true) {
                List<Integer> allowed = allowedIds(c);
                int t = allowed.get(random.nextInt(allowed.size()));
                n++;
                c.accept(t);
                if (gptOss.vocabulary().type(t) == Vocabulary.CONTROL) {
                    raw.append(detok.flush()).append(gptOss.vocabulary().token(t));
                } else {
                    raw.append(detok.push(t));
                }
                if (gptOss.isEndOfGeneration(t)) {
                    break;
                }
            }
            String reply = raw.toString();
            assertThat(n).as(reply).isLessThanOrEqualTo(maxTokens);
            assertThat(reply).endsWith("<|call|>").contains("<|channel|>commentary to=functions.");
            List<ToolCallFormat.Call> calls = ToolCallFormat.HARMONY.parse(reply).calls();
            assertThat(calls).as(reply).hasSize(1);
            ToolCallFormat.Call call = calls.get(0);
            names.add(call.name());
            Map<?, ?> args = (Map<?, ?>) Json.parse(call.arguments());
            if (call.name().equals("get_weather")) {
                assertThat(args.get("unit")).as(reply).isIn("C", "F");
                assertThat((String) args.get("city")).as(reply).hasSizeLessThanOrEqualTo(10);
            } else {
                assertThat(call.name()).isEqualTo("get-time.v2");
                assertThat(((Number) args.get("zone")).intValue()).as(reply).isBetween(0, 23);
            }
        }
        assertThat(names).as("both functions get called").contains("get_weather", "get-time.v2");
    }

    /**
     * A second request with an equal grammar (parsed anew) is served the first one's masks — the same
     * arrays — while a grammar that differs in one bound gets its own, and every shared mask equals the
     * one an unshared constraint computes.
     */
    @Test
    void masksAreSharedBetweenEqualGrammarsOnly() {
        String schema = "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\", \"maxLength\": %d}}, \"required\": [\"a\"]}";
        MaskCache cache = new MaskCache();
        int[] path = gptOss.encode("{\"a\": \"xyz", false, false);
        List<long[]> first = masks(Grammar.fromJsonSchema(Json.parse(schema.formatted(3))), cache, path);
        List<long[]> second = masks(Grammar.fromJsonSchema(Json.parse(schema.formatted(3))), cache, path);
        List<long[]> other = masks(Grammar.fromJsonSchema(Json.parse(schema.formatted(4))), cache, path);
        for (int i = 0; i < first.size(); i++) {
            assertThat(second.get(i)).as("step %d", i).isSameAs(first.get(i));
            assertThat(first.get(i)).isEqualTo(masks(Grammar.fromJsonSchema(Json.parse(schema.formatted(3))), new MaskCache(), path).get(i));
            assertThat(other.get(i)).isEqualTo(masks(Grammar.fromJsonSchema(Json.parse(schema.formatted(4))), new MaskCache(), path).get(i));
        }
        // After "xyz" the string must close under maxLength 3 but may go on under 4.
        assertThat(other.getLast()).isNotEqualTo(first.getLast());
    }

    /** Requests that walk the same grammar at the same time, through one cache, each see the masks an unshared walk gives. */
    @Test
    void concurrentRequestsShareMasksSafely() throws Exception {
        String schema = "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\"}, \"b\": {\"type\": \"array\", \"items\": "
                + "{\"type\": \"integer\"}}}, \"required\": [\"a\", \"b\"]}";
        List<int[]> paths = List.of(gptOss.encode("{\"a\": \"one two\", \"b\": [1, 22]}", false, false),
                gptOss.encode("{\"a\": \"\", \"b\": []}", false, false), gptOss.encode("{\"a\": \"x\\ny\", \"b\": [333]}", false, false));
        MaskCache shared = new MaskCache();
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(6)) {
            List<java.util.concurrent.Future<List<long[]>>> runs = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                int[] path = paths.get(i % paths.size());
                runs.add(pool.submit(() -> masks(Grammar.fromJsonSchema(Json.parse(schema)), shared, path)));
            }
            for (int i = 0; i < runs.size(); i++) {
                List<long[]> expected = masks(Grammar.fromJsonSchema(Json.parse(schema)), new MaskCache(), paths.get(i % paths.size()));
                assertThat(runs.get(i).get()).usingElementComparator(java.util.Arrays::compare).containsExactlyElementsOf(expected);
            }
        }
    }

    private static List<long[]> masks(Grammar g, MaskCache cache, int[] path) {
        GrammarConstraint c = new GrammarConstraint(g, gptOss, 1000, cache);
        List<long[]> out = new ArrayList<>();
        for (int t : path) {
            out.add(c.allowed());
            c.accept(t);
        }
        out.add(c.allowed());
        return out;
    }
}
