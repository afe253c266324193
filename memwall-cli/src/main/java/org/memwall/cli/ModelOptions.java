package org.memwall.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by the commands that load a model. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "0",
            description = "compute threads (default: one per core)")
    int threads;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;
}
