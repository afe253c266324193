package org.memwall.tokenizer;

import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The conventions llama.cpp applies to special tokens by their text, because converters do not
 * always record them in the metadata (llama-vocab.cpp, {@code llama_vocab::impl::load}): it finds
 * end-of-turn and fill-in-the-middle tokens by name, decides which tokens end generation, and
 * forces "control-looking" tokens to the control type. We apply the same rules so that encoding,
 * decoding and stopping agree with llama.cpp on the same file.
 */
final class SpecialTokenConventions {
    // Texts tried, in this order of preference when several exist, for a role the metadata left unset.
    static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
            "<end_of_utterance>");
    static final List<String> EOM_TEXTS = List.of("<|eom_id|>");
    static final List<String> FIM_PRE_TEXTS = List.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
            "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>");
    static final List<String> FIM_SUF_TEXTS = List.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
            "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>");
    static final List<String> FIM_MID_TEXTS = List.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>",
            "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>");
    static final List<String> FIM_PAD_TEXTS = List.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]");
    static final List<String> FIM_REP_TEXTS = List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
            "<reponame>");
    static final List<String> FIM_SEP_TEXTS = List.of("<|file_sep|>");

    /** Tokens that end generation wherever they appear in a vocabulary (llama.cpp issue #9606). */
    static final List<String> EOG_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>",
            "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>",
            "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
            "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[");

    /** gpt-oss (harmony) structure tokens that must appear in the output text. */
    static final List<String> ALWAYS_RENDERED_TEXTS = List.of("<|channel|>", "<|message|>", "<|start|>",
            "<|constrain|>");

    private SpecialTokenConventions() {
    }

    /** Special ids by role after detection; -1 where none. */
    record Roles(int eot, int eom, int fimPre, int fimSuf, int fimMid, int fimPad, int fimRep, int fimSep) {
    }

    /** What the conventions decided: final roles, the end-of-generation ids, and which special tokens eat whitespace. */
    record Result(Roles roles, int[] endOfGeneration, BitSet rstrip) {
    }

    /**
     * Applies the conventions. {@code types} is modified in place (tokens recognised as control are
     * marked {@link Vocabulary#CONTROL}, and so on); {@code declared} holds the ids the metadata set.
     */
    static Result apply(String[] tokens, int[] types, Map<String, Integer> ids, int eos, Roles declared,
                        String modelName) {
        Roles roles = new Roles(
                detect(declared.eot(), EOT_TEXTS, ids, types),
                detect(declared.eom(), EOM_TEXTS, ids, types),
                detect(declared.fimPre(), FIM_PRE_TEXTS, ids, types),
                detect(declared.fimSuf(), FIM_SUF_TEXTS, ids, types),
                detect(declared.fimMid(), FIM_MID_TEXTS, ids, types),
                detect(declared.fimPad(), FIM_PAD_TEXTS, ids, types),
                detect(declared.fimRep(), FIM_REP_TEXTS, ids, types),
                detect(declared.fimSep(), FIM_SEP_TEXTS, ids, types));

        TreeSet<Integer> eog = new TreeSet<>();
        addIfSet(eog, roles.fimPad());
        addIfSet(eog, roles.fimRep());
        addIfSet(eog, roles.fimSep());
        for (String text : EOG_TEXTS) {
            Integer id = ids.get(text);
            if (id != null) {
                eog.add(id);
                types[id] = Vocabulary.CONTROL;
            }
        }
        for (String text : ALWAYS_RENDERED_TEXTS) {
            Integer id = ids.get(text);
            if (id != null) {
                types[id] = Vocabulary.USER_DEFINED;
            }
        }
        addIfSet(eog, eos);
        addIfSet(eog, roles.eot());
        addIfSet(eog, roles.eom());

        // Harmony (gpt-oss) and solar-open end a message with <|end|> but keep generating after it.
        boolean hasReturn = present(eog, ids, "<|return|>");
        boolean hasCall = present(eog, ids, "<|call|>") || present(eog, ids, "<|calls|>");
        boolean hasFlush = present(eog, ids, "<|flush|>");
        if (present(eog, ids, "<|end|>") && hasCall && (hasReturn || hasFlush)) {
            int end = ids.get("<|end|>");
            eog.remove(end);
            types[end] = Vocabulary.USER_DEFINED;
        }
        // Gemma 4 uses </s> as ordinary text when it has <|tool_response>.
        if (present(eog, ids, "<|tool_response>") && present(eog, ids, "</s>")) {
            int s = ids.get("</s>");
            eog.remove(s);
            types[s] = Vocabulary.NORMAL;
        }

        return new Result(roles, eog.stream().mapToInt(Integer::intValue).toArray(), rstrip(tokens, types, ids, modelName));
    }

    /**
     * Phi-3's special tokens swallow the whitespace after them when parsed (its Hugging Face
     * tokenizer declares rstrip on them), except {@code <unk>}, {@code <s>} and {@code <|endoftext|>}.
     * llama.cpp recognises Phi-3 by {@code general.name}.
     */
    private static BitSet rstrip(String[] tokens, int[] types, Map<String, Integer> ids, String modelName) {
        BitSet rstrip = new BitSet(tokens.length);
        String name = modelName == null ? "" : modelName.toLowerCase(Locale.ROOT);
        if (!name.contains("phi-3") && !name.contains("phi3")) {
            return rstrip;
        }
        for (int id = 0; id < tokens.length; id++) {
            if (Vocabulary.isMatchedAsSpecial(types[id])) {
                rstrip.set(id);
            }
        }
        setIfPresent(rstrip, ids, "</s>", true);
        for (String text : List.of("<unk>", "<s>", "<|endoftext|>")) {
            setIfPresent(rstrip, ids, text, false);
        }
        return rstrip;
    }

    private static int detect(int declared, List<String> texts, Map<String, Integer> ids, int[] types) {
        if (declared >= 0) {
            return declared;
        }
        for (String text : texts) {
            Integer id = ids.get(text);
            if (id != null) {
                types[id] = Vocabulary.CONTROL;
                return id;
            }
        }
        return -1;
    }

    private static boolean present(TreeSet<Integer> eog, Map<String, Integer> ids, String text) {
        Integer id = ids.get(text);
        return id != null && eog.contains(id);
    }

    private static void addIfSet(TreeSet<Integer> set, int id) {
        if (id >= 0) {
            set.add(id);
        }
    }

    private static void setIfPresent(BitSet bits, Map<String, Integer> ids, String text, boolean value) {
        Integer id = ids.get(text);
        if (id != null) {
            bits.set(id, value);
        }
    }
}
