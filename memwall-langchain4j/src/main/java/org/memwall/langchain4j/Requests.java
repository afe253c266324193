package org.memwall.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.internal.Json;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.util.ArrayList;
import java.util.List;
import org.memwall.MemwallException;
import org.memwall.server.Memwall;

/** LangChain4j's chat requests and responses as memwall's, both ways. */
final class Requests {
    private Requests() {
    }

    static Memwall.Request of(ChatRequest r) {
        List<Memwall.Message> messages = new ArrayList<>();
        for (ChatMessage m : r.messages()) {
            messages.add(switch (m) {
                case SystemMessage s -> Memwall.Message.system(s.text());
                case UserMessage u -> {
                    if (!u.hasSingleText()) {
                        throw new MemwallException("only text user messages are supported (no images or other content)");
                    }
                    yield Memwall.Message.user(u.singleText());
                }
                case AiMessage a -> Memwall.Message.assistant(a.text(), a.toolExecutionRequests().stream()
                        .map(t -> new Memwall.ToolCall(t.id(), t.name(), t.arguments())).toList());
                case ToolExecutionResultMessage t -> Memwall.Message.tool(t.id(), t.text());
                default -> throw new MemwallException("unsupported message type " + m.type());
            });
        }
        Memwall.Request request = new Memwall.Request(messages, List.of(), null, null, r.maxOutputTokens(), r.temperature(), null);
        List<ToolSpecification> specs = r.toolSpecifications();
        if (specs != null && !specs.isEmpty()) {
            List<Memwall.Tool> tools = new ArrayList<>();
            for (ToolSpecification s : specs) {
                tools.add(new Memwall.Tool(s.name(), s.description(), s.parameters() == null ? null
                        : Json.toJson(JsonSchemaElementUtils.toMap(s.parameters(), false))));
            }
            String choice = r.toolChoice() == null ? null : r.toolChoice().name().toLowerCase(java.util.Locale.ROOT);
            request = request.withTools(tools, choice);
        }
        ResponseFormat format = r.responseFormat();
        if (format != null && format.type() == ResponseFormatType.JSON) {
            request = request.withJsonSchema(format.jsonSchema() == null ? "{\"type\": \"object\"}"
                    : Json.toJson(JsonSchemaElementUtils.toMap(format.jsonSchema().rootElement(), false)));
        }
        return request;
    }

    static ChatResponse response(Memwall.Result result) {
        List<ToolExecutionRequest> calls = result.toolCalls().stream()
                .map(c -> ToolExecutionRequest.builder().id(c.id()).name(c.name()).arguments(c.arguments()).build()).toList();
        AiMessage message = calls.isEmpty() ? AiMessage.from(result.content())
                : AiMessage.builder().text(result.content().isEmpty() ? null : result.content()).toolExecutionRequests(calls).build();
        return ChatResponse.builder().aiMessage(message).tokenUsage(new TokenUsage(result.promptTokens(), result.completionTokens()))
                .finishReason(switch (result.finishReason()) {
                    case "stop" -> FinishReason.STOP;
                    case "length" -> FinishReason.LENGTH;
                    case "tool_calls" -> FinishReason.TOOL_EXECUTION;
                    default -> FinishReason.OTHER;
                }).build();
    }
}
