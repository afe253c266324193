package org.memwall.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;
import org.memwall.TestModels;
import org.memwall.model.Model;
import org.memwall.synth.SyntheticModel;

class GeneratorTest {
    @Test
    void aConversationReusesItsCachedPrefixAndGetsTheSameTokens() throws Exception {
        try (Model model = Model.open(TestModels.stories(), 1)) {
            int[] turn1 = EngineTest.prompt(0, 20);
            // The second turn goes on with words from later in the story, not with what the model said after turn 1.
            int[] turn2 = IntStream.concat(Arrays.stream(turn1), Arrays.stream(EngineTest.story(36, 46))).toArray();
            Generator fresh = new Generator(model);
            Generator.Result alone = fresh.generate(turn2, 8, EngineTest.GREEDY, t -> false, t -> true);

            Generator chat = new Generator(model);
            Generator.Result first = chat.generate(turn1, 4, EngineTest.GREEDY, t -> false, t -> true);
            assertThat(first.promptTokens()).isEqualTo(20);
            assertThat(first.tokens()[0]).as("the model's reply differs from turn 2's next token").isNotEqualTo(turn2[20]);
            Generator.Result second = chat.generate(turn2, 8, EngineTest.GREEDY, t -> false, t -> true);
            assertThat(second.promptTokens()).as("only the new positions are evaluated").isEqualTo(10);
            assertThat(second.tokens()).containsExactly(alone.tokens());
        }
    }

    @Test
    void aConversationThatRewindsPastASlidingWindowRingEvaluatesAgainAndGetsTheSameTokens() throws Exception {
        try (Model model = Model.open(TestModels.small("gpt-oss", SyntheticModel.Mix.F32, 1024), 2)) {
            int[] long1 = EngineTest.tokens(4, 900);
            // Shares 300 tokens with the first turn; the sliding layers' rings (512 positions) moved past them.
            int[] edited = EngineTest.concat(Arrays.copyOf(long1, 300), EngineTest.words(5, 6));
            Generator.Result alone = new Generator(model).generate(edited, 6, EngineTest.GREEDY, t -> false, t -> true);

            Generator chat = new Generator(model);
            chat.generate(long1, 4, EngineTest.GREEDY, t -> false, t -> true);
            Generator.Result again = chat.generate(edited, 6, EngineTest.GREEDY, t -> false, t -> true);
            assertThat(again.promptTokens()).as("the whole prompt is evaluated again").isEqualTo(edited.length);
            assertThat(again.tokens()).containsExactly(alone.tokens());
            // A continuation of the first turn resumes within the rings.
            int[] onward = EngineTest.concat(long1, EngineTest.words(6, 3));
            Generator resumed = new Generator(model);
            resumed.generate(long1, 1, EngineTest.GREEDY, t -> false, t -> true);
            Generator.Result next = resumed.generate(onward, 5, EngineTest.GREEDY, t -> false, t -> true);
            assertThat(next.promptTokens()).isEqualTo(3);
            assertThat(next.tokens()).containsExactly(new Generator(model).generate(onward, 5, EngineTest.GREEDY, t -> false, t -> true).tokens());
        }
    }

    @Test
    void stopsAtEndTokenWithoutPassingItOn() throws Exception {
        try (Model model = Model.open(TestModels.stories(), 1)) {
            Generator.Result all = new Generator(model).generate(EngineTest.prompt(0, 48), 16, EngineTest.GREEDY, t -> false, t -> true);
            int end = all.tokens()[3];
            Generator.Result cut = new Generator(model).generate(EngineTest.prompt(0, 48), 16, EngineTest.GREEDY, t -> t == end, t -> true);
            assertThat(cut.stop()).isEqualTo(Generator.Stop.END_TOKEN);
            assertThat(cut.tokens()).doesNotContain(end).hasSizeLessThanOrEqualTo(3);
        }
    }

    @Test
    void promptFillingTheContextIsRejected() throws Exception {
        try (Model model = Model.open(TestModels.stories(), 1)) {
            assertThatThrownBy(() -> new Generator(model, 10).generate(EngineTest.prompt(0, 12), 4, EngineTest.GREEDY, t -> false, t -> true))
                    .isInstanceOf(MemwallException.class).hasMessageContaining("12 tokens").hasMessageContaining("10");
        }
    }
}
