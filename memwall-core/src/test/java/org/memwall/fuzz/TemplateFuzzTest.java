package org.memwall.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.memwall.MemwallException;
import org.memwall.chat.ChatTemplate;

/**
 * Fuzzes the Jinja parser and renderer: any bytes as template source, rendered with a short
 * conversation. A template may be refused or fail to render, but only with a {@link MemwallException}
 * (one line naming the position); anything else thrown, a hang or an OOM is a finding. The seeds
 * (constructs of real templates) are in {@code TemplateFuzzTestInputs/parseAndRender} and replay in
 * the default test run; {@code JAZZER_FUZZ=1} fuzzes (docs/server.md).
 */
class TemplateFuzzTest {
    private static final Map<String, Object> VARIABLES = Map.of("messages",
            List.of(Map.of("role", "system", "content", "Be brief."), Map.of("role", "user", "content", "Hi {{ there }} <|im_end|>")),
            "add_generation_prompt", true, "bos_token", "<s>", "eos_token", "</s>");

    @FuzzTest(maxDuration = "60s")
    void parseAndRender(byte[] data) {
        ChatTemplate template;
        try {
            template = ChatTemplate.parse(new String(data, StandardCharsets.UTF_8));
        } catch (MemwallException e) {
            return;
        }
        try {
            template.render(VARIABLES);
        } catch (MemwallException e) {
            // a clear refusal
        }
    }
}
