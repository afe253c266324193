package org.memwall.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamingDetokenizerTest {
    private final Tokenizer t = VocabularyFixture.spm("▁a", "▁b", "b").tokenizer();

    private static int byteToken(int b) {
        return 3 + b;
    }

    private List<String> pushAll(StreamingDetokenizer d, int... ids) {
        List<String> out = new ArrayList<>();
        for (int id : ids) {
            out.add(d.push(id));
        }
        return out;
    }

    private int[] byteTokens(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = byteToken(bytes[i] & 0xFF);
        }
        return ids;
    }

    @Test
    void emitsAFourByteEmojiOnlyWhenItsLastByteArrives() {
        StreamingDetokenizer d = new StreamingDetokenizer(t);
        assertThat(pushAll(d, byteTokens("🦙"))).containsExactly("", "", "", "🦙");
        assertThat(d.flush()).isEmpty();
    }

    @Test
    void holdsBackTwoAndThreeByteCharactersUntilComplete() {
        StreamingDetokenizer d = new StreamingDetokenizer(t);
        int a = t.vocabulary().id("▁a");
        int[] euro = byteTokens("€");
        int[] eAcute = byteTokens("é");
        assertThat(pushAll(d, a, euro[0], euro[1], euro[2], eAcute[0], eAcute[1], a))
                .containsExactly("a", "", "", "€", "", "é", " a");
    }

    @Test
    void emitsInvalidBytesAtOnceAsReplacementCharacters() {
        StreamingDetokenizer d = new StreamingDetokenizer(t);
        assertThat(d.push(byteToken(0xFF))).isEqualTo("\uFFFD");
        assertThat(d.push(byteToken(0xE2))).isEmpty();
        assertThat(d.push(byteToken('A'))).isEqualTo("\uFFFDA");
        // ED A0 would start a surrogate, which UTF-8 forbids: not held back
        assertThat(d.push(byteToken(0xED))).isEmpty();
        assertThat(d.push(byteToken(0xA0))).isNotEmpty().doesNotContain("A");
    }

    @Test
    void flushTurnsAnUnfinishedCharacterIntoAReplacementCharacter() {
        StreamingDetokenizer d = new StreamingDetokenizer(t);
        int[] llama = byteTokens("🦙");
        assertThat(pushAll(d, llama[0], llama[1])).containsExactly("", "");
        assertThat(d.flush()).isEqualTo("\uFFFD");
        assertThat(d.flush()).isEmpty();
    }

    @Test
    void dropsTheDummyPrefixSpaceOnlyAtTheStartOfText() {
        int a = t.vocabulary().id("▁a");
        int b = t.vocabulary().id("▁b");
        assertThat(String.join("", pushAll(new StreamingDetokenizer(t), a, b))).isEqualTo("a b");
        assertThat(String.join("", pushAll(new StreamingDetokenizer(t, false), a, b))).isEqualTo(" a b");
        // BOS prints nothing, so the first word after it still loses the dummy prefix.
        assertThat(String.join("", pushAll(new StreamingDetokenizer(t), 1, a, b))).isEqualTo("a b");
        // A first piece without a leading space keeps all its text.
        assertThat(String.join("", pushAll(new StreamingDetokenizer(t), t.vocabulary().id("b"), a))).isEqualTo("b a");
    }

    @Test
    void streamedTextEqualsDecodingAllBytesAtOnce() {
        Random random = new Random(7);
        String[] samples = {"a", "é", "€", "🦙", "\uD83D\uDE00", "中文"};
        for (int round = 0; round < 500; round++) {
            List<Integer> ids = new ArrayList<>();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (int i = random.nextInt(12); i > 0; i--) {
                if (random.nextInt(5) == 0) {
                    int b = random.nextInt(256); // arbitrary, often invalid, bytes
                    ids.add(byteToken(b));
                    all.write(b);
                } else {
                    for (int id : byteTokens(samples[random.nextInt(samples.length)])) {
                        ids.add(id);
                        all.write(id - 3);
                    }
                }
            }
            StreamingDetokenizer d = new StreamingDetokenizer(t, false); // keep a leading 0x20 byte
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) {
                String piece = d.push(id);
                assertThat(piece).as("never half a surrogate pair").doesNotEndWith("\uD83D");
                streamed.append(piece);
            }
            streamed.append(d.flush());
            assertThat(streamed.toString()).as("ids %s", ids).isEqualTo(all.toString(StandardCharsets.UTF_8));
        }
    }
}
