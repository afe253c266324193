package org.memwall.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a byte-level BPE vocabulary splits text into words before merging, chosen by
 * {@code tokenizer.ggml.pre}. Each rule is a list of regular expressions applied in turn, as
 * llama.cpp applies them: every expression splits each current piece into its matches and the
 * text between them ("isolated" splitting), so later expressions refine earlier pieces. The table
 * maps names to rules; adding a model's pre-tokenizer is a line here.
 */
public final class PreTokenizer {
    /** GPT-2's split: contractions, letters, digits, other symbols, each optionally after one space. */
    private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    /** Llama 3: case-insensitive contractions, letters after one non-letter, digits in groups of up to 3. */
    private static final String LLAMA3 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2/2.5/3: as Llama 3 but single digits. */
    private static final String QWEN2 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** gpt-4o / o200k (gpt-oss): words split at case changes, contractions attached. */
    private static final String UPPER = "((?=[\\p{L}])([^a-z]))";
    private static final String LOWER = "((?=[\\p{L}])([^A-Z]))";
    private static final String GPT4O = "[^\\r\\n\\p{L}\\p{N}]?" + UPPER + "*" + LOWER + "+" + CONTRACTIONS + "?|[^\\r\\n\\p{L}\\p{N}]?" + UPPER + "+"
            + LOWER + "*" + CONTRACTIONS + "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String TEKKEN = "[^\\r\\n\\p{L}\\p{N}]?" + UPPER + "*" + LOWER + "+|[^\\r\\n\\p{L}\\p{N}]?" + UPPER + "+" + LOWER
            + "*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** DeepSeek LLM's letter class: Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee and other cased scripts. */
    private static final String DEEPSEEK_LETTERS = "[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\\x{1F7D}ᾀ-ᾴᾶ-ᾼ\\x{1FBE}ῂ-ῄῆ-ῌῐ-\\x{1FD3}ῖ-\\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\\x{2126}ℨ\\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ\\x{10400}-\\x{1044f}𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]";
    private static final String CJK_HANGUL = "[一-龥ࠀ-一가-퟿]+";

    /** A rule: its expressions and whether a word that is itself a token skips merging (Llama 3). */
    private record Rule(List<String> expressions, boolean ignoreMerges) {
        static Rule of(boolean ignoreMerges, String... expressions) {
            return new Rule(List.of(expressions), ignoreMerges);
        }
    }

    /**
     * DeepSeek V3: digits in groups of up to 3 and runs of CJK ideographs, hiragana and katakana
     * isolated first; then one ASCII punctuation mark keeps the ASCII word after it (".Net", "'t"),
     * letters and combining marks take one leading non-letter, non-punctuation, non-symbol character.
     */
    private static final Rule DEEPSEEK3_RULE = Rule.of(false, "\\p{N}{1,3}", "[一-龥\u3040-ゟ゠-ヿ]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*"
                    + "|\\s*[\r\n]+|\\s+(?!\\S)|\\s+");
    private static final Rule DEFAULT_RULE = Rule.of(false, "[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]");
    private static final Rule GPT2_RULE = Rule.of(false, GPT2);
    private static final Rule STARCODER_RULE = Rule.of(false, "\\p{N}", GPT2);
    private static final Rule QWEN2_RULE = Rule.of(false, QWEN2);

    private static final Map<String, Rule> RULES = Map.ofEntries(
            Map.entry("default", DEFAULT_RULE),
            Map.entry("llama3", Rule.of(true, LLAMA3)),
            Map.entry("llama-v3", Rule.of(true, LLAMA3)),
            Map.entry("llama-bpe", Rule.of(true, LLAMA3)),
            Map.entry("falcon3", Rule.of(true, LLAMA3)),
            Map.entry("falcon-h1", Rule.of(true, LLAMA3)),
            Map.entry("pixtral", Rule.of(true, LLAMA3)),
            Map.entry("midm-2.0", Rule.of(true, LLAMA3)),
            Map.entry("dbrx", Rule.of(false, LLAMA3)),
            Map.entry("smaug-bpe", Rule.of(false, LLAMA3)),
            Map.entry("chatglm-bpe", Rule.of(false, LLAMA3)),
            Map.entry("glm4", Rule.of(false, LLAMA3)),
            Map.entry("deepseek-llm", Rule.of(false, "[\r\n]", "\\s?" + DEEPSEEK_LETTERS + "+", "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+\\z",
                    CJK_HANGUL, "\\p{N}+")),
            Map.entry("deepseek-v3", DEEPSEEK3_RULE),
            Map.entry("hunyuan-dense", DEEPSEEK3_RULE),
            Map.entry("deepseek-coder", Rule.of(false, "[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK_HANGUL, "\\p{N}")),
            Map.entry("falcon", Rule.of(false, "[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]")),
            Map.entry("starcoder", STARCODER_RULE),
            Map.entry("refact", STARCODER_RULE),
            Map.entry("command-r", STARCODER_RULE),
            Map.entry("smollm", STARCODER_RULE),
            Map.entry("codeshell", STARCODER_RULE),
            Map.entry("exaone", STARCODER_RULE),
            Map.entry("minerva-7b", STARCODER_RULE),
            Map.entry("gpt-2", GPT2_RULE),
            Map.entry("phi-2", GPT2_RULE),
            Map.entry("mpt", GPT2_RULE),
            Map.entry("olmo", GPT2_RULE),
            Map.entry("jais", GPT2_RULE),
            Map.entry("a.x-4.0", GPT2_RULE),
            Map.entry("exaone4", GPT2_RULE),
            Map.entry("gigachat", GPT2_RULE),
            Map.entry("qwen2", QWEN2_RULE),
            Map.entry("deepseek-r1-qwen", QWEN2_RULE),
            Map.entry("megrez", QWEN2_RULE),
            Map.entry("stablelm2", QWEN2_RULE),
            Map.entry("hunyuan", QWEN2_RULE),
            Map.entry("grok-2", QWEN2_RULE),
            Map.entry("gpt-4o", Rule.of(false, GPT4O)),
            Map.entry("llama4", Rule.of(false, GPT4O)),
            Map.entry("minimax-m2", Rule.of(false, GPT4O)),
            Map.entry("tekken", Rule.of(true, TEKKEN)),
            Map.entry("poro-chat", Rule.of(false, " ?[^(\\s|.,!?…。，、।۔،)]+")),
            Map.entry("bloom", Rule.of(false, " ?[^(\\s|.,!?…。，、।۔،)]+")),
            Map.entry("viking", Rule.of(false, " ?[^(\\s|.,!?…。，、।۔،)]+", "\\p{N}")));

    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private final String name;
    private final Pattern[] patterns;
    private final boolean ignoreMerges;

    private PreTokenizer(String name, Rule rule) {
        this.name = name;
        this.patterns = rule.expressions().stream().map(e -> Pattern.compile(e, Pattern.UNICODE_CHARACTER_CLASS)).toArray(Pattern[]::new);
        this.ignoreMerges = rule.ignoreMerges();
    }

    /**
     * The pre-tokenizer named {@code name}; an unknown or missing name warns once on stderr and falls
     * back to llama.cpp's {@code default} rule.
     */
    public static PreTokenizer named(String name) {
        Rule rule = name == null ? null : RULES.get(name);
        if (rule == null) {
            if (WARNED.add(String.valueOf(name))) {
                System.err.println("memwall: warning: unknown pre-tokenizer '" + name + "' (tokenizer.ggml.pre); using 'default'");
            }
            return new PreTokenizer("default", DEFAULT_RULE);
        }
        return new PreTokenizer(name, rule);
    }

    /** Whether {@code name} has its own rule. */
    public static boolean isKnown(String name) {
        return RULES.containsKey(name);
    }

    public String name() {
        return name;
    }

    /** Whether a word that is already a vocabulary token is used whole, without merging. */
    public boolean ignoresMerges() {
        return ignoreMerges;
    }

    /** Splits {@code text} into words; their concatenation is {@code text}. */
    public List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        pieces.add(text);
        for (Pattern p : patterns) {
            List<String> next = new ArrayList<>(pieces.size() * 2);
            for (String piece : pieces) {
                Matcher m = p.matcher(piece);
                int last = 0;
                while (m.find()) {
                    if (m.end() == m.start()) {
                        continue; // an empty match splits nothing
                    }
                    if (m.start() > last) {
                        next.add(piece.substring(last, m.start()));
                    }
                    next.add(piece.substring(m.start(), m.end()));
                    last = m.end();
                }
                if (last < piece.length()) {
                    next.add(piece.substring(last));
                }
            }
            pieces = next;
        }
        return pieces;
    }
}
