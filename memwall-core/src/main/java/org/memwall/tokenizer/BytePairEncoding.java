package org.memwall.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.IntConsumer;
import org.memwall.MemwallException;

/**
 * Byte-level BPE ({@code tokenizer.ggml.model = gpt2}): text is split into words by the vocabulary's
 * {@link PreTokenizer}, each word's UTF-8 bytes are written as GPT-2's printable stand-in characters,
 * and adjacent symbols are merged lowest merge rank first ({@code tokenizer.ggml.merges}, "left right"
 * in rank order) until no ranked pair remains. Some pre-tokenizers (Gemma 4's, also
 * {@code tokenizer.ggml.model = gemma4}) merge raw code points instead, with spaces written {@code ▁},
 * and spell a symbol that is not a token with {@code <0xAB>} byte tokens.
 */
public final class BytePairEncoding extends Tokenizer {
    /** GPT-2's byte → character table: printable Latin-1 bytes stand for themselves, the rest map to 256+. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];
    private static final int WORD_CACHE = 1 << 14;
    /** The tokenizer model name of Gemma 4's vocabularies (raw UTF-8 BPE). */
    static final String GEMMA4_MODEL = "gemma4";
    private static final char SPACE_MARK = '\u2581';

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private final PreTokenizer pre;
    private final Map<String, Integer> ranks;
    /** Recently encoded words (most text repeats its words); access-ordered, bounded. */
    private final Map<String, int[]> cache = new LinkedHashMap<>(WORD_CACHE, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, int[]> eldest) {
            return size() > WORD_CACHE;
        }
    };

    public BytePairEncoding(Vocabulary vocab) {
        super(vocab);
        // llama.cpp uses Gemma 4's pre-tokenizer for a gemma4 vocabulary whatever tokenizer.ggml.pre says.
        this.pre = PreTokenizer.named(GEMMA4_MODEL.equals(vocab.model()) ? GEMMA4_MODEL : vocab.pre());
        String[] merges = vocab.merges();
        if (merges == null) {
            throw new MemwallException("byte-level BPE vocabulary has no merges (tokenizer.ggml.merges)");
        }
        this.ranks = new HashMap<>(merges.length * 2);
        for (int i = 0; i < merges.length; i++) {
            String m = merges[i];
            int space = m.indexOf(' ', 1);
            if (space < 0) {
                throw new MemwallException("tokenizer.ggml.merges entry " + i + " ('" + m + "') is not \"left right\"");
            }
            ranks.putIfAbsent(m, i);
        }
    }

    public PreTokenizer preTokenizer() {
        return pre;
    }

    @Override
    protected void encodeFragment(String fragment, boolean afterSpecial, IntConsumer out) {
        String text = pre.escapesSpaces() ? fragment.replace(' ', SPACE_MARK) : fragment;
        for (String word : pre.split(text)) {
            int[] ids;
            synchronized (cache) {
                ids = cache.get(word);
            }
            if (ids == null) {
                ids = encodeWord(pre.byteLevel() ? byteLevel(word) : word);
                synchronized (cache) {
                    cache.put(word, ids);
                }
            }
            for (int id : ids) {
                out.accept(id);
            }
        }
    }

    static String byteLevel(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(chars);
    }

    /** Merges the byte-level characters of one word and maps the symbols to ids. */
    private int[] encodeWord(String word) {
        if (pre.ignoresMerges() || (pre.keepsNewlineRunsWhole() && word.chars().allMatch(c -> c == '\n'))) {
            int whole = vocab.id(word);
            if (whole >= 0) {
                return new int[] {whole};
            }
        }
        // One symbol per code point (byte-level words are all single chars).
        int n = word.length();
        if (n == 0) {
            return new int[0];
        }
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        int last = -1;
        for (int i = 0; i < n; i += len[i]) {
            start[i] = i;
            len[i] = Character.charCount(word.codePointAt(i));
            prev[i] = last;
            if (last >= 0) {
                next[last] = i;
            }
            next[i] = -1;
            last = i;
        }
        // Candidate merges: (rank, left index); stale entries are skipped when popped.
        PriorityQueue<long[]> queue = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        for (int i = 0; i >= 0 && next[i] >= 0; i = next[i]) {
            offer(queue, word, start, len, i, next[i]);
        }
        while (!queue.isEmpty()) {
            long[] top = queue.poll();
            int left = (int) top[1];
            int right = (int) top[2];
            if (len[left] == 0 || len[right] == 0 || next[left] != right || len[left] + len[right] != top[3]) {
                continue;
            }
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(queue, word, start, len, prev[left], left);
            }
            if (next[left] >= 0) {
                offer(queue, word, start, len, left, next[left]);
            }
        }
        IdBufferLite ids = new IdBufferLite();
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            String symbol = word.substring(start[i], start[i] + len[i]);
            int id = vocab.id(symbol);
            if (id >= 0) {
                ids.add(id);
            } else if (pre.byteLevel()) {
                // Not in the vocabulary: each byte-level character on its own, skipping unknown ones.
                for (int k = 0; k < symbol.length(); k++) {
                    int b = vocab.id(symbol.substring(k, k + 1));
                    if (b >= 0) {
                        ids.add(b);
                    }
                }
            } else {
                // Raw UTF-8 vocabulary: each byte as its <0xAB> token, skipping missing ones.
                for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                    int byteId = vocab.id(String.format("<0x%02X>", b & 0xFF));
                    if (byteId >= 0) {
                        ids.add(byteId);
                    }
                }
            }
        }
        return ids.toArray();
    }

    private void offer(PriorityQueue<long[]> queue, String word, int[] start, int[] len, int left, int right) {
        String pair = word.substring(start[left], start[left] + len[left]) + " " + word.substring(start[right], start[right] + len[right]);
        Integer rank = ranks.get(pair);
        if (rank != null) {
            queue.add(new long[] {rank, left, right, len[left] + len[right]});
        }
    }

    @Override
    protected byte[] normalPieceBytes(String piece) {
        if (!pre.byteLevel()) {
            String text = pre.escapesSpaces() ? piece.replace(SPACE_MARK, ' ') : piece;
            return text.getBytes(StandardCharsets.UTF_8);
        }
        byte[] out = new byte[piece.length() * 3];
        int n = 0;
        for (int i = 0; i < piece.length(); i++) {
            char c = piece.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b >= 0) {
                out[n++] = (byte) b;
            } else {
                // Not a byte-level character (a hand-added token): its own UTF-8.
                byte[] raw = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < piece.length()) {
                    raw = piece.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                if (n + raw.length > out.length) {
                    out = java.util.Arrays.copyOf(out, out.length * 2 + raw.length);
                }
                System.arraycopy(raw, 0, out, n, raw.length);
                n += raw.length;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** A small growable int list. */
    private static final class IdBufferLite {
        private int[] a = new int[8];
        private int n;

        void add(int v) {
            if (n == a.length) {
                a = java.util.Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }
}
