package org.memwall.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.memwall.Conformance;
import org.memwall.chat.ToolCallFormat.Call;
import org.memwall.grammar.Grammar;
import org.memwall.grammar.GrammarMatcher;
import org.memwall.grammar.ToolCallGrammar;

class ToolCallFormatTest {
    private static final Call WEATHER = new Call("get_weather", "{\"city\": \"Seoul\"}");

    @Test
    void hermesBlocksBecomeCallsAndTheRestStaysText() {
        ToolCallFormat.Parsed p = ToolCallFormat.HERMES.parse("Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Seoul\"}}\n"
                + "</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>");
        assertThat(p.calls()).containsExactly(WEATHER, new Call("get_time", "{}"));
        assertThat(p.content()).isEqualTo("Let me check.");
        assertThat(ToolCallFormat.HERMES.parse("<tool_call>not json</tool_call>").calls()).isEmpty();
        assertThat(ToolCallFormat.HERMES.callStart("abc <tool_call>")).isEqualTo(4);
    }

    @Test
    void llamaJsonCallsWithAndWithoutPythonTag() {
        assertThat(ToolCallFormat.LLAMA3.parse("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Seoul\"}}").calls()).containsExactly(WEATHER);
        assertThat(ToolCallFormat.LLAMA3.parse("<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Seoul\"}}; "
                + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Seoul\"}}").calls()).containsExactly(WEATHER, WEATHER);
        ToolCallFormat.Parsed prose = ToolCallFormat.LLAMA3.parse("{curly} is not a call");
        assertThat(prose.calls()).isEmpty();
        assertThat(prose.content()).isEqualTo("{curly} is not a call");
    }

    @Test
    void graniteListAndHarmonyCommentary() {
        assertThat(ToolCallFormat.GRANITE.parse("<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Seoul\"}}]").calls())
                .containsExactly(WEATHER);
        String harmony = "<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather "
                + "<|constrain|>json<|message|>{\"city\": \"Seoul\"}<|call|>";
        assertThat(ToolCallFormat.HARMONY.parse(harmony).calls()).containsExactly(WEATHER);
        assertThat(ToolCallFormat.HARMONY.parse("<|channel|>final<|message|>Hi<|return|>").calls()).isEmpty();
    }

    @Test
    void requiredCallGrammarAcceptsOnlyCallsMatchingTheParameters() {
        Map<String, Object> fns = new LinkedHashMap<>();
        fns.put("get_weather", Json.parse("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}"));
        Grammar hermes = ToolCallGrammar.of(ToolCallFormat.HERMES, fns, false);
        GrammarMatcher m = new GrammarMatcher(hermes);
        assertThat(m.matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Seoul\"}}</tool_call>".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(m.matches("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"city\": \"Seoul\"}}</tool_call>".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(m.matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}</tool_call>".getBytes(StandardCharsets.UTF_8))).isFalse();
        Grammar llama = ToolCallGrammar.of(ToolCallFormat.LLAMA3, fns, true);
        assertThat(new GrammarMatcher(llama).matches("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"X\"}}; {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Y\"}}"
                .getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(ToolCallGrammar.of(ToolCallFormat.HARMONY, fns, false).specialTokens()).as("harmony's header is special tokens")
                .containsExactlyInAnyOrder("<|channel|>", "<|message|>", "<|end|>", "<|start|>", "<|constrain|>", "<|call|>");
        fns.put("get_time", Json.parse("{\"type\": \"object\", \"properties\": {\"zone\": {\"type\": \"string\"}}, \"required\": [\"zone\"]}"));
        for (ToolCallFormat f : List.of(ToolCallFormat.HERMES, ToolCallFormat.LLAMA3, ToolCallFormat.GRANITE)) {
            assertThat(ToolCallGrammar.of(f, fns, true)).as("two functions, parallel calls: %s", f).isNotNull();
        }
        assertThat(new GrammarMatcher(ToolCallGrammar.of(ToolCallFormat.GRANITE, fns, true)).matches(("<|tool_call|>[{\"name\": \"get_time\", "
                + "\"arguments\": {\"zone\": \"UTC\"}}, {\"name\": \"get_weather\", \"arguments\": {\"city\": \"X\"}}]").getBytes(StandardCharsets.UTF_8))).isTrue();
    }

    /**
     * Every conformance template that renders tool calls: its own rendering of the assistant's call
     * parses back into that call with the convention detected from the template.
     */
    @Test
    @SuppressWarnings("unchecked")
    void everyToolCapableTemplateRoundTripsItsCalls() throws Exception {
        Path dir = Conformance.dir().resolve("chat");
        Map<String, Object> scenario = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) Json.parse(
                Files.readString(dir.resolve("expected.json")))).get("scenarios")).get("tools");
        List<Object> messages = (List<Object>) scenario.get("messages");
        List<String> checked = new ArrayList<>();
        List<String> noConvention = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir.resolve("templates"))) {
            for (Path f : files.sorted().toList()) {
                String source = Files.readString(f);
                if (!source.contains("tool_calls")) {
                    continue;
                }
                ToolCallFormat format = ToolCallFormat.detect(source, null);
                String name = f.getFileName().toString();
                if (format == ToolCallFormat.NONE) {
                    noConvention.add(name);
                    continue;
                }
                ChatTemplate t = ChatTemplate.parse(source);
                String before = render(t, messages.subList(0, 1), scenario.get("tools"), true);
                String after = render(t, messages.subList(0, 2), scenario.get("tools"), false);
                // The assistant turn: what the history adds after the part it shares with the prompt
                // (reasoning templates open the generation prompt differently from a past turn).
                int common = 0;
                while (common < Math.min(before.length(), after.length()) && before.charAt(common) == after.charAt(common)) {
                    common++;
                }
                while (common > 0 && after.charAt(common - 1) != '\n' && after.charAt(common - 1) != '>') {
                    common--; // not into the middle of a tag both happen to start with "<t"
                }
                assertThat(common).as(name).isGreaterThan(before.length() / 2);
                // Less the end-of-turn token the history writes and a generated reply ends with instead.
                String turn = after.substring(common).replaceAll("(<\\|[a-z_]+\\|>|<EOS>)\\s*$", "");
                ToolCallFormat.Parsed p = format.parse(turn);
                assertThat(p.calls()).as(name + " (" + format + ")").containsExactly(WEATHER);
                checked.add(name + "=" + format);
            }
        }
        System.out.println("tool-call round trips: " + checked + "; no convention recognised: " + noConvention);
        assertThat(checked).anyMatch(s -> s.endsWith("HERMES")).anyMatch(s -> s.endsWith("LLAMA3")).anyMatch(s -> s.endsWith("HARMONY"));
    }

    private static String render(ChatTemplate t, List<Object> messages, Object tools, boolean generationPrompt) {
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("messages", messages);
        vars.put("tools", tools);
        vars.put("add_generation_prompt", generationPrompt);
        vars.put("bos_token", "<BOS>");
        vars.put("eos_token", "<EOS>");
        return t.render(vars);
    }
}
