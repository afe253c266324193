package org.memwall.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PreTokenizerTest {
    @Test
    void llama3GroupsDigitsByThreeAndQwen2SplitsEveryDigit() {
        assertThat(PreTokenizer.named("llama-bpe").split("year 12345!")).containsExactly("year", " ", "123", "45", "!");
        assertThat(PreTokenizer.named("qwen2").split("year 12345!")).containsExactly("year", " ", "1", "2", "3", "4", "5", "!");
    }

    @Test
    void llama3KeepsContractionsCaseInsensitiveAndLeavesTheLastSpaceForTheNextWord() {
        assertThat(PreTokenizer.named("llama-bpe").split("I'LL go   now")).containsExactly("I", "'LL", " go", "  ", " now");
        assertThat(PreTokenizer.named("gpt-2").split("I'LL go")).containsExactly("I", "'", "LL", " go");
    }

    @Test
    void newlinesAndKoreanTextSplitAsTheRegexSays() {
        assertThat(PreTokenizer.named("qwen2").split("안녕하세요 세계\n\n다음")).containsExactly("안녕하세요", " 세계", "\n\n", "다음");
        assertThat(PreTokenizer.named("llama-bpe").split("a.\n\nb")).containsExactly("a", ".\n\n", "b");
    }

    @Test
    void gpt4oSplitsAtCaseChangesAndKeepsSlashesWithPunctuation() {
        assertThat(PreTokenizer.named("gpt-4o").split("HelloWorld don't</a>")).containsExactly("Hello", "World", " don't", "</", "a", ">");
    }

    @Test
    void starcoderIsolatesEveryDigitBeforeTheGpt2Split() {
        assertThat(PreTokenizer.named("starcoder").split("x = 42")).containsExactly("x", " =", " ", "4", "2");
    }

    /** Expected splits derived by hand from llama.cpp's three DeepSeek V3 expressions. */
    @Test
    void deepseekV3IsolatesDigitGroupsAndKanaThenKeepsOnePunctuationMarkWithTheAsciiWordAfterIt() {
        PreTokenizer p = PreTokenizer.named("deepseek-v3");
        assertThat(p.name()).isEqualTo("deepseek-v3");
        assertThat(p.split("Hello 12345 世界!")).containsExactly("Hello", " ", "123", "45", " ", "世界", "!");
        assertThat(p.split(".Net don't")).containsExactly(".Net", " don", "'t");
        assertThat(p.split("ひらがなとカタカナ")).containsExactly("ひらがなとカタカナ");
        assertThat(p.split("a\n\n b")).containsExactly("a", "\n\n", " b");
        assertThat(PreTokenizer.named("hunyuan-dense").split("x=10")).containsExactly("x", "=", "10");
    }

    @Test
    void unknownNameFallsBackToDefaultAndEveryPieceIsKept() {
        PreTokenizer p = PreTokenizer.named("no-such-tokenizer");
        assertThat(p.name()).isEqualTo("default");
        String text = "Hello,  world!! 1234 \t end  ";
        assertThat(String.join("", p.split(text))).isEqualTo(text);
    }

    @Test
    void everyNamedRuleReassemblesItsInput() {
        String text = "Hello World! It's 2026 —  한국어 텍스트\n\n\tcode(x) == 3.14 ";
        for (String name : new String[] {"default", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder", "falcon", "starcoder",
                "refact", "mpt", "exaone", "exaone4", "gpt-4o", "smollm", "gpt-2", "deepseek-v3", "hunyuan-dense"}) {
            assertThat(PreTokenizer.isKnown(name)).as(name).isTrue();
            assertThat(String.join("", PreTokenizer.named(name).split(text))).as(name).isEqualTo(text);
        }
    }
}
