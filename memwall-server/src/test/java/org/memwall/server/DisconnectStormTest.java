package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Streaming clients that drop mid-stream, one after another at random moments: each one's sequence
 * leaves the batch and its KV cache is freed within a short time (measured and printed; the figure
 * the issue asks for is 100 ms), while streams that stay are unaffected.
 */
class DisconnectStormTest {
    static final int DROPPERS = Integer.getInteger("memwall.storm.clients", 24);

    static String streaming(int maxTokens) {
        return "{\"prompt\": \"Once upon a time\", \"max_tokens\": " + maxTokens + ", \"temperature\": 0, \"stream\": true, " + ServerFixture.NO_END + "}";
    }

    @Test
    void droppedStreamsAreFreedPromptlyAndOthersFinish() throws Exception {
        try (ServerFixture f = new ServerFixture(ServerFixture.longContextModel(), ServerTrafficTest.longContext(DROPPERS + 2, 4, 0))) {
            List<CompletableFuture<HttpResponse<String>>> stayers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                stayers.add(f.client.sendAsync(java.net.http.HttpRequest.newBuilder(f.uri("/v1/completions"))
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(streaming(400))).header("Content-Type", "application/json").build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            List<Socket> droppers = new ArrayList<>();
            for (int i = 0; i < DROPPERS; i++) {
                Socket s = new Socket("127.0.0.1", f.server.port());
                byte[] body = streaming(3000).getBytes(StandardCharsets.UTF_8);
                OutputStream out = s.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                droppers.add(s);
            }
            ServerTrafficTest.awaitRunning(f, DROPPERS + 2);
            Random r = new Random(18);
            long[] freedMillis = new long[DROPPERS];
            for (int i = 0; i < DROPPERS; i++) {
                Socket s = droppers.get(i);
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                for (int lines = 0, want = 1 + r.nextInt(20); lines < want; ) {
                    if (in.readLine().startsWith("data: ")) {
                        lines++;
                    }
                }
                int before = f.server.engine().runningCount();
                s.setSoLinger(true, 0); // a reset, as when a client process dies
                long t0 = System.nanoTime();
                s.close();
                while (f.server.engine().runningCount() >= before && System.nanoTime() - t0 < 10_000_000_000L) {
                    Thread.onSpinWait();
                }
                freedMillis[i] = (System.nanoTime() - t0) / 1_000_000;
                assertThat(f.server.engine().runningCount()).as("drop " + i).isLessThan(before);
                Thread.sleep(r.nextInt(10));
            }
            Arrays.sort(freedMillis);
            System.out.printf("disconnect storm: %d drops, sequence freed after median %d ms, max %d ms%n", DROPPERS, freedMillis[DROPPERS / 2],
                    freedMillis[DROPPERS - 1]);
            for (CompletableFuture<HttpResponse<String>> stayer : stayers) {
                HttpResponse<String> done = stayer.get();
                assertThat(done.statusCode()).isEqualTo(200);
                assertThat(done.body().strip()).endsWith("data: [DONE]").doesNotContain("\"error\"");
                assertThat(done.body()).contains("\"finish_reason\":\"length\"");
            }
            assertThat(f.server.engine().runningCount()).isZero();
            assertThat(f.server.engine().kvBytes()).isZero();
        }
    }
}
