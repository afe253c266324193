package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.memwall.engine.Generator;
import org.memwall.grammar.Grammar;
import org.memwall.grammar.GrammarConstraint;
import org.memwall.model.Model;
import org.memwall.sample.Sampler;
import org.memwall.sample.SamplerSettings;
import org.memwall.tokenizer.Tokenizer;

/**
 * Constrained output from a random-weight model, sampled at temperature 1 over the whole masked
 * vocabulary: it must end by itself and parse and validate (judged by an independent validator)
 * for every schema in {@code schemas.jsonl}; then the same through the HTTP API.
 */
class StructuredOutputTest {
    /** Strict: trailing content after the document is an error. */
    static final ObjectMapper STRICT = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    @TempDir
    static Path dir;
    static Model model;
    static Tokenizer tokenizer;

    @BeforeAll
    static void open() throws IOException {
        model = SyntheticServer.open(dir, "llama-3.2-1b");
        tokenizer = Tokenizer.from(model.file().metadata());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static List<String> schemas() throws IOException {
        try (InputStream in = StructuredOutputTest.class.getResourceAsStream("schemas.jsonl")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        }
    }

    /** Validation errors of {@code text} against {@code schema}; fails when the text is not one JSON document. */
    static List<?> validate(JsonNode schema, String text) throws IOException {
        return SCHEMAS.getSchema(schema).validate(STRICT.readTree(text));
    }

    @ParameterizedTest
    @MethodSource("schemas")
    void randomWeightOutputEndsParsesAndValidates(String schemaText) throws IOException {
        JsonNode schema = STRICT.readTree(schemaText);
        Grammar grammar = ResponseFormat.schema("response_format", schema);
        int[] prompt = tokenizer.encode("Answer in JSON:", true, false);
        int maxTokens = 120;
        for (long seed = 1; seed <= 3; seed++) {
            SamplerSettings hot = new SamplerSettings(1f, 0, 1f, 0f, 1f, 64, 0f, 0f, seed, Map.of());
            Sampler sampler = new Sampler(hot, model.weights().vocabularySize(), new GrammarConstraint(grammar, tokenizer, maxTokens));
            assertThat(sampler.argmaxOnly()).isFalse();
            Generator.Result r = new Generator(model, 256).generate(prompt, maxTokens, sampler, tokenizer::isEndOfGeneration, t -> true);
            String text = tokenizer.decode(r.tokens());
            assertThat(r.stop()).as("ended by itself: %s", text).isEqualTo(Generator.Stop.END_TOKEN);
            assertThat(validate(schema, text)).as("seed %d: %s", seed, text).isEmpty();
        }
    }

    @Test
    void greedyConstrainedOutputIsValidToo() throws IOException {
        JsonNode schema = STRICT.readTree("{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"array\", \"items\": {\"type\": \"integer\"}}},"
                + " \"required\": [\"a\"]}");
        Sampler sampler = new Sampler(SamplerSettings.GREEDY, model.weights().vocabularySize(),
                new GrammarConstraint(ResponseFormat.schema("s", schema), tokenizer, 64));
        assertThat(sampler.argmaxOnly()).as("the forward pass must not pick the argmax itself").isFalse();
        int[] prompt = tokenizer.encode("x", true, false);
        String text = tokenizer.decode(new Generator(model, 128).generate(prompt, 64, sampler, tokenizer::isEndOfGeneration, t -> true).tokens());
        assertThat(validate(schema, text)).as(text).isEmpty();
    }

    @Test
    void theServerHonoursResponseFormatAndGrammarAndRefusesBadOnes() throws Exception {
        try (OpenAiServer server = SyntheticServer.serve(model, "{% for m in messages %}{{ m.content }}{% endfor %}")) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String schema = "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"maxLength\": 12},"
                    + " \"days\": {\"type\": \"integer\", \"minimum\": 1}}, \"required\": [\"city\", \"days\"], \"additionalProperties\": false}";
            String format = "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"trip\", \"strict\": true, \"schema\": " + schema + "}}";
            for (boolean stream : new boolean[] {false, true}) {
                HttpResponse<String> r = post(client, server, body(format + ", \"stream\": " + stream));
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                String content = stream ? streamed(r.body()) : STRICT.readTree(r.body()).at("/choices/0/message/content").asText();
                assertThat(validate(STRICT.readTree(schema), content)).as(content).isEmpty();
            }
            HttpResponse<String> obj = post(client, server, body("\"response_format\": {\"type\": \"json_object\"}"));
            assertThat(STRICT.readTree(STRICT.readTree(obj.body()).at("/choices/0/message/content").asText()).isObject()).isTrue();
            HttpResponse<String> g = post(client, server, body("\"grammar\": \"root ::= (\\\"yes\\\" | \\\"no\\\") \\\".\\\"\""));
            assertThat(STRICT.readTree(g.body()).at("/choices/0/message/content").asText()).isIn("yes.", "no.");

            HttpResponse<String> bad = post(client, server, body("\"grammar\": \"root ::= undefined-rule\""));
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(STRICT.readTree(bad.body()).at("/error/message").asText()).isEqualTo("rule 'undefined-rule' is used but not defined");
            assertThat(STRICT.readTree(bad.body()).at("/error/param").asText()).isEqualTo("grammar");
            HttpResponse<String> unsupported = post(client, server,
                    body("\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"schema\": {\"type\": \"array\", \"uniqueItems\": true}}}"));
            assertThat(unsupported.statusCode()).isEqualTo(400);
            assertThat(STRICT.readTree(unsupported.body()).at("/error/message").asText()).contains("'uniqueItems'").doesNotContain("\n");
            HttpResponse<String> type = post(client, server, body("\"response_format\": {\"type\": \"xml\"}"));
            assertThat(STRICT.readTree(type.body()).at("/error/param").asText()).isEqualTo("response_format");
        }
    }

    private static String body(String extra) {
        return "{\"messages\": [{\"role\": \"user\", \"content\": \"Plan a trip\"}], \"max_tokens\": 80, \"temperature\": 1, \"seed\": 3, " + extra + "}";
    }

    private static HttpResponse<String> post(HttpClient client, OpenAiServer server, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String streamed(String sse) throws IOException {
        StringBuilder b = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: {")) {
                JsonNode d = STRICT.readTree(line.substring(6)).at("/choices/0/delta/content");
                if (d.isTextual()) {
                    b.append(d.asText());
                }
            }
        }
        return b.toString();
    }
}
