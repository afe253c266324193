package org.memwall.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.memwall.Conformance;

/** Every template × scenario of ../shared/conformance/chat: byte-identical to Jinja2, or raising where it raised. */
class ChatTemplateConformanceTest {
    /** The instant the reference renderings were made with ({@code strftime_now}). */
    static final Clock REFERENCE_CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

    @Test
    @SuppressWarnings("unchecked")
    void everyTemplateRendersLikeHuggingFaceJinja2() throws IOException {
        Path dir = Conformance.file("chat");
        Map<String, Object> expected = (Map<String, Object>) Json.parse(Files.readString(dir.resolve("expected.json")));
        Map<String, Object> scenarios = (Map<String, Object>) expected.get("scenarios");
        Map<String, Object> cases = (Map<String, Object>) expected.get("expected");
        List<String> failures = new ArrayList<>();
        int total = 0;
        StringBuilder summary = new StringBuilder();
        for (Map.Entry<String, Object> t : cases.entrySet()) {
            String source = Files.readString(dir.resolve("templates/" + t.getKey() + ".jinja"));
            int passed = 0;
            Map<String, Object> byScenario = (Map<String, Object>) t.getValue();
            for (Map.Entry<String, Object> sc : byScenario.entrySet()) {
                total++;
                Map<String, Object> want = (Map<String, Object>) sc.getValue();
                Map<String, Object> vars = new LinkedHashMap<>((Map<String, Object>) scenarios.get(sc.getKey()));
                vars.put("bos_token", expected.get("bos_token"));
                vars.put("eos_token", expected.get("eos_token"));
                String got;
                try {
                    got = ChatTemplate.parse(source).render(vars, REFERENCE_CLOCK);
                } catch (TemplateException e) {
                    got = null;
                    if (want.containsKey("error")) {
                        passed++;
                    } else {
                        failures.add(t.getKey() + "/" + sc.getKey() + ": raised " + e.getMessage());
                    }
                    continue;
                }
                if (want.containsKey("error")) {
                    failures.add(t.getKey() + "/" + sc.getKey() + ": expected error " + want.get("error"));
                } else if (!got.equals(want.get("output"))) {
                    failures.add(t.getKey() + "/" + sc.getKey() + ": output differs at " + firstDifference(got, (String) want.get("output"))
                            + "\n--- got ---\n" + got + "\n--- want ---\n" + want.get("output"));
                } else {
                    passed++;
                }
            }
            summary.append(String.format("%-55s %d/%d%n", t.getKey(), passed, byScenario.size()));
        }
        System.out.print(summary);
        System.out.println("chat templates: " + (total - failures.size()) + "/" + total);
        failures.forEach(f -> System.out.println("FAIL " + f));
        assertThat(failures).isEmpty();
    }

    private static String firstDifference(String a, String b) {
        int i = 0;
        while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return "char " + i + " (got '" + a.substring(i, Math.min(a.length(), i + 30)).replace("\n", "\\n") + "' want '"
                + b.substring(i, Math.min(b.length(), i + 30)).replace("\n", "\\n") + "')";
    }
}
