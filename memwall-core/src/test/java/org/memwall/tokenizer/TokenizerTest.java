package org.memwall.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;

/** What every tokenizer shares: special-token parsing, BOS/EOS, the factory. Exercised through SentencePiece. */
class TokenizerTest {
    private final Tokenizer t = VocabularyFixture.spm("▁a", "▁b", "▁", "a", "b", "<tool>", "<tool>x", "<|user|>")
            .type("<tool>", Vocabulary.USER_DEFINED)
            .type("<tool>x", Vocabulary.USER_DEFINED)
            .type("<|user|>", Vocabulary.CONTROL)
            .tokenizer();

    private int id(String text) {
        return t.vocabulary().id(text);
    }

    @Test
    void parsesControlTokenTextOnlyWhenAsked() {
        assertThat(t.encode("a<s>b", false, true)).containsExactly(id("▁a"), 1, id("▁b"));
        assertThat(t.encode("a<|user|>", false, true)).containsExactly(id("▁a"), id("<|user|>"));
        assertThat(t.encode("a<|user|>", false, false)).doesNotContain(id("<|user|>"));
        assertThat(t.encode("a<s>b", false, false)).doesNotContain(1);
    }

    @Test
    void parsesUnknownTokenTextOnlyWhenAsked() {
        assertThat(t.encode("<unk>", false, true)).containsExactly(0);
        assertThat(t.encode("<unk>", false, false)).doesNotContain(0);
    }

    @Test
    void recognisesUserDefinedTokensEvenWithoutParsingSpecialTokens() {
        assertThat(t.encode("a<tool>b", false, false)).containsExactly(id("▁a"), id("<tool>"), id("▁b"));
    }

    @Test
    void prefersTheLongestSpecialToken() {
        assertThat(t.encode("<tool>x<tool>", false, false)).containsExactly(id("<tool>x"), id("<tool>"));
    }

    @Test
    void addsTheDummyPrefixAtTheStartAndAfterEverySpecialToken() {
        assertThat(t.encode("a</s>a", false, true)).containsExactly(id("▁a"), 2, id("▁a"));
        assertThat(t.encode("</s>a", false, true)).containsExactly(2, id("▁a"));
    }

    @Test
    void addsBosAndEosAsTheVocabularyAsks() {
        assertThat(t.encode("a", true, false)).containsExactly(1, id("▁a"));
        assertThat(t.encode("a", false, false)).containsExactly(id("▁a"));

        Tokenizer eos = VocabularyFixture.spm("▁a").flag(Vocabulary.ADD_EOS, true).tokenizer();
        assertThat(eos.encode("a", true, false)).containsExactly(1, eos.vocabulary().id("▁a"), 2);

        Tokenizer none = VocabularyFixture.spm("▁a").flag(Vocabulary.ADD_BOS, false).tokenizer();
        assertThat(none.encode("a", true, false)).containsExactly(none.vocabulary().id("▁a"));
    }

    @Test
    void decodeDropsTheDummyPrefixAndRendersNoControlTokens() {
        assertThat(t.decode(t.encode("a b", true, false))).isEqualTo("a b");
        // The space SentencePiece puts after a special token stays, as in llama.cpp.
        assertThat(t.decode(t.encode("a b<tool>a", true, false))).isEqualTo("a b<tool> a");
        assertThat(t.decode(new int[] {1, id("▁a"), 2, id("▁b")})).isEqualTo("a b");
        assertThat(t.decode(new int[0])).isEmpty();
    }

    @Test
    void phi3SpecialTokensSwallowTheWhitespaceAfterThem() {
        VocabularyFixture phi3 = VocabularyFixture.spm("▁a", "▁", "a", "<|end|>", "<|endoftext|>")
                .type("<|end|>", Vocabulary.CONTROL).type("<|endoftext|>", Vocabulary.CONTROL);
        Tokenizer plain = phi3.tokenizer();
        Tokenizer stripping = phi3.string("general.name", "Phi-3 mini").tokenizer();
        int end = plain.vocabulary().id("<|end|>");
        int endOfText = plain.vocabulary().id("<|endoftext|>");
        int a = plain.vocabulary().id("▁a");
        int lf = 3 + '\n';

        assertThat(stripping.encode("<|end|>\n a", false, true)).containsExactly(end, a);
        assertThat(plain.encode("<|end|>\n a", false, true)).containsExactly(end, plain.vocabulary().id("▁"), lf, a);
        // <|endoftext|> keeps what follows it, as in Phi-3's own tokenizer
        assertThat(stripping.encode("<|endoftext|>\na", false, true)).containsExactly(endOfText, plain.vocabulary().id("▁"), lf, plain.vocabulary().id("a"));
    }

    @Test
    void endOfGenerationComesFromTheVocabulary() {
        assertThat(t.isEndOfGeneration(2)).isTrue();
        assertThat(t.isEndOfGeneration(1)).isFalse();
        assertThat(t.isEndOfGeneration(id("▁a"))).isFalse();
    }

    @Test
    void factoryPicksSentencePieceForLlamaVocabularies() {
        assertThat(VocabularyFixture.spm("a").tokenizer()).isInstanceOf(SentencePiece.class);
    }

    @Test
    void factoryNamesUnsupportedTokenizerModels() {
        assertThatThrownBy(VocabularyFixture.model("bert", "[PAD]", "a")::tokenizer).isInstanceOf(MemwallException.class)
                .hasMessageContaining("'bert'").hasMessageContaining("llama").hasMessageContaining("gpt2");
        // gpt2 vocabularies need merges; without them the error names the missing key.
        assertThatThrownBy(VocabularyFixture.model("gpt2", "a", "b")::tokenizer).isInstanceOf(MemwallException.class)
                .hasMessageContaining("tokenizer.ggml.merges");
    }
}
