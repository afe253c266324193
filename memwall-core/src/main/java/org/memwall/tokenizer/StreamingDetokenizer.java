package org.memwall.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns ids into text one at a time during generation. A character may be spread over several tokens
 * (byte tokens, or BPE pieces that split a UTF-8 sequence); {@link #push} returns only whole
 * characters and holds back the bytes of a character still incomplete, so an emoji sent as four byte
 * tokens comes out once, whole. Not thread-safe: one per generation.
 */
public final class StreamingDetokenizer {
    private final Tokenizer tokenizer;
    private boolean stripLeadingSpace;
    /** Bytes of a trailing character not complete yet: at most 3. */
    private byte[] pending = new byte[4];
    private int pendingLength;

    /** A detokenizer for text from its start: drops the dummy-prefix space as {@link Tokenizer#decode} does. */
    public StreamingDetokenizer(Tokenizer tokenizer) {
        this(tokenizer, true);
    }

    /**
     * @param startOfText true when the first id pushed starts the text, so that the one space a
     *     SentencePiece vocabulary adds before the first word is dropped; false to continue text
     *     already shown (for example generated tokens after a prompt that is not pushed).
     */
    public StreamingDetokenizer(Tokenizer tokenizer, boolean startOfText) {
        this.tokenizer = tokenizer;
        this.stripLeadingSpace = startOfText && tokenizer.vocabulary().addSpacePrefix();
    }

    /** Adds token {@code id}; returns the text completed by it, possibly empty. */
    public String push(int id) {
        byte[] bytes = tokenizer.tokenBytes(id);
        int from = 0;
        if (stripLeadingSpace && bytes.length > 0) {
            // The dummy prefix is one space before the first word: the first token that prints anything.
            stripLeadingSpace = false;
            from = bytes[0] == ' ' ? 1 : 0;
        }
        byte[] buffer;
        int length;
        if (pendingLength == 0) {
            buffer = bytes;
            length = bytes.length;
        } else {
            length = pendingLength + bytes.length - from;
            buffer = Arrays.copyOf(pending, length);
            System.arraycopy(bytes, from, buffer, pendingLength, bytes.length - from);
            from = 0;
        }
        int complete = completeLength(buffer, from, length);
        pendingLength = length - complete;
        if (pendingLength > 0) {
            System.arraycopy(buffer, complete, pending, 0, pendingLength);
        }
        return new String(buffer, from, complete - from, StandardCharsets.UTF_8);
    }

    /** Returns what is held back, with an incomplete character as U+FFFD, and empties the buffer. */
    public String flush() {
        String rest = new String(pending, 0, pendingLength, StandardCharsets.UTF_8);
        pendingLength = 0;
        return rest;
    }

    /**
     * The end of the part of {@code bytes[from, length)} that can be decoded now: everything but a final
     * sequence that is a valid start of a UTF-8 character still missing bytes. Anything else, valid or
     * not, is complete (invalid bytes cannot become valid by what follows).
     */
    static int completeLength(byte[] bytes, int from, int length) {
        int lead = length - 1;
        // A character is at most 4 bytes: look back over up to 3 continuation bytes for its first byte.
        while (lead >= from && lead > length - 4 && (bytes[lead] & 0xC0) == 0x80) {
            lead--;
        }
        if (lead < from || (bytes[lead] & 0xC0) == 0x80) {
            return length;
        }
        int b = bytes[lead] & 0xFF;
        int needed = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 1;
        int have = length - lead;
        if (have >= needed) {
            return length;
        }
        if (have >= 2) {
            // The second byte's range is narrower after some first bytes (Unicode Table 3-7).
            int second = bytes[lead + 1] & 0xFF;
            int min = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
            int max = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
            if (second < min || second > max) {
                return length;
            }
        }
        return lead;
    }
}
