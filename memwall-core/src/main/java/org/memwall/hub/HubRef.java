package org.memwall.hub;

import java.util.regex.Pattern;
import org.memwall.MemwallException;

/**
 * A model on the Hugging Face Hub as llama.cpp and Ollama write it: {@code owner/repo} (the default
 * quantization), {@code owner/repo:Q8_0} (a quantization tag), {@code owner/repo/path/file.gguf} (one
 * file), each optionally prefixed by {@code hf.co/}, {@code huggingface.co/} or {@code https://huggingface.co/}.
 * {@code tag} and {@code file} are null when not given; at most one of them is set.
 */
public record HubRef(String repo, String tag, String file) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final String[] PREFIXES = {"https://huggingface.co/", "http://huggingface.co/", "https://hf.co/", "hf.co/", "huggingface.co/", "hf://"};

    /** Parses a reference; a malformed one is a one-line {@link MemwallException} showing the accepted forms. */
    public static HubRef parse(String text) {
        String s = text.strip();
        for (String prefix : PREFIXES) {
            if (s.startsWith(prefix)) {
                s = s.substring(prefix.length());
                break;
            }
        }
        String[] parts = s.split("/", -1);
        if (parts.length < 2) {
            throw bad(text);
        }
        String owner = parts[0];
        String name = parts[1];
        String tag = null;
        String file = null;
        if (parts.length == 2) {
            int colon = name.indexOf(':');
            if (colon >= 0) {
                tag = name.substring(colon + 1);
                name = name.substring(0, colon);
                if (!TAG.matcher(tag).matches()) {
                    throw bad(text);
                }
            }
        } else {
            file = s.substring(owner.length() + name.length() + 2);
            if (!file.endsWith(".gguf") || file.contains("..") || file.contains("//")) {
                throw bad(text);
            }
        }
        if (!NAME.matcher(owner).matches() || !NAME.matcher(name).matches()) {
            throw bad(text);
        }
        return new HubRef(owner + "/" + name, tag, file);
    }

    /** Whether {@code text} has the shape of a reference (it may still name nothing on the Hub). */
    public static boolean looksLikeRef(String text) {
        try {
            parse(text);
            return true;
        } catch (MemwallException e) {
            return false;
        }
    }

    private static MemwallException bad(String text) {
        return new MemwallException("'" + text + "' is not a Hugging Face model reference; use owner/repo, owner/repo:QUANT (e.g. :Q4_K_M) or owner/repo/file.gguf");
    }

    @Override
    public String toString() {
        return repo + (tag != null ? ":" + tag : "") + (file != null ? "/" + file : "");
    }
}
