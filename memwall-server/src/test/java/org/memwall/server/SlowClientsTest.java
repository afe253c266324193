package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.sun.management.UnixOperatingSystemMXBean;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Clients that never finish: half-sent bodies, connections opened and left idle, and streams read
 * at one byte a second. The server keeps serving others with bounded threads, cuts a request not
 * fully sent within its time ({@code sun.net.httpserver.maxReqTime}: 30 s by default, 3 s in these
 * tests) so that stalled clients do not hold the admission permits, closes idle connections, and cuts
 * a response whose client takes no bytes for the write-stall limit (2 s here).
 */
class SlowClientsTest {
    static final String GOOD = "{\"prompt\": \"I dreamed\", \"max_tokens\": 4, \"temperature\": 0}";
    /** Connections opened and left idle; the figure is 10,000 ({@code -Dmemwall.idle.connections}). */
    static final int IDLE = Integer.getInteger("memwall.idle.connections", 1000);
    /** Tokens each one-byte-a-second reader asks for: past the kernel's socket buffers (MBs) only in the long run. */
    static final int SLOW_TOKENS = Integer.getInteger("memwall.slow.tokens", 600);

    @Test
    void halfSentBodiesAreCutAndIdleConnectionsDoNotStopTheServer() throws Exception {
        UnixOperatingSystemMXBean os = (UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        // The idle connections come from another process (IdleConnections): this one holds their server ends.
        long fdsNeeded = os.getOpenFileDescriptorCount() + IDLE + 300;
        String tooFew = "skipped: " + IDLE + " idle connections need about " + fdsNeeded + " file descriptors in the server's process and "
                + (IDLE + 100) + " in the client's; the limit is " + os.getMaxFileDescriptorCount() + " (raise it: ulimit -n " + fdsNeeded + ")";
        if (fdsNeeded > os.getMaxFileDescriptorCount()) {
            System.out.println("SlowClientsTest " + tooFew);
        }
        assumeThat(fdsNeeded).as(tooFew).isLessThanOrEqualTo(os.getMaxFileDescriptorCount());
        try (ServerFixture f = new ServerFixture(1, 1, null, 0)) {
            int platformThreads = ManagementFactory.getThreadMXBean().getThreadCount();
            long heapBefore = LoadTest.usedHeapAfterGc();
            long rssBefore = LoadTest.residentBytes();
            String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            Process idle = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), IdleConnections.class.getName(),
                    Integer.toString(f.server.port()), Integer.toString(IDLE)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                BufferedReader report = new BufferedReader(new InputStreamReader(idle.getInputStream(), StandardCharsets.US_ASCII));
                String[] opened = report.readLine().split(" ");
                assertThat(opened[0]).isEqualTo("opened");
                long served0 = System.nanoTime();
                assertThat(f.post("/v1/completions", GOOD).statusCode()).as("served beside the idle connections").isEqualTo(200);
                long servedMillis = (System.nanoTime() - served0) / 1_000_000;
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
                long heapWithIdle = LoadTest.usedHeapAfterGc();
                long rssWithIdle = LoadTest.residentBytes();
                int threadsWithIdle = ManagementFactory.getThreadMXBean().getThreadCount();
                long fdsWithIdle = os.getOpenFileDescriptorCount();
                // Both permits (1 running + 1 queued) are held by the stalled bodies: others are refused for now...
                assertThat(f.post("/v1/completions", GOOD).statusCode()).isEqualTo(429);
                // ...until the server cuts them, and then it serves again.
                long cut0 = System.nanoTime();
                int status = 0;
                long maxReqNanos = Long.getLong("sun.net.httpserver.maxReqTime", 30) * 1_000_000_000L;
                while (System.nanoTime() - cut0 < maxReqNanos + 12_000_000_000L && (status = f.post("/v1/completions", GOOD).statusCode()) != 200) {
                    Thread.sleep(200);
                }
                assertThat(status).isEqualTo(200);
                double cutSeconds = (System.nanoTime() - cut0) / 1e9;
                for (Socket s : stalled) {
                    s.setSoTimeout(5000);
                    InputStream in = s.getInputStream();
                    assertThat(in.readAllBytes()).as("the stalled connection was closed").isNotNull();
                    s.close();
                }
                assertThat(f.get("/health").statusCode()).isEqualTo(200);
                // The idle connections hold no thread, and the server closes them after its idle time (maxReqTime
                // for a connection that never sent a byte; checked every clockTick, 1 s in these tests).
                assertThat(threadsWithIdle - platformThreads).as("platform threads added by " + IDLE + " idle connections").isLessThan(20);
                String[] closed = report.readLine().split(" ");
                assertThat(closed[0]).isEqualTo("closed");
                assertThat(Integer.parseInt(closed[1])).as("idle connections closed by the server within 60 s").isEqualTo(IDLE);
                System.out.printf(Locale.ROOT, "%d idle connections (from another process) opened in %s s, a request beside them served in %d ms: platform threads %d -> %d, fds %d,"
                                + " heap after GC %d -> %d MB (%.1f KB each), RSS %d -> %d MB; all closed by the server %s s after the last was opened;"
                                + " two stalled bodies cut after %.1f s, then served; load average %s%n",
                        IDLE, opened[2], servedMillis, platformThreads, threadsWithIdle, fdsWithIdle, heapBefore >> 20, heapWithIdle >> 20,
                        (heapWithIdle - heapBefore) / 1024.0 / IDLE, rssBefore >> 20, rssWithIdle >> 20, closed[2], cutSeconds, LoadTest.loadAverage());
                assertThat(f.post("/v1/completions", GOOD).statusCode()).isEqualTo(200);
            } finally {
                idle.destroy();
                idle.waitFor();
            }
        }
    }

    /** A raw streaming request from a client whose receive buffer is small, read one byte a second until stopped. */
    static final class SlowReader {
        final Socket socket = new Socket();
        final AtomicLong bytes = new AtomicLong();
        final Thread thread;

        SlowReader(int port, String body) throws IOException {
            socket.setReceiveBufferSize(1024);
            socket.connect(new InetSocketAddress("127.0.0.1", port));
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + b.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.flush();
            thread = Thread.ofVirtual().start(() -> {
                try {
                    InputStream in = socket.getInputStream();
                    while (in.read() >= 0) {
                        bytes.incrementAndGet();
                        Thread.sleep(1000);
                    }
                } catch (IOException | InterruptedException e) {
                    // stopped by the test, or cut
                }
            });
        }

        void close() throws IOException, InterruptedException {
            thread.interrupt();
            socket.close();
            thread.join();
        }
    }

    @Test
    void oneBytePerSecondReadersNeitherSlowOthersNorKeepTheirPermits() throws Exception {
        boolean longRun = SLOW_TOKENS > 3000;
        ServerSettings settings = new ServerSettings("127.0.0.1", 0, "small", null, 3, 0, 64 * 1024, 0, longRun ? 65536 : 4096)
                .withWriteStallMillis(2000);
        try (ServerFixture f = new ServerFixture(longRun ? ServerFixture.contextModel(65536) : ServerFixture.longContextModel(), settings)) {
            String other = DisconnectStormTest.streaming(300);
            assertThat(LoadTest.wellFormed(f.post("/v1/completions", other))).isNull(); // warm-up
            long alone0 = System.nanoTime();
            assertThat(LoadTest.wellFormed(f.post("/v1/completions", other))).isNull();
            long aloneMillis = (System.nanoTime() - alone0) / 1_000_000;
            List<SlowReader> slow = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                slow.add(new SlowReader(f.server.port(), DisconnectStormTest.streaming(SLOW_TOKENS)));
            }
            ServerTrafficTest.awaitRunning(f, 2);
            // Another stream runs beside them in the same batch, at the speed it has alone: the engine never waits for a client.
            long beside0 = System.nanoTime();
            HttpResponse<String> r = f.post("/v1/completions", other);
            long besideMillis = (System.nanoTime() - beside0) / 1_000_000;
            assertThat(LoadTest.wellFormed(r)).isNull();
            assertThat(r.body()).contains("\"finish_reason\":\"length\"");
            // The readers' sequences finish at the engine's speed (their tokens wait in memory) or, once a
            // reader is a full socket buffer behind and takes nothing for 2 s, are cut; either way their
            // KV cache and permits come back long before one byte a second could read the stream.
            long free0 = System.nanoTime();
            while ((f.server.engine().runningCount() > 0 || !allPermitsFree(f)) && System.nanoTime() - free0 < (longRun ? 600 : 60) * 1_000_000_000L) {
                Thread.sleep(500);
            }
            double freeSeconds = (System.nanoTime() - free0) / 1e9;
            long read = slow.stream().mapToLong(s -> s.bytes.get()).sum();
            long cut = f.metric("memwall_requests_total{status=\"499\"}", 0);
            System.out.printf("two 1 B/s readers of %d tokens: a 300-token stream took %d ms alone, %d ms beside them; their sequences and permits"
                            + " free %.1f s later (%d of them cut as stalled), after the readers had read %d bytes%n",
                    SLOW_TOKENS, aloneMillis, besideMillis, freeSeconds, cut, read);
            assertThat(f.server.engine().runningCount()).isZero();
            assertThat(f.server.engine().kvBytes()).isZero();
            assertThat(allPermitsFree(f)).as("every permit is free again").isTrue();
            if (longRun) {
                assertThat(cut).as("readers a socket buffer behind are cut").isEqualTo(2);
            }
            for (SlowReader s : slow) {
                s.close();
            }
        }
    }

    /** Whether three requests at once (the server's three permits) are all admitted. */
    static boolean allPermitsFree(ServerFixture f) throws Exception {
        List<CompletableFuture<Integer>> all = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            all.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return f.post("/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 1}").statusCode();
                } catch (Exception e) {
                    return -1;
                }
            }));
        }
        boolean ok = true;
        for (CompletableFuture<Integer> c : all) {
            ok &= c.get() == 200;
        }
        return ok;
    }
}
