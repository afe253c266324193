package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The JDK server's response write blocks once a client stops reading (kernel buffers full); the
 * cutoff interrupts it after its limit, which closes the connection, while a client that keeps
 * reading slowly is left alone. An endless response fills the buffers in milliseconds, so this does
 * not wait for a model to generate megabytes.
 */
class WriteStallCutoffTest {
    static final long LIMIT_MILLIS = 500;

    /** Serves an endless chunked response; the handler's outcome (bytes written, then how it ended) completes {@code ended}. */
    static HttpServer endless(WriteStallCutoff cutoff, CompletableFuture<String> ended) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http.createContext("/", ex -> {
            byte[] chunk = new byte[16 * 1024];
            long written = 0;
            try (ex) {
                ex.sendResponseHeaders(200, 0);
                OutputStream out = ex.getResponseBody();
                while (written < (1L << 30)) {
                    out.write(chunk);
                    out.flush();
                    written += chunk.length;
                }
                ended.complete("finished");
            } catch (IOException e) {
                ended.complete("failed after " + (written >> 20) + " MB: " + e.getMessage());
            }
        }).getFilters().add(cutoff.filter());
        http.start();
        return http;
    }

    static Socket request(HttpServer http) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(http.getAddress());
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    @Test
    void aClientThatStopsReadingIsCutAfterTheLimit() throws Exception {
        CompletableFuture<String> ended = new CompletableFuture<>();
        try (WriteStallCutoff cutoff = new WriteStallCutoff(LIMIT_MILLIS)) {
            HttpServer http = endless(cutoff, ended);
            try (Socket s = request(http)) {
                long t0 = System.nanoTime();
                String outcome = ended.get(10, TimeUnit.SECONDS); // without the cutoff the write blocks for good
                long millis = (System.nanoTime() - t0) / 1_000_000;
                assertThat(outcome).startsWith("failed").contains("took no bytes for 500 ms");
                assertThat(millis).isGreaterThanOrEqualTo(LIMIT_MILLIS).isLessThan(5_000);
                // The connection is closed: what the kernel buffered drains, then the stream ends.
                s.setSoTimeout(10_000);
                InputStream in = s.getInputStream();
                byte[] buf = new byte[1 << 16];
                while (in.read(buf) >= 0) {
                    // drain
                }
            } finally {
                http.stop(0);
            }
        }
    }

    @Test
    void aClientThatPausesForLessThanTheLimitIsNotCut() throws Exception {
        CompletableFuture<String> ended = new CompletableFuture<>();
        try (WriteStallCutoff cutoff = new WriteStallCutoff(LIMIT_MILLIS)) {
            HttpServer http = endless(cutoff, ended);
            try (Socket s = request(http)) {
                InputStream in = s.getInputStream();
                byte[] buf = new byte[1 << 16];
                long end = System.nanoTime() + 6 * LIMIT_MILLIS * 1_000_000;
                while (System.nanoTime() < end) {
                    Thread.sleep(LIMIT_MILLIS / 2); // the server's write blocks: its buffers are full
                    long burst = System.nanoTime() + 50_000_000;
                    while (System.nanoTime() < burst) {
                        assertThat(in.read(buf)).isPositive();
                    }
                }
                assertThat(ended).isNotDone();
            } finally {
                http.stop(0);
            }
        }
    }
}
