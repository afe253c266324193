package org.memwall.grammar;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.memwall.chat.ToolCallFormat;

/**
 * The grammar of a reply that must call a tool ({@code tool_choice} {@code required} or a named
 * function): the family's call syntax around a JSON object whose {@code name} is one of the allowed
 * functions and whose arguments match that function's parameter schema. Harmony (gpt-oss) puts the
 * name in the message header instead, between special tokens:
 * {@code <|channel|>commentary to=functions.NAME <|constrain|>json<|message|>ARGUMENTS<|call|>}, after
 * an optional reasoning message ({@code <|channel|>analysis<|message|>…<|end|><|start|>assistant});
 * one call per reply, since {@code <|call|>} ends it.
 */
public final class ToolCallGrammar {
    private ToolCallGrammar() {
    }

    /**
     * @param functions name → parameter schema (parsed JSON) of the functions the call may use
     * @param parallel  whether several calls may follow one another
     * @return the grammar, or null when the format has no call syntax
     */
    public static Grammar of(ToolCallFormat format, Map<String, Object> functions, boolean parallel) {
        if (format == ToolCallFormat.HARMONY) {
            return harmony(functions);
        }
        String argumentsKey = format == ToolCallFormat.LLAMA3 ? "parameters" : "arguments";
        List<Object> calls = new ArrayList<>();
        functions.forEach((name, params) -> {
            Map<String, Object> props = new LinkedHashMap<>();
            props.put("name", Map.of("const", name));
            props.put(argumentsKey, params == null ? Map.of("type", "object") : params);
            Map<String, Object> call = new LinkedHashMap<>();
            call.put("type", "object");
            call.put("properties", props);
            call.put("required", List.of("name", argumentsKey));
            calls.add(call);
        });
        String call = JsonSchemaGrammar.toGbnf(Map.of("anyOf", calls)).replaceFirst("^root ::=", "tool-call ::=");
        String more = parallel ? "*" : "";
        String root = switch (format) {
            case HERMES -> "root ::= \"<tool_call>\\n\" tool-call \"</tool_call>\" (\"\\n<tool_call>\\n\" tool-call \"</tool_call>\")" + more;
            case LLAMA3 -> "root ::= tool-call (\"; \" tool-call)" + more;
            case GRANITE -> "root ::= \"<|tool_call|>[\" tool-call (\", \" tool-call)" + more + " \"]\"";
            default -> null;
        };
        if (root == null) {
            return null;
        }
        if (!parallel) {
            root = root.substring(0, root.lastIndexOf('(')) + (format == ToolCallFormat.GRANITE ? "\"]\"" : "");
        }
        // The parser names the rules it makes for groups after their rule ("root-1", ...), as the schema's
        // converter names its own: the groups live in a rule of another name.
        return Grammar.parse("root ::= call-list\n" + root.replaceFirst("^root ::=", "call-list ::=") + "\n" + call);
    }

    private static Grammar harmony(Map<String, Object> functions) {
        StringBuilder g = new StringBuilder("""
                root ::= reasoning? call
                reasoning ::= <|channel|> "analysis" <|message|> reasoning-char* <|end|> <|start|> "assistant"
                reasoning-char ::= .
                """);
        List<String> headers = new ArrayList<>();
        StringBuilder schemas = new StringBuilder();
        int i = 0;
        for (Map.Entry<String, Object> f : functions.entrySet()) {
            String prefix = "f" + i++ + "-";
            String name = f.getKey().replace("\\", "\\\\").replace("\"", "\\\"");
            headers.add("\"" + name + " \" <|constrain|> \"json\" <|message|> " + prefix + "root");
            schemas.append(JsonSchemaGrammar.rules(f.getValue() == null ? Map.of("type", "object") : f.getValue(), prefix));
        }
        g.append("call ::= <|channel|> \"commentary to=functions.\" (").append(String.join(" | ", headers)).append(") <|call|>\n");
        return Grammar.parse(g.append(schemas).append(JsonSchemaGrammar.PRIMITIVES).toString());
    }
}
