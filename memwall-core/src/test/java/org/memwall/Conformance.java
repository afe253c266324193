package org.memwall;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates {@code ../shared/conformance} beside the repository root. Tests that need it call
 * {@link #dir()}, which skips the test with a message naming the folder when it is absent.
 */
public final class Conformance {
    private Conformance() {
    }

    /** The conformance folder, searched upward from the working directory (a module or the repo root). */
    public static Path locate() {
        Path dir = Path.of("").toAbsolutePath();
        for (int up = 0; up < 4 && dir != null; up++, dir = dir.getParent()) {
            Path candidate = dir.resolveSibling("shared").resolve("conformance");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** The conformance folder; skips the calling test when it is absent. */
    public static Path dir() {
        Path dir = locate();
        assumeTrue(dir != null, "skipped: ../shared/conformance (beside the repository root) is absent");
        return dir;
    }

    public static Path file(String relative) {
        Path p = dir().resolve(relative);
        assumeTrue(Files.exists(p), "skipped: " + p + " is absent");
        return p;
    }
}
