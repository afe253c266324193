package org.memwall.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.memwall.tokenizer.Vocabulary;

/**
 * How a model family writes tool calls, recognised from its chat template and vocabulary (never
 * from a file name), and how to read them back out of a reply:
 * <ul>
 * <li>{@link #HERMES}: {@code <tool_call>{"name": …, "arguments": {…}}</tool_call>}, one block per
 *     call (Qwen2.5, Qwen3, Hermes, A.X 4.0, EXAONE 4.0, Granite 4);</li>
 * <li>{@link #LLAMA3}: the reply is {@code {"name": …, "parameters": {…}}}, optionally after
 *     {@code <|python_tag|>}, calls separated by {@code ;} (Llama 3.1–3.3);</li>
 * <li>{@link #GRANITE}: {@code <|tool_call|>[{"name": …, "arguments": {…}}, …]} (Granite 3.x);</li>
 * <li>{@link #HARMONY}: a message to {@code functions.NAME} on the {@code commentary} channel,
 *     {@code <|constrain|>json}, ended by {@code <|call|>} (gpt-oss).</li>
 * </ul>
 * Replies are parsed as text that keeps the special tokens' text (see {@link #markers}).
 */
public enum ToolCallFormat {
    NONE(List.of()),
    HERMES(List.of("<tool_call>", "</tool_call>")),
    LLAMA3(List.of("<|python_tag|>")),
    GRANITE(List.of("<|tool_call|>")),
    HARMONY(List.of());

    /** A parsed call: the function's name and its arguments as JSON text. */
    public record Call(String name, String arguments) {
    }

    /** A reply split into its text and its tool calls. */
    public record Parsed(String content, List<Call> calls) {
    }

    private static final Pattern HERMES_BLOCK = Pattern.compile("<tool_call>\\s*(.*?)\\s*(?:</tool_call>|$)", Pattern.DOTALL);
    private static final Pattern HARMONY_CALL = Pattern.compile(
            "to=functions\\.([\\w.\\-]+)[^<]*(?:<\\|channel\\|>[^<]*)?(?:<\\|constrain\\|>[^<]*)?<\\|message\\|>(.*?)(?:<\\|call\\|>|<\\|end\\|>|$)",
            Pattern.DOTALL);

    private final List<String> markers;

    ToolCallFormat(List<String> markers) {
        this.markers = markers;
    }

    /** Special tokens whose text a reply must keep for its calls to be parsed. */
    public List<String> markers() {
        return markers;
    }

    /** The convention {@code template} renders tool calls in; {@code vocabulary} may be null. */
    public static ToolCallFormat detect(String template, Vocabulary vocabulary) {
        if (template.contains("<|channel|>") && template.contains("functions")) {
            return HARMONY;
        }
        // Other conventions share the <tool_call> tag with XML inside (GLM's <arg_key>, Qwen3-Coder's
        // <function=…>): Hermes is the tag around JSON with "arguments".
        boolean tag = template.contains("<tool_call>") || vocabulary != null && vocabulary.id("<tool_call>") >= 0 && template.contains("tool_call");
        if (tag && template.contains("\"arguments\"") && !template.contains("<tool_calls>")) { // Apriel: a JSON list in <tool_calls>
            return HERMES;
        }
        if (template.contains("<|tool_call|>") || vocabulary != null && vocabulary.id("<|tool_call|>") >= 0 && template.contains("tools")) {
            return GRANITE;
        }
        boolean functionTags = template.contains("<function="); // Functionary, Qwen3-Coder: a convention of their own
        if (!functionTags && (template.contains("<|python_tag|>") || template.contains("ipython") && template.contains("\"parameters\""))) {
            return LLAMA3;
        }
        return NONE;
    }

    /** Where a tool call may begin in {@code text} (so a stream holds text back from there), or -1. */
    public int callStart(String text) {
        return switch (this) {
            case NONE -> -1;
            case HERMES -> text.indexOf("<tool_call>");
            case GRANITE -> text.indexOf("<|tool_call|>");
            case HARMONY -> text.indexOf("to=functions.");
            case LLAMA3 -> {
                String t = text.stripLeading();
                yield t.startsWith("{") || t.startsWith("<|python_tag|>") ? 0 : -1;
            }
        };
    }

    /** Splits a finished reply into text and calls; text that does not parse as a call stays text. */
    public Parsed parse(String text) {
        List<Call> calls = new ArrayList<>();
        StringBuilder content = new StringBuilder();
        switch (this) {
            case HERMES -> {
                Matcher m = HERMES_BLOCK.matcher(text);
                int last = 0;
                while (m.find()) {
                    Call c = call(m.group(1), "arguments");
                    if (c == null) {
                        continue;
                    }
                    content.append(text, last, m.start());
                    calls.add(c);
                    last = m.end();
                }
                content.append(text.substring(last));
            }
            case GRANITE -> {
                int at = text.indexOf("<|tool_call|>");
                String list = at < 0 ? "" : text.substring(at + "<|tool_call|>".length()).strip();
                if (tryParse(list) instanceof List<?> items && !items.isEmpty()) {
                    for (String item : listItems(list)) {
                        Call c = call(item, "arguments");
                        if (c != null) {
                            calls.add(c);
                        }
                    }
                }
                content.append(calls.isEmpty() ? text : text.substring(0, at));
            }
            case LLAMA3 -> {
                String t = text.strip();
                if (t.startsWith("<|python_tag|>")) {
                    t = t.substring("<|python_tag|>".length()).strip();
                }
                for (String part : t.startsWith("{") ? t.split(";(?=\\s*\\{)") : new String[0]) {
                    Call c = call(part.strip(), "parameters");
                    if (c == null) {
                        calls.clear();
                        break;
                    }
                    calls.add(c);
                }
                content.append(calls.isEmpty() ? text : "");
            }
            case HARMONY -> {
                Matcher m = HARMONY_CALL.matcher(text);
                while (m.find()) {
                    calls.add(new Call(m.group(1), m.group(2).strip())); // the message as written (what a stream passes on)
                }
                content.append(text);
            }
            case NONE -> content.append(text);
        }
        return new Parsed(content.toString().strip(), calls);
    }

    /**
     * The call written as the JSON object {@code json}; arguments written as an object are kept as
     * written (the text {@link ToolCallStream} passes on), others are re-serialized.
     */
    private static Call call(String json, String argumentsKey) {
        Call c = call(tryParse(json), argumentsKey);
        if (c == null) {
            return null;
        }
        CallObjectScanner scanner = new CallObjectScanner();
        for (int i = 0; i < json.length() && scanner.feed(json, i); i++) {
            // up to the object's end
        }
        int start = scanner.argumentsObjectStart();
        return start >= 0 && scanner.argumentsEnd() > start ? new Call(c.name(), json.substring(start, scanner.argumentsEnd())) : c;
    }

    private static Call call(Object parsed, String argumentsKey) {
        if (!(parsed instanceof Map<?, ?> m) || !(m.get("name") instanceof String name)) {
            return null;
        }
        Object args = m.containsKey(argumentsKey) ? m.get(argumentsKey) : m.get(argumentsKey.equals("arguments") ? "parameters" : "arguments");
        if (args instanceof String s && tryParse(s) instanceof Map<?, ?> inner) {
            args = inner;
        }
        return new Call(name, Json.write(args == null ? Map.of() : args, null));
    }

    /** The text of each object in a JSON list (valid JSON), up to the first item that is not an object. */
    private static List<String> listItems(String list) {
        List<String> items = new ArrayList<>();
        int i = 1; // after '['
        while (true) {
            while (i < list.length() && (Character.isWhitespace(list.charAt(i)) || list.charAt(i) == ',')) {
                i++;
            }
            if (i >= list.length() || list.charAt(i) != '{') {
                return items;
            }
            CallObjectScanner scanner = new CallObjectScanner();
            int start = i;
            while (i < list.length() && scanner.feed(list, i)) {
                i++;
            }
            if (scanner.end() < 0) {
                return items;
            }
            items.add(list.substring(start, scanner.end()));
            i = scanner.end();
        }
    }

    private static Object tryParse(String json) {
        try {
            return Json.parse(json);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
