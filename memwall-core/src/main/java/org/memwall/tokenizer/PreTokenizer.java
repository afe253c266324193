package org.memwall.tokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a byte-level BPE vocabulary splits text into words before merging, chosen by
 * {@code tokenizer.ggml.pre}. Each rule is a list of steps applied in turn, as llama.cpp applies its
 * expressions: every step splits each current piece into its matches and the text between them
 * ("isolated" splitting), so later steps refine earlier pieces. Most steps are regular expressions;
 * two families (Kimi K2, AFMoE) are split by hand-written scanners, as llama.cpp splits them. The
 * table maps every name llama.cpp knows to its rule; adding a model's pre-tokenizer is a line here.
 *
 * <p>llama.cpp runs expressions that use Unicode categories on a "collapsed" text where every
 * non-ASCII code point stands for its category, so its letter subclasses {@code \p{Lu}},
 * {@code \p{Ll}}, {@code \p{Lt}}, {@code \p{Lm}}, {@code \p{Lo}} all mean any letter: the rules below
 * write what llama.cpp observably matches (for example {@code [\p{L}\p{M}]+} for an upper-then-lower
 * run), and {@code [0-9]} where its {@code \d} sees ASCII digits only.
 */
public final class PreTokenizer {
    /** GPT-2's split: contractions, letters, digits, other symbols, each optionally after one space. */
    private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    /** The end Llama 3 and its relatives share: symbols with trailing newlines, newline runs, whitespace. */
    private static final String SYMBOLS_AND_SPACES = "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String LETTERS_AFTER_ONE = "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+";
    /** Llama 3: case-insensitive contractions, letters after one non-letter, digits in groups of up to 3. */
    private static final String LLAMA3 = CONTRACTIONS + "|" + LETTERS_AFTER_ONE + "|\\p{N}{1,3}" + SYMBOLS_AND_SPACES;
    /** Qwen2/2.5/3: as Llama 3 but single digits. */
    private static final String QWEN2 = CONTRACTIONS + "|" + LETTERS_AFTER_ONE + "|\\p{N}" + SYMBOLS_AND_SPACES;
    /** Jais 2: as Llama 3, whitespace taken in power-of-two runs. */
    private static final String JAIS2 = CONTRACTIONS + "|" + LETTERS_AFTER_ONE + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+"
            + "|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)"
            + "|\\s{1,2}(?!\\S)|\\s{1}";
    /** Qwen3.5: letters keep their combining marks. */
    private static final String QWEN35 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Turkish-friendly Qwen2 split (ufakzeka): no contraction alternative, so suffixes after ' stay attached. */
    private static final String UFAKZEKA = LETTERS_AFTER_ONE + "|\\p{N}" + SYMBOLS_AND_SPACES;
    private static final String BAILINGMOE = "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|" + LETTERS_AFTER_ONE
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
    private static final String SEED_CODER = CONTRACTIONS + "|" + LETTERS_AFTER_ONE + "|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /**
     * EXAONE MoE: a word runs over single spaces between letters ("Hello world" is one piece); written
     * {@code L M*( ?L M*)*+}, the same matches as llama.cpp's nested form without deep backtracking.
     */
    private static final String EXAONE_MOE = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}\\p{M}*(?: ?\\p{L}\\p{M}*)*+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
    /** A letter-and-mark run after one non-letter: llama.cpp's reading of the upper-then-lower word classes. */
    private static final String CASELESS_WORD = "[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+" + CONTRACTIONS + "?";
    private static final String TINY_AYA = CASELESS_WORD + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String YOUTU = CASELESS_WORD + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String MINICPM5 = CONTRACTIONS + "|" + LETTERS_AFTER_ONE + "|\\p{N}+" + SYMBOLS_AND_SPACES;
    /** gpt-4o / o200k (gpt-oss): words split at case changes, contractions attached. */
    private static final String GPT4O = caseSplit("\\p{L}", CONTRACTIONS + "?", "\\p{N}{1,3}");
    private static final String TEKKEN = caseSplit("\\p{L}", "", "\\p{N}");
    /** Granite multilingual embedding (97m): as gpt-4o, combining marks count as letters. */
    private static final String GRANITE_EMBED = caseSplit("\\p{L}\\p{M}", CONTRACTIONS + "?", "\\p{N}{1,3}");
    /** DeepSeek LLM's letter class: Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee and other cased scripts. */
    private static final String DEEPSEEK_LETTERS = "[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\\x{1F7D}ᾀ-ᾴᾶ-ᾼ\\x{1FBE}ῂ-ῄῆ-ῌῐ-\\x{1FD3}ῖ-\\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\\x{2126}ℨ\\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ\\x{10400}-\\x{1044f}𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]";
    private static final String CJK_HANGUL = "[一-龥ࠀ-一가-퟿]+";
    /** CJK ideographs (U+4E00..U+9FA5), hiragana and katakana runs. */
    private static final String CJK_KANA = "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+";
    /** One ASCII punctuation mark keeps the ASCII word after it; letters and marks take one leading non-letter. */
    private static final String PUNCTUATED_WORD = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+";
    private static final String DEEPSEEK3 = PUNCTUATED_WORD + "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";
    private static final String SPARK2_5 = PUNCTUATED_WORD + "| ?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+";
    /** AFMoE's Asian scripts: CJK (with extension A and compatibility ideographs), kana, Thai, Lao, Khmer, Myanmar, Hangul. */
    private static final String AFMOE_SCRIPTS = "[\\x{4E00}-\\x{9FFF}\\x{3400}-\\x{4DBF}\\x{F900}-\\x{FAFF}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}"
            + "\\x{FF65}-\\x{FF9F}\\x{2F00}-\\x{2FDF}\\x{0E40}-\\x{0E7F}\\x{0E80}-\\x{0EFF}\\x{1780}-\\x{17FF}\\x{1000}-\\x{109F}"
            + "\\x{AA60}-\\x{AA7F}\\x{A9E0}-\\x{A9FF}\\x{AC00}-\\x{D7AF}\\x{1100}-\\x{11FF}]+";
    /** Youtu: Hangul, CJK punctuation, bopomofo and CJK/kana runs, each kind on its own. */
    private static final String YOUTU_SCRIPTS = "[\\x{AC00}-\\x{D7A3}\\x{3131}-\\x{318E}]+"
            + "|[\\x{FF01}\\x{2026}\\x{201C}\\x{201D}\\x{2018}\\x{2019}\\x{2014}\\x{FF1A}\\x{FF1B}\\x{FF0C}\\x{3001}-\\x{303F}\\x{FE30}-\\x{FE4F}]+"
            + "|[\\x{3105}-\\x{312F}]+|" + CJK_KANA;
    private static final String BLOOM = " ?[^(\\s|.,!?…。，、।۔،)]+";
    private static final String LINES = "[^\\n]+|[\\n]+";

    /** Llama's upper*lower+ / upper+lower* word split with case tested by lookahead, as llama.cpp writes it. */
    private static String caseSplit(String letters, String suffix, String digits) {
        String upper = "((?=[" + letters + "])([^a-z]))";
        String lower = "((?=[" + letters + "])([^A-Z]))";
        String lead = "[^\\r\\n\\p{L}\\p{N}]?";
        return lead + upper + "*" + lower + "+" + suffix + "|" + lead + upper + "+" + lower + "*" + suffix + "|" + digits
                + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    }

    /** One splitting step: appends the pieces of {@code piece}, in order, to {@code out}. */
    private interface Step {
        void split(String piece, List<String> out);
    }

    /**
     * A regular expression: its matches and the text between them become pieces. An empty match
     * (a pure lookahead) cuts the piece at its position, as llama.cpp's iterator does.
     */
    private record RegexStep(Pattern pattern) implements Step {
        RegexStep(String expression) {
            this(Pattern.compile(expression, Pattern.UNICODE_CHARACTER_CLASS));
        }

        @Override
        public void split(String piece, List<String> out) {
            Matcher m = pattern.matcher(piece);
            int last = 0;
            while (m.find()) {
                if (m.start() > last) {
                    out.add(piece.substring(last, m.start()));
                }
                if (m.end() > m.start()) {
                    out.add(piece.substring(m.start(), m.end()));
                }
                last = m.end();
            }
            if (last < piece.length()) {
                out.add(piece.substring(last));
            }
        }
    }

    /**
     * A rule: its steps; whether a word that is itself a token skips merging (Llama 3); whether words are
     * merged as GPT-2 byte-level characters or as raw UTF-8 code points (Gemma 4 style, unknown symbols
     * falling back to {@code <0xAB>} byte tokens); whether spaces are written {@code ▁} first; and whether
     * a run of newlines that is a token is used whole (Gemma 4).
     */
    private record Rule(List<Step> steps, boolean ignoreMerges, boolean byteLevel, boolean escapeSpaces, boolean wholeNewlines) {
        static Rule of(boolean ignoreMerges, String... expressions) {
            List<Step> steps = new ArrayList<>();
            for (String e : expressions) {
                steps.add(new RegexStep(e));
            }
            return new Rule(List.copyOf(steps), ignoreMerges, true, false, false);
        }

        static Rule steps(Step... steps) {
            return new Rule(List.of(steps), false, true, false, false);
        }

        /** This rule on raw UTF-8 symbols instead of byte-level characters. */
        Rule raw(boolean escapeSpaces, boolean wholeNewlines) {
            return new Rule(steps, ignoreMerges, false, escapeSpaces, wholeNewlines);
        }
    }

    private static final Rule DEFAULT_RULE = Rule.of(false, "[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]");
    private static final Rule DEEPSEEK3_RULE = Rule.of(false, "\\p{N}{1,3}", CJK_KANA, DEEPSEEK3);
    private static final Rule GEMMA4_RULE = Rule.of(false, LINES).raw(true, true);

    private static final Map<String, Rule> RULES = new HashMap<>();

    private static void register(Rule rule, String... names) {
        for (String name : names) {
            if (RULES.put(name, rule) != null) {
                throw new IllegalStateException("pre-tokenizer '" + name + "' registered twice");
            }
        }
    }

    // Every tokenizer.ggml.pre name llama.cpp knows, grouped by the split llama.cpp gives it.
    static {
        register(DEFAULT_RULE, "default");
        register(Rule.of(true, LLAMA3), "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                "jina-v5-nano");
        register(Rule.of(false, LLAMA3), "dbrx", "smaug-bpe", "chatglm-bpe", "glm4");
        register(Rule.of(false, JAIS2), "jais-2");
        register(Rule.of(true, "\\p{N}{1,3}", MINICPM5), "minicpm5");
        register(Rule.of(false, "[\r\n]", "\\s?" + DEEPSEEK_LETTERS + "+", "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+\\z", CJK_HANGUL, "\\p{N}+"),
                "deepseek-llm");
        register(DEEPSEEK3_RULE, "deepseek-v3", "hunyuan-dense", "hy_v4", "joyai-llm");
        register(Rule.of(false, "\\p{N}{1,3}", CJK_KANA, SPARK2_5, "\\p{N}"), "spark2_5");
        register(Rule.of(true, YOUTU_SCRIPTS, YOUTU), "youtu");
        register(Rule.of(false, "[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK_HANGUL, "\\p{N}"), "deepseek-coder");
        register(Rule.of(false, "[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"), "falcon");
        register(Rule.of(false, "\\p{N}", GPT2), "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b",
                "mellum2");
        register(Rule.of(false, GPT2), "gpt-2", "phi-2", "mpt", "olmo", "jais", "a.x-4.0", "exaone4", "gigachat", "jina-es", "jina-de",
                "jina-v2-es", "jina-v2-de", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mellum", "modern-bert", "trillion",
                "granite-docling");
        register(Rule.of(false, QWEN2), "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "grok-2",
                "solar-open");
        register(Rule.of(false, QWEN35), "qwen35");
        register(Rule.of(false, UFAKZEKA), "ufakzeka");
        register(Rule.of(false, LINES, QWEN2), "laguna");
        register(Rule.of(false, BAILINGMOE), "bailingmoe", "bailingmoe2", "llada-moe");
        register(Rule.of(false, SEED_CODER), "seed-coder");
        register(Rule.of(false, EXAONE_MOE), "exaone-moe");
        register(Rule.of(false, GPT4O), "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2");
        register(Rule.of(true, GRANITE_EMBED), "granite-embed-multi-97m");
        register(Rule.of(false, "[0-9]{1,3}(?=(?:[0-9]{3})*(?![A-Za-z0-9_]))", TINY_AYA), "tiny_aya", "cohere2moe");
        register(Rule.of(false, "\\p{N}+", "(?=(?:[0-9]{3})+(?![0-9]))"), "superbpe");
        register(Rule.of(true, TEKKEN), "tekken");
        register(Rule.of(false, BLOOM), "poro-chat", "bloom", "gpt3-finnish");
        register(Rule.of(false, BLOOM, "\\p{N}"), "viking");
        register(Rule.of(false, "<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
                "[\\p{P}!-/:-@\\[-`{-~]", GPT2), "chameleon");
        register(Rule.steps(KimiK2Split::split), "kimi-k2");
        register(Rule.steps(PreTokenizer::splitDigitGroupsGlued, new RegexStep(AFMOE_SCRIPTS), new RegexStep(DEEPSEEK3)), "afmoe");
        register(GEMMA4_RULE, "gemma4", "granite-embed-multi-311m");
        register(Rule.of(false, LINES).raw(true, false), "sarvam-moe");
        register(Rule.of(false, "\\S+").raw(false, false), "whitespace");
    }

    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private final String name;
    private final Rule rule;

    private PreTokenizer(String name, Rule rule) {
        this.name = name;
        this.rule = rule;
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

    /** Every name with a rule, sorted. */
    public static Set<String> names() {
        return Collections.unmodifiableSet(new TreeSet<>(RULES.keySet()));
    }

    public String name() {
        return name;
    }

    /** Whether a word that is already a vocabulary token is used whole, without merging. */
    public boolean ignoresMerges() {
        return rule.ignoreMerges();
    }

    /**
     * Whether words are merged as GPT-2 byte-level characters (true) or as raw UTF-8 code points with
     * {@code <0xAB>} byte tokens for the rest (false: Gemma 4, Sarvam, whitespace).
     */
    public boolean byteLevel() {
        return rule.byteLevel();
    }

    /** Whether spaces are written as {@code ▁} (U+2581) before splitting, and back when decoding. */
    public boolean escapesSpaces() {
        return rule.escapeSpaces();
    }

    /** Whether a word of newlines only that is itself a token is used whole (Gemma 4). */
    public boolean keepsNewlineRunsWhole() {
        return rule.wholeNewlines();
    }

    /** Splits {@code text} into words; their concatenation is {@code text}. */
    public List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        pieces.add(text);
        for (Step step : rule.steps()) {
            List<String> next = new ArrayList<>(pieces.size() * 2);
            for (String piece : pieces) {
                step.split(piece, next);
            }
            pieces = next;
        }
        return pieces;
    }

    /**
     * AFMoE's first step, as llama.cpp's scanner does it: each run of digits ({@code \p{N}}) is cut into a
     * leading group of {@code length % 3} digits, then groups of 3; the text before a run is not a piece
     * of its own but stays glued to the run's first group ("a  1234" gives "a  1", "234"), and the text
     * after the last run is one piece.
     */
    private static void splitDigitGroupsGlued(String piece, List<String> out) {
        int from = 0;
        int i = 0;
        int n = piece.length();
        while (i < n) {
            int cp = piece.codePointAt(i);
            if (!isNumber(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            List<Integer> ends = new ArrayList<>();
            int count = 0;
            while (i < n && isNumber(piece.codePointAt(i))) {
                i += Character.charCount(piece.codePointAt(i));
                count++;
                ends.add(i);
            }
            for (int k = count % 3 == 0 ? 3 : count % 3; k <= count; k += 3) {
                int end = ends.get(k - 1);
                out.add(piece.substring(from, end));
                from = end;
            }
        }
        if (from < n) {
            out.add(piece.substring(from));
        }
    }

    static boolean isNumber(int cp) {
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER || type == Character.OTHER_NUMBER;
    }
}
