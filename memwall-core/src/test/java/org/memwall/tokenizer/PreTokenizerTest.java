package org.memwall.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
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

    /** Every {@code tokenizer.ggml.pre} name llama.cpp's vocabulary loader accepts. */
    static final List<String> LLAMA_CPP_NAMES = List.of("default", "minicpm5", "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1",
            "pixtral", "midm-2.0", "lfm2", "jina-v5-nano", "deepseek-llm", "deepseek-coder", "deepseek-v3", "spark2_5", "youtu", "falcon",
            "mpt", "starcoder", "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
            "modern-bert", "jais-2", "gemma4", "granite-embed-multi-311m", "sarvam-moe", "jina-v1-en", "jina-v2-code", "roberta-bpe",
            "whitespace", "refact", "command-r", "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "qwen35", "stablelm2", "olmo", "dbrx",
            "smaug-bpe", "poro-chat", "glm4", "chatglm-bpe", "viking", "jais", "tekken", "smollm", "codeshell", "bloom", "gpt3-finnish",
            "exaone", "exaone4", "exaone-moe", "chameleon", "minerva-7b", "megrez", "gpt-4o", "llama4", "kanana2", "talkie",
            "granite-embed-multi-97m", "tiny_aya", "cohere2moe", "superbpe", "trillion", "granite-docling", "bailingmoe", "bailingmoe2",
            "llada-moe", "seed-coder", "hunyuan", "hunyuan-dense", "hy_v4", "joyai-llm", "kimi-k2", "ufakzeka", "grok-2", "afmoe",
            "laguna", "minimax-m2", "solar-open", "mellum2");

    @Test
    void everyNameLlamaCppKnowsHasItsOwnRuleAndReassemblesItsInput() {
        String text = "Hello World! It's 2026 —  한국어 텍스트 你好 ひらがな\n\n\tcode(x) == 3.14 café 😀 1234567 ";
        assertThat(PreTokenizer.names()).containsExactlyInAnyOrderElementsOf(LLAMA_CPP_NAMES);
        for (String name : LLAMA_CPP_NAMES) {
            PreTokenizer p = PreTokenizer.named(name);
            assertThat(p.name()).as(name).isEqualTo(name);
            List<String> pieces = p.split(text);
            assertThat(pieces).as(name).doesNotContain("");
            assertThat(String.join("", pieces)).as(name).isEqualTo(text);
        }
    }

    @Test
    void llama3RelativesShareItsSplitAndSkipMergesForWholeTokens() {
        for (String name : new String[] {"lfm2", "jina-v5-nano", "minicpm5", "youtu", "granite-embed-multi-97m", "tekken"}) {
            assertThat(PreTokenizer.named(name).ignoresMerges()).as(name).isTrue();
        }
        for (String name : new String[] {"dbrx", "qwen35", "kimi-k2", "afmoe", "gemma4"}) {
            assertThat(PreTokenizer.named(name).ignoresMerges()).as(name).isFalse();
        }
        assertThat(PreTokenizer.named("lfm2").split("year 12345!")).containsExactly("year", " ", "123", "45", "!");
        assertThat(PreTokenizer.named("minicpm5").split("I'm 12345")).containsExactly("I", "'m", " ", "123", "45");
    }

    @Test
    void aliasesSplitLikeTheirFamily() {
        for (String name : new String[] {"jina-v2-de", "mellum", "modern-bert", "roberta-bpe", "trillion", "granite-docling"}) {
            assertThat(PreTokenizer.named(name).split("I'LL go")).as(name).containsExactly("I", "'", "LL", " go");
        }
        for (String name : new String[] {"kormo", "f2llmv2", "solar-open"}) {
            assertThat(PreTokenizer.named(name).split("year 12345!")).as(name).containsExactly("year", " ", "1", "2", "3", "4", "5", "!");
        }
        assertThat(PreTokenizer.named("mellum2").split("x = 42")).containsExactly("x", " =", " ", "4", "2");
        for (String name : new String[] {"kanana2", "talkie"}) {
            assertThat(PreTokenizer.named(name).split("HelloWorld")).as(name).containsExactly("Hello", "World");
        }
        for (String name : new String[] {"hy_v4", "joyai-llm"}) {
            assertThat(PreTokenizer.named(name).split(".Net 12345")).as(name).containsExactly(".Net", " ", "123", "45");
        }
        assertThat(PreTokenizer.named("gpt3-finnish").split("Hello, world!")).containsExactly("Hello", ",", " world", "!");
    }

    @Test
    void jais2TakesWhitespaceInPowerOfTwoRuns() {
        String tenSpaces = "a" + " ".repeat(10) + "b";
        assertThat(PreTokenizer.named("jais-2").split(tenSpaces)).containsExactly("a", " ".repeat(8), " ", " b");
        assertThat(PreTokenizer.named("llama-bpe").split(tenSpaces)).containsExactly("a", " ".repeat(9), " b");
    }

    @Test
    void spark25KeepsNewlinesApartFromPunctuationAndSplitsEveryDigit() {
        PreTokenizer p = PreTokenizer.named("spark2_5");
        assertThat(p.split("Hi!\n\nok")).containsExactly("Hi", "!", "\n", "\n", "ok");
        assertThat(PreTokenizer.named("deepseek-v3").split("Hi!\n\nok")).containsExactly("Hi", "!\n\n", "ok");
        assertThat(p.split("2026年")).containsExactly("2", "0", "2", "6", "年");
    }

    @Test
    void youtuIsolatesHangulCjkPunctuationAndHanThenTakesLetterRunsWhole() {
        PreTokenizer p = PreTokenizer.named("youtu");
        assertThat(p.split("안녕ㅋㅋ！！你好HelloWorld")).containsExactly("안녕ㅋㅋ", "！！", "你好", "HelloWorld");
        assertThat(p.split("don't x123")).containsExactly("don't", " x", "1", "2", "3");
    }

    @Test
    void qwen35KeepsCombiningMarksWithTheirLetters() {
        assertThat(PreTokenizer.named("qwen35").split("cafe\u0301 ok")).containsExactly("cafe\u0301", " ok");
        assertThat(PreTokenizer.named("qwen2").split("cafe\u0301 ok")).containsExactly("cafe", "\u0301", " ok");
    }

    @Test
    void ufakzekaKeepsTurkishSuffixesAfterTheApostrophe() {
        assertThat(PreTokenizer.named("ufakzeka").split("Ankara'da")).containsExactly("Ankara", "'da");
        assertThat(PreTokenizer.named("qwen2").split("Ankara'da")).containsExactly("Ankara", "'d", "a");
    }

    @Test
    void lagunaCutsLinesBeforeTheQwen2Split() {
        assertThat(PreTokenizer.named("laguna").split("a \nb")).containsExactly("a", " ", "\n", "b");
        assertThat(PreTokenizer.named("qwen2").split("a \nb")).containsExactly("a", " \n", "b");
    }

    @Test
    void bailingmoeAndSeedCoderContractionsDigitsAndNewlines() {
        assertThat(PreTokenizer.named("bailingmoe2").split("HE'LL 42")).containsExactly("HE", "'LL", " ", "4", "2");
        assertThat(PreTokenizer.named("seed-coder").split("x;\n")).containsExactly("x", ";", "\n");
        assertThat(PreTokenizer.named("qwen2").split("x;\n")).containsExactly("x", ";\n");
    }

    @Test
    void exaoneMoeRunsWordsOverSingleSpaces() {
        PreTokenizer p = PreTokenizer.named("exaone-moe");
        assertThat(p.split("Hello world, 12 apples")).containsExactly("Hello world", ",", " ", "1", "2", " apples");
        assertThat(p.split("a  b")).containsExactly("a", " ", " b");
        String longLine = "word ".repeat(20_000).trim();
        assertThat(p.split(longLine)).containsExactly(longLine);
    }

    @Test
    void graniteEmbedCountsCombiningMarksAsLetters() {
        assertThat(PreTokenizer.named("granite-embed-multi-97m").split("nai\u0308ve")).containsExactly("nai\u0308ve");
        assertThat(PreTokenizer.named("gpt-4o").split("nai\u0308ve")).containsExactly("nai", "\u0308ve");
    }

    /** llama.cpp reads tiny_aya's upper/lower letter classes as "any letter", so case changes do not split. */
    @Test
    void tinyAyaGroupsDigitsByThreeFromTheRightBeforeANonWordCharacter() {
        PreTokenizer p = PreTokenizer.named("cohere2moe");
        assertThat(p.split("1234567 x")).containsExactly("1", "234", "567", " x");
        assertThat(p.split("v1234")).containsExactly("v", "1", "234");
        assertThat(p.split("1234abc")).containsExactly("123", "4", "abc");
        assertThat(p.split("HelloWorld")).containsExactly("HelloWorld");
    }

    @Test
    void superbpeCutsDigitRunsIntoThreesFromTheRightAndKeepsWordsWithSpaces() {
        PreTokenizer p = PreTokenizer.named("superbpe");
        assertThat(p.split("1234567 abc")).containsExactly("1", "234", "567", " abc");
        assertThat(p.split("123456")).containsExactly("123", "456");
        assertThat(p.split("hello world")).containsExactly("hello world");
    }

    @Test
    void chameleonIsolatesSentinelsImageTokensDigitsAndEachPunctuationMark() {
        assertThat(PreTokenizer.named("chameleon").split("IMGIMGABZ<sentinel:3>  x=12"))
                .containsExactly("IMGIMGABZ", "<", "sentinel", ":", "3", ">", "  ", "x", "=", "1", "2");
    }

    @Test
    void kimiK2IsolatesHanRunsAndNeverSplitsAtCaseChanges() {
        PreTokenizer p = PreTokenizer.named("kimi-k2");
        assertThat(p.split("Hello世界 don't 12345\n\n  end"))
                .containsExactly("Hello", "世界", " don't", " ", "123", "45", "\n\n", " ", " end");
        assertThat(p.split("CamelCase")).containsExactly("CamelCase");
        assertThat(p.split("e\u0301!?\nx")).containsExactly("e", "\u0301!?\n", "x");
        assertThat(p.split("I'LL 😀😀 ok")).containsExactly("I'LL", " 😀😀", " ok");
    }

    /** llama.cpp's AFMoE digit scanner leaves the text before a digit run glued to the run's first group. */
    @Test
    void afmoeGroupsDigitsFromTheLeftRemainderAndIsolatesAsianScripts() {
        PreTokenizer p = PreTokenizer.named("afmoe");
        assertThat(p.split("12345")).containsExactly("12", "345");
        assertThat(p.split("a  1234 中文x")).containsExactly("a", " ", " ", "1", "234", " ", "中文", "x");
        assertThat(PreTokenizer.named("deepseek-v3").split("a  1234")).containsExactly("a", "  ", "123", "4");
        assertThat(p.split("한국어abc")).containsExactly("한국어", "abc");
    }

    @Test
    void gemma4SarvamAndWhitespaceMergeRawUtf8() {
        PreTokenizer gemma = PreTokenizer.named("gemma4");
        assertThat(gemma.split("a b\n\nc")).containsExactly("a b", "\n\n", "c");
        assertThat(gemma.byteLevel()).isFalse();
        assertThat(gemma.escapesSpaces()).isTrue();
        assertThat(gemma.keepsNewlineRunsWhole()).isTrue();
        assertThat(PreTokenizer.named("granite-embed-multi-311m").keepsNewlineRunsWhole()).isTrue();
        PreTokenizer sarvam = PreTokenizer.named("sarvam-moe");
        assertThat(sarvam.byteLevel()).isFalse();
        assertThat(sarvam.escapesSpaces()).isTrue();
        assertThat(sarvam.keepsNewlineRunsWhole()).isFalse();
        PreTokenizer whitespace = PreTokenizer.named("whitespace");
        assertThat(whitespace.split("ab  cd")).containsExactly("ab", "  ", "cd");
        assertThat(whitespace.byteLevel()).isFalse();
        assertThat(whitespace.escapesSpaces()).isFalse();
        assertThat(PreTokenizer.named("gpt-2").byteLevel()).isTrue();
    }
}
