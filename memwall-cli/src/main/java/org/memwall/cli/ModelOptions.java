package org.memwall.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by the commands that load a model. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "GGUF file, or a Hugging Face REF pulled on first use (default: the built-in demo model, " + BuiltinModel.NAME + ")")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "0",
            description = "compute threads (default: one per physical core)")
    int threads;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "4096",
            description = "context tokens, at most the model's; 0 = the model's (default ${DEFAULT-VALUE})")
    int contextSize;

    /** The context to configure for a model trained for {@code modelContext} tokens. */
    int context(int modelContext) {
        return contextSize <= 0 ? modelContext : Math.min(contextSize, modelContext);
    }

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    /** The file to open: -m's file, a REF's cached download, or the built-in model when -m is absent. */
    Path modelFile() {
        return ModelSource.resolve(model);
    }
}
