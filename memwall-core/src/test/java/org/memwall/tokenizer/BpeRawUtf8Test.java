package org.memwall.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.memwall.gguf.MetadataValue;
import org.memwall.gguf.ValueType;

/** BPE on raw UTF-8 code points with spaces written ▁ (Gemma 4, Sarvam): merging, byte fallback, decoding. */
class BpeRawUtf8Test {
    private static final String[] TOKENS = {"a", "b", "▁", "ab", "▁ab", "\n", "\n\n", "<0xC3>", "<0xA9>", "😀"};

    private static VocabularyFixture vocabulary(String model, String pre) {
        VocabularyFixture v = VocabularyFixture.model(model, TOKENS)
                .types(1, 1, 1, 1, 1, 1, 1, Vocabulary.BYTE, Vocabulary.BYTE, 1)
                .put(Vocabulary.MERGES, new MetadataValue(ValueType.ARRAY, new MetadataValue.Array(ValueType.STRING, new String[] {"a b", "▁ ab"})));
        return pre == null ? v : v.string(Vocabulary.PRE, pre);
    }

    private static int[] ids(Tokenizer t, String... tokens) {
        int[] ids = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            ids[i] = t.vocabulary().id(tokens[i]);
        }
        return ids;
    }

    @Test
    void gemma4VocabularyMergesRawTextUsesNewlineRunsWholeAndFallsBackToByteTokens() {
        Tokenizer t = vocabulary(BytePairEncoding.GEMMA4_MODEL, null).tokenizer();
        assertThat(((BytePairEncoding) t).preTokenizer().name()).isEqualTo("gemma4");
        String text = "ab ab\n\né😀";
        int[] ids = t.encode(text, false, false);
        assertThat(ids).containsExactly(ids(t, "ab", "▁ab", "\n\n", "<0xC3>", "<0xA9>", "😀"));
        assertThat(t.decode(ids)).isEqualTo(text);
    }

    @Test
    void sarvamEscapesSpacesButSplitsNewlineRunsLikeAnyWord() {
        Tokenizer t = vocabulary("gpt2", "sarvam-moe").tokenizer();
        int[] ids = t.encode("ab ab\n\n", false, false);
        assertThat(ids).containsExactly(ids(t, "ab", "▁ab", "\n", "\n"));
        assertThat(t.decode(ids)).isEqualTo("ab ab\n\n");
    }
}
