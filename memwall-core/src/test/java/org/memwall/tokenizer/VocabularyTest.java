package org.memwall.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;
import org.memwall.gguf.MetadataValue;
import org.memwall.gguf.ValueType;

class VocabularyTest {

    @Test
    void sentencePieceDefaultsFollowLlamaCpp() {
        Vocabulary v = VocabularyFixture.llama("<unk>", "<s>", "</s>", "a").vocabulary();
        assertThat(v.model()).isEqualTo("llama");
        assertThat(v.pre()).isNull();
        assertThat(v.unk()).isZero();
        assertThat(v.bos()).isEqualTo(1);
        assertThat(v.eos()).isEqualTo(2);
        assertThat(v.eot()).isEqualTo(-1);
        assertThat(v.pad()).isEqualTo(-1);
        assertThat(v.addBos()).isTrue();
        assertThat(v.addEos()).isFalse();
        assertThat(v.addSpacePrefix()).isTrue();
        assertThat(v.scores()).isNull();
        // Without token_type every token is normal, except that llama.cpp's by-name rules make </s> control.
        assertThat(v.types()).containsExactly(Vocabulary.NORMAL, Vocabulary.NORMAL, Vocabulary.CONTROL, Vocabulary.NORMAL);
        assertThat(v.merges()).isNull();
    }

    @Test
    void defaultIdsOutsideASmallVocabularyAreUnset() {
        Vocabulary v = VocabularyFixture.llama("<unk>", "<s>").flag(Vocabulary.ADD_BOS, true).vocabulary();
        assertThat(v.bos()).isEqualTo(1);
        assertThat(v.eos()).isEqualTo(-1);
    }

    @Test
    void byteLevelBpeAddsNoBosOrSpacePrefixUnlessItsPreTokenizerOrAKeySaysSo() {
        Vocabulary gpt2 = VocabularyFixture.model("gpt2", tokens(20)).string(Vocabulary.PRE, "gpt-2").vocabulary();
        assertThat(gpt2.addBos()).isFalse();
        assertThat(gpt2.addSpacePrefix()).isFalse();
        assertThat(gpt2.pre()).isEqualTo("gpt-2");

        Vocabulary llama3 = VocabularyFixture.model("gpt2", tokens(20)).string(Vocabulary.PRE, "llama-bpe")
                .id(Vocabulary.BOS_ID, 5).vocabulary();
        assertThat(llama3.addBos()).isTrue();
        assertThat(llama3.bos()).isEqualTo(5);

        Vocabulary keyed = VocabularyFixture.model("gpt2", tokens(20)).flag(Vocabulary.ADD_BOS, true)
                .flag(Vocabulary.ADD_SPACE_PREFIX, true).vocabulary();
        assertThat(keyed.addBos()).isTrue();
        assertThat(keyed.addSpacePrefix()).isTrue();
    }

    @Test
    void keysOverrideDefaults() {
        Vocabulary v = VocabularyFixture.llama(tokens(10)).id(Vocabulary.BOS_ID, 7).id(Vocabulary.EOS_ID, 8)
                .id(Vocabulary.UNK_ID, 9).id(Vocabulary.PAD_ID, 6).id(Vocabulary.EOT_ID, 5)
                .flag(Vocabulary.ADD_BOS, false).flag(Vocabulary.ADD_EOS, true)
                .flag(Vocabulary.ADD_SPACE_PREFIX, false).vocabulary();
        assertThat(new int[] {v.bos(), v.eos(), v.unk(), v.pad(), v.eot()}).containsExactly(7, 8, 9, 6, 5);
        assertThat(v.addBos()).isFalse();
        assertThat(v.addEos()).isTrue();
        assertThat(v.addSpacePrefix()).isFalse();
    }

    @Test
    void minusOneStoredAsUnsignedMeansNoToken() {
        // llama2.c's exporter writes padding_token_id = -1 as a uint32
        Vocabulary v = VocabularyFixture.llama(tokens(10))
                .put(Vocabulary.PAD_ID, new MetadataValue(ValueType.UINT32, -1)).vocabulary();
        assertThat(v.pad()).isEqualTo(-1);
    }

    @Test
    void looksUpIdsByText() {
        Vocabulary v = VocabularyFixture.llama("<unk>", "<s>", "</s>", "▁hello", "world").vocabulary();
        assertThat(v.id("▁hello")).isEqualTo(3);
        assertThat(v.id("world")).isEqualTo(4);
        assertThat(v.id("missing")).isEqualTo(-1);
        assertThat(v.size()).isEqualTo(5);
        assertThat(v.token(3)).isEqualTo("▁hello");
    }

    @Test
    void endOfGenerationHoldsEosEotAndTokensKnownByName() {
        Vocabulary v = VocabularyFixture.llama("<unk>", "<s>", "</s>", "<|im_end|>", "<|endoftext|>", "hello")
                .vocabulary();
        assertThat(v.eot()).isEqualTo(3); // found by name
        assertThat(v.endOfGeneration()).containsExactly(2, 3, 4);
        assertThat(v.isEndOfGeneration(5)).isFalse();
        // A control-looking end token typed normal in the file is treated as control, as llama.cpp does.
        assertThat(v.type(3)).isEqualTo(Vocabulary.CONTROL);
        assertThat(v.type(4)).isEqualTo(Vocabulary.CONTROL);
    }

    @Test
    void harmonyEndTokenDoesNotEndGeneration() {
        Vocabulary v = VocabularyFixture.llama("<unk>", "<s>", "</s>", "<|return|>", "<|call|>", "<|end|>").vocabulary();
        assertThat(v.isEndOfGeneration(3)).isTrue();
        assertThat(v.isEndOfGeneration(4)).isTrue();
        assertThat(v.isEndOfGeneration(5)).isFalse();
        assertThat(v.type(5)).isEqualTo(Vocabulary.USER_DEFINED);
    }

    @Test
    void acceptsIntegerScores() {
        Vocabulary v = VocabularyFixture.llama("a", "b")
                .put(Vocabulary.SCORES, new MetadataValue(ValueType.ARRAY, new MetadataValue.Array(ValueType.INT32, new int[] {-3, 4})))
                .vocabulary();
        assertThat(v.scores()).containsExactly(-3f, 4f);
    }

    @Test
    void rejectsMissingTokenList() {
        assertThatThrownBy(VocabularyFixture.llama("a").without(Vocabulary.TOKENS)::vocabulary).isInstanceOf(MemwallException.class)
                .hasMessageContaining("tokenizer.ggml.tokens").hasMessageContaining("missing");
    }

    @Test
    void rejectsMissingTokenizerModel() {
        assertThatThrownBy(VocabularyFixture.llama("a").without(Vocabulary.MODEL)::vocabulary).isInstanceOf(MemwallException.class)
                .hasMessageContaining("tokenizer.ggml.model");
    }

    @Test
    void rejectsTokenListThatIsNotStrings() {
        var fixture = VocabularyFixture.llama("a").put(Vocabulary.TOKENS,
                new MetadataValue(ValueType.ARRAY, new MetadataValue.Array(ValueType.INT32, new int[] {1, 2})));
        assertThatThrownBy(fixture::vocabulary).isInstanceOf(MemwallException.class)
                .hasMessageContaining("tokenizer.ggml.tokens").hasMessageContaining("strings");
    }

    @Test
    void rejectsTypesAndScoresOfTheWrongElementType() {
        var floatTypes = VocabularyFixture.llama("a").put(Vocabulary.TOKEN_TYPE,
                new MetadataValue(ValueType.ARRAY, new MetadataValue.Array(ValueType.FLOAT32, new float[] {1f})));
        assertThatThrownBy(floatTypes::vocabulary).isInstanceOf(MemwallException.class)
                .hasMessageContaining("tokenizer.ggml.token_type");
        var hugeTypes = VocabularyFixture.llama("a").put(Vocabulary.TOKEN_TYPE,
                new MetadataValue(ValueType.ARRAY, new MetadataValue.Array(ValueType.INT64, new long[] {1L << 40})));
        assertThatThrownBy(hugeTypes::vocabulary).isInstanceOf(MemwallException.class)
                .hasMessageContaining("tokenizer.ggml.token_type");
        var stringScores = VocabularyFixture.llama("a").put(Vocabulary.SCORES,
                new MetadataValue(ValueType.ARRAY, new MetadataValue.Array(ValueType.STRING, new String[] {"x"})));
        assertThatThrownBy(stringScores::vocabulary).isInstanceOf(MemwallException.class)
                .hasMessageContaining("tokenizer.ggml.scores");
    }

    @Test
    void rejectsEmptyTokenList() {
        assertThatThrownBy(VocabularyFixture.llama()::vocabulary).isInstanceOf(MemwallException.class)
                .hasMessageContaining("tokenizer.ggml.tokens").hasMessageContaining("no tokens");
    }

    @Test
    void rejectsScoresOfAnotherLength() {
        assertThatThrownBy(VocabularyFixture.llama("a", "b", "c").scores(0f, 1f)::vocabulary)
                .isInstanceOf(MemwallException.class)
                .hasMessage("metadata key 'tokenizer.ggml.scores' has 2 entries, but 'tokenizer.ggml.tokens' has 3 tokens");
    }

    @Test
    void rejectsTypesOfAnotherLength() {
        assertThatThrownBy(VocabularyFixture.llama("a", "b", "c").types(1, 1, 1, 1)::vocabulary)
                .isInstanceOf(MemwallException.class)
                .hasMessageContaining("tokenizer.ggml.token_type").hasMessageContaining("4 entries");
    }

    @Test
    void rejectsSpecialIdOutsideTheVocabularyNamingKeyAndValue() {
        assertThatThrownBy(VocabularyFixture.llama(tokens(10)).id(Vocabulary.EOS_ID, 10)::vocabulary)
                .isInstanceOf(MemwallException.class)
                .hasMessage("metadata key 'tokenizer.ggml.eos_token_id' is 10, outside the vocabulary of 10 tokens");
        assertThatThrownBy(VocabularyFixture.llama(tokens(10)).id(Vocabulary.EOT_ID, 4000)::vocabulary)
                .isInstanceOf(MemwallException.class).hasMessageContaining("eot_token_id' is 4000");
    }

    @Test
    void rejectsDuplicateTokens() {
        assertThatThrownBy(VocabularyFixture.llama("a", "b", "a")::vocabulary).isInstanceOf(MemwallException.class)
                .hasMessageContaining("'a' twice, at ids 0 and 2");
    }

    @Test
    void rejectsAddingABosThatIsNotSet() {
        assertThatThrownBy(VocabularyFixture.model("gpt2", "a", "b").flag(Vocabulary.ADD_BOS, true)::vocabulary)
                .isInstanceOf(MemwallException.class)
                .hasMessageContaining("tokenizer.ggml.add_bos_token").hasMessageContaining("bos_token_id");
    }

    @Test
    void namesEmptyTokensUniquely() {
        Vocabulary v = VocabularyFixture.llama("a", "", "b").vocabulary();
        assertThat(v.token(1)).isEqualTo("[EMPTY_1]");
    }

    private static String[] tokens(int n) {
        String[] tokens = new String[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = "t" + i;
        }
        return tokens;
    }
}
