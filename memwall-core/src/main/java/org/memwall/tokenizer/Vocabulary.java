package org.memwall.tokenizer;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.memwall.MemwallException;
import org.memwall.gguf.GgufMetadata;
import org.memwall.gguf.MetadataValue;
import org.memwall.gguf.ValueType;

/**
 * A model's vocabulary as stored under {@code tokenizer.ggml.*}: the token texts with their scores
 * and types, the ids with a special role, and the flags that say which of them encoding adds.
 * Defaults for absent keys are llama.cpp's ({@code llama_vocab::impl::load}). Immutable; the arrays
 * returned by the accessors are shared and must not be modified.
 */
public final class Vocabulary {
    /** Token types, the values of {@code tokenizer.ggml.token_type} (llama.cpp's {@code llama_token_type}). */
    public static final int UNDEFINED = 0, NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    static final String MODEL = "tokenizer.ggml.model";
    static final String PRE = "tokenizer.ggml.pre";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
    static final String MERGES = "tokenizer.ggml.merges";
    static final String BOS_ID = "tokenizer.ggml.bos_token_id";
    static final String EOS_ID = "tokenizer.ggml.eos_token_id";
    static final String EOT_ID = "tokenizer.ggml.eot_token_id";
    static final String EOM_ID = "tokenizer.ggml.eom_token_id";
    static final String UNK_ID = "tokenizer.ggml.unknown_token_id";
    static final String PAD_ID = "tokenizer.ggml.padding_token_id";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String ADD_EOS = "tokenizer.ggml.add_eos_token";
    static final String ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";

    /** Byte-level BPE pre-tokenizers whose models expect a BOS although {@code gpt2} vocabularies default to none. */
    private static final Set<String> BPE_PRE_WITH_BOS = Set.of("llama3", "llama-v3", "llama-bpe", "falcon3",
            "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano", "tekken", "chameleon");

    private final String model;
    private final String pre;
    private final String[] tokens;
    private final float[] scores;
    private final int[] types;
    private final String[] merges;
    private final int bos, eos, eot, eom, pad, unk;
    private final boolean addBos, addEos, addSpacePrefix;
    private final int[] endOfGeneration;
    private final BitSet rstrip;
    private final Map<String, Integer> ids;

    private Vocabulary(String model, String pre, String[] tokens, float[] scores, int[] types, String[] merges,
                       int bos, int eos, int unk, int pad, boolean addBos, boolean addEos, boolean addSpacePrefix,
                       SpecialTokenConventions.Result conventions, Map<String, Integer> ids) {
        this.model = model;
        this.pre = pre;
        this.tokens = tokens;
        this.scores = scores;
        this.types = types;
        this.merges = merges;
        this.bos = bos;
        this.eos = eos;
        this.eot = conventions.roles().eot();
        this.eom = conventions.roles().eom();
        this.pad = pad;
        this.unk = unk;
        this.addBos = addBos;
        this.addEos = addEos;
        this.addSpacePrefix = addSpacePrefix;
        this.endOfGeneration = conventions.endOfGeneration();
        this.rstrip = conventions.rstrip();
        this.ids = ids;
    }

    /**
     * Reads and validates the vocabulary. Errors name the offending key: a missing or non-string token
     * list, scores or types of another length than the tokens, a special id outside the vocabulary,
     * a duplicate token, or a BOS/EOS that must be added but is not set.
     */
    public static Vocabulary from(GgufMetadata metadata) {
        String model = metadata.getString(MODEL, null);
        if (model == null) {
            throw new MemwallException("the model file has no tokenizer: metadata key '" + MODEL + "' is missing");
        }
        String pre = metadata.getString(PRE, null);
        if (!metadata.contains(TOKENS)) {
            throw new MemwallException("the model file has no vocabulary: metadata key '" + TOKENS + "' is missing");
        }
        String[] tokens = metadata.getStringArray(TOKENS).clone();
        int n = tokens.length;
        if (n == 0) {
            throw new MemwallException("metadata key '" + TOKENS + "' holds no tokens");
        }
        float[] scores = metadata.contains(SCORES) ? readScores(metadata) : null;
        requireLength(SCORES, scores == null ? n : scores.length, n);
        int[] types;
        if (metadata.contains(TOKEN_TYPE)) {
            try {
                types = metadata.getIntArray(TOKEN_TYPE).clone();
            } catch (ArithmeticException e) {
                throw new MemwallException("metadata key '" + TOKEN_TYPE + "' holds a value outside the int range");
            }
            requireLength(TOKEN_TYPE, types.length, n);
        } else {
            types = new int[n];
            Arrays.fill(types, NORMAL);
        }
        String[] merges = metadata.contains(MERGES) ? metadata.getStringArray(MERGES) : null;

        Map<String, Integer> ids = HashMap.newHashMap(n);
        for (int i = 0; i < n; i++) {
            if (tokens[i].isEmpty()) {
                // As llama.cpp: an empty token can never be produced by encoding; give it a unique name.
                tokens[i] = "[EMPTY_" + i + "]";
            }
            Integer previous = ids.putIfAbsent(tokens[i], i);
            if (previous != null) {
                throw new MemwallException("metadata key '" + TOKENS + "' holds the token '" + tokens[i]
                        + "' twice, at ids " + previous + " and " + i);
            }
        }

        // llama.cpp's defaults per tokenizer model; gpt2's 11 is Falcon's <|endoftext|>, kept for fidelity.
        int defaultBos = -1, defaultEos = -1, defaultUnk = -1;
        boolean addBos = false, addSpacePrefix = false;
        switch (model) {
            case "llama" -> {
                defaultBos = 1;
                defaultEos = 2;
                defaultUnk = 0;
                addBos = true;
                addSpacePrefix = true;
            }
            case "gpt2" -> {
                boolean glm = "glm4".equals(pre) || "chatglm-bpe".equals(pre);
                defaultBos = glm ? -1 : 11;
                defaultEos = 11;
                addBos = pre != null && BPE_PRE_WITH_BOS.contains(pre);
            }
            default -> {
            }
        }
        addSpacePrefix = metadata.getBoolean(ADD_SPACE_PREFIX, addSpacePrefix);
        int bos = specialId(metadata, BOS_ID, defaultBos, n);
        int eos = specialId(metadata, EOS_ID, defaultEos, n);
        int unk = specialId(metadata, UNK_ID, defaultUnk, n);
        int pad = specialId(metadata, PAD_ID, -1, n);
        addBos = metadata.getBoolean(ADD_BOS, addBos);
        boolean addEos = metadata.getBoolean(ADD_EOS, false);
        if (addBos && bos < 0) {
            throw new MemwallException("metadata key '" + ADD_BOS + "' is true, but '" + BOS_ID + "' is not set");
        }
        if (addEos && eos < 0) {
            throw new MemwallException("metadata key '" + ADD_EOS + "' is true, but '" + EOS_ID + "' is not set");
        }

        SpecialTokenConventions.Roles declared = new SpecialTokenConventions.Roles(
                specialId(metadata, EOT_ID, -1, n),
                specialId(metadata, EOM_ID, -1, n),
                specialId(metadata, "tokenizer.ggml.fim_pre_token_id", specialId(metadata, "tokenizer.ggml.prefix_token_id", -1, n), n),
                specialId(metadata, "tokenizer.ggml.fim_suf_token_id", specialId(metadata, "tokenizer.ggml.suffix_token_id", -1, n), n),
                specialId(metadata, "tokenizer.ggml.fim_mid_token_id", specialId(metadata, "tokenizer.ggml.middle_token_id", -1, n), n),
                specialId(metadata, "tokenizer.ggml.fim_pad_token_id", -1, n),
                specialId(metadata, "tokenizer.ggml.fim_rep_token_id", -1, n),
                specialId(metadata, "tokenizer.ggml.fim_sep_token_id", -1, n));
        String name = metadata.getString("general.name", null);
        SpecialTokenConventions.Result conventions = SpecialTokenConventions.apply(tokens, types, ids, eos, declared, name);
        return new Vocabulary(model, pre, tokens, scores, types, merges, bos, eos, unk, pad, addBos, addEos,
                addSpacePrefix, conventions, ids);
    }

    private static float[] readScores(GgufMetadata metadata) {
        MetadataValue.Array array = metadata.getArray(SCORES);
        if (array.elementType() == ValueType.INT32) {
            // llama.cpp accepts integer scores too
            int[] integers = metadata.getIntArray(SCORES);
            float[] scores = new float[integers.length];
            for (int i = 0; i < integers.length; i++) {
                scores[i] = integers[i];
            }
            return scores;
        }
        return metadata.getFloatArray(SCORES);
    }

    private static void requireLength(String key, int length, int tokens) {
        if (length != tokens) {
            throw new MemwallException("metadata key '" + key + "' has " + length + " entries, but '" + TOKENS
                    + "' has " + tokens + " tokens");
        }
    }

    /**
     * The id under {@code key}; without the key, {@code fallback} when it lies inside the vocabulary, else -1.
     * A stored -1 (also as unsigned 0xFFFFFFFF, as llama2.c's exporter writes "none") counts as absent.
     */
    private static int specialId(GgufMetadata metadata, String key, int fallback, int size) {
        long id = metadata.contains(key) ? metadata.getLong(key) : -1;
        if (id == -1 || id == 0xFFFF_FFFFL) {
            return fallback < size ? fallback : -1;
        }
        if (id < 0 || id >= size) {
            throw new MemwallException("metadata key '" + key + "' is " + id + ", outside the vocabulary of "
                    + size + " tokens");
        }
        return (int) id;
    }

    /** Types that special-token parsing matches in text (llama.cpp's special tokens cache). */
    static boolean isMatchedAsSpecial(int type) {
        return type == CONTROL || type == USER_DEFINED || type == UNKNOWN;
    }

    /** The id of the token with exactly this text, or -1. */
    public int id(String piece) {
        Integer id = ids.get(piece);
        return id == null ? -1 : id;
    }

    public int size() {
        return tokens.length;
    }

    public String token(int id) {
        return tokens[id];
    }

    public int type(int id) {
        return types[id];
    }

    /** The SentencePiece score of a token; 0 when the vocabulary has no scores. */
    public float score(int id) {
        return scores == null ? 0f : scores[id];
    }

    /** True for ids that end generation: EOS, EOT, EOM and the end tokens llama.cpp recognises by name. */
    public boolean isEndOfGeneration(int id) {
        return Arrays.binarySearch(endOfGeneration, id) >= 0;
    }

    /** The end-of-generation ids, ascending. */
    public int[] endOfGeneration() {
        return endOfGeneration.clone();
    }

    /** Whether parsing this special token also consumes the whitespace right after it (Phi-3). */
    boolean stripsWhitespaceAfter(int id) {
        return rstrip.get(id);
    }

    /** {@code tokenizer.ggml.model}: {@code llama} (SentencePiece), {@code gpt2} (byte-level BPE), ... */
    public String model() {
        return model;
    }

    /** {@code tokenizer.ggml.pre}, the pre-tokenizer name of BPE vocabularies; null when absent. */
    public String pre() {
        return pre;
    }

    public String[] tokens() {
        return tokens;
    }

    /** Null when the file has no scores. */
    public float[] scores() {
        return scores;
    }

    /** Token types after llama.cpp's by-name corrections (see {@link SpecialTokenConventions}). */
    public int[] types() {
        return types;
    }

    /** BPE merges, "left right" in rank order; null when absent. */
    public String[] merges() {
        return merges;
    }

    public int bos() {
        return bos;
    }

    public int eos() {
        return eos;
    }

    public int eot() {
        return eot;
    }

    public int eom() {
        return eom;
    }

    public int pad() {
        return pad;
    }

    public int unk() {
        return unk;
    }

    public boolean addBos() {
        return addBos;
    }

    public boolean addEos() {
        return addEos;
    }

    public boolean addSpacePrefix() {
        return addSpacePrefix;
    }
}
