package org.memwall.cli;

import java.util.Map;
import org.memwall.sample.Sampler;
import org.memwall.sample.SamplerSettings;
import picocli.CommandLine.Option;

/** Sampling flags shared by run and chat; defaults are llama.cpp's. */
final class SamplingOptions {
    @Option(names = "--temp", defaultValue = "0.8", paramLabel = "T", description = "temperature; 0 is greedy (default ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", paramLabel = "K", description = "keep the K most likely tokens; 0 keeps all (default ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", paramLabel = "P", description = "keep the most likely tokens up to probability P (default ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.05", paramLabel = "P", description = "drop tokens less likely than P times the best (default ${DEFAULT-VALUE})")
    float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", paramLabel = "R", description = "penalise the last 64 tokens; 1 is off (default ${DEFAULT-VALUE})")
    float repeatPenalty;

    @Option(names = "--seed", defaultValue = "-1", paramLabel = "S", description = "random seed; -1 picks one (default ${DEFAULT-VALUE})")
    long seed;

    SamplerSettings settings() {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, 64, 0f, 0f, seed, Map.of());
    }

    Sampler create(int vocabularySize) {
        return new Sampler(settings(), vocabularySize);
    }
}
