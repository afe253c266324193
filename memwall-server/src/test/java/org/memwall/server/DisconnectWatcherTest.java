package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A vanished client is noticed as its connection closes, not at the next write: a non-streaming
 * reply writes nothing for a minute here (heartbeats every 60 s), yet its sequence is released as
 * soon as its client resets or closes, long before it could finish. And the watch reads nothing: a
 * request pipelined behind a stream neither ends the stream nor is lost.
 */
class DisconnectWatcherTest {
    static final int MAX_TOKENS = 3000;

    static ServerFixture server() throws IOException {
        return new ServerFixture(ServerFixture.longContextModel(), ServerTrafficTest.longContext(2, 0, 0).withProbeMillis(60_000));
    }

    static byte[] post(String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return ("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + b.length + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.UTF_8);
    }

    /** A non-streaming request from a raw socket, its client gone ({@code reset}: RST; else an orderly close, FIN) once it runs. */
    static void dropWhileRunning(boolean reset) throws Exception {
        try (ServerFixture f = server()) {
            assumeTrue(f.server.watchesDisconnects(), "the disconnect watcher is unavailable in this JVM");
            CompletableFuture<Integer> generatedAtRelease = new CompletableFuture<>();
            f.server.engine().onRelease(s -> generatedAtRelease.complete(s.generated()));
            Socket s = new Socket("127.0.0.1", f.server.port());
            s.getOutputStream().write(post(ServerTrafficTest.longCompletion(MAX_TOKENS, false)));
            s.getOutputStream().flush();
            ServerTrafficTest.awaitRunning(f, 1);
            Thread.sleep(50);
            if (reset) {
                s.setSoLinger(true, 0);
            }
            s.close();
            // Without the watch only a heartbeat write, 60 s on, would notice; the sequence would run to its end first.
            int generated = generatedAtRelease.get(30, TimeUnit.SECONDS);
            assertThat(generated).as("released by the disconnect, not by finishing").isLessThan(MAX_TOKENS);
            assertThat(f.metric("memwall_client_disconnects_total{noticed=\"hangup\"}")).isEqualTo(1);
            assertThat(f.metric("memwall_client_disconnects_total{noticed=\"write\"}")).isZero();
            assertThat(f.metric("memwall_disconnect_release_seconds_count")).isEqualTo(1);
            assertThat(f.server.engine().kvBytes()).isZero();
        }
    }

    @Test
    void aClientThatResetsIsReleasedWithoutAWrite() throws Exception {
        dropWhileRunning(true);
    }

    @Test
    void aClientThatClosesIsReleasedWithoutAWrite() throws Exception {
        dropWhileRunning(false);
    }

    @Test
    void aRequestPipelinedBehindAStreamIsServedAfterIt() throws Exception {
        try (ServerFixture f = server(); Socket s = new Socket("127.0.0.1", f.server.port())) {
            assumeTrue(f.server.watchesDisconnects(), "the disconnect watcher is unavailable in this JVM");
            OutputStream out = s.getOutputStream();
            out.write(post(DisconnectStormTest.streaming(200)));
            out.flush();
            ServerTrafficTest.awaitRunning(f, 1);
            out.write(post(ServerTrafficTest.longCompletion(5, false))); // sent while the stream runs
            out.flush();
            s.setSoTimeout(60_000);
            InputStream in = new BufferedInputStream(s.getInputStream());
            String body = readResponse(in);
            assertThat(body).contains("\"finish_reason\":\"length\"").endsWith("data: [DONE]\n\n");
            String second = readResponse(in);
            assertThat(second).contains("\"text_completion\"").contains("\"completion_tokens\":5");
            assertThat(f.metric("memwall_client_disconnects_total{noticed=\"hangup\"}")).isZero();
        }
    }

    /** One HTTP/1.1 200 response's body, chunked or of a given length. */
    static String readResponse(InputStream in) throws IOException {
        assertThat(line(in)).startsWith("HTTP/1.1 200");
        boolean chunked = false;
        int length = -1;
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            String lower = h.toLowerCase(java.util.Locale.ROOT);
            chunked |= lower.equals("transfer-encoding: chunked");
            if (lower.startsWith("content-length:")) {
                length = Integer.parseInt(h.substring(15).strip());
            }
        }
        if (!chunked) {
            return new String(in.readNBytes(length), StandardCharsets.UTF_8);
        }
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        for (int size = Integer.parseInt(line(in), 16); size > 0; size = Integer.parseInt(line(in), 16)) {
            body.write(in.readNBytes(size));
            line(in);
        }
        line(in);
        return body.toString(StandardCharsets.UTF_8);
    }

    /** A CRLF-terminated line, without the CRLF. */
    static String line(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            assertThat(c).as("the connection ended mid-response").isNotNegative();
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.US_ASCII);
    }
}
