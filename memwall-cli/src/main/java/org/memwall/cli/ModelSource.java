package org.memwall.cli;

import java.nio.file.Path;

/** Turns what the user gave as a model (nothing, a file) into a file to open. */
final class ModelSource {
    private ModelSource() {
    }

    static Path resolve(Path given) {
        if (given == null || given.toString().isBlank()) {
            return BuiltinModel.path();
        }
        return given;
    }
}
