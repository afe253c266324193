package org.memwall.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.memwall.chat.ToolCallFormat;
import org.memwall.grammar.Grammar;
import org.memwall.grammar.GrammarException;
import org.memwall.grammar.ToolCallGrammar;

/**
 * A chat request's {@code tools}, {@code tool_choice} and {@code parallel_tool_calls}, validated:
 * which functions the reply may call ({@code functions}: name → parameter schema), whether it may
 * ({@link Mode#AUTO}), must ({@link Mode#REQUIRED}, also for a named function) or must not
 * ({@link Mode#NONE}) call one.
 */
record ToolChoice(Mode mode, Map<String, Object> functions, boolean parallel) {
    enum Mode { AUTO, NONE, REQUIRED }

    static final ToolChoice NO_TOOLS = new ToolChoice(Mode.NONE, Map.of(), true);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");

    /** Parses the tool fields of {@code body}; {@code tools} is its {@code tools} array as Java values (null when absent). */
    static ToolChoice parse(JsonNode body, List<Object> tools) {
        Map<String, Object> functions = new LinkedHashMap<>();
        if (tools != null) {
            for (int i = 0; i < tools.size(); i++) {
                String where = "tools[" + i + "]";
                if (!(tools.get(i) instanceof Map<?, ?> tool) || !"function".equals(tool.get("type"))
                        || !(tool.get("function") instanceof Map<?, ?> fn)) {
                    throw ApiError.invalid("tools", where + " must be {\"type\": \"function\", \"function\": {...}}");
                }
                if (!(fn.get("name") instanceof String name) || !NAME.matcher(name).matches()) {
                    throw ApiError.invalid("tools", where + ".function.name must be 1-64 letters, digits, '_', '.' or '-'");
                }
                Object params = fn.get("parameters");
                if (params != null && !(params instanceof Map<?, ?>)) {
                    throw ApiError.invalid("tools", where + ".function.parameters must be a JSON schema object");
                }
                if (functions.put(name, params) != null) {
                    throw ApiError.invalid("tools", "two tools are named '" + name + "'");
                }
            }
        }
        JsonNode parallel = body.get("parallel_tool_calls");
        if (parallel != null && !parallel.isNull() && !parallel.isBoolean()) {
            throw ApiError.invalid("parallel_tool_calls", "'parallel_tool_calls' must be true or false");
        }
        boolean many = parallel == null || parallel.isNull() || parallel.asBoolean();
        JsonNode choice = body.get("tool_choice");
        if (choice == null || choice.isNull()) {
            return new ToolChoice(functions.isEmpty() ? Mode.NONE : Mode.AUTO, functions, many);
        }
        if (choice.isTextual()) {
            Mode mode = switch (choice.asText()) {
                case "auto" -> functions.isEmpty() ? Mode.NONE : Mode.AUTO;
                case "none" -> Mode.NONE;
                case "required" -> Mode.REQUIRED;
                default -> throw ApiError.invalid("tool_choice", "'tool_choice' must be auto, none, required or {\"type\": \"function\", "
                        + "\"function\": {\"name\": ...}} (got '" + choice.asText() + "')");
            };
            if (mode == Mode.REQUIRED && functions.isEmpty()) {
                throw ApiError.invalid("tool_choice", "tool_choice 'required' needs 'tools'");
            }
            return new ToolChoice(mode, functions, many);
        }
        String name = choice.path("function").path("name").asText(null);
        if (!choice.isObject() || !"function".equals(choice.path("type").asText()) || name == null) {
            throw ApiError.invalid("tool_choice", "a named tool_choice is {\"type\": \"function\", \"function\": {\"name\": ...}}");
        }
        if (!functions.containsKey(name)) {
            throw ApiError.invalid("tool_choice", "tool_choice names '" + name + "', which is not in 'tools'");
        }
        Map<String, Object> one = new LinkedHashMap<>();
        one.put(name, functions.get(name));
        return new ToolChoice(Mode.REQUIRED, one, false);
    }

    /** Whether the reply may contain calls (and is parsed for them). */
    boolean active() {
        return mode != Mode.NONE;
    }

    /**
     * The grammar a forced call is decoded under, or null when calls are not forced. A template
     * without a recognised convention cannot be forced.
     */
    Grammar grammar(ToolCallFormat format) {
        if (mode != Mode.REQUIRED) {
            return null;
        }
        if (format == ToolCallFormat.NONE) {
            throw ApiError.invalid("tool_choice", "this model's chat template has no tool-call convention memwall recognises"
                    + " (Hermes <tool_call>, Llama 3 JSON, Granite <|tool_call|>, gpt-oss harmony), so a call cannot be required");
        }
        try {
            return ToolCallGrammar.of(format, functions, parallel);
        } catch (GrammarException e) {
            throw ApiError.invalid("tools", e.getMessage());
        }
    }

    /** Writes {@code calls} as OpenAI {@code message.tool_calls} entries. */
    static void write(ArrayNode out, List<ToolCallFormat.Call> calls) {
        for (ToolCallFormat.Call call : calls) {
            out.addObject().put("id", newId()).put("type", "function").putObject("function").put("name", call.name()).put("arguments", call.arguments());
        }
    }

    /** A new tool call id, {@code call_} and 24 hex digits. */
    static String newId() {
        return "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }
}
