package org.memwall.langchain4j;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import org.memwall.server.Memwall;

/** LangChain4j's {@link ChatModel} on a {@link Memwall} in process: tools, tool choice and JSON schemas included. */
public final class MemwallChatModel implements ChatModel {
    private final Memwall memwall;
    private final ChatRequestParameters defaults;

    public MemwallChatModel(Memwall memwall) {
        this(memwall, ChatRequestParameters.builder().build());
    }

    /** {@code defaults}: parameters every request starts from (tool choice, temperature, max output tokens, ...). */
    public MemwallChatModel(Memwall memwall, ChatRequestParameters defaults) {
        this.memwall = memwall;
        this.defaults = defaults;
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        return Requests.response(memwall.chat(Requests.of(request)));
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return defaults;
    }
}
