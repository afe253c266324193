package org.memwall.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.memwall.TestModels;
import org.memwall.synth.SyntheticModel;

class ModelWarmUpTest {
    /** The warm-up runs on a cache of its own: a sequence's logits are the same bits before it, after it and beside it. */
    @Test
    void warmingUpChangesNothingASequenceComputes() {
        try (Model m = Model.open(TestModels.small("llama", SyntheticModel.Mix.Q4_0), 2); KvCache kv = m.newCache(0)) {
            int[] story = TestModels.story();
            float[] before = m.forwardPass().forwardSequence(story, 0, kv, true);
            int[] head = java.util.Arrays.copyOf(story, 4);
            float[] firstFour = m.forwardPass().forwardSequence(head, 0, kv, false);
            m.warmUp();
            float[] after = m.forwardPass().forwardSequence(story, 0, kv, true);
            assertThat(after).isEqualTo(before);
            assertThat(m.forwardPass().forwardSequence(head, 0, kv, false)).isEqualTo(firstFour);
        }
    }
}
