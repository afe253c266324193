package org.memwall;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Files written whole under a temporary name and then put in place, so that a reader never sees half of one. */
public final class AtomicFile {
    private AtomicFile() {
    }

    /** Replaces {@code target} by {@code written}: an atomic rename where the file system has one, else a plain move. */
    public static void moveInto(Path written, Path target) throws IOException {
        try {
            Files.move(written, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(written, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
