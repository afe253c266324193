package org.memwall.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HarmonyParserTest {
    record Piece(String channel, String text) {
    }

    static List<Piece> parse(String... parts) {
        List<Piece> out = new ArrayList<>();
        HarmonyParser p = new HarmonyParser((c, t) -> out.add(new Piece(c, t)));
        for (String part : parts) {
            if (HarmonyParser.isStructural(part)) {
                p.special(part);
            } else {
                p.text(part);
            }
        }
        return out;
    }

    @Test
    void reasoningAndAnswerGoToTheirChannels() {
        List<Piece> pieces = parse("<|channel|>", "analysis", "<|message|>", "User asks", " 2+2.", "<|end|>",
                "<|start|>", "assistant", "<|channel|>", "final", "<|message|>", "4", "<|return|>");
        assertThat(pieces).containsExactly(new Piece("analysis", "User asks"), new Piece("analysis", " 2+2."), new Piece("final", "4"));
    }

    @Test
    void channelNameSplitOverTokensAndRecipientAreHeaderText() {
        List<Piece> pieces = parse("<|channel|>", "comm", "entary to=functions.get_weather", "<|constrain|>", "json",
                "<|message|>", "{\"city\":\"Seoul\"}", "<|call|>");
        assertThat(pieces).containsExactly(new Piece("commentary", "{\"city\":\"Seoul\"}"));
    }

    @Test
    void textAfterReturnIsIgnoredAndDoneIsReported() {
        List<Piece> out = new ArrayList<>();
        HarmonyParser p = new HarmonyParser((c, t) -> out.add(new Piece(c, t)));
        p.special("<|channel|>");
        p.text("final");
        p.special("<|message|>");
        p.text("hi");
        p.special("<|return|>");
        p.text("stray");
        assertThat(p.done()).isTrue();
        assertThat(out).containsExactly(new Piece("final", "hi"));
    }
}
