package org.memwall.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;
import org.memwall.TestModels;
import org.memwall.model.Model;
import org.memwall.model.ModelConfig;
import org.memwall.synth.SyntheticModel;

class EngineTest {
    static final ToIntFunction<float[]> GREEDY = logits -> {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    };

    private static final int[] STORY = TestModels.story();

    /** Tokens {@code from..to} of the story. */
    static int[] story(int from, int to) {
        return Arrays.copyOfRange(STORY, from, to);
    }

    /** Tokens {@code from..to} of the story, the first replaced by BOS (1). */
    static int[] prompt(int from, int to) {
        int[] p = story(from, to);
        p[0] = 1;
        return p;
    }

    static int[] drain(Sequence s) throws InterruptedException {
        List<Integer> out = new ArrayList<>();
        while (true) {
            Sequence.Event e = s.next();
            if (e.isEnd()) {
                return out.stream().mapToInt(Integer::intValue).toArray();
            }
            out.add(e.token());
        }
    }

    @Test
    void concurrentGreedyRequestsGetExactlyWhatTheyGetAlone() throws Exception {
        try (Model model = Model.open(TestModels.small("gpt-oss", SyntheticModel.Mix.F32), 2)) {
            int[][] prompts = {prompt(0, 20), prompt(5, 48), prompt(10, 13), prompt(0, 40), prompt(2, 30)};
            int[][] alone = new int[prompts.length][];
            Generator g = new Generator(model);
            for (int i = 0; i < prompts.length; i++) {
                alone[i] = g.generate(prompts[i], 12, GREEDY, t -> false, t -> true).tokens();
            }
            try (Engine engine = new Engine(model, new Engine.Settings(4, 8, 16))) {
                Sequence[] seqs = new Sequence[prompts.length];
                for (int i = 0; i < prompts.length; i++) {
                    seqs[i] = engine.submit(prompts[i], 12, GREEDY, t -> false, 0);
                }
                for (int i = 0; i < prompts.length; i++) {
                    assertThat(drain(seqs[i])).as("request " + i).containsExactly(alone[i]);
                }
                assertThat(engine.metrics().generatedTokens.get()).isEqualTo(12L * prompts.length);
                assertThat(engine.kvBytes()).isZero();
            }
        }
    }

    @Test
    void fullEngineRejectsAtOnceAndCancelledSequencesLeave() throws Exception {
        try (Model model = Model.open(TestModels.stories(), 1);
             Engine engine = new Engine(model, new Engine.Settings(1, 1, 64))) {
            Sequence a = engine.submit(prompt(0, 10), 400, GREEDY, t -> false, 0);
            Sequence b = engine.submit(prompt(0, 10), 400, GREEDY, t -> false, 0);
            assertThatThrownBy(() -> engine.submit(prompt(0, 10), 4, GREEDY, t -> false, 0))
                    .isInstanceOf(EngineBusyException.class).hasMessageContaining("busy");
            a.next();
            a.cancel();
            b.cancel();
            Sequence.Event end;
            do {
                end = a.next();
            } while (!end.isEnd());
            assertThat(end.stop()).isEqualTo(Generator.Stop.CALLER);
            do {
                end = b.next();
            } while (!end.isEnd());
            assertThat(engine.runningCount()).isZero();
            assertThat(engine.kvBytes()).isZero();
        }
    }

    @Test
    void promptPlusMaxTokensBeyondContextIsRejectedNamingBoth() throws Exception {
        try (Model model = Model.open(TestModels.stories(), 1);
             Engine engine = new Engine(model, new Engine.Settings(1, 1, 64))) {
            assertThatThrownBy(() -> engine.submit(prompt(0, 10), 2100, GREEDY, t -> false, 0))
                    .isInstanceOf(MemwallException.class).hasMessageContaining("10 tokens").hasMessageContaining("2100")
                    .hasMessageContaining("2048");
        }
    }

    /** {@code length} tokens (ids 2..501, valid in every model here) from a seed, BOS first. */
    static int[] tokens(int seed, int length) {
        java.util.Random r = new java.util.Random(seed);
        int[] t = new int[length];
        for (int i = 0; i < length; i++) {
            t[i] = i == 0 ? 1 : 2 + r.nextInt(500);
        }
        return t;
    }

    /** {@code length} tokens (ids 2..501) from a seed: a continuation, no BOS. */
    static int[] words(int seed, int length) {
        return Arrays.copyOfRange(tokens(seed, length + 1), 1, length + 1);
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Greedy, recording each logits row's bits: equal records mean bit-for-bit equal logits. */
    static final class Recording implements ToIntFunction<float[]> {
        final List<Integer> rows = new ArrayList<>();

        @Override
        public int applyAsInt(float[] logits) {
            int[] bits = new int[logits.length];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = Float.floatToRawIntBits(logits[i]);
            }
            rows.add(Arrays.hashCode(bits));
            return GREEDY.applyAsInt(logits);
        }
    }

    /** Runs the prompts one after another (each ends before the next starts); returns tokens and logits records. */
    private static List<Object> oneAfterAnother(Engine engine, int[][] prompts, int maxTokens) throws InterruptedException {
        List<Object> out = new ArrayList<>();
        for (int[] p : prompts) {
            Recording rec = new Recording();
            out.add(Arrays.toString(drain(engine.submit(p, maxTokens, rec, t -> false, 0))));
            out.add(rec.rows);
        }
        return out;
    }

    @Test
    void slidingWindowRingsAreAFixedCostInTheBudgetAndPrefixesTheyMovedPastAreEvaluatedAgain() throws Exception {
        try (Model model = Model.open(TestModels.small("gpt-oss", SyntheticModel.Mix.F32, 1024), 2)) {
            ModelConfig c = model.config();
            long row = 2L * (c.keyDim() + c.kvValueDim()); // F16, the default
            int sliding = 0;
            for (int l = 0; l < c.blockCount(); l++) {
                sliding += c.isSliding(l) ? 1 : 0;
            }
            assertThat(sliding).isPositive().isLessThan(c.blockCount());
            // Sliding layers stop at their ring of 512 positions; the others grow with every position.
            long budget = row * (sliding * 512L + (c.blockCount() - sliding) * 1000L);
            try (Engine engine = new Engine(model, new Engine.Settings(1, 4, 64, budget))) {
                assertThat(engine.kvBytesPerPosition()).isEqualTo(row * (c.blockCount() - sliding));
                assertThat(engine.kvPositionLimit()).isEqualTo(1000);
                assertThatThrownBy(() -> engine.submit(tokens(3, 990), 11, GREEDY, t -> false, 0)).isInstanceOf(KvBudgetException.class);
                assertThat(drain(engine.submit(tokens(3, 990), 10, GREEDY, t -> false, 0))).hasSize(10);
            }
            int[] a = tokens(7, 900);
            List<Object> plain;
            try (Engine engine = new Engine(model, new Engine.Settings(1, 8, 64, Long.MAX_VALUE, false))) {
                int[] reply = drain(engine.submit(a, 10, GREEDY, t -> false, 0));
                plain = oneAfterAnother(engine, new int[][] {concat(concat(a, reply), words(10, 6)), concat(Arrays.copyOf(a, 300), words(12, 5))}, 8);
            }
            try (Engine engine = new Engine(model, new Engine.Settings(1, 8, 64))) {
                int[] reply = drain(engine.submit(a, 10, GREEDY, t -> false, 0));
                // The follow-up resumes where a's ring still holds the window; the 300-token prefix lies
                // 600 positions back, past the ring, so it is evaluated again.
                List<Object> cached = oneAfterAnother(engine, new int[][] {concat(concat(a, reply), words(10, 6)), concat(Arrays.copyOf(a, 300), words(12, 5))}, 8);
                assertThat(cached).isEqualTo(plain);
                EngineMetrics m = engine.metrics();
                assertThat(m.prefixLookups.get()).isEqualTo(3);
                assertThat(m.prefixHits.get()).isEqualTo(1);
                assertThat(m.prefixHitTokens.get()).isEqualTo(a.length + 10 - 1);
            }
        }
    }

    @Test
    void promptsServedFromThePrefixCacheGetBitForBitTheLogitsTheyGetWithout() throws Exception {
        try (Model model = Model.open(TestModels.small("gpt-oss", SyntheticModel.Mix.F32), 2)) {
            // A 300-token "system prompt" spans two host blocks of 256 (and the device's first growth).
            int[] system = tokens(7, 300);
            int[] a = concat(system, words(8, 12));
            int[] b = concat(system, words(9, 5));
            List<Object> plain;
            try (Engine engine = new Engine(model, new Engine.Settings(4, 8, 16, Long.MAX_VALUE, false))) {
                int[] firstReply = drain(engine.submit(a, 10, GREEDY, t -> false, 0));
                int[] followUp = concat(concat(a, firstReply), words(10, 6));
                plain = oneAfterAnother(engine, new int[][] {a, b, a, followUp, tokens(11, 40)}, 10);
                assertThat(engine.metrics().prefixLookups.get()).isZero();
            }
            try (Engine engine = new Engine(model, new Engine.Settings(4, 8, 16))) {
                int[] firstReply = drain(engine.submit(a, 10, GREEDY, t -> false, 0));
                int[] followUp = concat(concat(a, firstReply), words(10, 6));
                List<Object> cached = oneAfterAnother(engine, new int[][] {a, b, a, followUp, tokens(11, 40)}, 10);
                assertThat(cached).isEqualTo(plain);
                EngineMetrics m = engine.metrics();
                assertThat(m.prefixLookups.get()).isEqualTo(6);
                // a: all but its last token; b: the system prompt (whose next token differs); a again;
                // the follow-up: a and the reply fed back (all but the last generated token); the last: none.
                assertThat(m.prefixHits.get()).isEqualTo(4);
                int aCached = a.length - 1;
                assertThat(m.prefixHitTokens.get()).isEqualTo(aCached + system.length + aCached + (a.length + 10 - 1));
                assertThat(engine.prefixCacheBytes()).isPositive();
                assertThat(engine.kvBytes()).isZero();
            }
        }
    }

    @Test
    void prefixCacheEntriesAreChargedToTheKvBudgetAndEvictedLeastRecentlyUsed() throws Exception {
        try (Model model = Model.open(TestModels.stories(), 1)) {
            long perPosition = model.forwardPass().kvBytesPerPosition();
            long budget = perPosition * 200;
            try (Engine engine = new Engine(model, new Engine.Settings(2, 8, 64, budget))) {
                int[][] prompts = {tokens(1, 90), tokens(2, 90), tokens(1, 90), tokens(3, 90)};
                for (int[] p : prompts) {
                    drain(engine.submit(p, 10, GREEDY, t -> false, 0));
                    assertThat(engine.prefixCacheBytes() + engine.kvReservedBytes()).isLessThanOrEqualTo(budget);
                }
                // 1 and 2 fit together (100 positions each); 1 again hits (and becomes the most recent),
                // so 3 needs room and 2, the least recently used, goes.
                assertThat(engine.metrics().prefixHits.get()).isEqualTo(1);
                assertThat(engine.metrics().prefixEvictions.get()).isEqualTo(1);
                drain(engine.submit(tokens(1, 90), 10, GREEDY, t -> false, 0));
                assertThat(engine.metrics().prefixHits.get()).as("1 stayed").isEqualTo(2);
                drain(engine.submit(tokens(2, 90), 10, GREEDY, t -> false, 0));
                assertThat(engine.metrics().prefixHits.get()).as("2 was evicted").isEqualTo(2);
                // A request that needs the whole budget empties the cache and runs.
                int[] big = drain(engine.submit(tokens(4, 150), 50, GREEDY, t -> false, 0));
                assertThat(big).hasSize(50);
            }
        }
    }
}
