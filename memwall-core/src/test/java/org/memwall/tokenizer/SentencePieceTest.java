package org.memwall.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class SentencePieceTest {

    private static Tokenizer withoutPrefix(String... pieces) {
        return VocabularyFixture.spm(pieces).flag(Vocabulary.ADD_SPACE_PREFIX, false).tokenizer();
    }

    private static int piece(Tokenizer t, String text) {
        return t.vocabulary().id(text);
    }

    private static int byteToken(int b) {
        return 3 + b;
    }

    @Test
    void mergesTheHighestScoringPairFirst() {
        Tokenizer bcFirst = withoutPrefix("bc", "ab", "a", "b", "c");
        assertThat(bcFirst.encode("abc", false, false)).containsExactly(piece(bcFirst, "a"), piece(bcFirst, "bc"));
        Tokenizer abFirst = withoutPrefix("ab", "bc", "a", "b", "c");
        assertThat(abFirst.encode("abc", false, false)).containsExactly(piece(abFirst, "ab"), piece(abFirst, "c"));
    }

    @Test
    void breaksScoreTiesTowardsTheLeftmostPair() {
        Tokenizer t = withoutPrefix("aa", "a");
        assertThat(t.encode("aaa", false, false)).containsExactly(piece(t, "aa"), piece(t, "a"));
    }

    @Test
    void keepsMergingWhatEarlierMergesMadeAdjacent() {
        Tokenizer t = withoutPrefix("abcd", "ab", "cd", "a", "b", "c", "d");
        assertThat(t.encode("abcdab", false, false)).containsExactly(piece(t, "abcd"), piece(t, "ab"));
    }

    @Test
    void spacesBecomeMarksAndTheDummyPrefixStartsTheText() {
        Tokenizer t = VocabularyFixture.spm("▁ab", "▁a", "▁", "a", "b").tokenizer();
        int ab = piece(t, "▁ab");
        assertThat(t.encode("ab ab", false, false)).containsExactly(ab, ab);
        assertThat(t.decode(new int[] {ab, ab})).isEqualTo("ab ab");
        Tokenizer noPrefix = VocabularyFixture.spm("▁ab", "▁a", "▁", "a", "b").flag(Vocabulary.ADD_SPACE_PREFIX, false).tokenizer();
        assertThat(noPrefix.encode("ab ab", false, false)).containsExactly(piece(t, "a"), piece(t, "b"), ab);
    }

    @Test
    void charactersOutsideTheVocabularyFallBackToByteTokens() {
        Tokenizer t = VocabularyFixture.spm("▁a", "▁", "a").tokenizer();
        // € is E2 82 AC in UTF-8
        assertThat(t.encode("a€", false, false))
                .containsExactly(piece(t, "▁a"), byteToken(0xE2), byteToken(0x82), byteToken(0xAC));
        assertThat(t.decode(t.encode("a€", false, false))).isEqualTo("a€");
    }

    @Test
    void withoutByteTokensAnUnknownCharacterBecomesOneUnknownToken() {
        Tokenizer t = VocabularyFixture.llama("<unk>", "<s>", "</s>", "▁", "a").tokenizer();
        assertThat(t.encode("a€🦙", false, false)).containsExactly(3, 4, 0, 0);
    }

    @Test
    void mergingNeverFormsControlTokens() {
        Tokenizer t = withoutPrefix("<s", "s>", "<", "s", ">");
        int[] ids = t.encode("<s>", false, false);
        assertThat(ids).doesNotContain(1).containsExactly(piece(t, "<s"), piece(t, ">"));
        assertThat(t.decode(ids)).isEqualTo("<s>");
    }

    @Test
    void encodesTheEmptyTextAsNothingOrJustBos() {
        Tokenizer t = VocabularyFixture.spm("a").tokenizer();
        assertThat(t.encode("", false, false)).isEmpty();
        assertThat(t.encode("", true, false)).containsExactly(1);
    }

    @Test
    void tokenBytesDependOnTheTokenType() {
        Tokenizer t = VocabularyFixture.spm("▁a▁b", "<tool>").type("<tool>", Vocabulary.USER_DEFINED).tokenizer();
        assertThat(t.tokenBytes(piece(t, "▁a▁b"))).isEqualTo(" a b".getBytes());
        assertThat(t.tokenBytes(byteToken(0x0A))).containsExactly(0x0A);
        assertThat(t.tokenBytes(1)).isEmpty(); // control <s>
        assertThat(t.tokenBytes(0)).isEmpty(); // unknown <unk>
        assertThat(t.tokenBytes(piece(t, "<tool>"))).isEqualTo("<tool>".getBytes());
    }

    @Test
    void matchesANaiveQuadraticMergeOnRandomVocabularies() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            String alphabet = "ab▁c";
            Set<String> pieces = new LinkedHashSet<>();
            for (char c : alphabet.toCharArray()) {
                pieces.add(String.valueOf(c));
            }
            while (pieces.size() < 4 + 30) {
                pieces.add(randomString(random, alphabet, 2 + random.nextInt(4)));
            }
            String[] tokens = pieces.toArray(String[]::new);
            float[] scores = new float[tokens.length];
            for (int i = 0; i < scores.length; i++) {
                scores[i] = random.nextInt(8); // few distinct values: ties are common
            }
            Tokenizer t = VocabularyFixture.llama(tokens).scores(scores).flag(Vocabulary.ADD_SPACE_PREFIX, false)
                    .tokenizer();
            String text = randomString(random, "ab c", 1 + random.nextInt(40));
            assertThat(t.encode(text, false, false)).as("text %s, vocabulary %s", text, pieces)
                    .containsExactly(naiveMerge(text.replace(' ', '▁'), t.vocabulary()));
        }
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void encodesLongTextInNearLinearTime() {
        Tokenizer t = VocabularyFixture.spm("▁hello", "▁hell", "▁he", "ll", "lo", "▁h", "he", "▁", "h", "e", "l", "o").tokenizer();
        String text = "hello ".repeat(200_000);
        int[] ids = t.encode(text, false, false);
        assertThat(ids).hasSize(200_000 + 1); // one "▁hello" per word, then the trailing "▁"
    }

    /** Merges by rescanning all adjacent pairs after every merge: slow but obviously right. */
    private static int[] naiveMerge(String text, Vocabulary v) {
        List<String> symbols = new ArrayList<>();
        text.codePoints().forEach(c -> symbols.add(Character.toString(c)));
        while (true) {
            int best = -1;
            float bestScore = Float.NEGATIVE_INFINITY;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                int id = v.id(symbols.get(i) + symbols.get(i + 1));
                if (id >= 0 && v.score(id) > bestScore) {
                    best = i;
                    bestScore = v.score(id);
                }
            }
            if (best < 0) {
                return symbols.stream().mapToInt(v::id).toArray();
            }
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
    }

    private static String randomString(Random random, String alphabet, int length) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < length; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }
}
