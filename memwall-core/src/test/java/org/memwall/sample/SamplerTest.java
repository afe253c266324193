package org.memwall.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SamplerTest {
    static final float[] LOGITS = {1f, 3f, 2f, 0.5f, 2.9f};

    static SamplerSettings settings(float temp, int topK, float topP, float minP) {
        return new SamplerSettings(temp, topK, topP, minP, 1f, 64, 0f, 0f, 7, Map.of());
    }

    @Test
    void greedyPicksTheArgmaxAndLowestIdOnTies() {
        assertThat(new Sampler(SamplerSettings.GREEDY, 5).applyAsInt(LOGITS)).isEqualTo(1);
        assertThat(new Sampler(SamplerSettings.GREEDY, 3).applyAsInt(new float[] {2f, 2f, 1f})).isZero();
    }

    @Test
    void topKOfOneIsGreedyAtAnyTemperature() {
        Sampler s = new Sampler(settings(5f, 1, 1f, 0f), 5);
        for (int i = 0; i < 200; i++) {
            assertThat(s.applyAsInt(LOGITS)).isEqualTo(1);
        }
    }

    @Test
    void sameSeedRepeatsTheSameSequence() {
        Sampler a = new Sampler(settings(1f, 0, 1f, 0f), 5);
        Sampler b = new Sampler(settings(1f, 0, 1f, 0f), 5);
        for (int i = 0; i < 100; i++) {
            assertThat(a.applyAsInt(LOGITS)).isEqualTo(b.applyAsInt(LOGITS));
        }
    }

    @Test
    void drawsFollowTheSoftmaxAndTopPCutsTheTail() {
        int[] seen = new int[5];
        Sampler s = new Sampler(settings(1f, 0, 1f, 0f), 5);
        for (int i = 0; i < 20000; i++) {
            seen[s.applyAsInt(LOGITS)]++;
        }
        // softmax probabilities: 0.041, 0.302, 0.111, 0.025, 0.273 (of a 0.752 total... normalised)
        double z = 0;
        for (float l : LOGITS) {
            z += Math.exp(l);
        }
        for (int i = 0; i < 5; i++) {
            assertThat(seen[i] / 20000.0).as("token " + i).isCloseTo(Math.exp(LOGITS[i]) / z, org.assertj.core.data.Offset.offset(0.02));
        }
        // top-p 0.7: tokens 1 (0.40) and 4 (0.36) reach it; 2, 0, 3 never appear.
        int[] cut = new int[5];
        Sampler p = new Sampler(settings(1f, 0, 0.7f, 0f), 5);
        for (int i = 0; i < 5000; i++) {
            cut[p.applyAsInt(LOGITS)]++;
        }
        assertThat(cut[0] + cut[2] + cut[3]).isZero();
        assertThat(cut[1]).isPositive();
        assertThat(cut[4]).isPositive();
    }

    /** 30 likely tokens (logits 8 down to −0.7) among 20,000 at about −6: a vocabulary large enough for the bucketed cuts. */
    static float[] largeVocabulary() {
        float[] l = new float[20000];
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int i = 0; i < l.length; i++) {
            l[i] = -6f + (float) r.nextDouble(-0.5, 0.5);
        }
        for (int i = 0; i < 30; i++) {
            l[(i * 617 + 11) % l.length] = 8f - 0.3f * i;
        }
        return l;
    }

    /** The ids a full descending sort keeps under top-p and min-p (softmax at temperature 1), as llama.cpp's chain does. */
    static java.util.Set<Integer> keptBySorting(float[] l, float topP, float minP) {
        Integer[] order = new Integer[l.length];
        for (int i = 0; i < l.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> l[a] != l[b] ? Float.compare(l[b], l[a]) : Integer.compare(a, b));
        double z = 0;
        for (float v : l) {
            z += Math.exp(v - l[order[0]]);
        }
        java.util.Set<Integer> kept = new java.util.HashSet<>();
        double cum = 0;
        for (Integer id : order) {
            double p = Math.exp(l[id] - l[order[0]]);
            if (p < minP) {
                break;
            }
            kept.add(id);
            cum += p / z;
            if (cum >= topP) {
                break;
            }
        }
        return kept;
    }

    @Test
    void topPAndMinPOverALargeVocabularyKeepWhatAFullSortKeeps() {
        float[] l = largeVocabulary();
        for (float[] cut : new float[][] {{0.9f, 0f}, {0.6f, 0f}, {1f, 0.05f}, {0.95f, 0.2f}}) {
            java.util.Set<Integer> kept = keptBySorting(l, cut[0], cut[1]);
            assertThat(kept.size()).as("cut %s", java.util.Arrays.toString(cut)).isBetween(2, 29);
            Sampler s = new Sampler(settings(1f, 0, cut[0], cut[1]), l.length);
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            for (int i = 0; i < 5000; i++) {
                seen.add(s.applyAsInt(l));
            }
            assertThat(seen).as("cut %s", java.util.Arrays.toString(cut)).isEqualTo(kept);
        }
    }

    @Test
    void withoutCutsALargeVocabularyDrawsFromTheWholeSoftmax() {
        float[] l = largeVocabulary();
        double z = 0;
        for (float v : l) {
            z += Math.exp(v / 1.5);
        }
        int[] seen = new int[l.length];
        Sampler s = new Sampler(settings(1.5f, 0, 1f, 0f), l.length);
        int draws = 20000;
        for (int i = 0; i < draws; i++) {
            seen[s.applyAsInt(l)]++;
        }
        double rest = 1;
        int restSeen = draws;
        for (int i = 0; i < 30; i++) {
            int id = (i * 617 + 11) % l.length;
            double p = Math.exp(l[id] / 1.5) / z;
            assertThat(seen[id] / (double) draws).as("token " + id).isCloseTo(p, org.assertj.core.data.Offset.offset(0.01));
            rest -= p;
            restSeen -= seen[id];
        }
        // the 19,970 unlikely tokens together (about a quarter of the mass) are drawn too
        assertThat(rest).isGreaterThan(0.2);
        assertThat(restSeen / (double) draws).isCloseTo(rest, org.assertj.core.data.Offset.offset(0.015));
    }

    @Test
    void minPDropsTokensBelowTheFractionOfTheBest() {
        // min-p 0.5: p(i)/p(best) >= 0.5 keeps 1 (1.0), 4 (0.90); drops 2 (0.37), 0 (0.14), 3 (0.08).
        int[] seen = new int[5];
        Sampler s = new Sampler(settings(1f, 0, 1f, 0.5f), 5);
        for (int i = 0; i < 5000; i++) {
            seen[s.applyAsInt(LOGITS)]++;
        }
        assertThat(seen[0] + seen[2] + seen[3]).isZero();
        assertThat(seen[1] + seen[4]).isEqualTo(5000);
    }

    @Test
    void penaltiesLowerRecentTokens() {
        SamplerSettings repeat = new SamplerSettings(0f, 40, 1f, 0f, 10f, 64, 0f, 0f, 1, Map.of());
        Sampler s = new Sampler(repeat, 5);
        s.accept(1);
        // 3/10 = 0.3 now loses to 2.9.
        assertThat(s.applyAsInt(LOGITS)).isEqualTo(4);
        SamplerSettings presence = new SamplerSettings(0f, 40, 1f, 0f, 1f, 64, 0.05f, 0.2f, 1, Map.of());
        Sampler p = new Sampler(presence, 5);
        p.accept(1);
        // 3 - 0.05 - 0.2 = 2.75 < 2.9
        assertThat(p.applyAsInt(LOGITS)).isEqualTo(4);
    }

    @Test
    void logitBiasOfMinusInfinityBansAToken() {
        SamplerSettings ban = new SamplerSettings(1f, 0, 1f, 0f, 1f, 64, 0f, 0f, 3, Map.of(1, Float.NEGATIVE_INFINITY));
        Sampler s = new Sampler(ban, 5);
        for (int i = 0; i < 1000; i++) {
            assertThat(s.applyAsInt(LOGITS)).isNotEqualTo(1);
        }
        assertThat(new Sampler(SamplerSettings.GREEDY, 5).applyAsInt(LOGITS)).isEqualTo(1);
    }

    @Test
    void equalOrInfiniteLogitsNeverGiveNaNChoices() {
        Sampler s = new Sampler(settings(0.7f, 40, 0.9f, 0.05f), 4);
        float[] flat = {0f, 0f, 0f, 0f};
        float[] someInf = {Float.NEGATIVE_INFINITY, 1f, Float.NEGATIVE_INFINITY, 1f};
        for (int i = 0; i < 100; i++) {
            assertThat(s.applyAsInt(flat)).isBetween(0, 3);
            assertThat(s.applyAsInt(someInf)).isIn(1, 3);
        }
    }
}
