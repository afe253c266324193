package org.memwall.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.memwall.MemwallException;

/** The prompt of {@code -p TEXT} or {@code -f FILE}: exactly one of them. */
final class PromptText {
    private PromptText() {
    }

    static String of(String text, Path file) {
        if (text != null && file != null) {
            throw new MemwallException("give the prompt with -p TEXT or -f FILE, not both");
        }
        if (file == null) {
            if (text == null) {
                throw new MemwallException("no prompt: give one with -p TEXT or -f FILE");
            }
            return text;
        }
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new MemwallException("prompt file not found: " + file);
        } catch (IOException e) {
            throw new MemwallException("cannot read prompt file " + file + ": " + e.getMessage());
        }
    }
}
