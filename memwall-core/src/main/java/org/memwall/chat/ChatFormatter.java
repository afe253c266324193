package org.memwall.chat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.memwall.MemwallException;
import org.memwall.gguf.GgufMetadata;
import org.memwall.tokenizer.Tokenizer;
import org.memwall.tokenizer.Vocabulary;

/**
 * Turns a conversation into the model's prompt tokens with the template its GGUF carries
 * ({@code tokenizer.chat_template}), the way llama.cpp and Hugging Face do: the template renders
 * the text (BOS included where the template writes it), special-token text is parsed, and BOS is
 * added only when the vocabulary asks for it and the template did not already write it.
 */
public final class ChatFormatter {
    public static final String KEY = "tokenizer.chat_template";

    private final ChatTemplate template;
    private final Tokenizer tokenizer;
    private final boolean harmony;
    private final ToolCallFormat toolCalls;

    public ChatFormatter(ChatTemplate template, Tokenizer tokenizer, boolean harmony) {
        this(template, tokenizer, harmony, ToolCallFormat.NONE);
    }

    public ChatFormatter(ChatTemplate template, Tokenizer tokenizer, boolean harmony, ToolCallFormat toolCalls) {
        this.template = template;
        this.tokenizer = tokenizer;
        this.harmony = harmony;
        this.toolCalls = toolCalls;
    }

    /** The formatter for a model file; fails clearly when the file has no chat template. */
    public static ChatFormatter forModel(GgufMetadata metadata, Tokenizer tokenizer) {
        if (!metadata.contains(KEY)) {
            throw new MemwallException("this model has no chat template (" + KEY + "); use 'memwall run' for plain text completion");
        }
        return of(metadata.getString(KEY), tokenizer);
    }

    /** The formatter for template source; harmony output is recognised by the template's channel tags. */
    public static ChatFormatter of(String source, Tokenizer tokenizer) {
        return new ChatFormatter(ChatTemplate.parse(source), tokenizer, source.contains("<|channel|>"),
                ToolCallFormat.detect(source, tokenizer.vocabulary()));
    }

    /** How this model writes tool calls, recognised from its template and vocabulary. */
    public ToolCallFormat toolCallFormat() {
        return toolCalls;
    }

    /** Whether replies come in gpt-oss harmony channels (see {@link HarmonyParser}). */
    public boolean harmony() {
        return harmony;
    }

    public String render(List<Map<String, Object>> messages, List<Object> tools, boolean addGenerationPrompt) {
        Vocabulary v = tokenizer.vocabulary();
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("messages", messages);
        if (tools != null && !tools.isEmpty()) {
            vars.put("tools", tools);
        }
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", v.bos() >= 0 ? v.token(v.bos()) : "");
        vars.put("eos_token", v.eos() >= 0 ? v.token(v.eos()) : "");
        return template.render(vars);
    }

    /** The prompt tokens for {@code messages}. */
    public int[] encode(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        return encodeText(render(messages, null, addGenerationPrompt));
    }

    /** Tokenizes rendered chat text: special tokens parsed, BOS added unless the text starts with it. */
    public int[] encodeText(String text) {
        Vocabulary v = tokenizer.vocabulary();
        boolean hasBos = v.bos() >= 0 && text.startsWith(v.token(v.bos()));
        int[] ids = tokenizer.encode(text, false, true);
        if (v.addBos() && !hasBos && v.bos() >= 0) {
            int[] withBos = new int[ids.length + 1];
            withBos[0] = v.bos();
            System.arraycopy(ids, 0, withBos, 1, ids.length);
            return withBos;
        }
        return ids;
    }
}
