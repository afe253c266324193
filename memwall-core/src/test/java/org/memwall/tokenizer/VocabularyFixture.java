package org.memwall.tokenizer;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.memwall.gguf.GgufMetadata;
import org.memwall.gguf.MetadataValue;
import org.memwall.gguf.ValueType;

/**
 * Builds {@code tokenizer.ggml.*} metadata for small hand-made vocabularies, so tests need no GGUF
 * file. Starts with a token list; add scores, types, ids and flags as a test needs them.
 */
final class VocabularyFixture {
    private final Map<String, MetadataValue> values = new LinkedHashMap<>();

    private VocabularyFixture(String model, String... tokens) {
        values.put(Vocabulary.MODEL, new MetadataValue(ValueType.STRING, model));
        values.put(Vocabulary.TOKENS, new MetadataValue(ValueType.ARRAY, new MetadataValue.Array(ValueType.STRING, tokens)));
    }

    static VocabularyFixture llama(String... tokens) {
        return new VocabularyFixture("llama", tokens);
    }

    static VocabularyFixture model(String model, String... tokens) {
        return new VocabularyFixture(model, tokens);
    }

    /** Id of the first piece in {@link #spm}: after {@code <unk>}, {@code <s>}, {@code </s>} and 256 byte tokens. */
    static final int FIRST_PIECE = 3 + 256;

    /**
     * A SentencePiece vocabulary like Llama's: {@code <unk>} (0, unknown), {@code <s>} (1, control),
     * {@code </s>} (2, control), byte tokens {@code <0x00>..<0xFF>} (3..258), then {@code pieces} from
     * {@link #FIRST_PIECE} on, normal, with scores falling in order: earlier pieces win merges.
     */
    static VocabularyFixture spm(String... pieces) {
        int n = FIRST_PIECE + pieces.length;
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        tokens[0] = "<unk>";
        types[0] = Vocabulary.UNKNOWN;
        tokens[1] = "<s>";
        types[1] = Vocabulary.CONTROL;
        tokens[2] = "</s>";
        types[2] = Vocabulary.CONTROL;
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = Vocabulary.BYTE;
        }
        for (int i = 0; i < pieces.length; i++) {
            tokens[FIRST_PIECE + i] = pieces[i];
            scores[FIRST_PIECE + i] = -1 - i;
            types[FIRST_PIECE + i] = Vocabulary.NORMAL;
        }
        return llama(tokens).scores(scores).types(types);
    }

    /** Changes the type of one token given by its text. */
    VocabularyFixture type(String token, int type) {
        String[] tokens = (String[]) ((MetadataValue.Array) values.get(Vocabulary.TOKENS).value()).values();
        int[] types = (int[]) ((MetadataValue.Array) values.get(Vocabulary.TOKEN_TYPE).value()).values();
        types[Arrays.asList(tokens).indexOf(token)] = type;
        return this;
    }

    VocabularyFixture scores(float... scores) {
        return put(Vocabulary.SCORES, new MetadataValue(ValueType.ARRAY, new MetadataValue.Array(ValueType.FLOAT32, scores)));
    }

    VocabularyFixture types(int... types) {
        return put(Vocabulary.TOKEN_TYPE, new MetadataValue(ValueType.ARRAY, new MetadataValue.Array(ValueType.INT32, types)));
    }

    VocabularyFixture id(String key, int id) {
        return put(key, new MetadataValue(ValueType.UINT32, id));
    }

    VocabularyFixture flag(String key, boolean value) {
        return put(key, new MetadataValue(ValueType.BOOL, value));
    }

    VocabularyFixture string(String key, String value) {
        return put(key, new MetadataValue(ValueType.STRING, value));
    }

    VocabularyFixture put(String key, MetadataValue value) {
        values.put(key, value);
        return this;
    }

    VocabularyFixture without(String key) {
        values.remove(key);
        return this;
    }

    GgufMetadata metadata() {
        return new GgufMetadata(values);
    }

    Vocabulary vocabulary() {
        return Vocabulary.from(metadata());
    }

    Tokenizer tokenizer() {
        return Tokenizer.from(metadata());
    }
}
