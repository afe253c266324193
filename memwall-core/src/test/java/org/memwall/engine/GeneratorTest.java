package org.memwall.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;
import org.memwall.TestModels;
import org.memwall.model.Model;

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
