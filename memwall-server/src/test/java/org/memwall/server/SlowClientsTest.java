package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Clients that never finish: half-sent bodies and connections opened and left idle. The server keeps
 * serving others with bounded threads, and cuts a request not fully sent within its time
 * ({@code sun.net.httpserver.maxReqTime}: 30 s by default, 3 s in these tests) so that stalled
 * clients do not hold the admission permits.
 */
class SlowClientsTest {
    static final String GOOD = "{\"prompt\": \"I dreamed\", \"max_tokens\": 4, \"temperature\": 0}";

    @Test
    void halfSentBodiesAreCutAndIdleConnectionsDoNotStopTheServer() throws Exception {
        try (ServerFixture f = new ServerFixture(1, 1, null, 0)) {
            int platformThreads = ManagementFactory.getThreadMXBean().getThreadCount();
            List<Socket> idle = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                idle.add(new Socket("127.0.0.1", f.server.port()));
            }
            List<Socket> stalled = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Socket s = new Socket("127.0.0.1", f.server.port());
                OutputStream out = s.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"prompt\": \"hal")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                stalled.add(s);
            }
            Thread.sleep(300);
            // Both permits (1 running + 1 queued) are held by the stalled bodies: others are refused for now...
            assertThat(f.post("/v1/completions", GOOD).statusCode()).isEqualTo(429);
            // ...until the server cuts them, and then it serves again.
            long t0 = System.nanoTime();
            int status = 0;
            while (System.nanoTime() - t0 < 15_000_000_000L && (status = f.post("/v1/completions", GOOD).statusCode()) != 200) {
                Thread.sleep(200);
            }
            assertThat(status).isEqualTo(200);
            System.out.printf("stalled bodies cut after %.1f s%n", (System.nanoTime() - t0) / 1e9);
            for (Socket s : stalled) {
                s.setSoTimeout(5000);
                InputStream in = s.getInputStream();
                assertThat(in.readAllBytes()).as("the stalled connection was closed").isNotNull();
                s.close();
            }
            assertThat(f.get("/health").statusCode()).isEqualTo(200);
            assertThat(ManagementFactory.getThreadMXBean().getThreadCount() - platformThreads).as("platform threads added").isLessThan(20);
            for (Socket s : idle) {
                s.close();
            }
        }
    }
}
