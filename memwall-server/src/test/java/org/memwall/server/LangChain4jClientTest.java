package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** LangChain4j's OpenAI module (a real client from Maven Central) against memwall serve. */
class LangChain4jClientTest {

    @Test
    void chatStreamingAndErrorsWorkThroughLangChain4j() throws Exception {
        try (ServerFixture f = new ServerFixture(2, 2, "key-123", 0)) {
            String base = "http://127.0.0.1:" + f.server.port() + "/v1";
            String expected = OpenAiServerTest.solo(f, "I dreamed", 16);

            ChatModel chat = OpenAiChatModel.builder().baseUrl(base).apiKey("key-123").modelName("stories")
                    .temperature(0.0).maxTokens(16).build();
            assertThat(chat.chat("I dreamed")).isEqualTo(expected);

            StreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(base).apiKey("key-123").modelName("stories")
                    .temperature(0.0).maxTokens(16).build();
            StringBuilder partial = new StringBuilder();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            streaming.chat("I dreamed", new StreamingChatResponseHandler() {
                @Override
                public void onPartialResponse(String text) {
                    partial.append(text);
                }

                @Override
                public void onCompleteResponse(ChatResponse response) {
                    done.complete(response);
                }

                @Override
                public void onError(Throwable error) {
                    done.completeExceptionally(error);
                }
            });
            ChatResponse response = done.get(60, TimeUnit.SECONDS);
            assertThat(partial.toString()).isEqualTo(expected);
            assertThat(response.aiMessage().text()).isEqualTo(expected);

            // A client with a hard-coded model name reaches the one loaded model.
            ChatModel hardCoded = OpenAiChatModel.builder().baseUrl(base).apiKey("key-123").modelName("gpt-4o")
                    .temperature(0.0).maxTokens(16).maxRetries(0).build();
            assertThat(hardCoded.chat("I dreamed")).isEqualTo(expected);
            ChatModel wrongKey = OpenAiChatModel.builder().baseUrl(base).apiKey("nope").modelName("stories").maxRetries(0).build();
            assertThatThrownBy(() -> wrongKey.chat("hi")).hasMessageContaining("API key");
        }
    }
}
