package org.memwall.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;
import java.util.function.IntConsumer;
import org.memwall.MemwallException;

/**
 * SentencePiece tokenization by scores ({@code tokenizer.ggml.model = llama}), as llama.cpp's
 * {@code llm_tokenizer_spm}: spaces become U+2581 '▁', a space is put before the text when the
 * vocabulary asks for it, the text is split into characters, and the adjacent pair whose joined text
 * is a token with the highest score is merged (leftmost on ties) until no pair is a token. A
 * character left outside the vocabulary is spelled with byte tokens {@code <0xAB>}, or as the unknown
 * token when the vocabulary has none.
 *
 * <p>Unlike llama.cpp, merging never forms a control, unknown or byte token (the text {@code <s>} does
 * not become BOS unless special tokens are parsed): SentencePiece keeps those out of its piece table,
 * and the Hugging Face reference tokenizer agrees.
 */
public final class SentencePiece extends Tokenizer {
    /** U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space. */
    static final char SPACE = '\u2581';

    /** The byte token for each byte value; -1 where the vocabulary has none. */
    private final int[] byteTokens = new int[256];

    public SentencePiece(Vocabulary vocab) {
        super(vocab);
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80) {
                id = vocab.id(String.valueOf((char) b)); // some vocabularies hold ASCII bytes as plain text
            }
            byteTokens[b] = id;
        }
    }

    @Override
    protected void encodeFragment(String fragment, boolean afterSpecial, IntConsumer out) {
        String text = vocab.addSpacePrefix() && afterSpecial ? " " + fragment : fragment;
        new Merges(text.replace(' ', SPACE)).encode(out);
    }

    @Override
    protected byte[] normalPieceBytes(String piece) {
        return piece.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }

    /** The id of {@code piece} when merging may produce it, else -1. */
    private int mergeable(String piece) {
        int id = vocab.id(piece);
        if (id < 0) {
            return -1;
        }
        int type = vocab.type(id);
        return type == Vocabulary.CONTROL || type == Vocabulary.UNKNOWN || type == Vocabulary.BYTE ? -1 : id;
    }

    /** A candidate merge of symbol {@code left} with its right neighbour {@code right}; {@code length} in chars. */
    private record Bigram(int left, int right, float score, int length) {
    }

    /**
     * One run of the merge loop. Symbols form a doubly linked list over the text (each covers
     * {@code [start, start + length)}); a merge grows the left symbol and empties the right one.
     * Candidates wait in a priority queue; one that went stale (a side was merged away or grew since)
     * is recognised by its length no longer matching and skipped, so the run is O(n log n).
     */
    private final class Merges {
        private final String text;
        private final int[] start;
        private final int[] length;
        private final int[] prev;
        private final int[] next;
        private final PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score() != b.score()
                ? Float.compare(b.score(), a.score())
                : Integer.compare(a.left(), b.left()));

        Merges(String text) {
            this.text = text;
            int n = text.codePointCount(0, text.length());
            start = new int[n];
            length = new int[n];
            prev = new int[n];
            next = new int[n];
            for (int i = 0, offset = 0; i < n; i++) {
                start[i] = offset;
                length[i] = Character.charCount(text.codePointAt(offset));
                offset += length[i];
                prev[i] = i - 1;
                next[i] = i + 1 < n ? i + 1 : -1;
            }
        }

        void encode(IntConsumer out) {
            for (int i = 1; i < start.length; i++) {
                offer(i - 1, i);
            }
            while (!queue.isEmpty()) {
                Bigram bigram = queue.poll();
                int left = bigram.left();
                int right = bigram.right();
                if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.length()) {
                    continue;
                }
                length[left] += length[right];
                length[right] = 0;
                next[left] = next[right];
                if (next[right] >= 0) {
                    prev[next[right]] = left;
                }
                offer(prev[left], left);
                offer(left, next[left]);
            }
            for (int i = start.length > 0 ? 0 : -1; i >= 0; i = next[i]) {
                emit(text.substring(start[i], start[i] + length[i]), out);
            }
        }

        private void offer(int left, int right) {
            if (left < 0 || right < 0) {
                return;
            }
            int end = start[right] + length[right];
            int id = mergeable(text.substring(start[left], end));
            if (id >= 0) {
                queue.add(new Bigram(left, right, vocab.score(id), end - start[left]));
            }
        }

        /** Emits a final symbol: its token, else the byte tokens of its UTF-8 bytes, else the unknown token. */
        private void emit(String piece, IntConsumer out) {
            int id = mergeable(piece);
            if (id >= 0) {
                out.accept(id);
                return;
            }
            byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
            for (byte b : bytes) {
                if (byteTokens[b & 0xFF] < 0) {
                    if (vocab.unk() < 0) {
                        throw new MemwallException("cannot encode '" + piece
                                + "': the vocabulary has neither byte tokens nor an unknown token");
                    }
                    out.accept(vocab.unk());
                    return;
                }
            }
            for (byte b : bytes) {
                out.accept(byteTokens[b & 0xFF]);
            }
        }
    }
}
