package org.memwall.chat;

/**
 * Splits gpt-oss output in OpenAI's harmony format into its channels as it streams. A reply looks
 * like {@code <|channel|>analysis<|message|>…<|end|><|start|>assistant<|channel|>final<|message|>…<|return|>}:
 * reasoning goes to the {@code analysis} channel, the answer to {@code final}, tool calls to
 * {@code commentary}. Feed it the special tokens and the decoded text between them, in order;
 * it reports message text with the channel it belongs to.
 */
public final class HarmonyParser {
    /** Receives message text and the channel it was written on. */
    @FunctionalInterface
    public interface Listener {
        void text(String channel, String text);
    }

    private enum State { ROLE, CHANNEL, CONSTRAINT, MESSAGE, DONE }

    private final Listener listener;
    private State state;
    private final StringBuilder header = new StringBuilder();
    private String channel = "final";

    /** A parser positioned where generation starts: right after {@code <|start|>assistant}. */
    public HarmonyParser(Listener listener) {
        this.listener = listener;
        this.state = State.ROLE;
    }

    /** Whether {@code text} is one of harmony's structural special tokens. */
    public static boolean isStructural(String text) {
        return switch (text) {
            case "<|start|>", "<|channel|>", "<|message|>", "<|end|>", "<|return|>", "<|call|>", "<|constrain|>" -> true;
            default -> false;
        };
    }

    /** A structural special token. */
    public void special(String token) {
        switch (token) {
            case "<|start|>" -> {
                state = State.ROLE;
                header.setLength(0);
                channel = "final";
            }
            case "<|channel|>" -> {
                state = State.CHANNEL;
                header.setLength(0);
            }
            case "<|constrain|>" -> {
                closeHeader();
                state = State.CONSTRAINT;
            }
            case "<|message|>" -> {
                closeHeader();
                state = State.MESSAGE;
            }
            case "<|end|>", "<|call|>" -> state = State.ROLE;
            case "<|return|>" -> state = State.DONE;
            default -> text(token);
        }
    }

    /** Decoded text between special tokens. */
    public void text(String text) {
        if (text.isEmpty()) {
            return;
        }
        switch (state) {
            case MESSAGE -> listener.text(channel, text);
            case CHANNEL -> header.append(text);
            default -> {
                // Role names, recipients ("to=functions.x") and constraint types are header text, not message text.
            }
        }
    }

    /** Whether the model ended its turn with {@code <|return|>}. */
    public boolean done() {
        return state == State.DONE;
    }

    private void closeHeader() {
        if (state == State.CHANNEL) {
            String h = header.toString().strip();
            int space = h.indexOf(' ');
            channel = space < 0 ? h : h.substring(0, space);
            header.setLength(0);
        }
    }
}
