package org.memwall.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import org.memwall.MemwallException;
import org.memwall.gguf.GgufMetadata;

/**
 * Text to token ids and back for one vocabulary. This base class does what every tokenizer model
 * shares, as llama.cpp does it ({@code llama_vocab::impl::tokenize}, {@code tokenizer_st_partition},
 * {@code token_to_piece}): it cuts special-token text out of the input, adds BOS/EOS, and turns ids
 * into bytes by token type. A subclass encodes the raw text between special tokens
 * ({@link #encodeFragment}) and says what bytes a normal token stands for ({@link #normalPieceBytes}).
 */
public abstract class Tokenizer {
    private static final byte[] NO_BYTES = {};

    protected final Vocabulary vocab;
    /**
     * Ids whose text {@link #encode} recognises in the input, longest first: by UTF-8 length as llama.cpp
     * sorts them (ties: lower id first).
     */
    private final int[] specialTokens;

    protected Tokenizer(Vocabulary vocab) {
        this.vocab = Objects.requireNonNull(vocab);
        this.specialTokens = IntStream.range(0, vocab.size())
                .filter(id -> Vocabulary.isMatchedAsSpecial(vocab.type(id)))
                .boxed()
                .sorted(Comparator.comparingInt((Integer id) -> -utf8Length(vocab.token(id))).thenComparingInt(id -> id))
                .mapToInt(Integer::intValue)
                .toArray();
        for (int id : specialTokens) {
            trie.add(vocab.token(id), id);
        }
    }

    /** The special tokens' texts as a trie, so one pass over the input finds every occurrence of all of them. */
    private final SpecialTrie trie = new SpecialTrie();

    private static final class SpecialTrie {
        private final java.util.Map<Character, SpecialTrie> children = new java.util.HashMap<>();
        private int[] ids = new int[0];

        void add(String text, int id) {
            SpecialTrie node = this;
            for (int i = 0; i < text.length(); i++) {
                node = node.children.computeIfAbsent(text.charAt(i), c -> new SpecialTrie());
            }
            node.ids = java.util.Arrays.copyOf(node.ids, node.ids.length + 1);
            node.ids[node.ids.length - 1] = id;
        }

        /** Start positions of every special token in {@code text}, by id, ascending. */
        java.util.Map<Integer, List<Integer>> occurrences(String text) {
            java.util.Map<Integer, List<Integer>> found = new java.util.HashMap<>();
            for (int start = 0; start < text.length(); start++) {
                SpecialTrie node = children.get(text.charAt(start));
                for (int i = start + 1; node != null; i++) {
                    for (int id : node.ids) {
                        found.computeIfAbsent(id, k -> new ArrayList<>()).add(start);
                    }
                    node = i < text.length() ? node.children.get(text.charAt(i)) : null;
                }
            }
            return found;
        }
    }

    /** The first start position in {@code positions} (ascending) at or after {@code from}, or -1. */
    private static int nextAt(List<Integer> positions, int from) {
        int lo = 0, hi = positions.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (positions.get(mid) < from) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < positions.size() ? positions.get(lo) : -1;
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** The tokenizer for the vocabulary in {@code metadata}, chosen by {@code tokenizer.ggml.model}. */
    public static Tokenizer from(GgufMetadata metadata) {
        return from(Vocabulary.from(metadata));
    }

    public static Tokenizer from(Vocabulary vocabulary) {
        return switch (vocabulary.model()) {
            case "llama" -> new SentencePiece(vocabulary);
            case "gpt2", BytePairEncoding.GEMMA4_MODEL -> new BytePairEncoding(vocabulary);
            default -> throw new MemwallException("unsupported tokenizer model '" + vocabulary.model()
                    + "' (metadata key '" + Vocabulary.MODEL + "'); supported: llama (SentencePiece), gpt2 (byte-level BPE), gemma4 (BPE on UTF-8)");
        };
    }

    public final Vocabulary vocabulary() {
        return vocab;
    }

    /**
     * Encodes {@code text}. With {@code parseSpecial}, text spelling a control or unknown token (such as
     * {@code <s>}) becomes that token; user-defined tokens are recognised either way, as Hugging Face
     * and llama.cpp do. With {@code addSpecial}, BOS and EOS are added where the vocabulary asks for them.
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IdBuffer out = new IdBuffer();
        if (addSpecial && vocab.addBos()) {
            out.accept(vocab.bos());
        }
        boolean afterSpecial = true;
        for (Fragment fragment : partition(text, parseSpecial)) {
            if (fragment.token() >= 0) {
                out.accept(fragment.token());
                afterSpecial = true;
            } else {
                encodeFragment(text.substring(fragment.start(), fragment.end()), afterSpecial, out);
                afterSpecial = false;
            }
        }
        if (addSpecial && vocab.addEos()) {
            out.accept(vocab.eos());
        }
        return out.toArray();
    }

    /**
     * Encodes one run of raw text (never empty, holding no special token) into {@code out}.
     * {@code afterSpecial} is true when the run starts the text or follows a special token: the place
     * where SentencePiece adds its dummy-prefix space.
     */
    protected abstract void encodeFragment(String fragment, boolean afterSpecial, IntConsumer out);

    /** The bytes a token of type normal contributes to the output text. */
    protected abstract byte[] normalPieceBytes(String piece);

    /**
     * The bytes token {@code id} contributes to output text: normal tokens as the model decodes them,
     * byte tokens {@code <0xAB>} as that byte, user-defined tokens as their text; control, unknown and
     * unused tokens as nothing.
     */
    public byte[] tokenBytes(int id) {
        Objects.checkIndex(id, vocab.size());
        String text = vocab.token(id);
        return switch (vocab.type(id)) {
            case Vocabulary.NORMAL -> normalPieceBytes(text);
            case Vocabulary.BYTE -> {
                int value = byteValue(text);
                yield value >= 0 ? new byte[] {(byte) value} : normalPieceBytes(text);
            }
            case Vocabulary.USER_DEFINED -> text.getBytes(StandardCharsets.UTF_8);
            default -> NO_BYTES;
        };
    }

    /**
     * The text of {@code ids}; byte sequences that are not UTF-8 become U+FFFD. When the vocabulary adds
     * a dummy-prefix space, the one space it put before the first word is removed.
     */
    public String decode(int[] ids) {
        StreamingDetokenizer detokenizer = new StreamingDetokenizer(this);
        StringBuilder text = new StringBuilder();
        for (int id : ids) {
            text.append(detokenizer.push(id));
        }
        return text.append(detokenizer.flush()).toString();
    }

    public boolean isEndOfGeneration(int id) {
        return vocab.isEndOfGeneration(id);
    }

    /** The value of a byte token's text {@code <0xAB>}, or -1 when the text has another shape. */
    static int byteValue(String text) {
        if (text.length() != 6 || !text.startsWith("<0x") || text.charAt(5) != '>') {
            return -1;
        }
        int high = Character.digit(text.charAt(3), 16);
        int low = Character.digit(text.charAt(4), 16);
        return high < 0 || low < 0 ? -1 : high << 4 | low;
    }

    /** A special token ({@code token >= 0}) or a run of raw text {@code [start, end)} of the input. */
    record Fragment(int token, int start, int end) {
        static Fragment raw(int start, int end) {
            return new Fragment(-1, start, end);
        }
    }

    /**
     * Splits {@code text} into special tokens and raw runs. Special tokens are tried longest first; each
     * one splits every raw run left by the longer ones at all its non-overlapping occurrences, leftmost
     * first (llama.cpp's {@code tokenizer_st_partition}).
     */
    List<Fragment> partition(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(Fragment.raw(0, text.length()));
        java.util.Map<Integer, List<Integer>> occurrences = trie.occurrences(text);
        for (int id : specialTokens) {
            int type = vocab.type(id);
            List<Integer> at = occurrences.get(id);
            if (at == null || (!parseSpecial && (type == Vocabulary.CONTROL || type == Vocabulary.UNKNOWN))) {
                continue;
            }
            String special = vocab.token(id);
            int next = at.get(0);
            if (next < 0) {
                continue;
            }
            List<Fragment> split = new ArrayList<>(fragments.size() + 2);
            for (Fragment fragment : fragments) {
                if (fragment.token() >= 0 || next < 0) {
                    split.add(fragment);
                    continue;
                }
                int start = fragment.start();
                if (next < start) {
                    next = nextAt(at, start);
                }
                while (next >= 0 && next + special.length() <= fragment.end()) {
                    if (next > start) {
                        split.add(Fragment.raw(start, next));
                    }
                    split.add(new Fragment(id, next, next + special.length()));
                    start = next + special.length();
                    if (vocab.stripsWhitespaceAfter(id)) {
                        while (start < fragment.end() && isAsciiSpace(text.charAt(start))) {
                            start++;
                        }
                    }
                    next = nextAt(at, start);
                }
                if (start < fragment.end()) {
                    split.add(Fragment.raw(start, fragment.end()));
                }
            }
            fragments = split;
        }
        return fragments;
    }

    /** C's {@code isspace} in the "C" locale, which llama.cpp uses for stripping. */
    private static boolean isAsciiSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    /** A growable int array, the sink encoders write ids into. */
    private static final class IdBuffer implements IntConsumer {
        private int[] ids = new int[64];
        private int size;

        @Override
        public void accept(int id) {
            if (size == ids.length) {
                ids = Arrays.copyOf(ids, size * 2);
            }
            ids[size++] = id;
        }

        int[] toArray() {
            return Arrays.copyOf(ids, size);
        }
    }
}
