package org.memwall.tokenizer;

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
