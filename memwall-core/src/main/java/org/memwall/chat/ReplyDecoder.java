package org.memwall.chat;

import java.util.List;
import java.util.Set;
import org.memwall.tokenizer.StreamingDetokenizer;
import org.memwall.tokenizer.Tokenizer;
import org.memwall.tokenizer.Vocabulary;

/**
 * Turns a reply's tokens into text as they are generated: streamed without half characters, and
 * for harmony models (gpt-oss) split into channels, so the caller sees the answer ({@code final})
 * apart from the reasoning. Plain models report everything on the {@code final} channel.
 */
public final class ReplyDecoder {
    private final Tokenizer tokenizer;
    private final StreamingDetokenizer detok;
    private final HarmonyParser harmony;
    private final HarmonyParser.Listener listener;
    private final Set<String> keep;

    public ReplyDecoder(Tokenizer tokenizer, boolean harmony, HarmonyParser.Listener listener) {
        this(tokenizer, harmony, List.of(), listener);
    }

    /**
     * @param keep special tokens whose text the reply keeps (a tool-call convention's markers, such as
     *     Llama 3's {@code <|python_tag|>}); other control tokens print nothing
     */
    public ReplyDecoder(Tokenizer tokenizer, boolean harmony, List<String> keep, HarmonyParser.Listener listener) {
        this.keep = Set.copyOf(keep);
        this.tokenizer = tokenizer;
        this.detok = new StreamingDetokenizer(tokenizer, false);
        this.listener = listener;
        this.harmony = harmony ? new HarmonyParser(listener) : null;
    }

    public void accept(int token) {
        Vocabulary v = tokenizer.vocabulary();
        if (harmony == null && v.type(token) == Vocabulary.CONTROL && keep.contains(v.token(token))) {
            emit(detok.flush() + v.token(token));
        } else if (harmony == null) {
            emit(detok.push(token));
        } else if ((v.type(token) == Vocabulary.CONTROL || v.type(token) == Vocabulary.USER_DEFINED) && HarmonyParser.isStructural(v.token(token))) {
            // gpt-oss files mark <|channel|>, <|message|>, ... user-defined (always rendered), as llama.cpp does
            harmony.text(detok.flush());
            harmony.special(v.token(token));
        } else {
            harmony.text(detok.push(token));
        }
    }

    /** At the end of the reply: text still held back for an incomplete character. */
    public void finish() {
        String rest = detok.flush();
        if (harmony == null) {
            emit(rest);
        } else {
            harmony.text(rest);
        }
    }

    private void emit(String text) {
        if (!text.isEmpty()) {
            listener.text("final", text);
        }
    }
}
