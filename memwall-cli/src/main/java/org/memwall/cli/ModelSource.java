package org.memwall.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.memwall.hub.Hub;
import org.memwall.hub.HubRef;

/**
 * Turns what the user gave as a model into a file to open: nothing is the built-in model, an existing
 * file is itself, a Hugging Face reference is its cached download, pulled on first use.
 */
final class ModelSource {
    /** The environment the Hub settings come from; tests replace it. */
    static Map<String, String> environment = System.getenv();

    private ModelSource() {
    }

    static Hub hub() {
        return Hub.fromEnvironment(environment);
    }

    static Path resolve(Path given) {
        if (given == null || given.toString().isBlank()) {
            return BuiltinModel.path();
        }
        String text = given.toString();
        if (Files.exists(given) || !isRef(given)) {
            return given; // a missing file is reported by the loader, naming the path
        }
        HubRef ref = HubRef.parse(text);
        Hub hub = hub();
        Path cached = hub.cached(ref);
        return cached != null ? cached : hub.pull(ref, new ProgressBar(System.err, System.console() != null));
    }

    /** A reference, not a path: has a reference's shape and is not under a folder that exists here. */
    private static boolean isRef(Path given) {
        String text = given.toString();
        if (text.startsWith("hf.co/") || text.startsWith("huggingface.co/") || text.startsWith("https://")) {
            return true;
        }
        if (given.isAbsolute() || text.startsWith(".") || text.startsWith("~") || !HubRef.looksLikeRef(text)) {
            return false;
        }
        Path parent = given.getParent();
        return parent == null || !Files.isDirectory(parent);
    }
}
