package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.memwall.engine.Embedder;

/** {@code /v1/embeddings} on the built-in model: what the Embedder computes, in floats and base64, truncated, and through the OpenAI SDK. */
class EmbeddingsTest {
    static ServerFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = new ServerFixture(2, 4, null, 0);
    }

    @AfterAll
    static void stop() {
        f.close();
    }

    static float[] floats(JsonNode array) {
        float[] v = new float[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = array.get(i).floatValue();
        }
        return v;
    }

    @Test
    void vectorsAreTheEmbeddersInEveryEncoding() throws Exception {
        List<String> texts = List.of("Once upon a time", "The cat sat");
        Embedder direct = new Embedder(f.model, Embedder.Pooling.of(f.model.file().metadata()), 512);
        float[][] expected = direct.embed(texts.stream().map(t -> f.tokenizer.encode(t, true, false)).toList());

        HttpResponse<String> r = f.post("/v1/embeddings", "{\"model\": \"stories\", \"input\": [\"Once upon a time\", \"The cat sat\"]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = ServerFixture.json(r);
        assertThat(body.at("/data").size()).isEqualTo(2);
        for (int i = 0; i < 2; i++) {
            assertThat(body.at("/data/" + i + "/index").asInt()).isEqualTo(i);
            assertThat(floats(body.at("/data/" + i + "/embedding"))).isEqualTo(expected[i]);
        }
        assertThat(body.at("/usage/prompt_tokens").asInt()).isEqualTo(expected.length == 2
                ? f.tokenizer.encode(texts.get(0), true, false).length + f.tokenizer.encode(texts.get(1), true, false).length : -1);

        JsonNode one = ServerFixture.json(f.post("/embeddings", "{\"input\": \"The cat sat\", \"encoding_format\": \"base64\"}"));
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(one.at("/data/0/embedding").asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] decoded = new float[b.remaining() / 4];
        b.asFloatBuffer().get(decoded);
        assertThat(decoded).isEqualTo(expected[1]);

        JsonNode cut = ServerFixture.json(f.post("/v1/embeddings", "{\"input\": \"The cat sat\", \"dimensions\": 8}"));
        float[] v = floats(cut.at("/data/0/embedding"));
        assertThat(v).hasSize(8);
        double norm = 0;
        double full = 0;
        for (int j = 0; j < 8; j++) {
            norm += v[j] * v[j];
            full += expected[1][j] * expected[1][j];
        }
        assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        for (int j = 0; j < 8; j++) {
            assertThat((double) v[j]).isCloseTo(expected[1][j] / Math.sqrt(full), org.assertj.core.data.Offset.offset(1e-6));
        }
    }

    @Test
    void theOpenAiSdkGetsTheSameVectors() throws Exception {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + f.server.port() + "/v1").apiKey("unused").maxRetries(0).build();
        try {
            // The SDK asks for base64 by default and decodes it.
            CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder().model("stories").input("Once upon a time").build());
            float[] expected = new Embedder(f.model, Embedder.Pooling.MEAN, 512).embed(List.of(f.tokenizer.encode("Once upon a time", true, false)))[0];
            List<Float> got = r.data().get(0).embedding();
            assertThat(got).hasSize(expected.length);
            for (int j = 0; j < expected.length; j++) {
                assertThat(got.get(j)).isEqualTo(expected[j]);
            }
        } finally {
            client.close();
        }
    }

    @Test
    void badInputsAreOneLine400s() throws Exception {
        String[][] cases = {
                {"{\"input\": \"\"}", "input", "empty"},
                {"{\"input\": []}", "input", "non-empty"},
                {"{\"input\": \"x\", \"dimensions\": 0}", "dimensions", "from 1 to"},
                {"{\"input\": \"x\", \"encoding_format\": \"hex\"}", "encoding_format", "float or base64"},
                {"{\"input\": [999999]}", "input", "token ids"},
                {"{}", "input", "missing"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = f.post("/v1/embeddings", c[0]);
            assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
            JsonNode e = ServerFixture.json(r).get("error");
            assertThat(e.get("param").asText()).as(c[0]).isEqualTo(c[1]);
            assertThat(e.get("message").asText()).contains(c[2]).doesNotContain("\n");
        }
        assertThat(f.post("/v1/embeddings", "{\"input\": \"" + "word ".repeat(400) + "\"}").body()).contains("context_length_exceeded");
    }
}
