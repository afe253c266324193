package org.memwall.langchain4j;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import org.memwall.server.Memwall;

/** LangChain4j's {@link StreamingChatModel} on a {@link Memwall} in process: text as it is generated, then the whole response. */
public final class MemwallStreamingChatModel implements StreamingChatModel {
    private final Memwall memwall;
    private final ChatRequestParameters defaults;

    public MemwallStreamingChatModel(Memwall memwall) {
        this(memwall, ChatRequestParameters.builder().build());
    }

    public MemwallStreamingChatModel(Memwall memwall, ChatRequestParameters defaults) {
        this.memwall = memwall;
        this.defaults = defaults;
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        Memwall.Request r;
        try {
            r = Requests.of(request);
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        memwall.chat(r, handler::onPartialResponse).result().whenComplete((result, error) -> {
            if (error != null) {
                handler.onError(error);
            } else {
                handler.onCompleteResponse(Requests.response(result));
            }
        });
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return defaults;
    }
}
