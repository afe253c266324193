package org.memwall.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.memwall.grammar.Grammar;
import org.memwall.grammar.GrammarException;

/**
 * What a request constrains its output to: OpenAI's {@code response_format} ({@code text},
 * {@code json_object}, {@code json_schema}) or llama.cpp's {@code grammar} (GBNF), compiled to a
 * {@link Grammar}; null when the output is free text.
 */
final class ResponseFormat {
    private ResponseFormat() {
    }

    static Grammar parse(JsonNode body) {
        JsonNode grammar = body.get("grammar");
        JsonNode format = body.get("response_format");
        boolean hasFormat = format != null && !format.isNull();
        if (grammar != null && !grammar.isNull()) {
            if (!grammar.isTextual()) {
                throw ApiError.invalid("grammar", "'grammar' must be a string of GBNF");
            }
            if (hasFormat && !"text".equals(format.path("type").asText())) {
                throw ApiError.invalid("grammar", "give either 'grammar' or 'response_format', not both");
            }
            return compile("grammar", () -> Grammar.parse(grammar.asText()));
        }
        if (!hasFormat) {
            return null;
        }
        if (!format.isObject() || !format.path("type").isTextual()) {
            throw ApiError.invalid("response_format", "'response_format' must be an object with a 'type'");
        }
        return switch (format.get("type").asText()) {
            case "text" -> null;
            case "json_object" -> Grammar.jsonObject();
            case "json_schema" -> {
                JsonNode spec = format.get("json_schema");
                if (spec == null || !spec.isObject() || !spec.has("schema")) {
                    throw ApiError.invalid("response_format", "'response_format.json_schema.schema' is missing");
                }
                yield schema("response_format", spec.get("schema"));
            }
            default -> throw ApiError.invalid("response_format",
                    "response_format type '" + format.get("type").asText() + "' is not one of text, json_object, json_schema");
        };
    }

    /** The grammar of a JSON schema given in a request; a schema it cannot express is a 400 naming {@code param}. */
    static Grammar schema(String param, JsonNode schema) {
        if (!schema.isObject() && !schema.isBoolean()) {
            throw ApiError.invalid(param, "the JSON schema must be an object");
        }
        return compile(param, () -> Grammar.fromJsonSchema(GenerationRequest.toJava(schema)));
    }

    private static Grammar compile(String param, java.util.function.Supplier<Grammar> compile) {
        try {
            return compile.get();
        } catch (GrammarException e) {
            throw ApiError.invalid(param, e.getMessage());
        }
    }
}
