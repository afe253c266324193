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
}
