package org.memwall.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Streamed tool calls, fed in pieces as a model writes them, announce the calls the finished reply
 * parses into, and their argument fragments join into exactly the parsed arguments.
 */
class ToolCallStreamTest {
    /** What a stream reported: per call, its name and its fragments. */
    record Streamed(List<String> names, List<List<String>> fragments) {
        String arguments(int i) {
            return String.join("", fragments.get(i));
        }
    }

    static Streamed stream(ToolCallFormat format, String reply, int maxCalls, SplittableRandom pieces) {
        List<String> names = new ArrayList<>();
        List<List<String>> fragments = new ArrayList<>();
        ToolCallStream s = new ToolCallStream(format, maxCalls, new ToolCallStream.Listener() {
            @Override
            public void begin(int index, String name) {
                assertThat(index).isEqualTo(names.size());
                names.add(name);
                fragments.add(new ArrayList<>());
            }

            @Override
            public void arguments(int index, String fragment) {
                assertThat(fragment).isNotEmpty();
                fragments.get(index).add(fragment);
            }
        });
        int at = 0;
        while (at < reply.length()) {
            int n = pieces == null ? 1 : 1 + pieces.nextInt(6);
            s.push(reply.substring(at, Math.min(reply.length(), at + n)));
            at += n;
        }
        assertThat(s.calls()).isEqualTo(names.size());
        return new Streamed(names, fragments);
    }

    static void assertStreamsAsParsed(ToolCallFormat format, String reply) {
        List<ToolCallFormat.Call> parsed = format.parse(reply).calls();
        assertThat(parsed).as(reply).isNotEmpty();
        for (SplittableRandom pieces : new SplittableRandom[] {null, new SplittableRandom(1), new SplittableRandom(2)}) {
            Streamed s = stream(format, reply, Integer.MAX_VALUE, pieces);
            assertThat(s.names()).as(reply).isEqualTo(parsed.stream().map(ToolCallFormat.Call::name).toList());
            for (int i = 0; i < parsed.size(); i++) {
                assertThat(s.arguments(i)).as(reply).isEqualTo(parsed.get(i).arguments());
            }
        }
    }

    @Test
    void hermesArgumentsStreamUpToTheEndOfTheirObject() {
        String reply = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Se}oul \\\"x\\\"\", \"days\": [1, {\"a\": 2}],"
                + " \"deep\": {\"k\": \"}\"}}}\n</tool_call>\n<tool_call>\n{\"arguments\": {\"zone\": \"UTC\"}, \"name\": \"get_time\"}\n</tool_call>";
        assertStreamsAsParsed(ToolCallFormat.HERMES, reply);
        Streamed perChar = stream(ToolCallFormat.HERMES, reply, Integer.MAX_VALUE, null);
        assertThat(perChar.fragments().get(0)).as("a long argument comes in many pieces").hasSizeGreaterThan(20);
        assertThat(perChar.arguments(0)).isEqualTo("{\"city\": \"Se}oul \\\"x\\\"\", \"days\": [1, {\"a\": 2}], \"deep\": {\"k\": \"}\"}}");
        assertThat(perChar.fragments().get(1)).as("arguments written before the name go out in one piece with it").hasSize(1);
        assertThat(stream(ToolCallFormat.HERMES, reply, 1, null).names()).containsExactly("get_weather");
    }

    @Test
    void llamaAndGraniteCallsStreamOneAfterAnother() {
        assertStreamsAsParsed(ToolCallFormat.LLAMA3, "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"x\": 1}}; {\"name\": \"b\", \"parameters\": {}}");
        assertStreamsAsParsed(ToolCallFormat.LLAMA3, "  {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Seoul\", \"n\": -1.5e3, \"ok\": true}}");
        assertStreamsAsParsed(ToolCallFormat.GRANITE, "<|tool_call|>[{\"name\": \"a\", \"arguments\": {\"x\": [1, 2]}}, {\"name\": \"b\", \"arguments\": {\"y\": null}}]");
        assertThat(stream(ToolCallFormat.LLAMA3, "{curly} is not a call", Integer.MAX_VALUE, null).names()).isEmpty();
        assertThat(stream(ToolCallFormat.LLAMA3, "Hello {\"name\": \"a\", \"parameters\": {}}", Integer.MAX_VALUE, null).names()).isEmpty();
    }

    @Test
    void harmonyStreamsTheCallMessageWithoutSurroundingSpace() {
        assertStreamsAsParsed(ToolCallFormat.HARMONY, "<|channel|>analysis<|message|>Need to=functions.x weather.<|end|><|start|>assistant<|channel|>"
                + "commentary to=functions.get_weather <|constrain|>json<|message|> {\"city\": \"Seoul <|call\"}\n<|call|>");
        assertStreamsAsParsed(ToolCallFormat.HARMONY, "<|start|>assistant to=functions.lookup<|channel|>commentary json<|message|>{\"q\": \"a\"}<|call|>");
        assertThat(stream(ToolCallFormat.HARMONY, "<|channel|>final<|message|>Hi to=functions.x<|return|>", 5, null).names()).isEmpty();
    }

    /** Arguments that are a string holding JSON are not streamed: the caller sends the parsed arguments whole. */
    @Test
    void argumentsThatAreNotAnObjectAreLeftToTheEnd() {
        String reply = "<tool_call>\n{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}\n</tool_call>";
        Streamed s = stream(ToolCallFormat.HERMES, reply, Integer.MAX_VALUE, null);
        assertThat(s.names()).containsExactly("f");
        assertThat(s.fragments().get(0)).isEmpty();
        assertThat(ToolCallFormat.HERMES.parse(reply).calls().get(0).arguments()).isEqualTo("{\"a\": 1}");
    }
}
