package org.memwall.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.memwall.AtomicFile;
import org.memwall.MemwallException;

/**
 * The demo model inside the jar, used when no model is given: stories260K (Andrej Karpathy's
 * TinyStories model from llama2.c, MIT licence, notice in {@code builtin/stories260K.LICENSE}).
 * A model is memory-mapped, so the resource is written once to the user's cache folder, under a
 * folder named by its content hash: a new jar with another model never reads a stale copy.
 */
final class BuiltinModel {
    static final String NAME = "stories260K";
    private static final String RESOURCE = "builtin/" + NAME + ".gguf";

    private BuiltinModel() {
    }

    /** The built-in model as a file, extracted on first use. */
    static Path path() {
        byte[] bytes = bytes();
        String hash = HexFormat.of().formatHex(sha256(bytes), 0, 6);
        Path target = cacheDir().resolve("builtin-" + hash).resolve(NAME + ".gguf");
        try {
            if (Files.isRegularFile(target) && Files.size(target) == bytes.length) {
                return target;
            }
            Files.createDirectories(target.getParent());
            writeAtomically(target, bytes);
            return target;
        } catch (IOException e) {
            // A read-only home still gets the demo: a temporary copy, removed when the JVM exits.
            try {
                Path tmp = Files.createTempFile(NAME + "-", ".gguf");
                tmp.toFile().deleteOnExit();
                Files.write(tmp, bytes);
                return tmp;
            } catch (IOException e2) {
                throw new MemwallException("cannot write the built-in model to " + target + " or a temporary file: " + e2.getMessage());
            }
        }
    }

    private static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path part = Files.createTempFile(target.getParent(), NAME, ".part");
        try {
            Files.write(part, bytes);
            AtomicFile.moveInto(part, target);
        } finally {
            Files.deleteIfExists(part);
        }
    }

    private static byte[] bytes() {
        try (InputStream in = BuiltinModel.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new MemwallException("the built-in model is missing from this build (resource " + RESOURCE + "); give a model with -m");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new MemwallException("cannot read the built-in model: " + e.getMessage());
        }
    }

    /** {@code $XDG_CACHE_HOME/memwall}, else {@code ~/.cache/memwall}. */
    static Path cacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("memwall");
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
