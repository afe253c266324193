package org.memwall.sample;

import java.util.Map;

/**
 * How to pick the next token. Defaults follow llama.cpp's: temperature 0.8, top-k 40, top-p 0.95,
 * min-p 0.05, no repetition penalty. {@code temperature <= 0} is greedy.
 *
 * @param repeatPenalty    llama.cpp's: positive logits of recent tokens divided by it, negative multiplied
 * @param repeatLastN      how many recent tokens the penalties look at
 * @param frequencyPenalty OpenAI's: logit -= count · frequencyPenalty for tokens seen recently
 * @param presencePenalty  OpenAI's: logit -= presencePenalty for tokens seen at least once recently
 * @param logitBias        added to the logits of the given token ids (-infinity bans a token)
 */
public record SamplerSettings(float temperature, int topK, float topP, float minP, float repeatPenalty, int repeatLastN,
                              float frequencyPenalty, float presencePenalty, long seed, Map<Integer, Float> logitBias) {

    public static final SamplerSettings DEFAULTS = new SamplerSettings(0.8f, 40, 0.95f, 0.05f, 1f, 64, 0f, 0f, -1, Map.of());

    /** Greedy: always the most likely token. */
    public static final SamplerSettings GREEDY = DEFAULTS.withTemperature(0f);

    public SamplerSettings {
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
    }

    public boolean greedy() {
        return temperature <= 0f;
    }

    /** Greedy with nothing that changes the logits first (no penalties, no bias): the plain argmax. */
    public boolean argmaxOnly() {
        return greedy() && repeatPenalty == 1f && frequencyPenalty == 0f && presencePenalty == 0f && logitBias.isEmpty();
    }

    public SamplerSettings withTemperature(float t) {
        return new SamplerSettings(t, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, logitBias);
    }

    public SamplerSettings withSeed(long s) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, s, logitBias);
    }
}
