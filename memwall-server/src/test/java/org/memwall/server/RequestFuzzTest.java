package org.memwall.server;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.memwall.MemwallException;
import org.memwall.TestModels;
import org.memwall.chat.ChatFormatter;
import org.memwall.gguf.GgufFile;
import org.memwall.grammar.GrammarConstraint;
import org.memwall.sample.Sampler;
import org.memwall.tokenizer.Tokenizer;

/**
 * Fuzzes the request path up to the engine: body bytes → JSON → {@link GenerationRequest} → chat
 * template or tokenizer → sampler and grammar constraint, as {@code OpenAiServer} does for each
 * request. A bad request is an {@link ApiError}, a {@link MemwallException} or malformed JSON (all
 * 4xx); anything else (which the server would answer with a 500), a hang or an OOM is a finding.
 * Seeds: {@code RequestFuzzTestInputs/parse}.
 */
class RequestFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Tokenizer TOKENIZER;

    static {
        try (GgufFile f = GgufFile.open(TestModels.stories())) {
            TOKENIZER = Tokenizer.from(f.metadata());
        }
    }

    private static final ChatFormatter FORMATTER = ChatFormatter.of(ServerFixture.TEMPLATE, TOKENIZER);

    @FuzzTest(maxDuration = "60s")
    void parse(byte[] data) {
        JsonNode body;
        try {
            body = JSON.readTree(data);
        } catch (java.io.IOException e) {
            return; // a 400 (malformed JSON, or bytes in no encoding JSON allows)
        }
        for (boolean chat : new boolean[] {true, false}) {
            try {
                GenerationRequest req = GenerationRequest.parse(body, chat);
                int[] prompt = chat ? FORMATTER.encodeText(FORMATTER.render(req.messages(), req.tools(), true)) : TOKENIZER.encode(req.prompt(), true, true);
                new Sampler(req.sampling(), TOKENIZER.vocabulary().size(),
                        req.grammar() == null ? null : new GrammarConstraint(req.grammar(), TOKENIZER, 16)).accept(prompt.length > 0 ? prompt[0] : 0);
            } catch (ApiError | MemwallException e) {
                // a 4xx
            }
        }
    }
}
